"""ComfyUI's model-free comfy_extras nodes (comfy._nodes_v3_builtin), the ui helpers and the
ComfyAPI progress entry point."""
import asyncio
import json
import os
import sys
import threading
import types

import pytest
import torch
from PIL import Image

import comfy
from comfy import _nodes_v3_builtin as builtin
from comfy_api.internal import is_v3, node_info_v1
from comfy_api.latest import ComfyAPI, ComfyAPISync, io, ui

M = builtin.NODE_CLASS_MAPPINGS


def run(node_id, **inputs):
    cls = M[node_id]
    return getattr(cls(), cls.FUNCTION)(**inputs)


def test_mappings_and_display_names():
    assert list(M) == [
        "PrimitiveString", "PrimitiveStringMultiline", "PrimitiveInt", "PrimitiveFloat", "PrimitiveBoolean",
        "StringConcatenate", "StringSubstring", "StringLength", "CaseConverter", "StringTrim", "StringReplace",
        "StringContains", "StringCompare", "RegexMatch", "RegexExtract", "RegexReplace",
        "PreviewAny", "RebatchImages"]
    assert builtin.NODE_DISPLAY_NAME_MAPPINGS == {
        "PrimitiveString": "String", "PrimitiveStringMultiline": "String (Multiline)", "PrimitiveInt": "Int",
        "PrimitiveFloat": "Float", "PrimitiveBoolean": "Boolean", "StringConcatenate": "Concatenate",
        "StringSubstring": "Substring", "StringLength": "Length", "CaseConverter": "Case Converter",
        "StringTrim": "Trim", "StringReplace": "Replace", "StringContains": "Contains", "StringCompare": "Compare",
        "RegexMatch": "Regex Match", "RegexExtract": "Regex Extract", "RegexReplace": "Regex Replace",
        "PreviewAny": "Preview Any", "RebatchImages": "Rebatch Images"}
    assert not is_v3(M["PreviewAny"]) and not is_v3(M["RebatchImages"]) and is_v3(M["PrimitiveInt"])


def test_primitive_object_info():
    info = node_info_v1(M["PrimitiveInt"], builtin.NODE_DISPLAY_NAME_MAPPINGS)
    assert json.dumps(info) == json.dumps({
        "input": {"required": {"value": ["INT", {"min": -sys.maxsize, "max": sys.maxsize,
                                                 "control_after_generate": True}]}},
        "input_order": {"required": ["value"]},
        "output": ["INT"], "output_is_list": [False], "output_name": ["INT"], "output_tooltips": [None],
        "name": "PrimitiveInt", "display_name": "Int", "description": "",
        "python_module": "comfy_extras.nodes_primitive", "category": "utils/primitive", "output_node": False,
        "deprecated": False, "experimental": False, "api_node": False})
    assert node_info_v1(M["PrimitiveStringMultiline"], {})["input"] == {
        "required": {"value": ("STRING", {"multiline": True})}}
    assert node_info_v1(M["PrimitiveString"], {})["input"] == {"required": {"value": ("STRING", {"multiline": False})}}
    assert node_info_v1(M["PrimitiveBoolean"], {})["input"] == {"required": {"value": ("BOOLEAN", {})}}
    assert node_info_v1(M["StringLength"], {})["output_name"] == ["length"]
    regex = node_info_v1(M["RegexReplace"], {})
    assert regex["description"] == "Find and replace text using regex patterns."
    assert list(regex["input"]["optional"]) == ["case_insensitive", "multiline", "dotall", "count"]
    assert regex["input"]["optional"]["count"][1]["max"] == 100


