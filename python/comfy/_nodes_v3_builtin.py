"""ComfyUI 0.3.64's model-free `comfy_extras` nodes: the V3 primitives (nodes_primitive.py) and
string utilities (nodes_string.py), plus the V1 PreviewAny (nodes_preview_any.py) and
RebatchImages (nodes_rebatch.py) that the execution tests use. Node ids, inputs, defaults,
display names, categories, python_module and results are ComfyUI's."""
import json
import re
import sys

import comfy._compat.comfy_api  # noqa: F401  (registers the public `comfy_api` name)
from comfy.comfy_types import IO
from comfy_api.latest import io


# ---- comfy_extras/nodes_primitive.py ---------------------------------------------------------

class String(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PrimitiveString",
            display_name="String",
            category="utils/primitive",
            inputs=[io.String.Input("value")],
            outputs=[io.String.Output()],
        )

    @classmethod
    def execute(cls, value: str) -> io.NodeOutput:
        return io.NodeOutput(value)


class StringMultiline(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PrimitiveStringMultiline",
            display_name="String (Multiline)",
            category="utils/primitive",
            inputs=[io.String.Input("value", multiline=True)],
            outputs=[io.String.Output()],
        )

    @classmethod
    def execute(cls, value: str) -> io.NodeOutput:
        return io.NodeOutput(value)


class Int(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PrimitiveInt",
            display_name="Int",
            category="utils/primitive",
            inputs=[io.Int.Input("value", min=-sys.maxsize, max=sys.maxsize, control_after_generate=True)],
            outputs=[io.Int.Output()],
        )

    @classmethod
    def execute(cls, value: int) -> io.NodeOutput:
        return io.NodeOutput(value)


class Float(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PrimitiveFloat",
            display_name="Float",
            category="utils/primitive",
            inputs=[io.Float.Input("value", min=-sys.maxsize, max=sys.maxsize)],
            outputs=[io.Float.Output()],
        )

    @classmethod
    def execute(cls, value: float) -> io.NodeOutput:
        return io.NodeOutput(value)


class Boolean(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PrimitiveBoolean",
            display_name="Boolean",
            category="utils/primitive",
            inputs=[io.Boolean.Input("value")],
            outputs=[io.Boolean.Output()],
        )

    @classmethod
    def execute(cls, value: bool) -> io.NodeOutput:
        return io.NodeOutput(value)


# ---- comfy_extras/nodes_string.py ------------------------------------------------------------

def _string_schema(node_id, display_name, inputs, outputs=None, description=""):
    return io.Schema(node_id=node_id, display_name=display_name, category="utils/string",
                     description=description, inputs=inputs, outputs=outputs or [io.String.Output()])


def _regex_flags(case_insensitive, multiline, dotall):
    flags = 0
    if case_insensitive:
        flags |= re.IGNORECASE
    if multiline:
        flags |= re.MULTILINE
    if dotall:
        flags |= re.DOTALL
    return flags


class StringConcatenate(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringConcatenate", "Concatenate", [
            io.String.Input("string_a", multiline=True),
            io.String.Input("string_b", multiline=True),
            io.String.Input("delimiter", multiline=False, default=""),
        ])

    @classmethod
    def execute(cls, string_a, string_b, delimiter):
        return io.NodeOutput(delimiter.join((string_a, string_b)))


class StringSubstring(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringSubstring", "Substring", [
            io.String.Input("string", multiline=True),
            io.Int.Input("start"),
            io.Int.Input("end"),
        ])

    @classmethod
    def execute(cls, string, start, end):
        return io.NodeOutput(string[start:end])


class StringLength(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringLength", "Length", [io.String.Input("string", multiline=True)],
                              [io.Int.Output(display_name="length")])

    @classmethod
    def execute(cls, string):
        return io.NodeOutput(len(string))


