"""The top-level `nodes` module custom nodes import: the merged node mappings and ComfyUI's
built-in node classes (so packs can subclass them). Filled in by the app before packs load."""
from comfy._nodes_builtin import *  # noqa: F401,F403
from comfy._nodes_builtin import MAX_RESOLUTION, NODE_CLASS_MAPPINGS as _BUILTIN, NODE_DISPLAY_NAME_MAPPINGS as _NAMES

NODE_CLASS_MAPPINGS = dict(_BUILTIN)
NODE_DISPLAY_NAME_MAPPINGS = dict(_NAMES)
EXTENSION_WEB_DIRS = {}
LOADED_MODULE_DIRS = {}


def before_node_execution():
    from comfy import model_management
    model_management.throw_exception_if_processing_interrupted()


def interrupt_processing(value=True):
    from comfy import model_management
    model_management.interrupt_current_processing(value)
