"""POST /prompt validation, coercion, priority numbers and the pending queue.

Spec: comfyui-api.md §2.3, §4, §5, §15 (facts 4, 5, 12); decisions.md.
"""

import json
import uuid

import pytest

from comfy_harness import (WsClient, assert_python_json, is_done, post_prompt, queue_and_collect, slow_graph,
                      string_graph, unique_int, unique_str, wait_history, wait_idle)

INT_CONST_CFG = ["INT", {"default": 0, "min": 0, "max": 100}]
STRING_CFG = ["STRING", {"default": ""}]


def _bad(server, body_or_prompt, raw_body=False):
    body = body_or_prompt if raw_body else {"prompt": body_or_prompt}
    r = server.post("/prompt", json=body)
    assert r.status_code == 400, (r.status_code, r.text[:1000])
    assert r.headers.get("Content-Type") == "application/json; charset=utf-8"
    assert_python_json(r.text)
    body = r.json()
    assert list(body.keys()) == ["error", "node_errors"]
    assert list(body["error"].keys()) == ["type", "message", "details", "extra_info"]
    return body


def _failed(details, node_errors):
    return {
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                  "details": details, "extra_info": {}},
        "node_errors": node_errors,
    }


# ----------------------------------------------------------------------------
# Top-level errors
# ----------------------------------------------------------------------------

def test_no_prompt_exact(server):
    body = _bad(server, {"client_id": "abc"}, raw_body=True)
    assert body == {
        "error": {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided",
                  "extra_info": {}},
        "node_errors": {},
    }
    # Empty object body too.
    assert _bad(server, {}, raw_body=True)["error"]["type"] == "no_prompt"


