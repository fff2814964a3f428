"""comfy_api.latest.io: schema -> /object_info, the V1 view the executor uses, EXECUTE_NORMALIZED
with hidden values, NodeOutput normalisation, overrides and locked per-call clones."""
import asyncio
import inspect
import json

import pytest

from comfy_api.internal import first_real_override, is_v3, node_info_v1
from comfy_api.latest import ComfyExtension, io, ui
from comfy_execution.graph_utils import ExecutionBlocker

HIDDEN = {"__unique_id__": "17", "__prompt__": {"17": {"class_type": "SampleV3"}},
          "__extra_pnginfo__": {"workflow": {"nodes": []}}}


class Sample(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="SampleV3",
            display_name="Sample V3",
            category="testing/v3",
            description="A sample.",
            inputs=[
                io.Image.Input("image", tooltip="in"),
                io.Int.Input("count", default=2, min=1, max=8, step=1, display_mode=io.NumberDisplay.slider),
                io.Combo.Input("mode", options=["a", "b"], default="a"),
                io.Float.Input("scale", default=1.0, optional=True, round=0.01),
                io.String.Input("text", multiline=True, optional=True, lazy=True),
                io.Boolean.Input("flag", default=False, label_on="yes", label_off="no", optional=True),
            ],
            outputs=[io.Image.Output(display_name="out", tooltip="result"), io.Int.Output(is_output_list=True)],
            hidden=[io.Hidden.unique_id],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, image, count, mode, scale=1.0, text=None, flag=False):
        return io.NodeOutput(image, [count] * count, ui={"text": [cls.hidden.unique_id]})


EXPECTED_INFO = {
    "input": {
        "required": {
            "image": ["IMAGE", {"tooltip": "in"}],
            "count": ["INT", {"default": 2, "min": 1, "max": 8, "step": 1, "display": "slider"}],
            "mode": ["COMBO", {"default": "a", "multiselect": False, "options": ["a", "b"]}],
        },
        "optional": {
            "scale": ["FLOAT", {"default": 1.0, "round": 0.01}],
            "text": ["STRING", {"lazy": True, "multiline": True}],
            "flag": ["BOOLEAN", {"default": False, "label_on": "yes", "label_off": "no"}],
        },
        "hidden": {"unique_id": ["UNIQUE_ID"], "prompt": ["PROMPT"], "extra_pnginfo": ["EXTRA_PNGINFO"]},
    },
    "input_order": {
        "required": ["image", "count", "mode"],
        "optional": ["scale", "text", "flag"],
        "hidden": ["unique_id", "prompt", "extra_pnginfo"],
    },
    "output": ["IMAGE", "INT"],
    "output_is_list": [False, True],
    "output_name": ["out", "INT"],
    "output_tooltips": ["result", None],
    "name": "SampleV3",
    "display_name": "Sample V3",
    "description": "A sample.",
    "python_module": "custom_nodes.sample",
    "category": "testing/v3",
    "output_node": True,
    "deprecated": False,
    "experimental": False,
    "api_node": False,
}


@pytest.fixture
def sample():
    Sample.RELATIVE_PYTHON_MODULE = "custom_nodes.sample"
    yield Sample
    Sample.RELATIVE_PYTHON_MODULE = None


def test_node_info_v1_is_comfyui_object_info(sample):
    info = node_info_v1(sample, {"SampleV3": "ignored"})
    # Same keys, same order, same values, same JSON text.
    assert list(info) == list(EXPECTED_INFO)
    assert json.dumps(info) == json.dumps(EXPECTED_INFO)
    assert info["input"]["hidden"]["unique_id"] == ("UNIQUE_ID",)


def test_node_info_v1_nulls_and_defaults():
    class Bare(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="Bare", outputs=[io.String.Output()])

        @classmethod
        def execute(cls):
            return io.NodeOutput("x")

    info = node_info_v1(Bare, {})
    assert info == {
        "input": {"required": {}}, "input_order": {"required": []}, "output": ["STRING"],
        "output_is_list": [False], "output_name": ["STRING"], "output_tooltips": [None], "name": "Bare",
        "display_name": None, "description": "", "python_module": None, "category": "sd",
        "output_node": False, "deprecated": False, "experimental": False, "api_node": False,
    }


