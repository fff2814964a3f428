"""The `execution` module: validate_prompt (spec section 5), get_input_data, IsChangedCache, the
PromptQueue (local and native-backed) and the import-compatible PromptExecutor."""
import asyncio
import inspect

import pytest

import execution
import nodes
from comfy._compat import server as server_module
from comfy_execution.graph import DynamicPrompt


def validate(prompt, targets=None):
    return asyncio.run(execution.validate_prompt("pid", prompt, targets))


def empty_image(**inputs):
    base = {"width": 8, "height": 8, "batch_size": 1, "color": 0}
    base.update(inputs)
    return {"class_type": "EmptyImage", "inputs": base}


def save(src):
    return {"class_type": "SaveImage", "inputs": {"images": [src, 0], "filename_prefix": "x"}}


@pytest.fixture
def extra_nodes(monkeypatch):
    """Registers test-only classes in nodes.NODE_CLASS_MAPPINGS for one test."""
    def add(**classes):
        for name, cls in classes.items():
            monkeypatch.setitem(nodes.NODE_CLASS_MAPPINGS, name, cls)
    return add


def test_names():
    assert inspect.iscoroutinefunction(execution.validate_prompt)
    assert [m.name for m in execution.ExecutionResult] == ["SUCCESS", "FAILURE", "PENDING"]
    assert [(m.name, m.value) for m in execution.CacheType] == [("CLASSIC", 0), ("LRU", 1), ("DEPENDENCY_AWARE", 2)]
    assert execution.SENSITIVE_EXTRA_DATA_KEYS == ("auth_token_comfy_org", "api_key_comfy_org")
    assert execution.MAXIMUM_HISTORY_SIZE == 10000
    assert execution.CacheEntry(ui={}, outputs=[1]).outputs == [1]
    assert execution.full_type_name(KeyError) == "KeyError"
    assert execution.full_type_name(execution.PromptQueue) == "comfy._compat.execution.PromptQueue"
    assert execution.format_value(None) is None and execution.format_value(1.5) == 1.5
    assert execution.format_value([1]) == "[1]"


# -- validate_prompt ----------------------------------------------------------------------------------------

def test_valid_prompt_converts_constants():
    prompt = {"1": empty_image(width="64", height=32.9), "2": save("1")}
    assert validate(prompt) == (True, None, ["2"], {})
    assert prompt["1"]["inputs"]["width"] == 64 and prompt["1"]["inputs"]["height"] == 32
    prompt = {"1": empty_image(width={"__value__": 16}), "2": save("1")}
    assert validate(prompt)[0] is True and prompt["1"]["inputs"]["width"] == 16


def test_top_level_errors():
    ok, err, outs, node_errors = validate({"1": {"inputs": {}}})
    assert (ok, outs, node_errors) == (False, [], {})
    assert err == {"type": "missing_node_type",
                   "message": "Cannot execute because a node is missing the class_type property.",
                   "details": "Node ID '#1'", "extra_info": {"node_id": "1", "class_type": None, "node_title": None}}
    ok, err, _, _ = validate({"5": {"class_type": "Nope", "inputs": {}, "_meta": {"title": "My Node"}}})
    assert err == {"type": "missing_node_type", "message": "Cannot execute because node Nope does not exist.",
                   "details": "Node ID '#5'", "extra_info": {"node_id": "5", "class_type": "Nope",
                                                             "node_title": "My Node"}}
    ok, err, _, _ = validate({"1": empty_image()})
    assert err == {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}
    # partial_execution_targets: only listed output nodes count; an empty list means no outputs.
    prompt = {"1": empty_image(), "2": save("1"), "3": save("1")}
    assert validate(prompt, ["3", "1"])[2] == ["3"]
    assert validate(prompt, [])[1]["type"] == "prompt_no_outputs"


def test_input_errors():
    prompt = {"1": empty_image(width=0, color="red"), "2": save("1")}
    del prompt["1"]["inputs"]["height"]
    ok, err, outs, node_errors = validate(prompt)
    assert ok is False and outs == []
    assert err["type"] == "prompt_outputs_failed_validation" and err["details"] == ""
    errors = node_errors["1"]["errors"]
    assert node_errors["1"]["dependent_outputs"] == ["2"] and node_errors["1"]["class_type"] == "EmptyImage"
    assert [e["type"] for e in errors] == ["value_smaller_than_min", "required_input_missing", "invalid_input_type"]
    assert errors[0] == {"type": "value_smaller_than_min", "message": "Value 0 smaller than min of 1",
                         "details": "width", "extra_info": {
                             "input_name": "width", "received_value": 0,
                             "input_config": ("INT", {"default": 512, "min": 1, "max": 16384, "step": 1})}}
    assert errors[1] == {"type": "required_input_missing", "message": "Required input is missing",
                         "details": "height", "extra_info": {"input_name": "height"}}
    assert errors[2]["message"] == "Failed to convert an input value to a INT value"
    assert errors[2]["details"] == "color, red, invalid literal for int() with base 10: 'red'"
    assert "2" not in node_errors  # failed only because of its input


