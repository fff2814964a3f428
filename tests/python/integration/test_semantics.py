"""Execution semantics (spec §6.3-§6.7, §15 facts 8 and 10) under every cache mode: lazy inputs and
re-entry, ExecutionBlocker (silent and with a message), list mapping, async node functions."""
import uuid

from comfy_harness import node as sem
from comfy_harness import queue_and_collect
from comfy_harness import shown as show


def test_lazy_input_only_runs_the_chosen_branch_and_reenters(cache_server):
    tag = uuid.uuid4().hex[:8]
    prompt = {
        "1": sem("SemValue", value=10, tag="a" + tag),
        "2": sem("SemValue", value=20, tag="b" + tag),
        "3": sem("SemLazySelect", select=1, a=["1", 0], b=["2", 0]),
        "9": sem("SemShow", value=["3", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = show(run)
    assert out["value"] == [20]
    # check_lazy_status ran twice (before and after `b` was evaluated); `a` never ran.
    # (RUNS may hold calls of earlier prompts whose SemShow was blocked: compare the tail.)
    assert out["runs"][-3:] == [["check", 1, None, None], ["value", "b" + tag], ["check", 1, None, 20]]
    assert ["value", "a" + tag] not in out["runs"]
    # The lazy node is re-entered: `executing` for node 3 twice, around node 2.
    assert [n for n in run.executing_nodes() if n is not None] == ["3", "2", "3", "9"]


def test_silent_blocker_skips_the_output_node(cache_server):
    prompt = {
        "1": sem("SemValue", value=5, tag="x"),
        "2": sem("SemBlock", value=["1", 0], block=True, message=""),
        "9": sem("SemShow", value=["2", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    assert not [m for m in run.of("executed") if m.data["node"] == "9"]
    assert not run.of("execution_error")


def test_blocker_with_message_reports_execution_blocked(cache_server):
    msg = "stop " + uuid.uuid4().hex[:6]
    prompt = {
        "1": sem("SemValue", value=5, tag="y"),
        "2": sem("SemBlock", value=["1", 0], block=True, message=msg),
        "9": sem("SemShow", value=["2", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    errors = run.of("execution_error")
    assert len(errors) == 1
    data = errors[0].data
    assert data["exception_type"] == "ExecutionBlocked"
    assert data["exception_message"] == "Execution Blocked: " + msg
    assert data["node_id"] == "9" and data["node_type"] == "SemShow"
    assert data["traceback"] == [] and data["current_inputs"] == [] and data["current_outputs"] == []
    assert "timestamp" not in data
    assert run.one("execution_success")  # the prompt still succeeds


def test_list_mapping_output_is_list_and_input_is_list(cache_server):
    start = int(uuid.uuid4().int % 1000)
    prompt = {
        "1": sem("SemRange", start=start, count=3),
        "2": {"class_type": "SemDouble", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "SemSum", "inputs": {"values": ["2", 0]}},
        "9": sem("SemShow", value=["3", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = show(run)
    assert out["value"] == [6 * start + 6]
    assert out["runs"][-4:] == [["double", start], ["double", start + 1], ["double", start + 2],
                                ["sum", [2 * start, 2 * start + 2, 2 * start + 4]]]


def test_async_node_function_and_async_error(cache_server):
    v = int(uuid.uuid4().int % 1000)
    prompt = {"1": sem("SemValue", value=v, tag="z"), "2": sem("SemAsyncSleep", value=["1", 0], seconds=0.01),
              "9": sem("SemShow", value=["2", 0])}
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    assert show(run)["value"] == [v + 1]
    bad = {"1": sem("SemValue", value=v, tag="w"), "2": sem("SemAsyncFail", value=["1", 0]),
           "9": sem("SemShow", value=["2", 0])}
    run = queue_and_collect(cache_server, bad)
    err = run.one("execution_error").data
    assert err["node_id"] == "2" and err["exception_type"] == "RuntimeError"
    assert err["exception_message"] == f"async failure {v}\n"


def test_expansion_runs_ephemeral_nodes_with_prefixed_ids_and_display_ids(cache_server):
    v = int(uuid.uuid4().int % 1000)
    prompt = {"1": sem("SemValue", value=v, tag="e"),
              "2": sem("SemExpandChain", value=["1", 0], count=3, show=True, collide=False),
              "9": sem("SemShow", value=["2", 0])}
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    assert show(run)["value"] == [v + 3]
    executing = [(m.data["node"], m.data["display_node"]) for m in run.of("executing") if m.data["node"]]
    # The expansion's nodes carry GraphBuilder ids "<node>.<call>.<graph>.<n>" and the parent's display id.
    assert executing == [("1", "1"), ("2", "2"), ("2.0.0.1", "2"), ("2.0.0.2", "2"), ("2.0.0.3", "2"),
                         ("2.0.0.4", "2"), ("9", "9")]
    inner = [m.data for m in run.of("executed") if m.data["node"] == "2.0.0.4"]
    assert inner and inner[0]["display_node"] == "2" and inner[0]["output"]["value"] == [v + 3]
    entry = cache_server.get_json(f"/history/{run.prompt_id}")[run.prompt_id]
    assert entry["outputs"]["2.0.0.4"]["value"] == [v + 3]
    assert entry["meta"]["2.0.0.4"] == {"node_id": "2.0.0.4", "display_node": "2", "parent_node": "2",
                                        "real_node_id": "2"}


def test_expansion_with_duplicate_id_fails_cleanly(cache_server):
    prompt = {"1": sem("SemValue", value=1, tag="d"),
              "2": sem("SemExpandChain", value=["1", 0], count=1, show=False, collide=True),
              "9": sem("SemShow", value=["2", 0])}
    run = queue_and_collect(cache_server, prompt)
    err = run.one("execution_error").data
    assert err["node_id"] == "2"
    assert err["exception_type"] == "comfy_execution.graph.DuplicateNodeError"
    assert err["exception_message"].startswith("Attempt to add duplicate node 1.")


def test_cycle_created_by_expansion_is_reported(cache_server):
    prompt = {"1": sem("SemValue", value=1, tag="c"), "2": sem("SemExpandCycle", value=["1", 0]),
              "9": sem("SemShow", value=["2", 0])}
    run = queue_and_collect(cache_server, prompt)
    err = run.one("execution_error").data
    assert err["exception_type"] == "graph.DependencyCycleError"
    assert err["exception_message"] == "Dependency cycle detected\n"
    assert err["node_id"] == "2"  # display id of the first cycle member created by expansion
    assert err["traceback"] == [] and err["current_inputs"] == []


def test_expansion_inside_an_expansion(cache_server):
    v = int(uuid.uuid4().int % 1000)
    prompt = {"1": sem("SemValue", value=v, tag="n"), "2": sem("SemExpandNested", value=["1", 0]),
              "9": sem("SemShow", value=["2", 0])}
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    assert show(run)["value"] == [v + 2]
    executing = [(m.data["node"], m.data["display_node"]) for m in run.of("executing") if m.data["node"]]
    # The inner expansion's ids carry both prefixes; display ids stay the outer node's.
    assert executing == [("1", "1"), ("2", "2"), ("2.0.0.1", "2"), ("2.0.0.1.0.0.1", "2"),
                         ("2.0.0.1.0.0.2", "2"), ("9", "9")]


def test_while_loop_by_expansion(cache_server):
    """The loop-pack pattern: a close node copies the loop body (found through DYNPROMPT) into an
    expansion fed by a new open node, until the value reaches the limit. Each pass re-runs the body
    (two SemAddOne) on the new value; the constant upstream of the body is a cache hit."""
    start = 5000 + int(uuid.uuid4().int % 1000)  # away from the values other tests use (LRU keeps their entries)
    prompt = {
        "1": sem("SemWhileOpen", value=start),
        "2": sem("SemAddOne", value=["1", 1]),
        "3": sem("SemAddOne", value=["2", 0]),
        "4": sem("SemWhileClose", flow=["1", 0], value=["3", 0], limit=start + 7),
        "9": sem("SemShow", value=["4", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = show(run)
    # 0 -> 2 -> 4 -> 6 -> 8 (relative to start): four passes of the body, stops at >= start + 7.
    assert out["value"] == [start + 8]
    assert [r for r in out["runs"] if r[0] in ("open", "add")][-12:] == [
        ["open", start], ["add", start], ["add", start + 1],
        ["open", start + 2], ["add", start + 2], ["add", start + 3],
        ["open", start + 4], ["add", start + 4], ["add", start + 5],
        ["open", start + 6], ["add", start + 6], ["add", start + 7]]
    executing = [(m.data["node"], m.data["display_node"]) for m in run.of("executing") if m.data["node"]]
    # Every node of a pass shows as the outermost close node "4"; the ids nest one level per pass.
    assert executing[:4] == [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")]
    inner = [e for e in executing[4:] if e[0] != "9"]
    assert inner and all(display == "4" for _, display in inner)
    assert inner[:4] == [("4.0.0.open", "4"), ("4.0.0.body2", "4"), ("4.0.0.body3", "4"), ("4.0.0.close", "4")]
    assert len(inner) == 12  # three expanded passes of open, two body nodes and close
    assert inner[-1][0] == "4.0.0.close.0.0.close.0.0.close"  # each pass expands inside the last
    assert executing[-1] == ("9", "9")


def test_async_check_lazy_status(cache_server):
    tag = uuid.uuid4().hex[:8]
    prompt = {
        "1": sem("SemValue", value=1, tag="a" + tag),
        "2": sem("SemValue", value=2, tag="b" + tag),
        "3": sem("SemAsyncLazySelect", select=0, a=["1", 0], b=["2", 0]),
        "9": sem("SemShow", value=["3", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = show(run)
    assert out["value"] == [1]
    assert out["runs"][-3:] == [["check", 0, None, None], ["value", "a" + tag], ["check", 0, 1, None]]
    assert [n for n in run.executing_nodes() if n is not None] == ["3", "1", "3", "9"]


def test_async_validate_inputs(cache_server):
    ok = {"1": sem("SemAsyncValidated", value=4), "9": sem("SemShow", value=["1", 0])}
    run = queue_and_collect(cache_server, ok)
    assert run.one("execution_success") and show(run)["value"] == [4]
    r = cache_server.post("/prompt", json={"prompt": {"1": sem("SemAsyncValidated", value=-3),
                                                       "9": sem("SemShow", value=["1", 0])}})
    assert r.status_code == 400
    body = r.json()
    assert body["node_errors"]["1"]["errors"] == [{
        "type": "custom_validation_failed", "message": "Custom validation failed for node",
        "details": "value - negative value -3", "extra_info": {"input_name": "value"}}]


def test_identical_requeue_reruns_when_is_changed_changes(cache_server, tmp_path):
    """The same prompt queued again is served from cache only while IS_CHANGED answers the same
    (the executor reuses the last prompt's keys only for an identical prompt and IS_CHANGED)."""
    stamp = tmp_path / f"stamp-{uuid.uuid4().hex[:6]}.txt"
    stamp.write_text("one")
    prompt = {"1": sem("SemFileStamp", path=str(stamp))}
    caching = cache_server.cache_mode != "none"
    first = queue_and_collect(cache_server, prompt)
    assert first.executing_nodes() == ["1"] and show(first, "1")["text"] == ["one"]
    again = queue_and_collect(cache_server, prompt)
    assert again.executing_nodes() == ([] if caching else ["1"])
    assert show(again, "1")["text"] == ["one"]
    stamp.write_text("two")
    changed = queue_and_collect(cache_server, prompt)
    assert changed.executing_nodes() == ["1"] and show(changed, "1")["text"] == ["two"]
    back = queue_and_collect(cache_server, prompt)
    assert back.executing_nodes() == ([] if caching else ["1"]) and show(back, "1")["text"] == ["two"]


def test_constructor_error_is_an_execution_error(cache_server):
    v = int(uuid.uuid4().int % 1000)
    prompt = {"1": sem("SemBadInit", value=v), "9": sem("SemShow", value=["1", 0])}
    run = queue_and_collect(cache_server, prompt)
    err = run.one("execution_error").data
    assert err["node_id"] == "1" and err["node_type"] == "SemBadInit"
    assert err["exception_type"] == "RuntimeError" and err["exception_message"] == "cannot build\n"
    assert err["current_inputs"] == {"value": [v]}
    assert any("raise RuntimeError" in line for line in err["traceback"])
    ok = queue_and_collect(cache_server, {"1": sem("SemValue", value=v, tag="after"), "9": sem("SemShow", value=["1", 0])})
    assert ok.one("execution_success")