def test_v1_attributes_derived_from_schema(sample):
    assert is_v3(sample) and not is_v3(object) and not is_v3(sample())
    assert sample.FUNCTION == "EXECUTE_NORMALIZED"
    assert sample.RETURN_TYPES == ["IMAGE", "INT"]
    assert sample.RETURN_NAMES == ["out", "INT"]
    assert sample.OUTPUT_IS_LIST == [False, True]
    assert sample.OUTPUT_TOOLTIPS == ["result", None]
    assert sample.OUTPUT_NODE is True
    assert sample.INPUT_IS_LIST is False
    assert sample.NOT_IDEMPOTENT is False
    assert sample.CATEGORY == "testing/v3"
    assert sample.DESCRIPTION == "A sample."
    assert (sample.DEPRECATED, sample.EXPERIMENTAL, sample.API_NODE) == (False, False, False)
    # No overrides: the executor must not see VALIDATE_INPUTS / IS_CHANGED / check_lazy_status.
    assert not hasattr(sample, "VALIDATE_INPUTS")
    assert not hasattr(sample, "IS_CHANGED")
    assert not hasattr(sample, "check_lazy_status")
    assert not hasattr(sample(), "check_lazy_status")


def test_input_types_executor_view(sample):
    spec = sample.INPUT_TYPES()
    assert list(spec) == ["required", "optional", "hidden"]
    assert spec["required"]["count"] == ("INT", {"default": 2, "min": 1, "max": 8, "step": 1, "display": "slider"})
    assert spec["optional"]["text"] == ("STRING", {"lazy": True, "multiline": True})
    # Hidden inputs under reserved keyword names, with V1 marker strings.
    assert spec["hidden"] == {"__unique_id__": "UNIQUE_ID", "__prompt__": "PROMPT",
                              "__extra_pnginfo__": "EXTRA_PNGINFO"}
    assert "hidden" not in sample.INPUT_TYPES(include_hidden=False)
    spec2, schema = sample.INPUT_TYPES(return_schema=True)
    assert schema.node_id == "SampleV3" and spec2 == spec


def test_type_strings_use_any_and_union_rules(sample):
    spec = sample.INPUT_TYPES()
    image_type = spec["required"]["image"][0]
    assert type(image_type) is not str  # the executor compares it in Python
    assert not (image_type != "IMAGE")
    assert not (image_type != "*")
    assert not (image_type != "IMAGE,MASK")
    assert image_type != "MASK"
    assert not (io.AnyType.io_type != "LATENT")


def test_execute_normalized_with_hidden(sample):
    out = sample().EXECUTE_NORMALIZED(image="img", count=2, mode="a", **HIDDEN)
    assert isinstance(out, io.NodeOutput)
    assert out.result == ("img", [2, 2])
    assert out.ui == {"text": ["17"]}
    assert out.expand is None and out.block_execution is None
    assert out[0] == "img"
    # The class itself is untouched: hidden values only live on the per-call clone.
    assert sample.hidden is None


