"""comfy-native: a native, drop-in ComfyUI server.

The package is named `comfy` because custom nodes import `comfy.utils`, `comfy.model_management`,
... Our own implementation modules use names ComfyUI does not use (leading underscore)."""
__version__ = "0.1.0"
COMFYUI_VERSION = "0.3.64"  # the ComfyUI behaviour this server reproduces