def test_no_prompt_with_non_json_content_type_still_parsed(server):
    r = server.post("/prompt", data=json.dumps({"nothing": 1}),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "no_prompt"


def test_unknown_class(server):
    prompt = {"1": {"class_type": "NopeNodeXYZ", "inputs": {}}, "2": {"class_type": "TestStringOut",
                                                                   "inputs": {"value": "a"}}}
    body = _bad(server, prompt)
    err = body["error"]
    assert err["type"] in ("invalid_prompt", "missing_node_type")
    assert "NopeNodeXYZ" in err["message"]
    assert err["details"] == "Node ID '#1'"
    if err["type"] == "invalid_prompt":
        assert body == {"error": {"type": "invalid_prompt",
                                  "message": "Cannot execute because node NopeNodeXYZ does not exist.",
                                  "details": "Node ID '#1'", "extra_info": {}},
                        "node_errors": {}}
    wait_idle(server)


def test_missing_class_type(server):
    body = _bad(server, {"1": {"inputs": {"value": "a"}}})
    err = body["error"]
    assert err["type"] in ("invalid_prompt", "missing_node_type")
    assert err["details"] == "Node ID '#1'"
    if err["type"] == "invalid_prompt":
        assert body == {"error": {"type": "invalid_prompt",
                                  "message": "Cannot execute because a node is missing the class_type property.",
                                  "details": "Node ID '#1'", "extra_info": {}},
                        "node_errors": {}}


def test_prompt_no_outputs(server):
    expected = {"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "",
                          "extra_info": {}},
                "node_errors": {}}
    assert _bad(server, {"1": {"class_type": "TestIntConst", "inputs": {"value": 5}}}) == expected
    assert _bad(server, {}) == expected
    # An empty partial_execution_targets list selects no outputs.
    assert _bad(server, {"prompt": string_graph(), "partial_execution_targets": []}, raw_body=True) == expected
    # Targets naming only non-output nodes select nothing either.
    prompt = {"1": {"class_type": "TestIntConst", "inputs": {"value": 5}},
              "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}
    assert _bad(server, {"prompt": prompt, "partial_execution_targets": ["1"]}, raw_body=True) == expected


# ----------------------------------------------------------------------------
# Per-input errors (exact error objects)
# ----------------------------------------------------------------------------

def test_required_input_missing(server):
    body = _bad(server, {"1": {"class_type": "TestStringOut", "inputs": {}}})
    err = {"type": "required_input_missing", "message": "Required input is missing", "details": "value",
           "extra_info": {"input_name": "value"}}
    assert body == _failed("Required input is missing: value",
                           {"1": {"errors": [err], "dependent_outputs": ["1"], "class_type": "TestStringOut"}})


def test_bad_linked_input(server):
    body = _bad(server, {"1": {"class_type": "TestStringOut", "inputs": {"value": ["9"]}}})
    err = {"type": "bad_linked_input",
           "message": "Bad linked input, must be a length-2 list of [node_id, slot_index]",
           "details": "value",
           "extra_info": {"input_name": "value", "input_config": STRING_CFG, "received_value": ["9"]}}
    assert body == _failed("Bad linked input, must be a length-2 list of [node_id, slot_index]: value",
                           {"1": {"errors": [err], "dependent_outputs": ["1"], "class_type": "TestStringOut"}})


def test_return_type_mismatch(server):
    prompt = {"1": {"class_type": "TestIntConst", "inputs": {"value": 5}},
              "2": {"class_type": "TestStringOut", "inputs": {"value": ["1", 0]}}}
    body = _bad(server, prompt)
    err = {"type": "return_type_mismatch", "message": "Return type mismatch between linked nodes",
           "details": "value, received_type(INT) mismatch input_type(STRING)",
           "extra_info": {"input_name": "value", "input_config": STRING_CFG, "received_type": "INT",
                          "linked_node": ["1", 0]}}
    assert body == _failed(
        "Return type mismatch between linked nodes: value, received_type(INT) mismatch input_type(STRING)",
        {"2": {"errors": [err], "dependent_outputs": ["2"], "class_type": "TestStringOut"}})


def test_invalid_input_type(server):
    body = _bad(server, {"1": {"class_type": "TestIntOut", "inputs": {"value": "abc"}}})
    exc = "invalid literal for int() with base 10: 'abc'"
    err = {"type": "invalid_input_type", "message": "Failed to convert an input value to a INT value",
           "details": f"value, abc, {exc}",
           "extra_info": {"input_name": "value", "input_config": ["INT", {"default": 0}],
                          "received_value": "abc", "exception_message": exc}}
    assert body == _failed(f"Failed to convert an input value to a INT value: value, abc, {exc}",
                           {"1": {"errors": [err], "dependent_outputs": ["1"], "class_type": "TestIntOut"}})


@pytest.mark.parametrize("value,etype,message", [
    (-1, "value_smaller_than_min", "Value -1 smaller than min of 0"),
    (101, "value_bigger_than_max", "Value 101 bigger than max of 100"),
])
def test_min_max(server, value, etype, message):
    prompt = {"1": {"class_type": "TestIntConst", "inputs": {"value": value}},
              "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}
    body = _bad(server, prompt)
    err = {"type": etype, "message": message, "details": "value",
           "extra_info": {"input_name": "value", "input_config": INT_CONST_CFG, "received_value": value}}
    # The output node "2" failed only because of "1": it has no errors of its own, so it is not
    # listed and the top-level details (built from the outputs' own errors) are empty.
    assert body == _failed("", {"1": {"errors": [err], "dependent_outputs": ["2"],
                                      "class_type": "TestIntConst"}})


def test_min_max_checked_after_int_coercion(server):
    prompt = {"1": {"class_type": "TestIntConst", "inputs": {"value": "101"}},
              "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}
    body = _bad(server, prompt)
    errs = body["node_errors"]["1"]["errors"]
    assert errs == [{"type": "value_bigger_than_max", "message": "Value 101 bigger than max of 100",
                     "details": "value",
                     "extra_info": {"input_name": "value", "input_config": INT_CONST_CFG, "received_value": 101}}]


def test_value_not_in_list(server):
    body = _bad(server, {"1": {"class_type": "TestCombo", "inputs": {"choice": "d"}}})
    err = {"type": "value_not_in_list", "message": "Value not in list",
           "details": "choice: 'd' not in ['a', 'b', 'c']",
           "extra_info": {"input_name": "choice", "input_config": [["a", "b", "c"], {}], "received_value": "d"}}
    assert body == _failed("Value not in list: choice: 'd' not in ['a', 'b', 'c']",
                           {"1": {"errors": [err], "dependent_outputs": ["1"], "class_type": "TestCombo"}})


def test_custom_validation_failed(server):
    body = _bad(server, {"1": {"class_type": "TestValidated", "inputs": {"value": "invalid"}}})
    err = {"type": "custom_validation_failed", "message": "Custom validation failed for node",
           "details": "value - forbidden value", "extra_info": {"input_name": "value"}}
    assert body == _failed("Custom validation failed for node: value - forbidden value",
                           {"1": {"errors": [err], "dependent_outputs": ["1"], "class_type": "TestValidated"}})
    # Any other value passes validation and runs.
    v = unique_str("ok")
    run = queue_and_collect(server, {"1": {"class_type": "TestValidated", "inputs": {"value": v}}})
    assert run.one("executed").data["output"] == {"text": [v]}


def test_dependent_outputs_lists_every_failed_output(server):
    prompt = {"1": {"class_type": "TestIntConst", "inputs": {"value": 500}},
              "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}},
              "3": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}
    body = _bad(server, prompt)
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert body["error"]["details"] == ""
    assert list(body["node_errors"].keys()) == ["1"]
    ne = body["node_errors"]["1"]
    assert ne["class_type"] == "TestIntConst"
    assert sorted(ne["dependent_outputs"]) == ["2", "3"]
    assert [e["type"] for e in ne["errors"]] == ["value_bigger_than_max"]


# ----------------------------------------------------------------------------
# Partial success / partial execution
# ----------------------------------------------------------------------------

def test_partial_success_runs_only_valid_output(server):
    ok = unique_str("ok")
    prompt = {"1": {"class_type": "TestStringOut", "inputs": {"value": ok}},
              "2": {"class_type": "TestIntConst", "inputs": {"value": 500}},
              "3": {"class_type": "TestIntOut", "inputs": {"value": ["2", 0]}}}
    run = queue_and_collect(server, prompt)
    resp = run.response
    assert list(resp.keys()) == ["prompt_id", "number", "node_errors"]
    assert resp["node_errors"] == {"2": {
        "errors": [{"type": "value_bigger_than_max", "message": "Value 500 bigger than max of 100",
                    "details": "value",
                    "extra_info": {"input_name": "value", "input_config": INT_CONST_CFG, "received_value": 500}}],
        "dependent_outputs": ["3"], "class_type": "TestIntConst"}}
    assert run.one("execution_success")
    assert run.executing_nodes() == ["1"]
    assert run.executed_nodes() == ["1"]
    entry = wait_history(server, run.prompt_id)
    assert entry["prompt"][4] == ["1"]
    assert entry["outputs"] == {"1": {"text": [ok]}}


def test_partial_execution_targets(server):
    a, b = unique_str("a"), unique_str("b")
    prompt = {"1": {"class_type": "TestStringOut", "inputs": {"value": a}},
              "2": {"class_type": "TestStringOut", "inputs": {"value": b}}}
    run = queue_and_collect(server, prompt, partial_execution_targets=["2"])
    assert run.response["node_errors"] == {}
    assert run.executing_nodes() == ["2"]
    entry = wait_history(server, run.prompt_id)
    assert entry["prompt"][4] == ["2"]
    assert entry["outputs"] == {"2": {"text": [b]}}


# ----------------------------------------------------------------------------
# Coercion written back into the prompt
# ----------------------------------------------------------------------------

def test_coercion_written_back(server):
    s = unique_int()
    prompt = {
        "1": {"class_type": "TestIntConst", "inputs": {"value": "5"}},
        "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "TestBool", "inputs": {"flag": "false"}},
        "4": {"class_type": "TestIntOut", "inputs": {"value": 1000 + s + 0.9}},
        "5": {"class_type": "TestIntOut", "inputs": {"value": {"__value__": 3}}},
        "6": {"class_type": "TestStringOut", "inputs": {"value": 12}},
    }
    run = queue_and_collect(server, prompt)
    assert run.response["node_errors"] == {}
    assert run.one("execution_success")
    entry = wait_history(server, run.prompt_id)
    stored = entry["prompt"][2]
    assert stored["1"]["inputs"]["value"] == 5 and type(stored["1"]["inputs"]["value"]) is int
    assert stored["2"]["inputs"]["value"] == ["1", 0]
    assert stored["3"]["inputs"]["flag"] is True  # bool("false") is True
    assert stored["4"]["inputs"]["value"] == 1000 + s and type(stored["4"]["inputs"]["value"]) is int
    assert stored["5"]["inputs"]["value"] == 3
    assert stored["6"]["inputs"]["value"] == "12"
    assert entry["outputs"] == {
        "2": {"value": [5]},
        "3": {"value": [True]},
        "4": {"value": [1000 + s]},
        "5": {"value": [3]},
        "6": {"text": ["12"]},
    }
    assert sorted(entry["prompt"][4]) == ["2", "3", "4", "5", "6"]
    executed = {m.data["node"]: m.data["output"] for m in run.of("executed")}
    assert executed["3"] == {"value": [True]}
    assert executed["2"] == {"value": [5]}


# ----------------------------------------------------------------------------
# Priority numbers, /queue, client prompt ids
# ----------------------------------------------------------------------------

def _start_slow(server, ws, seconds=30.0):
    slow = slow_graph(seconds)
    r = post_prompt(server, slow, ws.client_id)
    assert r.status_code == 200, r.text
    body = r.json()
    ws.recv_until(lambda m: m.type == "executing" and m.data.get("node") == "2"
                  and m.data.get("prompt_id") == body["prompt_id"], timeout=30)
    return slow, body


def test_number_counter_and_rejected_request(server):
    wait_idle(server)
    r1 = post_prompt(server, string_graph())
    r2 = server.post("/prompt", json={"no": "prompt"})
    r3 = post_prompt(server, string_graph())
    assert r1.status_code == 200 and r2.status_code == 400 and r3.status_code == 200
    n1, n3 = r1.json()["number"], r3.json()["number"]
    assert type(n1) is int and type(n3) is int
    # The rejected request consumed a counter value.
    assert n3 == n1 + 2
    # An explicit number is a float and does not advance the counter.
    r4 = server.post("/prompt", json={"prompt": string_graph(), "number": 5})
    assert r4.status_code == 200
    assert r4.json()["number"] == 5.0 and type(r4.json()["number"]) is float
    assert '"number": 5.0' in r4.text
    r5 = post_prompt(server, string_graph())
    assert r5.json()["number"] == n1 + 3
    r6 = server.post("/prompt", json={"prompt": string_graph(), "front": True})
    assert r6.json()["number"] == -(n1 + 4)
    for r in (r1, r3, r4, r5, r6):
        wait_history(server, r.json()["prompt_id"])
    wait_idle(server)


def test_queue_number_front_and_delete(server):
    wait_idle(server)
    with WsClient(server, unique_str("c")) as ws:
        slow, sbody = _start_slow(server, ws)
        slow_id, n0 = sbody["prompt_id"], sbody["number"]
        assert type(n0) is int
        posted = {}
        try:
            q = server.get_json("/queue")
            assert q["queue_pending"] == []
            assert q["queue_running"] == [[n0, slow_id, slow, {"client_id": ws.client_id}, ["3"]]]
            assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 1}}

            def post(name, **extra):
                g = string_graph()
                r = server.post("/prompt", json={"prompt": g, **extra})
                assert r.status_code == 200, r.text
                posted[name] = (r.json()["prompt_id"], r.json()["number"], g)
                return r

            post("A")
            post("B", front=True)
            rc = post("C", number=1000)
            post("D")
            assert server.post("/prompt", json={}).status_code == 400
            post("E")
            post("F", front=False)

            assert posted["A"][1] == n0 + 1 and type(posted["A"][1]) is int
            assert posted["B"][1] == -(n0 + 2)
            assert posted["C"][1] == 1000.0 and type(posted["C"][1]) is float
            assert '"number": 1000.0' in rc.text
            assert posted["D"][1] == n0 + 3
            assert posted["E"][1] == n0 + 5
            assert posted["F"][1] == n0 + 6

            q = server.get_json("/queue")
            assert len(q["queue_running"]) == 1 and q["queue_running"][0][1] == slow_id
            pending = {item[1]: item for item in q["queue_pending"]}
            assert set(pending) == {v[0] for v in posted.values()}
            for pid, number, g in posted.values():
                assert pending[pid] == [number, pid, g, {}, ["1"]]
            assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 7}}

            r = server.post("/queue", json={"delete": [posted["D"][0]]})
            assert r.status_code == 200 and r.content == b""
            q = server.get_json("/queue")
            assert posted["D"][0] not in {item[1] for item in q["queue_pending"]}
            assert len(q["queue_pending"]) == 5
            assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 6}}
        finally:
            server.post("/interrupt", json={})
        ws.recv_until(is_done(slow_id), timeout=15)

    remaining = {k: v for k, v in posted.items() if k != "D"}
    for pid, _, _ in remaining.values():
        wait_history(server, pid)
    wait_idle(server)
    hist = server.get_json("/history")
    assert posted["D"][0] not in hist
    expected = [pid for pid, number, _ in sorted(remaining.values(), key=lambda v: (v[1], v[0]))]
    order = [k for k in hist if k in {v[0] for v in remaining.values()}]
    assert order == expected
    # B (front) ran first; C (number 1000) ran last.
    assert order[0] == posted["B"][0] and order[-1] == posted["C"][0]
    assert hist[slow_id]["status"]["status_str"] == "error"
    assert hist[slow_id]["status"]["messages"][-1][0] == "execution_interrupted"