class CaseConverter(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("CaseConverter", "Case Converter", [
            io.String.Input("string", multiline=True),
            io.Combo.Input("mode", options=["UPPERCASE", "lowercase", "Capitalize", "Title Case"]),
        ])

    @classmethod
    def execute(cls, string, mode):
        convert = {"UPPERCASE": str.upper, "lowercase": str.lower,
                   "Capitalize": str.capitalize, "Title Case": str.title}.get(mode)
        return io.NodeOutput(convert(string) if convert else string)


class StringTrim(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringTrim", "Trim", [
            io.String.Input("string", multiline=True),
            io.Combo.Input("mode", options=["Both", "Left", "Right"]),
        ])

    @classmethod
    def execute(cls, string, mode):
        trim = {"Both": str.strip, "Left": str.lstrip, "Right": str.rstrip}.get(mode)
        return io.NodeOutput(trim(string) if trim else string)


class StringReplace(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringReplace", "Replace", [
            io.String.Input("string", multiline=True),
            io.String.Input("find", multiline=True),
            io.String.Input("replace", multiline=True),
        ])

    @classmethod
    def execute(cls, string, find, replace):
        return io.NodeOutput(string.replace(find, replace))


class StringContains(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringContains", "Contains", [
            io.String.Input("string", multiline=True),
            io.String.Input("substring", multiline=True),
            io.Boolean.Input("case_sensitive", default=True),
        ], [io.Boolean.Output(display_name="contains")])

    @classmethod
    def execute(cls, string, substring, case_sensitive):
        if not case_sensitive:
            string, substring = string.lower(), substring.lower()
        return io.NodeOutput(substring in string)


