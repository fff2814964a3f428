"""Unit-test setup: import our `comfy` package from python/ and register the compat modules
(folder_paths, comfy_api, comfy_execution, node_helpers, latent_preview, nodes, execution) under
their top-level names, as the app does at start."""
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PYTHON_DIR = os.path.join(ROOT, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import comfy._compat.folder_paths as _folder_paths  # noqa: E402

sys.modules["folder_paths"] = _folder_paths

# The V3 API and execution helpers, under the top-level names custom nodes import.
import comfy._compat.comfy_api as _comfy_api  # noqa: E402
import comfy._compat.comfy_execution as _comfy_execution  # noqa: E402

sys.modules["comfy_api"] = _comfy_api
sys.modules["comfy_execution"] = _comfy_execution

# The other top-level modules packs import (the app registers these too).
import comfy._compat.latent_preview as _latent_preview  # noqa: E402
import comfy._compat.node_helpers as _node_helpers  # noqa: E402

sys.modules["node_helpers"] = _node_helpers
sys.modules["latent_preview"] = _latent_preview

import comfy._compat.nodes as _nodes  # noqa: E402
import comfy._compat.execution as _execution  # noqa: E402

sys.modules["nodes"] = _nodes
sys.modules["execution"] = _execution


@pytest.fixture
def folder_paths(tmp_path):
    """folder_paths initialised on a fresh base directory for one test."""
    base = tmp_path / "comfy_base"
    base.mkdir()
    _folder_paths.init(str(base))
    for d in (_folder_paths.get_output_directory(), _folder_paths.get_temp_directory()):
        os.makedirs(d, exist_ok=True)
    yield _folder_paths
    _folder_paths.init(str(tmp_path), create_input=False)
