"""comfy.comfy_types.node_typing: typing helpers custom nodes import (ComfyUI's names).

`IO` members are plain strings for JSON and dict keys, but compare like ComfyUI's: `!=` treats
"*" as matching anything and comma-separated type sets as matching when one is a subset of the
other. Validation uses `received != expected`, so these rules decide link compatibility."""
from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Literal, TypedDict

try:
    from typing import NotRequired
except ImportError:  # Python < 3.11
    from typing_extensions import NotRequired


def _types_differ(a, b) -> bool:
    """The shared `__ne__` rule of IO members and V3 io_type strings."""
    if a == "*" or b == "*":
        return False
    if not isinstance(b, str):
        return True
    left = frozenset(str.split(a, ","))
    right = frozenset(str.split(b, ","))
    return not (left <= right or right <= left)


class StrEnum(str, Enum):
    """A str Enum whose str() is its value (enum.StrEnum needs Python 3.11)."""

    def __str__(self) -> str:
        return self.value


class IO(StrEnum):
    """Node input/output type names, with the "*" (ANY) and "A,B" (union) comparison rules."""

    STRING = "STRING"
    IMAGE = "IMAGE"
    MASK = "MASK"
    LATENT = "LATENT"
    BOOLEAN = "BOOLEAN"
    INT = "INT"
    FLOAT = "FLOAT"
    COMBO = "COMBO"
    CONDITIONING = "CONDITIONING"
    SAMPLER = "SAMPLER"
    SIGMAS = "SIGMAS"
    GUIDER = "GUIDER"
    NOISE = "NOISE"
    CLIP = "CLIP"
    CONTROL_NET = "CONTROL_NET"
    VAE = "VAE"
    MODEL = "MODEL"
    CLIP_VISION = "CLIP_VISION"
    CLIP_VISION_OUTPUT = "CLIP_VISION_OUTPUT"
    STYLE_MODEL = "STYLE_MODEL"
    GLIGEN = "GLIGEN"
    UPSCALE_MODEL = "UPSCALE_MODEL"
    AUDIO = "AUDIO"
    WEBCAM = "WEBCAM"
    POINT = "POINT"
    FACE_ANALYSIS = "FACE_ANALYSIS"
    BBOX = "BBOX"
    SEGS = "SEGS"

    ANY = "*"
    """Matches every type (through __ne__)."""
    NUMBER = "FLOAT,INT"
    """A float or an int."""
    PRIMITIVE = "STRING,FLOAT,INT,BOOLEAN"
    """A string, float, int or bool."""

    def __ne__(self, value: object) -> bool:
        return _types_differ(self.value, value)

    # Enum would hash by member name; keep str hashing so members work as dict keys like strings.
    __hash__ = str.__hash__


class RemoteInputOptions(TypedDict):
    route: str
    refresh_button: bool
    control_after_refresh: Literal["first", "last"]
    timeout: int
    max_retries: int
    refresh: int


class MultiSelectOptions(TypedDict):
    placeholder: NotRequired[str]
    chip: NotRequired[bool]


class InputTypeOptions(TypedDict):
    """The option dict of an input in INPUT_TYPES (all keys hinted for all types)."""

    default: bool | str | float | int | list | tuple
    defaultInput: bool
    forceInput: bool
    lazy: bool
    rawLink: bool
    tooltip: str
    min: float
    max: float
    step: float
    round: float
    label_on: str
    label_off: str
    multiline: bool
    placeholder: str
    dynamicPrompts: bool
    image_upload: bool
    image_folder: Literal["input", "output", "temp"]
    remote: RemoteInputOptions
    control_after_generate: bool
    options: NotRequired[list[str | int | float]]
    multi_select: NotRequired[MultiSelectOptions]


class HiddenInputTypeDict(TypedDict):
    """The `hidden` entry of INPUT_TYPES."""

    node_id: Literal["UNIQUE_ID"]
    unique_id: Literal["UNIQUE_ID"]
    prompt: Literal["PROMPT"]
    extra_pnginfo: Literal["EXTRA_PNGINFO"]
    dynprompt: Literal["DYNPROMPT"]


class InputTypeDict(TypedDict):
    """The return value of INPUT_TYPES."""

    required: dict[str, tuple[IO, InputTypeOptions]]
    optional: dict[str, tuple[IO, InputTypeOptions]]
    hidden: HiddenInputTypeDict


class ComfyNodeABC(ABC):
    """Base class naming the attributes of a V1 node (for type hints and IDEs)."""

    DESCRIPTION: str
    CATEGORY: str
    EXPERIMENTAL: bool
    DEPRECATED: bool

    @classmethod
    @abstractmethod
    def INPUT_TYPES(s) -> InputTypeDict:
        """Declares the node's inputs: `required`, optionally `optional` and `hidden`."""
        return {"required": {}}

    OUTPUT_NODE: bool
    INPUT_IS_LIST: bool
    OUTPUT_IS_LIST: tuple[bool]
    RETURN_TYPES: tuple[IO]
    RETURN_NAMES: tuple[str]
    OUTPUT_TOOLTIPS: tuple[str]
    FUNCTION: str


class CheckLazyMixin:
    """A check_lazy_status that asks for every input not evaluated yet (None)."""

    def check_lazy_status(self, **kwargs) -> list[str]:
        return [name for name in kwargs if kwargs[name] is None]


class FileLocator(TypedDict, total=False):
    """Where a file lives: filename, subfolder and root folder type."""

    filename: str
    subfolder: str
    type: Literal["input", "output", "temp"]


__all__ = [
    "StrEnum", "IO", "RemoteInputOptions", "MultiSelectOptions", "InputTypeOptions",
    "HiddenInputTypeDict", "InputTypeDict", "ComfyNodeABC", "CheckLazyMixin", "FileLocator",
]
