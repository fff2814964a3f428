"""The top-level `nodes` module custom nodes import: the merged node mappings and ComfyUI's
built-in node classes (so packs can subclass them: `from nodes import KSampler, LoraLoader`), plus
`common_ksampler`, `MAX_RESOLUTION` and the module names ComfyUI's nodes.py has bound
(`nodes.comfy`, `nodes.folder_paths`, `nodes.latent_preview`, `nodes.node_helpers`, `nodes.args`).
The mappings are filled in by the app before packs load."""
import comfy.clip_vision  # noqa: F401
import comfy.controlnet  # noqa: F401
import comfy.model_management
import comfy.sample  # noqa: F401
import comfy.samplers  # noqa: F401
import comfy.sd  # noqa: F401
import comfy.utils  # noqa: F401
from comfy._compat import folder_paths, latent_preview, node_helpers  # noqa: F401
from comfy._nodes_builtin import *  # noqa: F401,F403
from comfy._nodes_builtin import MAX_RESOLUTION, NODE_CLASS_MAPPINGS as _BUILTIN, NODE_DISPLAY_NAME_MAPPINGS as _NAMES
from comfy._nodes_builtin import common_ksampler  # noqa: F401
from comfy.cli_args import args  # noqa: F401

NODE_CLASS_MAPPINGS = dict(_BUILTIN)
NODE_DISPLAY_NAME_MAPPINGS = dict(_NAMES)
EXTENSION_WEB_DIRS = {}
LOADED_MODULE_DIRS = {}


def before_node_execution():
    comfy.model_management.throw_exception_if_processing_interrupted()


def interrupt_processing(value=True):
    comfy.model_management.interrupt_current_processing(value)