def test_execute_sees_all_hidden_values_on_a_locked_clone():
    seen = {}

    class Spy(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="Spy", inputs=[io.String.Input("prompt")], is_api_node=True,
                             hidden=[io.Hidden.unique_id, io.Hidden.dynprompt])

        @classmethod
        def execute(cls, prompt):
            seen.update(prompt=prompt, unique_id=cls.hidden.unique_id, dynprompt=cls.hidden.dynprompt,
                        token=cls.hidden.auth_token_comfy_org, key=cls.hidden.api_key_comfy_org,
                        pnginfo=cls.hidden.extra_pnginfo, other=cls.hidden.not_a_hidden_name,
                        cls=cls)
            with pytest.raises(AttributeError):
                cls.some_state = 1
            return None

    assert Spy.INPUT_TYPES()["hidden"] == {
        "__unique_id__": "UNIQUE_ID", "__dynprompt__": "DYNPROMPT",
        "__auth_token_comfy_org__": "AUTH_TOKEN_COMFY_ORG", "__api_key_comfy_org__": "API_KEY_COMFY_ORG"}
    out = Spy.EXECUTE_NORMALIZED(prompt="user text", __unique_id__="4", __dynprompt__="DP",
                                 __auth_token_comfy_org__="tok", __api_key_comfy_org__=None)
    assert out.result is None and out.ui is None
    assert seen["prompt"] == "user text"  # a real input named like a hidden value is not replaced
    assert (seen["unique_id"], seen["dynprompt"], seen["token"], seen["key"]) == ("4", "DP", "tok", None)
    assert seen["pnginfo"] is None and seen["other"] is None
    assert seen["cls"] is not Spy and issubclass(seen["cls"], Spy)
    assert not hasattr(Spy, "some_state")


def _node_returning(value, enable_expand=False):
    class Returner(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="Returner", outputs=[io.Int.Output(), io.Int.Output()],
                             enable_expand=enable_expand)

        @classmethod
        def execute(cls):
            return value
    return Returner


def test_node_output_normalisation():
    out = _node_returning(None).EXECUTE_NORMALIZED()
    assert (out.result, out.ui, out.expand, out.block_execution) == (None, None, None, None)

    out = _node_returning((1, 2)).EXECUTE_NORMALIZED()
    assert out.result == (1, 2)

    out = _node_returning({"result": (3, 4), "ui": {"text": ["t"]}}).EXECUTE_NORMALIZED()
    assert (out.result, out.ui) == ((3, 4), {"text": ["t"]})

    out = _node_returning({"ui": {"a": [1]}}).EXECUTE_NORMALIZED()
    assert (out.result, out.ui) == (None, {"a": [1]})

    out = _node_returning({"result": ExecutionBlocker("stop")}).EXECUTE_NORMALIZED()
    assert (out.result, out.block_execution) == (None, "stop")

    out = _node_returning(ExecutionBlocker("no")).EXECUTE_NORMALIZED()
    assert (out.result, out.block_execution) == (None, "no")

    ui_obj = ui.PreviewText("hi")
    out = _node_returning(io.NodeOutput(5, 6, ui=ui_obj)).EXECUTE_NORMALIZED()
    assert out.result == (5, 6) and out.ui.as_dict() == {"text": ("hi",)}

    with pytest.raises(Exception, match="Invalid return type from node"):
        _node_returning([1, 2]).EXECUTE_NORMALIZED()


def test_expand_requires_enable_expand():
    graph = {"a.1": {"class_type": "X", "inputs": {}}}
    with pytest.raises(Exception, match="is not expandable"):
        _node_returning(io.NodeOutput(1, 2, expand=graph)).EXECUTE_NORMALIZED()
    out = _node_returning({"result": (["a.1", 0], 2), "expand": graph}, enable_expand=True).EXECUTE_NORMALIZED()
    assert out.expand == graph and out.result == (["a.1", 0], 2)


def test_async_execute():
    class Slow(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="Slow", inputs=[io.Int.Input("x")], outputs=[io.Int.Output()],
                             hidden=[io.Hidden.unique_id])

        @classmethod
        async def execute(cls, x):
            await asyncio.sleep(0)
            return io.NodeOutput(x + int(cls.hidden.unique_id))

    assert Slow.FUNCTION == "EXECUTE_NORMALIZED_ASYNC"
    func = getattr(Slow(), Slow.FUNCTION)
    assert inspect.iscoroutinefunction(func)
    out = asyncio.run(func(x=1, __unique_id__="10"))
    assert out.result == (11,)