class StringCompare(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("StringCompare", "Compare", [
            io.String.Input("string_a", multiline=True),
            io.String.Input("string_b", multiline=True),
            io.Combo.Input("mode", options=["Starts With", "Ends With", "Equal"]),
            io.Boolean.Input("case_sensitive", default=True),
        ], [io.Boolean.Output()])

    @classmethod
    def execute(cls, string_a, string_b, mode, case_sensitive):
        a, b = (string_a, string_b) if case_sensitive else (string_a.lower(), string_b.lower())
        if mode == "Equal":
            return io.NodeOutput(a == b)
        if mode == "Starts With":
            return io.NodeOutput(a.startswith(b))
        if mode == "Ends With":
            return io.NodeOutput(a.endswith(b))
        return None  # as ComfyUI: an unknown mode yields no output


class RegexMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("RegexMatch", "Regex Match", [
            io.String.Input("string", multiline=True),
            io.String.Input("regex_pattern", multiline=True),
            io.Boolean.Input("case_insensitive", default=True),
            io.Boolean.Input("multiline", default=False),
            io.Boolean.Input("dotall", default=False),
        ], [io.Boolean.Output(display_name="matches")])

    @classmethod
    def execute(cls, string, regex_pattern, case_insensitive, multiline, dotall):
        try:
            found = re.search(regex_pattern, string, _regex_flags(case_insensitive, multiline, dotall)) is not None
        except re.error:
            found = False
        return io.NodeOutput(found)


class RegexExtract(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("RegexExtract", "Regex Extract", [
            io.String.Input("string", multiline=True),
            io.String.Input("regex_pattern", multiline=True),
            io.Combo.Input("mode", options=["First Match", "All Matches", "First Group", "All Groups"]),
            io.Boolean.Input("case_insensitive", default=True),
            io.Boolean.Input("multiline", default=False),
            io.Boolean.Input("dotall", default=False),
            io.Int.Input("group_index", default=1, min=0, max=100),
        ])

    @classmethod
    def execute(cls, string, regex_pattern, mode, case_insensitive, multiline, dotall, group_index):
        flags = _regex_flags(case_insensitive, multiline, dotall)
        result = ""
        try:
            if mode == "First Match":
                match = re.search(regex_pattern, string, flags)
                result = match.group(0) if match else ""
            elif mode == "All Matches":
                matches = re.findall(regex_pattern, string, flags)
                if matches and isinstance(matches[0], tuple):
                    matches = [m[0] for m in matches]
                result = "\n".join(matches)
            elif mode == "First Group":
                match = re.search(regex_pattern, string, flags)
                if match and len(match.groups()) >= group_index:
                    result = match.group(group_index)
            elif mode == "All Groups":
                result = "\n".join(m.group(group_index) for m in re.finditer(regex_pattern, string, flags)
                                   if m.groups() and len(m.groups()) >= group_index)
        except re.error:
            result = ""
        return io.NodeOutput(result)


class RegexReplace(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return _string_schema("RegexReplace", "Regex Replace", [
            io.String.Input("string", multiline=True),
            io.String.Input("regex_pattern", multiline=True),
            io.String.Input("replace", multiline=True),
            io.Boolean.Input("case_insensitive", default=True, optional=True),
            io.Boolean.Input("multiline", default=False, optional=True),
            io.Boolean.Input("dotall", default=False, optional=True,
                             tooltip="When enabled, the dot (.) character will match any character including "
                                     "newline characters. When disabled, dots won't match newlines."),
            io.Int.Input("count", default=0, min=0, max=100, optional=True,
                         tooltip="Maximum number of replacements to make. Set to 0 to replace all occurrences "
                                 "(default). Set to 1 to replace only the first match, 2 for the first two "
                                 "matches, etc."),
        ], description="Find and replace text using regex patterns.")

    @classmethod
    def execute(cls, string, regex_pattern, replace, case_insensitive=True, multiline=False, dotall=False,
                count=0):
        flags = _regex_flags(case_insensitive, multiline, dotall)
        return io.NodeOutput(re.sub(regex_pattern, replace, string, count=count, flags=flags))


# ---- comfy_extras/nodes_preview_any.py (V1 in 0.3.64) -----------------------------------------

class PreviewAny:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"source": (IO.ANY, {})}}

    RETURN_TYPES = ()
    FUNCTION = "main"
    OUTPUT_NODE = True
    CATEGORY = "utils"

    def main(self, source=None):
        value = "None"
        if isinstance(source, str):
            value = source
        elif isinstance(source, (int, float, bool)):
            value = str(source)
        elif source is not None:
            try:
                value = json.dumps(source)
            except Exception:
                try:
                    value = str(source)
                except Exception:
                    value = "source exists, but could not be serialized."
        return {"ui": {"text": (value,)}}


# ---- comfy_extras/nodes_rebatch.py, RebatchImages (V1 in 0.3.64) -------------------------------

class ImageRebatch:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"images": ("IMAGE",),
                             "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096})}}

    RETURN_TYPES = ("IMAGE",)
    INPUT_IS_LIST = True
    OUTPUT_IS_LIST = (True,)
    FUNCTION = "rebatch"
    CATEGORY = "image/batch"

    def rebatch(self, images, batch_size):
        import torch
        size = batch_size[0]
        singles = [img[i:i + 1] for img in images for i in range(img.shape[0])]
        return ([torch.cat(singles[i:i + size], dim=0) for i in range(0, len(singles), size)],)


# ---- registration --------------------------------------------------------------------------

_V3_NODES = {
    "comfy_extras.nodes_primitive": [String, StringMultiline, Int, Float, Boolean],
    "comfy_extras.nodes_string": [StringConcatenate, StringSubstring, StringLength, CaseConverter, StringTrim,
                                  StringReplace, StringContains, StringCompare, RegexMatch, RegexExtract,
                                  RegexReplace],
}
_V1_NODES = [
    ("comfy_extras.nodes_preview_any", "PreviewAny", PreviewAny, "Preview Any"),
    ("comfy_extras.nodes_rebatch", "RebatchImages", ImageRebatch, "Rebatch Images"),
]

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}
for _module, _classes in _V3_NODES.items():
    for _cls in _classes:
        _schema = _cls.GET_SCHEMA()
        _cls.RELATIVE_PYTHON_MODULE = _module
        NODE_CLASS_MAPPINGS[_schema.node_id] = _cls
        if _schema.display_name is not None:
            NODE_DISPLAY_NAME_MAPPINGS[_schema.node_id] = _schema.display_name
for _module, _name, _cls, _display in _V1_NODES:
    _cls.RELATIVE_PYTHON_MODULE = _module
    NODE_CLASS_MAPPINGS[_name] = _cls
    NODE_DISPLAY_NAME_MAPPINGS[_name] = _display
del _module, _classes, _cls, _schema, _name, _display
