"""comfy_execution: GraphBuilder ids and output, link helpers, DynamicPrompt, get_input_info,
validate_node_input, the executing context; comfy.comfy_types.IO comparisons."""
import contextvars
import sys

import pytest

from comfy.comfy_types import IO, CheckLazyMixin, ComfyNodeABC, FileLocator, InputTypeDict  # noqa: F401
from comfy.comfy_types import node_typing
from comfy_execution import graph, graph_utils, utils, validation
from comfy_execution.graph_utils import ExecutionBlocker, GraphBuilder, add_graph_prefix, is_link


def in_fresh_context(fn):
    return contextvars.copy_context().run(fn)


def test_graph_builder_ids_follow_the_executing_node():
    def build():
        GraphBuilder.set_default_prefix("12", 0, 0)
        g = GraphBuilder()
        a = g.node("StubInt", value=3)
        b = g.node("TestIntMathOperation", a=a.out(0), b=4, operation="add")
        named = g.node("StubInt", id="named", value=1)
        second = GraphBuilder()
        c = second.node("StubInt", value=9)
        GraphBuilder.set_default_prefix("12", 1)
        third = GraphBuilder()
        return g, a, b, named, second, c, third

    g, a, b, named, second, c, third = in_fresh_context(build)
    assert (a.id, b.id, named.id) == ("12.0.0.1", "12.0.0.2", "12.0.0.named")
    assert second.prefix == "12.0.1." and c.id == "12.0.1.1"
    assert third.prefix == "12.1.0."
    assert b.out(0) == ["12.0.0.2", 0]
    assert g.finalize() == {
        "12.0.0.1": {"class_type": "StubInt", "inputs": {"value": 3}},
        "12.0.0.2": {"class_type": "TestIntMathOperation",
                     "inputs": {"a": ["12.0.0.1", 0], "b": 4, "operation": "add"}},
        "12.0.0.named": {"class_type": "StubInt", "inputs": {"value": 1}},
    }


def test_graph_builder_defaults_and_editing():
    def build():
        g = GraphBuilder()
        return g

    g = in_fresh_context(build)
    assert g.prefix == ".0.0."
    g = GraphBuilder(prefix="test_")
    n1 = g.node("A", x=1)
    n2 = g.node("B", y=n1.out(0), z=n1.out(1))
    assert g.node("A", id="1") is n1  # an existing id returns the existing node
    assert g.lookup_node("2") is n2 and g.lookup_node("nope") is None
    n2.set_input("w", 5)
    n2.set_input("w", None)
    n2.set_input("missing", None)
    assert n2.get_input("y") == ["test_1", 0] and n2.get_input("w") is None
    n2.set_override_display_id("7")
    g.replace_node_output("1", 0, 42)
    g.replace_node_output("1", 1, None)
    assert g.finalize() == {
        "test_1": {"class_type": "A", "inputs": {"x": 1}},
        "test_2": {"class_type": "B", "inputs": {"y": 42}, "override_display_id": "7"},
    }
    g.remove_node("1")
    assert list(g.finalize()) == ["test_2"]


def test_is_link_and_add_graph_prefix():
    assert is_link(["1", 0]) and is_link(["1", 1.0])
    assert not is_link(("1", 0)) and not is_link([1, 0]) and not is_link(["1", "0"]) and not is_link(["1", 0, 2])
    graph_in = {"1": {"class_type": "A", "inputs": {"x": ["2", 0], "y": 3}}, "2": {"class_type": "B"}}
    new_graph, outputs = add_graph_prefix(graph_in, [["1", 0], 5], "p.")
    assert new_graph == {"p.1": {"class_type": "A", "inputs": {"x": ["p.2", 0], "y": 3}},
                         "p.2": {"class_type": "B", "inputs": {}}}
    assert outputs == (["p.1", 0], 5)


def test_execution_blocker_reexported():
    assert graph.ExecutionBlocker is ExecutionBlocker
    assert ExecutionBlocker("m").message == "m" and ExecutionBlocker(None).message is None


def test_public_and_private_module_names_are_the_same_objects():
    import comfy._compat.comfy_execution.graph_utils as private
    import comfy._compat.comfy_api.latest._io as private_io
    from comfy_api.latest import _io
    assert private is graph_utils and private_io is _io
    assert sys.modules["comfy_execution"] is sys.modules["comfy._compat.comfy_execution"]


