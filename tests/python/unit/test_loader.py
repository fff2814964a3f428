"""Custom node loading: failures isolated, .disabled skipped, prestartup first."""
import logging
import os
import re
import sys
import textwrap

from comfy import _loader

NODE_SRC = """
class {cls}:
    @classmethod
    def INPUT_TYPES(s):
        return {{"required": {{}}}}
    RETURN_TYPES = ()
    FUNCTION = "run"
"""


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))


def _timing_line(messages, tag, path):
    pattern = r"[ \d]{3}\d\.\d seconds" + re.escape(tag) + ": " + re.escape(path)
    return any(re.fullmatch(pattern, m) for m in messages)


def _make_packs(root):
    cn = os.path.join(root, "custom_nodes")
    # A package with a relative import and a web directory.
    _write(os.path.join(cn, "good_pack", "nodes_impl.py"), NODE_SRC.format(cls="GoodNode"))
    _write(os.path.join(cn, "good_pack", "__init__.py"), """
        from .nodes_impl import GoodNode
        class SaveImage: pass
        NODE_CLASS_MAPPINGS = {"GoodNode": GoodNode, "SaveImage": SaveImage}
        NODE_DISPLAY_NAME_MAPPINGS = {"GoodNode": "Good Node"}
        WEB_DIRECTORY = "./js"
    """)
    _write(os.path.join(cn, "good_pack", "js", "ext.js"), "")
    _write(os.path.join(cn, "bad_pack", "__init__.py"), """
        raise RuntimeError("boom from bad_pack")
    """)
    _write(os.path.join(cn, "single.py"), NODE_SRC.format(cls="SingleNode") +
           "NODE_CLASS_MAPPINGS = {'SingleNode': SingleNode}\n")
    _write(os.path.join(cn, "off_pack.disabled", "__init__.py"),
           NODE_SRC.format(cls="OffNode") + "NODE_CLASS_MAPPINGS = {'OffNode': OffNode}\n")
    _write(os.path.join(cn, "off_file.py.disabled"), "raise SystemExit('must not run')\n")
    _write(os.path.join(cn, "readme.txt"), "not python")
    _write(os.path.join(cn, "__pycache__", "junk.pyc"), "")
    _write(os.path.join(cn, "no_mappings.py"), "X = 1\n")
    return cn


def test_load_custom_nodes(tmp_path, caplog):
    cn = _make_packs(str(tmp_path))
    with caplog.at_level(logging.INFO):
        result = _loader.load_custom_nodes([cn], ignore={"SaveImage"})
    good = os.path.join(cn, "good_pack")
    assert sorted(result.node_class_mappings) == ["GoodNode", "SingleNode"]
    assert result.display_name_mappings == {"GoodNode": "Good Node"}
    assert result.node_class_mappings["GoodNode"].RELATIVE_PYTHON_MODULE == "custom_nodes.good_pack"
    assert result.node_class_mappings["SingleNode"].RELATIVE_PYTHON_MODULE == "custom_nodes.single"
    assert result.extension_web_dirs == {"good_pack": os.path.join(good, "js")}
    assert result.loaded_module_dirs == {"good_pack": good, os.path.join(cn, "single"): cn,
                                         os.path.join(cn, "no_mappings"): cn}
    assert sorted(result.failed) == [os.path.join(cn, "bad_pack"), os.path.join(cn, "no_mappings.py")]
    assert sorted(p for _, p, _ in result.import_times) == sorted(
        [good, os.path.join(cn, "bad_pack"), os.path.join(cn, "single.py"),
         os.path.join(cn, "no_mappings.py")])
    # Packages are registered under their path (dots -> _x_), not their bare name.
    assert good.replace(".", "_x_") in sys.modules and "good_pack" not in sys.modules
    assert os.path.join(cn, "bad_pack").replace(".", "_x_") not in sys.modules
    text = caplog.text
    assert "RuntimeError: boom from bad_pack" in text  # full traceback logged
    assert f"Cannot import {os.path.join(cn, 'bad_pack')} module for custom nodes: boom from bad_pack" in text
    messages = [r.getMessage() for r in caplog.records]
    assert "\nImport times for custom nodes:" in messages
    # "%6.1f seconds[ (IMPORT FAILED)]: <path>" (timings vary, the layout does not).
    assert _timing_line(messages, " (IMPORT FAILED)", os.path.join(cn, "bad_pack"))
    assert _timing_line(messages, "", good)


def test_disable_all_with_whitelist(tmp_path):
    cn = _make_packs(str(tmp_path))
    result = _loader.load_custom_nodes([cn], disabled=True, whitelist=["single.py"])
    assert list(result.node_class_mappings) == ["SingleNode"]
    assert result.failed == []


def test_same_pack_name_in_two_dirs_and_later_overrides(tmp_path):
    dirs = []
    for i in (1, 2):
        d = os.path.join(str(tmp_path), f"nodes{i}")
        _write(os.path.join(d, "pack", "__init__.py"),
               NODE_SRC.format(cls="N") + f"N.ORIGIN = {i}\nNODE_CLASS_MAPPINGS = {{'N': N}}\n")
        dirs.append(d)
    result = _loader.load_custom_nodes(dirs)
    assert result.failed == []
    assert result.node_class_mappings["N"].ORIGIN == 2


def test_v3_entrypoint(tmp_path):
    cn = os.path.join(str(tmp_path), "custom_nodes")
    _write(os.path.join(cn, "v3pack", "__init__.py"), """
        from types import SimpleNamespace
        class V3Node:
            @classmethod
            def GET_SCHEMA(cls):
                return SimpleNamespace(node_id="V3Node", display_name="V3 Node")
        class Ext:
            async def get_node_list(self):
                return [V3Node]
        async def comfy_entrypoint():
            return Ext()
    """)
    result = _loader.load_custom_nodes([cn])
    assert result.failed == []
    assert result.display_name_mappings == {"V3Node": "V3 Node"}
    assert result.node_class_mappings["V3Node"].RELATIVE_PYTHON_MODULE == "custom_nodes.v3pack"


def test_prestartup_scripts(tmp_path, caplog):
    cn = os.path.join(str(tmp_path), "custom_nodes")
    marker = os.path.join(str(tmp_path), "ran.txt")
    _write(os.path.join(cn, "p1", "prestartup_script.py"),
           f"open({marker!r}, 'a').write('p1\\n')\n")
    _write(os.path.join(cn, "p2", "prestartup_script.py"), "raise ValueError('nope')\n")
    _write(os.path.join(cn, "p3.disabled", "prestartup_script.py"),
           f"open({marker!r}, 'a').write('p3\\n')\n")
    _write(os.path.join(cn, "prestartup_script.py"), f"open({marker!r}, 'a').write('top\\n')\n")
    with caplog.at_level(logging.INFO):
        times = _loader.run_prestartup_scripts([cn, os.path.join(str(tmp_path), "missing")])
    assert open(marker).read() == "p1\n"
    assert sorted((p, ok) for _, p, ok in times) == [
        (os.path.join(cn, "p1"), True), (os.path.join(cn, "p2"), False)]
    messages = [r.getMessage() for r in caplog.records]
    assert "\nPrestartup times for custom nodes:" in messages
    assert _timing_line(messages, " (PRESTARTUP FAILED)", os.path.join(cn, "p2"))
    assert any("Failed to execute startup-script" in m and "nope" in m for m in messages)