def test_combo_and_max_errors():
    prompt = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 99999, "height": 64, "batch_size": 1}},
              "2": {"class_type": "LatentUpscale", "inputs": {"samples": ["1", 0], "upscale_method": "magic",
                                                              "width": 64, "height": 64, "crop": "disabled"}},
              "3": {"class_type": "SaveLatent", "inputs": {"samples": ["2", 0], "filename_prefix": "x"}}}
    ok, err, _, node_errors = validate(prompt)
    assert node_errors["1"]["errors"][0]["type"] == "value_bigger_than_max"
    assert node_errors["1"]["errors"][0]["message"] == "Value 99999 bigger than max of 16384"
    combo = node_errors["2"]["errors"][0]
    assert combo["type"] == "value_not_in_list"
    assert combo["details"] == "upscale_method: 'magic' not in ['nearest-exact', 'bilinear', 'area', 'bicubic', 'bislerp']"
    assert combo["extra_info"]["input_config"] == (["nearest-exact", "bilinear", "area", "bicubic", "bislerp"], {})
    assert sorted(node_errors) == ["1", "2"] and node_errors["2"]["dependent_outputs"] == ["3"]


def test_long_combo_lists_are_summarised(extra_nodes):
    class Many:
        @classmethod
        def INPUT_TYPES(s):
            return {"required": {"pick": ([str(i) for i in range(30)],)}}
        RETURN_TYPES = ()
        FUNCTION = "f"
        OUTPUT_NODE = True

    extra_nodes(Many=Many)
    _, _, _, node_errors = validate({"1": {"class_type": "Many", "inputs": {"pick": "x"}}})
    e = node_errors["1"]["errors"][0]
    assert e["details"] == "pick: 'x' not in (list of length 30)" and e["extra_info"]["input_config"] is None


def test_link_errors():
    prompt = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
              "2": save("1"), "3": {"class_type": "SaveImage", "inputs": {"images": ["1"], "filename_prefix": "x"}}}
    ok, err, _, node_errors = validate(prompt)
    mismatch = node_errors["2"]["errors"][0]
    assert mismatch["type"] == "return_type_mismatch"
    assert mismatch["details"] == "images, received_type(LATENT) mismatch input_type(IMAGE)"
    assert mismatch["extra_info"]["received_type"] == "LATENT" and mismatch["extra_info"]["linked_node"] == ["1", 0]
    bad = node_errors["3"]["errors"][0]
    assert bad["type"] == "bad_linked_input" and bad["details"] == "images"
    assert err["details"] == ("Return type mismatch between linked nodes: images, received_type(LATENT) mismatch "
                              "input_type(IMAGE)\nBad linked input, must be a length-2 list of [node_id, slot_index]: "
                              "images")


def test_missing_linked_node():
    # The output links to a missing node: an exception while validating the output itself.
    ok, err, _, node_errors = validate({"2": save("9")})
    e = node_errors["2"]["errors"][0]
    assert e["type"] == "exception_during_validation" and e["details"] == "'9'"
    assert e["extra_info"]["exception_type"] == "KeyError"
    assert err["details"] == "Exception when validating node: '9'"
    # One level further: recorded on the node that links to the missing one.
    ok, err, _, node_errors = validate({"1": {"class_type": "ImageInvert", "inputs": {"image": ["9", 0]}},
                                        "2": save("1")})
    e = node_errors["1"]["errors"][0]
    assert e["type"] == "exception_during_inner_validation" and e["details"] == "'9'"
    assert e["extra_info"]["input_name"] == "images" and e["extra_info"]["linked_node"] == ["1", 0]
    assert "2" not in node_errors


def test_dependency_cycle():
    prompt = {"1": {"class_type": "ImageInvert", "inputs": {"image": ["3", 0]}},
              "3": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
              "2": save("1")}
    ok, err, _, node_errors = validate(prompt)
    assert ok is False and sorted(node_errors) == ["1", "3"]
    assert node_errors["1"]["errors"] == [{
        "type": "dependency_cycle", "message": "Dependency cycle detected",
        "details": "1 (ImageInvert) -> 3 (ImageInvert) -> 1 (ImageInvert)",
        "extra_info": {"node_id": "1", "cycle_nodes": ["1", "3"]}}]


