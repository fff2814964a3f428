"""V3 nodes (spec §7): loaded from a pack's comfy_entrypoint, listed in /object_info with every
key of NodeInfoV1, validated (validate_inputs), executed with hidden inputs through cls.hidden,
UI output, block_execution; ComfyUI's model-free V3 built-ins."""
import uuid

import requests

from comfy_harness import queue_and_collect


def test_object_info_for_a_v3_node_has_every_key(server):
    info = server.get_json("/object_info/V3Scale")["V3Scale"]
    assert list(info) == ["input", "input_order", "output", "output_is_list", "output_name", "output_tooltips", "name",
                          "display_name", "description", "python_module", "category", "output_node", "deprecated",
                          "experimental", "api_node"]
    assert info["name"] == "V3Scale" and info["display_name"] == "V3 Scale"
    assert info["output"] == ["INT"] and info["output_name"] == ["scaled"] and info["output_is_list"] == [False]
    assert info["python_module"] == "custom_nodes.v3_pack" and info["category"] == "v3test"
    assert info["input"]["required"]["value"][0] == "INT"
    assert info["input"]["hidden"] == {"unique_id": ["UNIQUE_ID"]}
    assert info["output_node"] is False and info["deprecated"] is False and info["api_node"] is False


def test_v3_nodes_run_with_hidden_inputs_and_ui(server):
    v = int(uuid.uuid4().int % 100)
    prompt = {"1": {"class_type": "V3Scale", "inputs": {"value": v, "factor": 3.0}},
              "2": {"class_type": "V3Show", "inputs": {"value": ["1", 0]}}}
    run = queue_and_collect(server, prompt)
    assert run.one("execution_success")
    out = [m.data for m in run.of("executed") if m.data["node"] == "2"][0]["output"]
    assert out == {"text": [f"{3 * v}@2"]}


def test_v3_validate_inputs_and_block_execution(server):
    bad = {"1": {"class_type": "V3Scale", "inputs": {"value": 1, "factor": -1.0}},
           "2": {"class_type": "V3Show", "inputs": {"value": ["1", 0]}}}
    r = requests.post(server.url("/prompt"), json={"prompt": bad}, timeout=10)
    assert r.status_code == 400
    errs = r.json()["node_errors"]["1"]["errors"]
    assert {"type": "custom_validation_failed", "message": "Custom validation failed for node",
            "details": "factor - factor must not be negative", "extra_info": {"input_name": "factor"}} in errs
    blocked = {"1": {"class_type": "V3Scale", "inputs": {"value": 1, "factor": 1.0, "block": True}},
               "2": {"class_type": "V3Show", "inputs": {"value": ["1", 0]}}}
    run = queue_and_collect(server, blocked)
    err = run.one("execution_error").data
    assert err["exception_type"] == "ExecutionBlocked" and err["exception_message"] == "Execution Blocked: v3 blocked"
    assert run.one("execution_success")


def test_v3_builtins_primitives_and_string_concatenate(server):
    prompt = {"1": {"class_type": "PrimitiveString", "inputs": {"value": "foo"}},
              "2": {"class_type": "StringConcatenate", "inputs": {"string_a": ["1", 0], "string_b": "bar", "delimiter": "-"}},
              "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}}}
    run = queue_and_collect(server, prompt)
    assert run.one("execution_success"), run.messages
    out = [m.data for m in run.of("executed") if m.data["node"] == "3"][0]["output"]
    assert out == {"text": ["foo-bar"]}