@pytest.mark.parametrize("node_id,inputs,expected", [
    ("PrimitiveString", {"value": "abc"}, "abc"),
    ("PrimitiveStringMultiline", {"value": "a\nb"}, "a\nb"),
    ("PrimitiveInt", {"value": -3}, -3),
    ("PrimitiveFloat", {"value": 0.5}, 0.5),
    ("PrimitiveBoolean", {"value": True}, True),
    ("StringConcatenate", {"string_a": "foo", "string_b": "bar", "delimiter": ", "}, "foo, bar"),
    ("StringSubstring", {"string": "abcdef", "start": 1, "end": -1}, "bcde"),
    ("StringLength", {"string": "héllo"}, 5),
    ("CaseConverter", {"string": "hello world", "mode": "Title Case"}, "Hello World"),
    ("CaseConverter", {"string": "hello world", "mode": "Capitalize"}, "Hello world"),
    ("CaseConverter", {"string": "Hi", "mode": "UPPERCASE"}, "HI"),
    ("StringTrim", {"string": "  x  ", "mode": "Left"}, "x  "),
    ("StringTrim", {"string": "  x  ", "mode": "Both"}, "x"),
    ("StringReplace", {"string": "a-b-c", "find": "-", "replace": "+"}, "a+b+c"),
    ("StringContains", {"string": "Hello", "substring": "hell", "case_sensitive": False}, True),
    ("StringContains", {"string": "Hello", "substring": "hell", "case_sensitive": True}, False),
    ("StringCompare", {"string_a": "Hello", "string_b": "he", "mode": "Starts With", "case_sensitive": False},
     True),
    ("StringCompare", {"string_a": "a", "string_b": "A", "mode": "Equal", "case_sensitive": True}, False),
    ("RegexMatch", {"string": "Cat", "regex_pattern": "^cat$", "case_insensitive": True, "multiline": False,
                    "dotall": False}, True),
    ("RegexMatch", {"string": "x", "regex_pattern": "(", "case_insensitive": True, "multiline": False,
                    "dotall": False}, False),
    ("RegexExtract", {"string": "a1 b22 c333", "regex_pattern": r"[a-z](\d+)", "mode": "All Matches",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 1},
     "1\n22\n333"),
    ("RegexExtract", {"string": "a1 b22", "regex_pattern": r"([a-z])(\d+)", "mode": "First Group",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 2}, "1"),
    ("RegexExtract", {"string": "a1 b22", "regex_pattern": r"([a-z])(\d+)", "mode": "All Groups",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 1}, "a\nb"),
    ("RegexExtract", {"string": "abc", "regex_pattern": "z", "mode": "First Match",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 1}, ""),
    ("RegexReplace", {"string": "aaa", "regex_pattern": "A", "replace": "b", "count": 2}, "bba"),
    ("RegexReplace", {"string": "aaa", "regex_pattern": "A", "replace": "b", "case_insensitive": False}, "aaa"),
])
def test_node_results(node_id, inputs, expected):
    out = run(node_id, **inputs)
    assert out.result == (expected,)
    assert out.ui is None and out.block_execution is None


def test_string_compare_unknown_mode_gives_no_output():
    out = run("StringCompare", string_a="a", string_b="a", mode="Sideways", case_sensitive=True)
    assert out.result is None


def test_preview_any():
    cls = M["PreviewAny"]
    assert cls.INPUT_TYPES()["required"]["source"][0] == "*"
    assert not (cls.INPUT_TYPES()["required"]["source"][0] != "LATENT")
    assert cls.RETURN_TYPES == () and cls.OUTPUT_NODE is True and cls.CATEGORY == "utils"
    assert cls.RELATIVE_PYTHON_MODULE == "comfy_extras.nodes_preview_any"
    node = cls()
    assert node.main(source="txt") == {"ui": {"text": ("txt",)}}
    assert node.main(source=1.5) == {"ui": {"text": ("1.5",)}}
    assert node.main(source={"a": [1, 2]}) == {"ui": {"text": ('{"a": [1, 2]}',)}}
    assert node.main(source=None) == {"ui": {"text": ("None",)}}
    assert node.main(source=object)["ui"]["text"][0].startswith("<class")


def test_rebatch_images():
    cls = M["RebatchImages"]
    assert cls.INPUT_IS_LIST is True and cls.OUTPUT_IS_LIST == (True,) and cls.CATEGORY == "image/batch"
    images = [torch.zeros(3, 2, 2, 3), torch.ones(2, 2, 2, 3)]
    (out,) = cls().rebatch(images=images, batch_size=[2])
    assert [t.shape[0] for t in out] == [2, 2, 1]
    assert out[1][0].sum() == 0 and out[1][1].sum() == 12


def test_ui_outputs(folder_paths):
    image = torch.full((2, 4, 6, 3), 0.5)

    class Saver(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="Saver", inputs=[io.Image.Input("images")], is_output_node=True)

        @classmethod
        def execute(cls, images):
            return io.NodeOutput(ui=ui.PreviewImage(images, cls=cls))

    out = Saver.EXECUTE_NORMALIZED(images=image, __prompt__={"1": {"class_type": "Saver"}},
                                   __extra_pnginfo__={"workflow": {"v": 1}})
    data = out.ui.as_dict()
    assert data["animated"] == (False,)
    assert [r["type"] for r in data["images"]] == ["temp", "temp"] and data["images"][0]["subfolder"] == ""
    first = data["images"][0]["filename"]
    assert first.startswith("ComfyUI_temp_") and first.endswith("_00001_.png")
    with Image.open(os.path.join(folder_paths.get_temp_directory(), first)) as saved:
        assert saved.size == (6, 4) and saved.getpixel((0, 0)) == (127, 127, 127)
        assert json.loads(saved.text["prompt"]) == {"1": {"class_type": "Saver"}}
        assert json.loads(saved.text["workflow"]) == {"v": 1}

    mask = ui.PreviewMask(torch.ones(1, 3, 5))
    with Image.open(os.path.join(folder_paths.get_temp_directory(), mask.as_dict()["images"][0]["filename"])) as m:
        assert m.size == (5, 3) and m.getpixel((1, 1)) == (255, 255, 255) and "prompt" not in m.text

    saved = ui.ImageSaveHelper.get_save_images_ui(image[:1], "out/pic", cls=None)
    assert saved.as_dict() == {"images": [{"filename": "pic_00001_.png", "subfolder": "out", "type": "output"}]}
    assert os.path.isfile(os.path.join(folder_paths.get_output_directory(), "out", "pic_00001_.png"))
    result = ui.SavedResult("a.png", "", io.FolderType.output)
    assert (result.filename, result.type, dict(result)) == ("a.png", io.FolderType.output,
                                                            {"filename": "a.png", "subfolder": "", "type": "output"})
    assert ui.SavedImages([result], is_animated=True).as_dict() == {"images": [result], "animated": (True,)}
    assert ui.PreviewText("hi").as_dict() == {"text": ("hi",)}
    assert ui.PreviewVideo([result]).as_dict() == {"images": [result], "animated": (True,)}
    assert ui.PreviewUI3D("m.glb", {"zoom": 1}).as_dict() == {"result": ["m.glb", {"zoom": 1}]}


