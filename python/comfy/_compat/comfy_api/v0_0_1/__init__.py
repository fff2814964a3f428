"""comfy_api.v0_0_1: the first (stable) API version, a template for version adapters."""
from comfy_api.v0_0_2 import ComfyAPIAdapter_v0_0_2
from comfy_api.v0_0_2 import Input as Input_v0_0_2
from comfy_api.v0_0_2 import InputImpl as InputImpl_v0_0_2
from comfy_api.v0_0_2 import Types as Types_v0_0_2

from ..internal.async_to_sync import create_sync_class


class ComfyAPIAdapter_v0_0_1(ComfyAPIAdapter_v0_0_2):
    VERSION = "0.0.1"
    STABLE = True


class Input(Input_v0_0_2):
    pass


class InputImpl(InputImpl_v0_0_2):
    pass


class Types(Types_v0_0_2):
    pass


ComfyAPI = ComfyAPIAdapter_v0_0_1
ComfyAPISync = create_sync_class(ComfyAPIAdapter_v0_0_1)

__all__ = ["ComfyAPI", "ComfyAPISync", "Input", "InputImpl", "Types"]