class Validated(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="Validated", inputs=[io.Int.Input("a"), io.Int.Input("b", lazy=True)],
                         outputs=[io.Int.Output()], hidden=[io.Hidden.unique_id])

    @classmethod
    def execute(cls, a, b):
        return io.NodeOutput(a + b)

    @classmethod
    def validate_inputs(cls, a, input_types=None):
        return True if a >= 0 else f"node {cls.hidden.unique_id}: a < 0 ({input_types})"

    @classmethod
    def fingerprint_inputs(cls, a, b=None):
        return (a, b, cls.hidden.unique_id)

    @classmethod
    def check_lazy_status(cls, a, b=None):
        return ["b"] if b is None and a > 0 else []


class Plain(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="Plain")

    @classmethod
    def execute(cls):
        return None


class PlainChild(Plain):
    pass


class ValidatedChild(Validated):
    pass


def test_first_real_override():
    assert first_real_override(Plain, "execute") is not None
    assert first_real_override(Plain, "validate_inputs") is None
    assert first_real_override(Plain, "fingerprint_inputs") is None
    assert first_real_override(Plain, "check_lazy_status") is None
    assert first_real_override(PlainChild, "check_lazy_status") is None
    assert first_real_override(io.ComfyNode, "execute") is None
    assert first_real_override(Validated, "validate_inputs").__func__ is Validated.__dict__["validate_inputs"].__func__
    assert first_real_override(ValidatedChild, "fingerprint_inputs") is not None
    assert first_real_override(ValidatedChild, "check_lazy_status") is not None
    assert first_real_override(Plain, "no_such_method") is None
    with pytest.raises(ValueError):
        first_real_override(object, "execute")
    assert first_real_override(Plain, "execute", base=io.ComfyNode) is not None


def test_overrides_are_exposed_as_v1_hooks():
    assert hasattr(Validated, "VALIDATE_INPUTS") and hasattr(ValidatedChild, "VALIDATE_INPUTS")
    assert hasattr(Validated, "IS_CHANGED")
    assert hasattr(Validated, "check_lazy_status") and hasattr(Validated(), "check_lazy_status")

    # The executor picks keyword arguments from the signature (getfullargspec on the class hook).
    spec = inspect.getfullargspec(Validated.VALIDATE_INPUTS)
    assert spec.args[:3] == ["cls", "a", "input_types"]
    assert "__unique_id__" in spec.args and spec.varkw is None
    assert Validated.VALIDATE_INPUTS(a=1, input_types=None, __unique_id__="3") is True
    assert Validated.VALIDATE_INPUTS(a=-1, input_types={"a": "INT"}, __unique_id__="3") == \
        "node 3: a < 0 ({'a': 'INT'})"
    assert Validated.IS_CHANGED(a=1, b=None, __unique_id__="9") == (1, None, "9")
    assert Validated().check_lazy_status(a=1, b=None, __unique_id__="9") == ["b"]
    assert Validated().check_lazy_status(a=1, b=2) == []


def test_async_validate_inputs_stays_async():
    class AsyncValidated(Plain):
        @classmethod
        async def validate_inputs(cls, **kwargs):
            return kwargs

    hook = AsyncValidated.VALIDATE_INPUTS
    assert inspect.iscoroutinefunction(hook)
    assert inspect.getfullargspec(hook).varkw == "kwargs"
    assert asyncio.run(hook(x=1, __prompt__={})) == {"x": 1}


def test_instance_is_validated_on_construction():
    class NoExecute(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="NoExecute")

    with pytest.raises(Exception, match="No execute function was defined"):
        NoExecute()


def test_schema_finalize_and_validate():
    schema = io.Schema(node_id="S", outputs=[io.Int.Output(), io.String.Output(id="named")],
                       is_output_node=True, is_api_node=True)
    schema.finalize()
    assert [o.id for o in schema.outputs] == ["_0_INT_", "named"]
    assert schema.hidden == [io.Hidden.auth_token_comfy_org, io.Hidden.api_key_comfy_org,
                             io.Hidden.prompt, io.Hidden.extra_pnginfo]
    schema.finalize()  # idempotent
    assert len(schema.hidden) == 4

    dup = io.Schema(node_id="D", inputs=[io.Int.Input("x"), io.Int.Input("x")], outputs=[io.Int.Output(id="x")])
    with pytest.raises(ValueError) as e:
        dup.validate()
    assert "Input ids must be unique, but ['x'] are not." in str(e.value)
    assert "Ids must be unique between inputs and outputs" in str(e.value)