def test_long_chain_does_not_recurse():
    n = 4000
    prompt = {"0": empty_image()}
    for i in range(1, n):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["out"] = save(str(n - 1))
    assert validate(prompt) == (True, None, ["out"], {})
    prompt["0"]["inputs"]["width"] = -1
    ok, _, _, node_errors = validate(prompt)
    assert ok is False and list(node_errors) == ["0"]


def test_custom_validation(extra_nodes, folder_paths):
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": "missing.png"}},
              "2": save("1")}
    _, _, _, node_errors = validate(prompt)
    assert node_errors["1"]["errors"] == [{"type": "custom_validation_failed",
                                           "message": "Custom validation failed for node",
                                           "details": "image - Invalid image file: missing.png",
                                           "extra_info": {"input_name": "image"}}]

    seen = {}

    class Checked:
        @classmethod
        def INPUT_TYPES(s):
            return {"required": {"value": ("INT", {"min": 0, "max": 5}), "image": ("IMAGE",)},
                    "hidden": {"uid": "UNIQUE_ID"}}
        RETURN_TYPES = ()
        FUNCTION = "f"
        OUTPUT_NODE = True

        @classmethod
        async def VALIDATE_INPUTS(cls, value, image, input_types, uid):
            seen.update(value=value, image=image, input_types=input_types, uid=uid)
            return value != 7 or False

    extra_nodes(Checked=Checked)
    prompt = {"1": empty_image(), "2": {"class_type": "Checked", "inputs": {"value": "7", "image": ["1", 0]}}}
    ok, _, _, node_errors = validate(prompt)
    # `value` is a parameter of VALIDATE_INPUTS, so its max is not checked; a False result names
    # every passed input.
    assert seen == {"value": 7, "image": None, "input_types": {"image": "IMAGE"}, "uid": "2"}
    assert [e["details"] for e in node_errors["2"]["errors"]] == ["value", "image", "uid", "input_types"]
    prompt["2"]["inputs"]["value"] = 3
    assert validate(prompt)[0] is True


# -- get_input_data / IsChangedCache ------------------------------------------------------------------------

def test_get_input_data():
    class Cls:
        @classmethod
        def INPUT_TYPES(s):
            return {"required": {"a": ("INT",), "img": ("IMAGE",)},
                    "optional": {"raw": ("*", {"rawLink": True})},
                    "hidden": {"p": "PROMPT", "u": "UNIQUE_ID", "x": "EXTRA_PNGINFO", "d": "DYNPROMPT",
                               "k": "API_KEY_COMFY_ORG"}}

    inputs = {"a": 3, "img": ["5", 1], "raw": ["6", 0], "undeclared": 1}
    data, missing, hidden = execution.get_input_data(inputs, Cls, "7")
    assert data["a"] == [3] and data["img"] == (None,) and missing == {"img": True}
    assert data["raw"] == [["6", 0]] and "undeclared" not in data
    assert data["p"] == [{}] and data["u"] == ["7"] and data["x"] == [None] and data["d"] == [None]
    assert data["k"] == [None] and hidden == {}
    dyn = DynamicPrompt({"7": {}})
    outputs = {"5": [["first"], ["second", "third"]]}
    data, missing, _ = execution.get_input_data(inputs, Cls, "7", outputs, dyn,
                                                {"extra_pnginfo": {"w": 1}, "api_key_comfy_org": "k"})
    assert data["img"] == ["second", "third"] and missing == {}
    assert data["p"] == [{"7": {}}] and data["d"] == [dyn] and data["x"] == [{"w": 1}] and data["k"] == ["k"]
    data, missing, _ = execution.get_input_data({"img": ["5", 1]}, Cls, "7",
                                                {"5": execution.CacheEntry(ui={}, outputs=[[1], [2]])})
    assert data["img"] == [2]


def test_is_changed_cache(extra_nodes):
    calls = []

    class Changing:
        @classmethod
        def INPUT_TYPES(s):
            return {"required": {"v": ("INT",), "img": ("IMAGE",)}}

        @classmethod
        def IS_CHANGED(s, v, img):
            calls.append((v, img))
            return v * 2

    class Failing(Changing):
        @classmethod
        def IS_CHANGED(s, v, img):
            raise ValueError("no")

    extra_nodes(Changing=Changing, Failing=Failing)
    prompt = {"1": {"class_type": "Changing", "inputs": {"v": 4, "img": ["0", 0]}},
              "2": {"class_type": "Failing", "inputs": {"v": 1}},
              "3": {"class_type": "EmptyImage", "inputs": {}}}
    cache = execution.IsChangedCache("pid", DynamicPrompt(prompt), None)
    assert asyncio.run(cache.get("1")) == [8] and calls == [(4, None)]
    assert asyncio.run(cache.get("1")) == [8] and len(calls) == 1
    nan = asyncio.run(cache.get("2"))
    assert nan != nan
    assert asyncio.run(cache.get("3")) is False