def test_dynamic_prompt():
    prompt = {"1": {"class_type": "A", "inputs": {}}, "2": {"class_type": "B", "inputs": {}}}
    dp = graph.DynamicPrompt(prompt)
    assert dp.get_original_prompt() is prompt
    assert dp.get_node("1") is prompt["1"] and dp.has_node("2") and not dp.has_node("9")
    with pytest.raises(graph.NodeNotFoundError, match="Node 9 not found"):
        dp.get_node("9")
    child = {"class_type": "C", "inputs": {}}
    dp.add_ephemeral_node("2.0.0.1", child, "2", "2")
    grandchild = {"class_type": "D", "inputs": {}}
    dp.add_ephemeral_node("2.0.0.1.0.0.1", grandchild, "2.0.0.1", "2.0.0.1")
    assert dp.get_node("2.0.0.1") is child
    assert dp.get_real_node_id("2.0.0.1.0.0.1") == "2"
    assert dp.get_parent_node_id("2.0.0.1.0.0.1") == "2.0.0.1" and dp.get_parent_node_id("1") is None
    assert dp.get_display_node_id("2.0.0.1.0.0.1") == "2"
    assert dp.all_node_ids() == {"1", "2", "2.0.0.1", "2.0.0.1.0.0.1"}
    for exc in (graph.DependencyCycleError, graph.NodeInputError, graph.NodeNotFoundError):
        assert issubclass(exc, Exception)


def test_get_input_info():
    class V1:
        @classmethod
        def INPUT_TYPES(cls):
            return {"required": {"a": ("INT", {"min": 0})}, "optional": {"b": ("IMAGE",)},
                    "hidden": {"uid": "UNIQUE_ID"}}

    assert graph.get_input_info(V1, "a") == ("INT", "required", {"min": 0})
    assert graph.get_input_info(V1, "b") == ("IMAGE", "optional", {})
    assert graph.get_input_info(V1, "nope") == (None, None, None)
    assert graph.get_input_info(V1, "x", {"optional": {"x": ("FLOAT", {"lazy": True})}}) == \
        ("FLOAT", "optional", {"lazy": True})

    from comfy_api.latest import io

    class V3(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="V3Info", inputs=[io.Combo.Input("c", options=["x"], optional=True)])

        @classmethod
        def execute(cls, c=None):
            return None

    assert graph.get_input_info(V3, "c") == ("COMBO", "optional", {"multiselect": False, "options": ["x"]})


def test_validate_node_input():
    v = validation.validate_node_input
    assert v("IMAGE", "IMAGE")
    assert not v("IMAGE", "MASK")
    assert not v("*", "IMAGE")  # a plain "*" is no wildcard by itself
    assert v(IO.ANY, "IMAGE") and v("IMAGE", IO.ANY)
    assert v("INT", "FLOAT,INT") and v("STRING,BOOLEAN", "STRING,INT")
    assert not v("STRING,BOOLEAN", "STRING,INT", strict=True)
    assert v("STRING", "STRING,INT", strict=True)
    assert v("COMFY_MATCHTYPE_V3", "IMAGE")
    assert not v(["a", "b"], "COMBO")


def test_io_enum_comparisons():
    assert IO.ANY == "*" and str(IO.ANY) == "*" and IO.STRING.value == "STRING"
    assert not (IO.ANY != "IMAGE") and not ("IMAGE" != IO.ANY) and not (IO.ANY != IO.LATENT)
    assert not (IO.STRING != "STRING") and IO.STRING != "INT" and "INT" != IO.STRING
    assert not (IO.NUMBER != "INT") and not ("FLOAT" != IO.NUMBER)
    assert not (IO.PRIMITIVE != "STRING,INT") and not (IO.INT != "INT,FLOAT")
    assert IO.NUMBER != "STRING,INT"  # neither set contains the other
    assert IO.INT != 5
    assert {IO.INT: 1}["INT"] == 1 and hash(IO.INT) == hash("INT")
    assert IO("FLOAT,INT") is IO.NUMBER


def test_node_typing_helpers():
    assert node_typing.IO is IO
    assert CheckLazyMixin().check_lazy_status(a=None, b=1, c=None) == ["a", "c"]
    assert ComfyNodeABC.INPUT_TYPES.__func__(ComfyNodeABC) == {"required": {}}
    assert set(FileLocator.__annotations__) == {"filename", "subfolder", "type"}
    assert {"required", "optional", "hidden"} == set(InputTypeDict.__annotations__)


def test_executing_context(monkeypatch):
    from comfy import _runtime
    assert utils.get_executing_context() is None or utils.get_executing_context().node_id is not None
    monkeypatch.setattr(_runtime, "executing_context", lambda: ("prompt-1", "7", 2), raising=False)
    ctx = utils.get_executing_context()
    assert ctx == ("prompt-1", "7", 2) and (ctx.prompt_id, ctx.node_id, ctx.list_index) == ("prompt-1", "7", 2)
    monkeypatch.setattr(_runtime, "executing_context", lambda: None, raising=False)
    assert utils.get_executing_context() is None
    with utils.CurrentNodeContext("p", "9", 0):
        assert utils.get_executing_context() == utils.ExecutionContext("p", "9", 0)
    assert utils.get_executing_context() is None