def test_queue_clear(server):
    wait_idle(server)
    with WsClient(server, unique_str("c")) as ws:
        slow, sbody = _start_slow(server, ws)
        ids = []
        try:
            for _ in range(3):
                r = post_prompt(server, string_graph())
                assert r.status_code == 200
                ids.append(r.json()["prompt_id"])
            assert len(server.get_json("/queue")["queue_pending"]) == 3
            r = server.post("/queue", json={"clear": True})
            assert r.status_code == 200 and r.content == b""
            q = server.get_json("/queue")
            assert q["queue_pending"] == []
            assert [item[1] for item in q["queue_running"]] == [sbody["prompt_id"]]
            assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 1}}
        finally:
            server.post("/interrupt")
        ws.recv_until(is_done(sbody["prompt_id"]), timeout=15)
    wait_idle(server)
    hist = server.get_json("/history")
    assert not any(i in hist for i in ids)


def test_client_supplied_prompt_id(server):
    custom = f"my-own-id-{uuid.uuid4().hex}"
    run = queue_and_collect(server, string_graph(), prompt_id=custom)
    assert run.prompt_id == custom
    assert run.one("execution_start").data["prompt_id"] == custom
    entry = wait_history(server, custom)
    assert entry["prompt"][1] == custom

    numeric = 900000000 + unique_int()
    run = queue_and_collect(server, string_graph(), prompt_id=numeric)
    assert run.prompt_id == str(numeric)
    assert wait_history(server, str(numeric))["prompt"][1] == str(numeric)