@pytest.fixture
def fake_core(monkeypatch):
    calls = []
    fake = types.SimpleNamespace(report_progress=lambda *a: calls.append(a))
    monkeypatch.setitem(sys.modules, "comfy._core", fake)
    monkeypatch.setattr(comfy, "_core", fake, raising=False)
    return calls


def test_set_progress_async_and_sync(fake_core, monkeypatch):
    from comfy import _runtime
    api, api_sync = ComfyAPI(), ComfyAPISync()
    assert ComfyAPI() is api

    monkeypatch.setattr(_runtime, "executing_context", lambda: None, raising=False)
    with pytest.raises(ValueError, match="node_id must be provided"):
        asyncio.run(api.execution.set_progress(1, 2))

    asyncio.run(api.execution.set_progress(1, 4, node_id="3"))
    monkeypatch.setattr(_runtime, "executing_context", lambda: ("p", "8", 0), raising=False)
    api_sync.execution.set_progress(value=2.0, max_value=4.0)
    assert fake_core == [("3", 1, 4, 0, b"", False), ("8", 2.0, 4.0, 0, b"", False)]

    # From a thread whose event loop is running (the sync API then hops to a worker thread).
    async def inside_loop():
        api_sync.execution.set_progress(3, 4)
    asyncio.run(inside_loop())
    assert fake_core[-1] == ("8", 3, 4, 0, b"", False)

    worker = threading.Thread(target=api_sync.execution.set_progress, args=(4, 4))
    worker.start()
    worker.join()
    assert fake_core[-1] == ("8", 4, 4, 0, b"", False)


def test_set_progress_previews(fake_core):
    from comfy_api.v0_0_2 import ComfyAPISync as Sync002
    api = Sync002()
    tensor = torch.zeros(1, 8, 8, 3)
    api.execution.set_progress(1, 2, node_id="5", preview_image=tensor)
    node, value, max_value, fmt, data, send_progress = fake_core[-1]
    assert (node, value, max_value, fmt, send_progress) == ("5", 1, 2, 1, False)
    assert data[:2] == b"\xff\xd8"  # JPEG

    big = Image.new("RGB", (2000, 1000), (10, 20, 30))
    api.execution.set_progress(1, 2, node_id="5", preview_image=big)
    with Image.open(__import__("io").BytesIO(fake_core[-1][4])) as shown:
        assert shown.size == (512, 256)
    api.execution.set_progress(1, 2, node_id="5", preview_image=big, ignore_size_limit=True)
    with Image.open(__import__("io").BytesIO(fake_core[-1][4])) as shown:
        assert shown.size == (2000, 1000)


def test_versions():
    from comfy_api import v0_0_1, v0_0_2, version_list
    assert [v.VERSION for v in version_list.supported_versions] == ["latest", "0.0.2", "0.0.1"]
    assert v0_0_2.ComfyAPI.STABLE is False and v0_0_1.ComfyAPI.STABLE is True
    assert v0_0_2.io is io and v0_0_2.ui is ui
    assert issubclass(v0_0_1.ComfyAPI, v0_0_2.ComfyAPI)
    from comfy_api.latest import IO, UI, Input, InputImpl, Types
    assert IO is io and UI is ui and Input.Image is torch.Tensor
    assert Types.VideoContainer.get_extension("auto") == "mp4" and Types.VideoCodec.as_input() == ["auto", "h264"]
    assert InputImpl.VideoFromComponents(Types.VideoComponents(torch.zeros(4, 6, 8, 3), 2)).get_dimensions() == (8, 6)