# -- queue -------------------------------------------------------------------------------------------------

class _FakeServer:
    def __init__(self):
        self.updates = 0
        self.client_id = None
        self.sent = []

    def queue_updated(self):
        self.updates += 1

    def send_sync(self, event, data, sid=None):
        self.sent.append((event, data, sid))


def test_local_prompt_queue():
    srv = _FakeServer()
    q = execution.PromptQueue(srv)
    q.put((2, "b", {}, {}, ["9"]))
    q.put((1, "a", {"p": 1}, {"client_id": "c"}, ["9"], {"auth_token_comfy_org": "t"}))
    q.put((1, "0", {}, {}, []))
    assert q.get_tasks_remaining() == 3 and srv.updates == 3
    item, task = q.get(timeout=0)
    assert item[1] == "0" and task == 0
    item, task = q.get()
    assert item[:2] == (1, "a") and task == 1
    running, pending = q.get_current_queue()
    assert [x[1] for x in running] == ["0", "a"] and [x[1] for x in pending] == ["b"]
    q.task_done(task, {"outputs": {"9": {"images": []}}, "meta": {}},
                execution.PromptQueue.ExecutionStatus("success", True, []), process_item=lambda p: p[:5] + p[6:])
    assert q.get_history("a")["a"] == {"prompt": (1, "a", {"p": 1}, {"client_id": "c"}, ["9"]),
                                       "outputs": {"9": {"images": []}},
                                       "status": {"status_str": "success", "completed": True, "messages": []},
                                       "meta": {}}
    assert list(q.get_history()) == ["a"] and q.get_history("zzz") == {}
    assert q.delete_queue_item(lambda x: x[1] == "b") is True and q.delete_queue_item(lambda x: True) is False
    assert q.get(timeout=0.01) is None
    q.set_flag("unload_models", True)
    assert q.get_flags() == {"unload_models": True} and q.get_flags() == {}
    q.wipe_history()
    assert q.get_history() == {}


def test_local_history_paging():
    q = execution.PromptQueue(_FakeServer())
    for i in range(5):
        q.put((i, str(i), {}, {}, []))
        item, task = q.get()
        q.task_done(task, {}, None)
    assert list(q.get_history(max_items=2)) == ["3", "4"]
    assert list(q.get_history(max_items=2, offset=1)) == ["1", "2"]
    assert q.get_history("2")["2"]["status"] is None


class _FakeNative:
    def __init__(self):
        self.put = []

    def queue_put(self, number, prompt_id, prompt, extra_data, outputs):
        self.put.append((number, prompt_id, prompt, extra_data, outputs))

    def queue_json(self):
        return {"queue_running": [[0, "r", {}, {}, []]], "queue_pending": [[1, "p", {}, {}, ["3"]]]}

    def queue_remaining(self):
        return 2

    def queue_delete(self, prompt_id):
        return prompt_id == "p"


def test_native_prompt_queue():
    assert issubclass(server_module._PromptQueue, execution.PromptQueue)

    class Owner:
        _native = None

    owner = Owner()
    q = server_module._PromptQueue(owner)
    assert isinstance(q, execution.PromptQueue)
    with pytest.raises(RuntimeError, match="not running"):
        q.get_tasks_remaining()
    owner._native = _FakeNative()
    q.put((5, "x", {"1": {}}, {"client_id": "c"}, [3], {"api_key_comfy_org": "k"}))
    assert owner._native.put == [(5, "x", {"1": {}}, {"client_id": "c", "api_key_comfy_org": "k"}, ["3"])]
    assert q.queue == [(1, "p", {}, {}, ["3"])]
    assert q.currently_running == {0: (0, "r", {}, {}, [])}
    assert q.get_tasks_remaining() == 2
    assert q.delete_queue_item(lambda item: item[1] == "p") is True
    with pytest.raises(RuntimeError, match="native executor"):
        q.get()


# -- executor -----------------------------------------------------------------------------------------------

def test_prompt_executor_is_constructible_but_does_not_run():
    srv = _FakeServer()
    e = execution.PromptExecutor(srv, cache_type=execution.CacheType.LRU, cache_size=10)
    assert e.success is True and e.status_messages == [] and e.cache_size == 10
    with pytest.raises(RuntimeError, match="the native executor runs every prompt"):
        e.execute({}, "pid", {}, [])
    with pytest.raises(RuntimeError, match="the native executor runs every prompt"):
        asyncio.run(e.execute_async({}, "pid"))
    e.add_message("execution_start", {"prompt_id": "pid"}, broadcast=True)
    assert e.status_messages == [("execution_start", {"prompt_id": "pid"})]
    assert srv.sent == [("execution_start", {"prompt_id": "pid"}, None)]