def test_generated_prompt_id_is_uuid4(server):
    r = post_prompt(server, string_graph())
    assert r.status_code == 200
    pid = r.json()["prompt_id"]
    u = uuid.UUID(pid)
    assert str(u) == pid and u.version == 4
    wait_history(server, pid)


# ----------------------------------------------------------------------------
# Every validation sees INPUT_TYPES as it answers then (ComfyUI calls it each time); definitions
# described for an earlier validation or prompt are not reused.
# ----------------------------------------------------------------------------
def _checkpoint_prompt(name):
    return {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": name}},
            "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}}}


def test_model_file_removed_outside_the_server_is_rejected_at_once(server):
    folder = server.base / "models" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    name = unique_str("kept") + ".safetensors"
    (folder / name).write_bytes(b"not a model")
    for _ in range(2):  # valid; run (the model loader then fails: no model library here)
        r = post_prompt(server, _checkpoint_prompt(name))
        assert r.status_code == 200, r.text
        wait_history(server, r.json()["prompt_id"])
    (folder / name).unlink()  # not through the server
    body = _bad(server, _checkpoint_prompt(name))
    errors = body["node_errors"]["1"]["errors"]
    assert [e["type"] for e in errors] == ["value_not_in_list"]
    assert errors[0]["extra_info"]["received_value"] == name


def test_options_from_pack_state_are_current_at_each_validation(server):
    def choose(value):
        return post_prompt(server, {"1": {"class_type": "TestStateCombo", "inputs": {"choice": value}}})

    assert server.post("/test_pack/choices", json=["a"]).json() == ["a"]
    for _ in range(2):
        r = choose("a")
        assert r.status_code == 200, r.text
        wait_history(server, r.json()["prompt_id"])
    # The pack's state changes where no folder shows it.
    assert server.post("/test_pack/choices", json=["a", "b"]).json() == ["a", "b"]
    r = choose("b")
    assert r.status_code == 200, r.text
    history = wait_history(server, r.json()["prompt_id"])
    assert history["outputs"]["1"]["text"] == ["b"]
    assert server.post("/test_pack/choices", json=["a"]).json() == ["a"]
    body = _bad(server, {"1": {"class_type": "TestStateCombo", "inputs": {"choice": "b"}}})
    err = body["node_errors"]["1"]["errors"][0]
    assert err["type"] == "value_not_in_list"
    assert err["details"] == "choice: 'b' not in ['a']"
