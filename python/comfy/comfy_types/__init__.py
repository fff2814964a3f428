"""comfy.comfy_types: the typing helpers ComfyUI ships for custom nodes (IO, ComfyNodeABC, ...)."""
from typing import Callable, List, Optional, Protocol, TypedDict

from .node_typing import IO, CheckLazyMixin, ComfyNodeABC, FileLocator, InputTypeDict, InputTypeOptions

try:
    import torch as _torch
    _Tensor = _torch.Tensor
except ImportError:  # typing only
    _Tensor = object


class UnetApplyFunction(Protocol):
    """Signature of comfy.model_base.BaseModel.apply_model."""

    def __call__(self, x, t, **kwargs):
        pass


class UnetApplyConds(TypedDict):
    """Optional conditions passed to a unet apply function."""

    c_concat: Optional[_Tensor]
    c_crossattn: Optional[_Tensor]
    control: Optional[_Tensor]
    transformer_options: Optional[dict]


class UnetParams(TypedDict):
    input: _Tensor
    timestep: _Tensor
    c: UnetApplyConds
    cond_or_uncond: List[int]


UnetWrapperFunction = Callable[[UnetApplyFunction, UnetParams], _Tensor]

__all__ = [
    "UnetWrapperFunction",
    "UnetApplyConds",
    "UnetParams",
    "UnetApplyFunction",
    "IO",
    "InputTypeDict",
    "InputTypeOptions",
    "ComfyNodeABC",
    "CheckLazyMixin",
    "FileLocator",
]