def test_input_as_dict_layouts():
    def v1(inp):
        d = {"required": {}}
        io.add_to_dict_v1(inp, d)
        return d

    assert v1(io.MultiCombo.Input("tags", options=["x", "y"], default=["x"], chip=True)) == {"required": {"tags": (
        "COMBO", {"default": ["x"], "multiselect": True, "options": ["x", "y"], "multi_select": True, "chip": True})}}
    assert v1(io.Combo.Input("image", options=["a.png"], upload=io.UploadType.image,
                             image_folder=io.FolderType.input)) == {"required": {"image": (
        "COMBO", {"multiselect": False, "options": ["a.png"], "image_upload": True, "image_folder": "input"})}}
    assert v1(io.String.Input("s", force_input=True, raw_link=True, optional=True)) == {"required": {}, "optional": {
        "s": ("STRING", {"rawLink": True, "forceInput": True, "multiline": False})}}
    multi = io.MultiType.Input(io.Int.Input("v", default=3), types=[io.Float, io.String])
    assert v1(multi) == {"required": {"v": ("INT,FLOAT,STRING", {"default": 3, "widgetType": "INT"})}}
    assert v1(io.Custom("MY_TYPE").Input("m")) == {"required": {"m": ("MY_TYPE", {})}}

    combo_out = io.Combo.Output(options=["p", "q"])
    assert combo_out.io_type == ["p", "q"]


def test_comfytype_decorator_and_custom():
    @io.comfytype(io_type="THING")
    class Thing:
        Type = int

    assert issubclass(Thing, io.ComfyTypeIO)
    assert Thing.io_type == "THING" and Thing.Input.Parent is Thing and Thing.Output.Parent is Thing
    assert Thing.Input("t").get_io_type() == "THING"
    assert io.ComfyTypeIO.Output.Parent is None

    Custom = io.Custom("CUSTOM_X")
    assert Custom.Output().io_type == "CUSTOM_X"
    assert io.Image.Input.Parent is io.Image and io.Mask.Input.Parent is io.Mask


def test_extension_contract():
    class Ext(ComfyExtension):
        async def get_node_list(self):
            return [Sample]

    ext = Ext()
    assert asyncio.run(ext.get_node_list()) == [Sample]
    assert asyncio.run(ext.on_load()) is None
    with pytest.raises(TypeError):
        ComfyExtension()


def test_schema_accepts_newer_fields():
    schema = io.Schema(node_id="New", category="c", search_aliases=["n"], essentials_category="Basics")
    assert schema.category == "c" and schema.extra_fields == {"search_aliases": ["n"],
                                                             "essentials_category": "Basics"}


def test_comfyui_style_clone_call(sample):
    # ComfyUI's executor path: PREPARE_CLASS_CLONE + make_locked_method_func.
    from comfy_api.internal import make_locked_method_func
    clone = sample.PREPARE_CLASS_CLONE({io.Hidden.unique_id: "99"})
    assert clone.hidden.unique_id == "99" and sample.hidden is None
    call = make_locked_method_func(sample, "EXECUTE_NORMALIZED", clone)
    out = call(image="i", count=1, mode="b")
    assert out.result == ("i", [1]) and out.ui == {"text": ["99"]}
    v3_data = {"hidden_inputs": {io.Hidden.prompt: {"a": 1}}}
    assert sample.PREPARE_CLASS_CLONE(v3_data).hidden.prompt == {"a": 1}
    assert io.HiddenHolder.from_v3_data(v3_data).prompt == {"a": 1}
