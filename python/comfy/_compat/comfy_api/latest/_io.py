"""comfy_api.latest._io (`io`): the V3 node API — type classes with Input/Output, Schema,
ComfyNode, NodeOutput, Hidden.

The executor sees a V3 class through the V1 attributes it exposes (INPUT_TYPES, RETURN_TYPES,
FUNCTION = "EXECUTE_NORMALIZED"[_ASYNC], ...), all derived from the schema. Hidden inputs are
declared to it under reserved keyword names (HIDDEN_KWARGS) so they can never collide with a real
input id; EXECUTE_NORMALIZED and the VALIDATE_INPUTS / IS_CHANGED / check_lazy_status bridges
take them out of the keyword arguments, put them on `cls.hidden` of a fresh locked clone of the
class and call the V3 method on that clone, as ComfyUI does."""
from __future__ import annotations

import copy
import inspect
import types
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any, Callable, Literal, TypedDict, TypeVar

try:
    from typing import NotRequired
except ImportError:  # Python < 3.11
    from typing_extensions import NotRequired

try:
    from typing import final
except ImportError:  # pragma: no cover
    def final(f):
        return f

try:
    import torch
    _Tensor = torch.Tensor
except ImportError:  # typing only
    _Tensor = Any

from comfy_execution.graph_utils import ExecutionBlocker

from ..internal import (_ComfyNodeInternal, _NodeOutputInternal, classproperty, copy_class, first_real_override,
                        is_class, lock_class, prune_dict, shallow_clone_class)


class FolderType(str, Enum):
    input = "input"
    output = "output"
    temp = "temp"


class UploadType(str, Enum):
    image = "image_upload"
    audio = "audio_upload"
    video = "video_upload"
    model = "file_upload"


class RemoteOptions:
    """Options of a combo whose values are fetched by the frontend from `route`."""

    def __init__(self, route: str, refresh_button: bool, control_after_refresh: Literal["first", "last"] = "first",
                 timeout: int = None, max_retries: int = None, refresh: int = None):
        self.route = route
        self.refresh_button = refresh_button
        self.control_after_refresh = control_after_refresh
        self.timeout = timeout
        self.max_retries = max_retries
        self.refresh = refresh

    def as_dict(self):
        return prune_dict({
            "route": self.route,
            "refresh_button": self.refresh_button,
            "control_after_refresh": self.control_after_refresh,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "refresh": self.refresh,
        })


class NumberDisplay(str, Enum):
    number = "number"
    slider = "slider"


class _StringIOType(str):
    """An io_type string comparing like comfy.comfy_types.IO: "*" matches anything and
    comma-separated type sets match when one contains the other."""

    def __ne__(self, value: object) -> bool:
        if self == "*" or value == "*":
            return False
        if not isinstance(value, str):
            return True
        mine = frozenset(str.split(self, ","))
        theirs = frozenset(value.split(","))
        return not (theirs <= mine or mine <= theirs)

    __hash__ = str.__hash__


class _ComfyType(ABC):
    Type = Any
    io_type: str = None


T = TypeVar("T", bound=type)


def comfytype(io_type: str, **kwargs):
    """Class decorator binding `io_type` to a ComfyType (a class with `Type`, optionally nested
    `Input` / `Output` classes). A plain class is turned into a ComfyTypeIO subclass."""
    def decorator(cls: T) -> T:
        if issubclass(cls, _ComfyType):
            new_cls = cls
            # Own copies, so setting Parent below does not touch a base type's Input/Output.
            if hasattr(new_cls, "Input"):
                new_cls.Input = copy_class(new_cls.Input)
            if hasattr(new_cls, "Output"):
                new_cls.Output = copy_class(new_cls.Output)
        else:
            namespace = {k: v for k, v in cls.__dict__.items()
                         if k not in ("__dict__", "__weakref__", "__module__", "__doc__")}
            new_cls = type(cls.__name__, (cls, ComfyTypeIO), namespace)
            new_cls.__module__ = cls.__module__
            new_cls.__doc__ = cls.__doc__
            for attr in ("Input", "Output"):
                if attr not in namespace and getattr(new_cls, attr, None) is not None:
                    setattr(new_cls, attr, copy_class(getattr(new_cls, attr)))
        new_cls.io_type = _StringIOType(io_type)
        if getattr(new_cls, "Input", None) is not None:
            new_cls.Input.Parent = new_cls
        if getattr(new_cls, "Output", None) is not None:
            new_cls.Output.Parent = new_cls
        return new_cls
    return decorator


def Custom(io_type: str) -> type[ComfyTypeIO]:
    """A ComfyType (with Input and Output) for a custom type name."""
    @comfytype(io_type=io_type)
    class CustomComfyType(ComfyTypeIO):
        ...
    return CustomComfyType


class _IO_V3:
    """Base of V3 inputs and outputs."""
    Parent: _ComfyType = None

    def __init__(self):
        pass

    def validate(self):
        pass

    @property
    def io_type(self):
        return self.Parent.io_type

    @property
    def Type(self):
        return self.Parent.Type


class Input(_IO_V3):
    """Base of V3 inputs."""

    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None, lazy: bool = None,
                 extra_dict=None, raw_link: bool = None):
        super().__init__()
        self.id = id
        self.display_name = display_name
        self.optional = optional
        self.tooltip = tooltip
        self.lazy = lazy
        self.extra_dict = extra_dict if extra_dict is not None else {}
        self.rawLink = raw_link

    def as_dict(self):
        return prune_dict({
            "display_name": self.display_name,
            "optional": self.optional,
            "tooltip": self.tooltip,
            "lazy": self.lazy,
            "rawLink": self.rawLink,
        }) | prune_dict(self.extra_dict)

    def get_io_type(self):
        return _StringIOType(self.io_type)

    def get_all(self) -> list[Input]:
        return [self]


class WidgetInput(Input):
    """Base of V3 inputs that have a widget."""

    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None, lazy: bool = None,
                 default: Any = None, socketless: bool = None, widget_type: str = None, force_input: bool = None,
                 extra_dict=None, raw_link: bool = None):
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict, raw_link)
        self.default = default
        self.socketless = socketless
        self.widget_type = widget_type
        self.force_input = force_input

    def as_dict(self):
        return super().as_dict() | prune_dict({
            "default": self.default,
            "socketless": self.socketless,
            "widgetType": self.widget_type,
            "forceInput": self.force_input,
        })

    def get_io_type(self):
        return self.widget_type if self.widget_type is not None else super().get_io_type()


class Output(_IO_V3):
    def __init__(self, id: str = None, display_name: str = None, tooltip: str = None, is_output_list=False):
        self.id = id
        self.display_name = display_name
        self.tooltip = tooltip
        self.is_output_list = is_output_list

    def as_dict(self):
        return prune_dict({
            "display_name": self.display_name,
            "tooltip": self.tooltip,
            "is_output_list": self.is_output_list,
        })

    def get_io_type(self):
        return self.io_type


class ComfyTypeI(_ComfyType):
    """A ComfyType with only a default Input class."""
    class Input(Input):
        ...


class ComfyTypeIO(ComfyTypeI):
    """A ComfyType with default Input and Output classes."""
    class Output(Output):
        ...


@comfytype(io_type="BOOLEAN")
class Boolean(ComfyTypeIO):
    Type = bool

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, default: bool = None, label_on: str = None, label_off: str = None,
                     socketless: bool = None, force_input: bool = None, extra_dict=None, raw_link: bool = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input,
                             extra_dict, raw_link)
            self.label_on = label_on
            self.label_off = label_off

        def as_dict(self):
            return super().as_dict() | prune_dict({
                "label_on": self.label_on,
                "label_off": self.label_off,
            })


@comfytype(io_type="INT")
class Int(ComfyTypeIO):
    Type = int

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, default: int = None, min: int = None, max: int = None, step: int = None,
                     control_after_generate: bool = None, display_mode: NumberDisplay = None,
                     socketless: bool = None, force_input: bool = None, extra_dict=None, raw_link: bool = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input,
                             extra_dict, raw_link)
            self.min = min
            self.max = max
            self.step = step
            self.control_after_generate = control_after_generate
            self.display_mode = display_mode

        def as_dict(self):
            return super().as_dict() | prune_dict({
                "min": self.min,
                "max": self.max,
                "step": self.step,
                "control_after_generate": self.control_after_generate,
                "display": self.display_mode.value if self.display_mode else None,
            })


@comfytype(io_type="FLOAT")
class Float(ComfyTypeIO):
    Type = float

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, default: float = None, min: float = None, max: float = None,
                     step: float = None, round: float = None, display_mode: NumberDisplay = None,
                     socketless: bool = None, force_input: bool = None, extra_dict=None, raw_link: bool = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input,
                             extra_dict, raw_link)
            self.min = min
            self.max = max
            self.step = step
            self.round = round
            self.display_mode = display_mode

        def as_dict(self):
            return super().as_dict() | prune_dict({
                "min": self.min,
                "max": self.max,
                "step": self.step,
                "round": self.round,
                "display": self.display_mode,
            })


@comfytype(io_type="STRING")
class String(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, multiline=False, placeholder: str = None, default: str = None,
                     dynamic_prompts: bool = None, socketless: bool = None, force_input: bool = None,
                     extra_dict=None, raw_link: bool = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input,
                             extra_dict, raw_link)
            self.multiline = multiline
            self.placeholder = placeholder
            self.dynamic_prompts = dynamic_prompts

        def as_dict(self):
            return super().as_dict() | prune_dict({
                "multiline": self.multiline,
                "placeholder": self.placeholder,
                "dynamicPrompts": self.dynamic_prompts,
            })


@comfytype(io_type="COMBO")
class Combo(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        """A dropdown; declared as type "COMBO" with the choices under `options`."""
        Type = str

        def __init__(self, id: str, options: list[str] | list[int] | type[Enum] = None, display_name: str = None,
                     optional=False, tooltip: str = None, lazy: bool = None, default: str | int | Enum = None,
                     control_after_generate: bool = None, upload: UploadType = None,
                     image_folder: FolderType = None, remote: RemoteOptions = None, socketless: bool = None,
                     extra_dict=None, raw_link: bool = None):
            if isinstance(options, type) and issubclass(options, Enum):
                options = [member.value for member in options]
            if isinstance(default, Enum):
                default = default.value
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, None,
                             extra_dict, raw_link)
            self.multiselect = False
            self.options = options
            self.control_after_generate = control_after_generate
            self.upload = upload
            self.image_folder = image_folder
            self.remote = remote

        def as_dict(self):
            return super().as_dict() | prune_dict({
                "multiselect": self.multiselect,
                "options": self.options,
                "control_after_generate": self.control_after_generate,
                **({self.upload.value: True} if self.upload is not None else {}),
                "image_folder": self.image_folder.value if self.image_folder else None,
                "remote": self.remote.as_dict() if self.remote else None,
            })

    class Output(Output):
        def __init__(self, id: str = None, display_name: str = None, options: list[str] = None,
                     tooltip: str = None, is_output_list=False):
            super().__init__(id, display_name, tooltip, is_output_list)
            self.options = options if options is not None else []

        @property
        def io_type(self):
            # A combo output is typed by its option list, like a V1 combo.
            return self.options


@comfytype(io_type="COMBO")
class MultiCombo(ComfyTypeI):
    """A dropdown allowing several choices."""
    Type = list[str]

    class Input(Combo.Input):
        def __init__(self, id: str, options: list[str], display_name: str = None, optional=False,
                     tooltip: str = None, lazy: bool = None, default: list[str] = None, placeholder: str = None,
                     chip: bool = None, control_after_generate: bool = None, socketless: bool = None,
                     extra_dict=None, raw_link: bool = None):
            super().__init__(id, options, display_name, optional, tooltip, lazy, default, control_after_generate,
                             socketless=socketless, extra_dict=extra_dict, raw_link=raw_link)
            self.multiselect = True
            self.placeholder = placeholder
            self.chip = chip

        def as_dict(self):
            return super().as_dict() | prune_dict({
                "multi_select": self.multiselect,
                "placeholder": self.placeholder,
                "chip": self.chip,
            })


@comfytype(io_type="IMAGE")
class Image(ComfyTypeIO):
    Type = _Tensor


@comfytype(io_type="WAN_CAMERA_EMBEDDING")
class WanCameraEmbedding(ComfyTypeIO):
    Type = _Tensor


@comfytype(io_type="WEBCAM")
class Webcam(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        Type = str

        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, default: str = None, socketless: bool = None, extra_dict=None,
                     raw_link: bool = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, None,
                             extra_dict, raw_link)


@comfytype(io_type="MASK")
class Mask(ComfyTypeIO):
    Type = _Tensor


@comfytype(io_type="LATENT")
class Latent(ComfyTypeIO):
    """Latents are dicts with a `samples` tensor."""
    class LatentDict(TypedDict):
        samples: Any
        noise_mask: NotRequired[Any]
        batch_index: NotRequired[list[int]]
        type: NotRequired[str]
    Type = LatentDict


@comfytype(io_type="CONDITIONING")
class Conditioning(ComfyTypeIO):
    class PooledDict(TypedDict, total=False):
        pooled_output: Any
        control: Any
        strength: float
        mask: Any
        start_percent: float
        end_percent: float
    CondList = list[tuple[Any, PooledDict]]
    Type = CondList


@comfytype(io_type="SAMPLER")
class Sampler(ComfyTypeIO):
    Type = Any


@comfytype(io_type="SIGMAS")
class Sigmas(ComfyTypeIO):
    Type = _Tensor


@comfytype(io_type="NOISE")
class Noise(ComfyTypeIO):
    Type = _Tensor


@comfytype(io_type="GUIDER")
class Guider(ComfyTypeIO):
    Type = Any


@comfytype(io_type="CLIP")
class Clip(ComfyTypeIO):
    Type = Any


@comfytype(io_type="CONTROL_NET")
class ControlNet(ComfyTypeIO):
    Type = Any


@comfytype(io_type="VAE")
class Vae(ComfyTypeIO):
    Type = Any


@comfytype(io_type="MODEL")
class Model(ComfyTypeIO):
    Type = Any


@comfytype(io_type="CLIP_VISION")
class ClipVision(ComfyTypeIO):
    Type = Any


@comfytype(io_type="CLIP_VISION_OUTPUT")
class ClipVisionOutput(ComfyTypeIO):
    Type = Any


@comfytype(io_type="STYLE_MODEL")
class StyleModel(ComfyTypeIO):
    Type = Any


@comfytype(io_type="GLIGEN")
class Gligen(ComfyTypeIO):
    Type = Any


@comfytype(io_type="UPSCALE_MODEL")
class UpscaleModel(ComfyTypeIO):
    Type = Any


@comfytype(io_type="LATENT_UPSCALE_MODEL")
class LatentUpscaleModel(ComfyTypeIO):
    Type = Any


@comfytype(io_type="AUDIO")
class Audio(ComfyTypeIO):
    class AudioDict(TypedDict):
        waveform: Any
        sampler_rate: int
    Type = AudioDict


@comfytype(io_type="VIDEO")
class Video(ComfyTypeIO):
    Type = Any


@comfytype(io_type="SVG")
class SVG(ComfyTypeIO):
    Type = Any


@comfytype(io_type="LORA_MODEL")
class LoraModel(ComfyTypeIO):
    Type = dict[str, Any]


@comfytype(io_type="LOSS_MAP")
class LossMap(ComfyTypeIO):
    class LossMapDict(TypedDict):
        loss: list[Any]
    Type = LossMapDict


@comfytype(io_type="VOXEL")
class Voxel(ComfyTypeIO):
    Type = Any


@comfytype(io_type="MESH")
class Mesh(ComfyTypeIO):
    Type = Any


@comfytype(io_type="HOOKS")
class Hooks(ComfyTypeIO):
    Type = Any


@comfytype(io_type="HOOK_KEYFRAMES")
class HookKeyframes(ComfyTypeIO):
    Type = Any


@comfytype(io_type="TIMESTEPS_RANGE")
class TimestepsRange(ComfyTypeIO):
    """A (start, end) range between 0.0 and 1.0."""
    Type = tuple[int, int]


@comfytype(io_type="LATENT_OPERATION")
class LatentOperation(ComfyTypeIO):
    Type = Callable[[Any], Any]


@comfytype(io_type="FLOW_CONTROL")
class FlowControl(ComfyTypeIO):
    Type = tuple[str, Any]


@comfytype(io_type="ACCUMULATION")
class Accumulation(ComfyTypeIO):
    class AccumulationDict(TypedDict):
        accum: list[Any]
    Type = AccumulationDict


@comfytype(io_type="LOAD3D_CAMERA")
class Load3DCamera(ComfyTypeIO):
    class CameraInfo(TypedDict):
        position: dict[str, float | int]
        target: dict[str, float | int]
        zoom: int
        cameraType: str
    Type = CameraInfo


@comfytype(io_type="LOAD_3D")
class Load3D(ComfyTypeIO):
    """3D models are dicts of file names and camera info."""
    class Model3DDict(TypedDict):
        image: str
        mask: str
        normal: str
        camera_info: Any
        recording: NotRequired[str]
    Type = Model3DDict


@comfytype(io_type="LOAD_3D_ANIMATION")
class Load3DAnimation(Load3D):
    ...


@comfytype(io_type="PHOTOMAKER")
class Photomaker(ComfyTypeIO):
    Type = Any


@comfytype(io_type="POINT")
class Point(ComfyTypeIO):
    Type = Any


@comfytype(io_type="FACE_ANALYSIS")
class FaceAnalysis(ComfyTypeIO):
    Type = Any


@comfytype(io_type="BBOX")
class BBOX(ComfyTypeIO):
    Type = Any


@comfytype(io_type="SEGS")
class SEGS(ComfyTypeIO):
    Type = Any


@comfytype(io_type="*")
class AnyType(ComfyTypeIO):
    Type = Any


@comfytype(io_type="MODEL_PATCH")
class MODEL_PATCH(ComfyTypeIO):
    Type = Any


@comfytype(io_type="AUDIO_ENCODER")
class AudioEncoder(ComfyTypeIO):
    Type = Any


@comfytype(io_type="AUDIO_ENCODER_OUTPUT")
class AudioEncoderOutput(ComfyTypeIO):
    Type = Any


@comfytype(io_type="TRACKS")
class Tracks(ComfyTypeIO):
    class TrackDict(TypedDict):
        track_path: Any
        track_visibility: Any
    Type = TrackDict


@comfytype(io_type="COMFY_MULTITYPED_V3")
class MultiType:
    Type = Any

    class Input(Input):
        """An input accepting several types. If `id` is an Input, that input provides the widget
        (if any) and its settings override the ones given here."""

        def __init__(self, id: str | Input, types: list[type[_ComfyType] | _ComfyType], display_name: str = None,
                     optional=False, tooltip: str = None, lazy: bool = None, extra_dict=None,
                     raw_link: bool = None):
            self.input_override = None
            if isinstance(id, Input):
                self.input_override = copy.copy(id)
                optional = id.optional if id.optional is True else optional
                tooltip = id.tooltip if id.tooltip is not None else tooltip
                display_name = id.display_name if id.display_name is not None else display_name
                lazy = id.lazy if id.lazy is not None else lazy
                id = id.id
                if isinstance(self.input_override, WidgetInput):
                    self.input_override.widget_type = self.input_override.get_io_type()
            super().__init__(id, display_name, optional, tooltip, lazy, extra_dict, raw_link)
            self._io_types = types

        @property
        def io_types(self) -> list[type[Input]]:
            return [x if is_class(x) else type(x) for x in self._io_types]

        def get_io_type(self):
            names = [x.io_type for x in self.io_types]
            if self.input_override is not None:
                names.insert(0, self.input_override.get_io_type())
            return ",".join(dict.fromkeys(names))

        def as_dict(self):
            if self.input_override is not None:
                return self.input_override.as_dict() | super().as_dict()
            return super().as_dict()


class DynamicInput(Input, ABC):
    """An input that stands for a generated list of inputs (get_dynamic)."""

    @abstractmethod
    def get_dynamic(self) -> list[Input]:
        ...


class DynamicOutput(Output, ABC):
    """An output that stands for a generated list of outputs (get_dynamic)."""

    def __init__(self, id: str = None, display_name: str = None, tooltip: str = None, is_output_list=False):
        super().__init__(id, display_name, tooltip, is_output_list)

    @abstractmethod
    def get_dynamic(self) -> list[Output]:
        ...


@comfytype(io_type="COMFY_AUTOGROW_V3")
class AutogrowDynamic(ComfyTypeI):
    """Experimental: `min` required copies of a template input, then optional ones up to `max`."""
    Type = list[Any]

    class Input(DynamicInput):
        def __init__(self, id: str, template_input: Input, min: int = 1, max: int = None,
                     display_name: str = None, optional=False, tooltip: str = None, lazy: bool = None,
                     extra_dict=None):
            super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
            assert min is None or min >= 1
            assert max is None or max >= 1
            self.template_input = template_input
            self.min = min
            self.max = max

        def get_dynamic(self) -> list[Input]:
            generated = []
            last = max(self.min or 0, self.max or 0)
            for n in range(1, last + 1):
                item = copy.copy(self.template_input)
                item.id = f"{self.template_input.id}{n}_${self.id}_ag$"
                if item.display_name is not None:
                    item.display_name = f"{item.display_name}{n}"
                item.optional = True if n > (self.min or 0) else (self.optional or item.optional)
                if isinstance(self.template_input, WidgetInput):
                    item.force_input = True
                generated.append(item)
            return generated


@comfytype(io_type="COMFY_MATCHTYPE_V3")
class MatchType(ComfyTypeIO):
    """Experimental: inputs/outputs sharing one type chosen by what is connected."""

    class Template:
        def __init__(self, template_id: str, allowed_types: _ComfyType | list[_ComfyType] = AnyType):
            self.template_id = template_id
            if not isinstance(allowed_types, (list, tuple)):
                allowed_types = [allowed_types]
            self.allowed_types = list(allowed_types)

        def as_dict(self):
            return {
                "template_id": self.template_id,
                "allowed_types": ",".join(t.io_type for t in self.allowed_types),
            }

    class Input(DynamicInput):
        def __init__(self, id: str, template: MatchType.Template, display_name: str = None, optional=False,
                     tooltip: str = None, lazy: bool = None, extra_dict=None, raw_link: bool = None):
            super().__init__(id, display_name, optional, tooltip, lazy, extra_dict, raw_link)
            self.template = template

        def get_dynamic(self) -> list[Input]:
            return [self]

        def as_dict(self):
            return super().as_dict() | prune_dict({"template": self.template.as_dict()})

    class Output(DynamicOutput):
        def __init__(self, template: MatchType.Template = None, id: str = None, display_name: str = None,
                     tooltip: str = None, is_output_list=False):
            super().__init__(id, display_name, tooltip, is_output_list)
            self.template = template

        def get_dynamic(self) -> list[Output]:
            return [self]

        def as_dict(self):
            return super().as_dict() | prune_dict(
                {"template": self.template.as_dict() if self.template is not None else None})


class HiddenHolder:
    """The hidden values of one node call, as `cls.hidden.<name>`; any other name reads None."""

    def __init__(self, unique_id: str, prompt: Any, extra_pnginfo: Any, dynprompt: Any,
                 auth_token_comfy_org: str, api_key_comfy_org: str, **kwargs):
        self.unique_id = unique_id
        """The node's id (matches the client's node id)."""
        self.prompt = prompt
        """The complete prompt sent by the client."""
        self.extra_pnginfo = extra_pnginfo
        """extra_data["extra_pnginfo"] (copied into saved PNGs)."""
        self.dynprompt = dynprompt
        """The comfy_execution.graph.DynamicPrompt (includes expansion nodes)."""
        self.auth_token_comfy_org = auth_token_comfy_org
        self.api_key_comfy_org = api_key_comfy_org

    def __getattr__(self, key: str):
        return None

    @classmethod
    def from_dict(cls, d: dict | None):
        d = d or {}
        return cls(
            unique_id=d.get(Hidden.unique_id, None),
            prompt=d.get(Hidden.prompt, None),
            extra_pnginfo=d.get(Hidden.extra_pnginfo, None),
            dynprompt=d.get(Hidden.dynprompt, None),
            auth_token_comfy_org=d.get(Hidden.auth_token_comfy_org, None),
            api_key_comfy_org=d.get(Hidden.api_key_comfy_org, None),
        )

    @classmethod
    def from_v3_data(cls, v3_data):
        return cls.from_dict(v3_data.get("hidden_inputs") if v3_data else None)


class Hidden(str, Enum):
    """Hidden values a node can request."""
    unique_id = "UNIQUE_ID"
    prompt = "PROMPT"
    extra_pnginfo = "EXTRA_PNGINFO"
    dynprompt = "DYNPROMPT"
    auth_token_comfy_org = "AUTH_TOKEN_COMFY_ORG"
    api_key_comfy_org = "API_KEY_COMFY_ORG"


# Keyword names under which INPUT_TYPES() declares hidden inputs to the executor (and under which
# it passes their values back). Reserved names, so a hidden value can never replace a real input
# with the same id ("prompt" is a common input name). /object_info shows ComfyUI's own layout.
HIDDEN_KWARGS = {member: f"__{member.name}__" for member in Hidden}
_HIDDEN_BY_KWARG = {name: member for member, name in HIDDEN_KWARGS.items()}


def _pop_hidden(kwargs):
    """Removes the hidden keyword arguments from `kwargs`; -> {Hidden: value} or None if none."""
    found = None
    for name in list(kwargs):
        member = _HIDDEN_BY_KWARG.get(name)
        if member is not None:
            if found is None:
                found = {}
            found[member] = kwargs.pop(name)
    return found


@dataclass
class NodeInfoV1:
    input: dict = None
    input_order: dict[str, list[str]] = None
    output: list[str] = None
    output_is_list: list[bool] = None
    output_name: list[str] = None
    output_tooltips: list[str] = None
    name: str = None
    display_name: str = None
    description: str = None
    python_module: Any = None
    category: str = None
    output_node: bool = None
    deprecated: bool = None
    experimental: bool = None
    api_node: bool = None


@dataclass
class NodeInfoV3:
    input: dict = None
    output: dict = None
    hidden: list[str] = None
    name: str = None
    display_name: str = None
    description: str = None
    category: str = None
    output_node: bool = None
    deprecated: bool = None
    experimental: bool = None
    api_node: bool = None


@dataclass
class Schema:
    """Definition of a V3 node."""

    node_id: str
    """Registry key of the node; should be globally unique."""
    display_name: str = None
    category: str = "sd"
    """Where the node sits in the "Add Node" menu."""
    inputs: list[Input] = None
    outputs: list[Output] = None
    hidden: list[Hidden] = None
    description: str = ""
    is_input_list: bool = False
    """Receive every input as the whole list in one call (V1 INPUT_IS_LIST)."""
    is_output_node: bool = False
    is_deprecated: bool = False
    is_experimental: bool = False
    is_api_node: bool = False
    not_idempotent: bool = False
    """Never share cached results with identical nodes elsewhere in the graph."""
    enable_expand: bool = False
    """Allow NodeOutput(expand=...)."""

    def validate(self):
        """Raises ValueError if input or output ids repeat, within or across the two lists."""
        input_ids = [i.id for i in self.inputs] if self.inputs is not None else []
        output_ids = [o.id for o in self.outputs] if self.outputs is not None else []
        input_set, output_set = set(input_ids), set(output_ids)
        issues = []
        if len(input_set) != len(input_ids):
            dup = [item for item, count in Counter(input_ids).items() if count > 1]
            issues.append(f"Input ids must be unique, but {dup} are not.")
        if len(output_set) != len(output_ids):
            dup = [item for item, count in Counter(output_ids).items() if count > 1]
            issues.append(f"Output ids must be unique, but {dup} are not.")
        both = input_set & output_set
        if both:
            issues.append(f"Ids must be unique between inputs and outputs, but {both} are not.")
        if issues:
            raise ValueError("\n".join(issues))
        for item in (self.inputs or []):
            item.validate()
        for item in (self.outputs or []):
            item.validate()

    def finalize(self):
        """Adds the hidden inputs implied by the flags and names unnamed outputs."""
        if self.is_api_node:
            if self.hidden is None:
                self.hidden = []
            for member in (Hidden.auth_token_comfy_org, Hidden.api_key_comfy_org):
                if member not in self.hidden:
                    self.hidden.append(member)
        if self.is_output_node:
            if self.hidden is None:
                self.hidden = []
            for member in (Hidden.prompt, Hidden.extra_pnginfo):
                if member not in self.hidden:
                    self.hidden.append(member)
        for i, output in enumerate(self.outputs or []):
            if output.id is None:
                output.id = f"_{i}_{output.io_type}_"

    def _v1_inputs(self):
        inputs = {"required": {}}
        for item in (self.inputs or []):
            for one in (item.get_dynamic() if isinstance(item, DynamicInput) else [item]):
                add_to_dict_v1(one, inputs)
        return inputs

    def get_v1_info(self, cls) -> NodeInfoV1:
        inputs = self._v1_inputs()
        for member in (self.hidden or []):
            inputs.setdefault("hidden", {})[member.name] = (member.value,)
        output, output_is_list, output_name, output_tooltips = [], [], [], []
        for o in (self.outputs or []):
            output.append(o.io_type)
            output_is_list.append(o.is_output_list)
            output_name.append(o.display_name if o.display_name else o.io_type)
            output_tooltips.append(o.tooltip if o.tooltip else None)
        return NodeInfoV1(
            input=inputs,
            input_order={key: list(value.keys()) for key, value in inputs.items()},
            output=output,
            output_is_list=output_is_list,
            output_name=output_name,
            output_tooltips=output_tooltips,
            name=self.node_id,
            display_name=self.display_name,
            category=self.category,
            description=self.description,
            output_node=self.is_output_node,
            deprecated=self.is_deprecated,
            experimental=self.is_experimental,
            api_node=self.is_api_node,
            python_module=getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes"),
        )

    def get_v3_info(self, cls) -> NodeInfoV3:
        input_dict, output_dict = {}, {}
        for item in (self.inputs or []):
            add_to_dict_v3(item, input_dict)
        for item in (self.outputs or []):
            add_to_dict_v3(item, output_dict)
        info = NodeInfoV3(
            input=input_dict,
            output=output_dict,
            hidden=[member.value for member in (self.hidden or [])],
            name=self.node_id,
            display_name=self.display_name,
            description=self.description,
            category=self.category,
            output_node=self.is_output_node,
            deprecated=self.is_deprecated,
            experimental=self.is_experimental,
            api_node=self.is_api_node,
        )
        info.python_module = getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes")
        return info


_SCHEMA_FIELDS = frozenset(f.name for f in fields(Schema))
_schema_dataclass_init = Schema.__init__


def _schema_init(self, *args, **kwargs):
    # Newer ComfyUI versions add Schema fields (search aliases, badges, ...). Packs written for
    # them should still load here: unknown fields are kept in `extra_fields` and otherwise ignored.
    extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in _SCHEMA_FIELDS}
    _schema_dataclass_init(self, *args, **kwargs)
    self.extra_fields = extra


_schema_init.__doc__ = _schema_dataclass_init.__doc__
_schema_init.__signature__ = inspect.signature(_schema_dataclass_init)
Schema.__init__ = _schema_init


def add_to_dict_v1(i: Input, d: dict):
    key = "optional" if i.optional else "required"
    options = i.as_dict()
    options.pop("optional", None)  # expressed by the section in V1
    d.setdefault(key, {})[i.id] = (i.get_io_type(), options)


def add_to_dict_v3(io: Input | Output, d: dict):
    d[io.id] = (io.get_io_type(), io.as_dict())


# ---------------------------------------------------------------------------------------------
# Node classes
# ---------------------------------------------------------------------------------------------

_CLONE_MARK = "_V3_CLONE"  # True on per-call clones (and their locked subclasses), never on node classes


def _owner(cls):
    """The real node class behind a per-call clone (cls itself otherwise); schema-derived
    attributes are cached on it, never on the clones."""
    for klass in cls.__mro__:
        if not getattr(klass, _CLONE_MARK, False):
            return klass
    return cls


def _cached(cls, attr):
    """A schema-derived V1 attribute, computed (GET_SCHEMA) on first use for this very class."""
    owner = _owner(cls)
    if owner.__dict__.get(attr) is None:
        owner.GET_SCHEMA()
    return owner.__dict__.get(attr)


def _schema_of(cls):
    owner = _owner(cls)
    schema = owner.__dict__.get("SCHEMA")
    if schema is None:
        schema = owner.GET_SCHEMA()
    return schema


def _call_target(cls, kwargs):
    """Takes the hidden keyword arguments out of `kwargs` and returns the class to call the V3
    method on: a fresh locked clone carrying them as `cls.hidden` (or `cls` itself when it
    already is such a clone and no hidden values were passed)."""
    hidden = _pop_hidden(kwargs)
    if hidden is None and getattr(cls, _CLONE_MARK, False):
        return cls
    owner = _owner(cls)
    _schema_of(owner)  # make sure SCHEMA exists before the class is locked
    return lock_class(owner.PREPARE_CLASS_CLONE(hidden))


def _v1_signature(func):
    """The signature the executor inspects for a bridged V3 method: the method's own
    parameters, plus the hidden keyword names so that they are passed along too."""
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    insert_at = len(params)
    for n, p in enumerate(params):
        if p.kind in (p.VAR_POSITIONAL, p.KEYWORD_ONLY, p.VAR_KEYWORD):
            insert_at = n
            break
    existing = {p.name for p in params}
    extra = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
             for name in HIDDEN_KWARGS.values() if name not in existing]
    params = params[:insert_at] + extra + params[insert_at:]
    return sig.replace(parameters=params)


def _bridge(cls, v3_name, v1_name):
    """A plain function the executor can call like a V1 VALIDATE_INPUTS / IS_CHANGED /
    check_lazy_status: hidden kwargs go to cls.hidden of a locked clone, the rest to the V3
    classmethod `v3_name` called on that clone."""
    method = inspect.getattr_static(cls, v3_name)
    func = getattr(method, "__func__", method)

    if inspect.iscoroutinefunction(func):
        async def bridge(**kwargs):
            return await func(_call_target(cls, kwargs), **kwargs)
    else:
        def bridge(**kwargs):
            return func(_call_target(cls, kwargs), **kwargs)
    bridge.__name__ = v1_name
    bridge.__qualname__ = f"{cls.__qualname__}.{v1_name}"
    bridge.__doc__ = func.__doc__
    bridge.__signature__ = _v1_signature(func)
    return bridge


class _V1Bridge:
    """Class attribute present only when the V3 method is really overridden (hasattr is False
    otherwise, as the executor expects from a V1 class without VALIDATE_INPUTS / IS_CHANGED)."""

    def __init__(self, v3_name):
        self.v3_name = v3_name
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        cls = owner if owner is not None else type(obj)
        if first_real_override(cls, self.v3_name) is None:
            raise AttributeError(f"type object '{cls.__name__}' has no attribute '{self.name}'")
        return _bridge(cls, self.v3_name, self.name)


class _OverridableClassmethod:
    """The base placeholder of check_lazy_status. A node class shows the attribute only if it
    overrides it (hasattr is False otherwise, as for a V1 class without lazy inputs); the
    placeholder stays reachable on the base classes (first_real_override) and through super()
    from an override."""

    def __init__(self, func):
        self.func = func
        self.name = func.__name__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        cls = owner if owner is not None else type(obj)
        if cls.__dict__.get(self.name) is self or first_real_override(cls, self.name) is not None:
            return types.MethodType(self.func, cls)
        raise AttributeError(f"type object '{cls.__name__}' has no attribute '{self.name}'")


def _normalize_output(cls, value):
    if value is None:
        value = NodeOutput()
    elif isinstance(value, NodeOutput):
        pass
    elif isinstance(value, tuple):
        value = NodeOutput(*value)
    elif isinstance(value, dict):
        value = NodeOutput.from_dict(value)
    elif isinstance(value, ExecutionBlocker):
        value = NodeOutput(block_execution=value.message)
    else:
        raise Exception(f"Invalid return type from node: {type(value)}")
    if value.expand is not None and not _schema_of(cls).enable_expand:
        raise Exception(f"Node {cls.__name__} is not expandable, but expand included in NodeOutput; "
                        "developer should set enable_expand=True on node's Schema to allow this.")
    return value


class _ComfyNodeBaseInternal(_ComfyNodeInternal):
    """Internal base of V3 nodes (derive nodes from ComfyNode)."""

    RELATIVE_PYTHON_MODULE = None
    SCHEMA = None

    hidden: HiddenHolder = None
    """Set on the per-call clone: the hidden values of this call."""

    @classmethod
    @abstractmethod
    def define_schema(cls) -> Schema:
        """Override: return the node's Schema."""
        raise NotImplementedError

    @classmethod
    @abstractmethod
    def execute(cls, **kwargs) -> NodeOutput:
        """Override: the node's work."""
        raise NotImplementedError

    @classmethod
    def validate_inputs(cls, **kwargs) -> bool | str:
        """Optional override (V1 VALIDATE_INPUTS): True, or an error message."""
        raise NotImplementedError

    @classmethod
    def fingerprint_inputs(cls, **kwargs) -> Any:
        """Optional override (V1 IS_CHANGED): the node re-runs when the value changes."""
        raise NotImplementedError

    @_OverridableClassmethod
    def check_lazy_status(cls, **kwargs) -> list[str]:
        """Optional override: names of lazy inputs still needed (None = not evaluated yet)."""
        return [name for name in kwargs if kwargs[name] is None]

    def __init__(self):
        self.__class__.VALIDATE_CLASS()

    def __getattribute__(self, name):
        # The executor calls check_lazy_status on the node instance (V1 contract): present only
        # when overridden, and called on a clone carrying the hidden values.
        if name == "check_lazy_status":
            cls = type(self)
            if first_real_override(cls, "check_lazy_status") is None:
                raise AttributeError(f"'{cls.__name__}' object has no attribute 'check_lazy_status'")
            return _bridge(cls, "check_lazy_status", "check_lazy_status")
        return object.__getattribute__(self, name)

    @classmethod
    def GET_BASE_CLASS(cls):
        return _ComfyNodeBaseInternal

    @final
    @classmethod
    def VALIDATE_CLASS(cls):
        if first_real_override(cls, "define_schema") is None:
            raise Exception(f"No define_schema function was defined for node class {cls.__name__}.")
        if first_real_override(cls, "execute") is None:
            raise Exception(f"No execute function was defined for node class {cls.__name__}.")

    @classproperty
    def FUNCTION(cls):  # noqa: N802
        if inspect.iscoroutinefunction(cls.execute):
            return "EXECUTE_NORMALIZED_ASYNC"
        return "EXECUTE_NORMALIZED"

    @final
    @classmethod
    def EXECUTE_NORMALIZED(cls, *args, **kwargs) -> NodeOutput:
        target = _call_target(cls, kwargs)
        return _normalize_output(target, target.execute(*args, **kwargs))

    @final
    @classmethod
    async def EXECUTE_NORMALIZED_ASYNC(cls, *args, **kwargs) -> NodeOutput:
        target = _call_target(cls, kwargs)
        return _normalize_output(target, await target.execute(*args, **kwargs))

    VALIDATE_INPUTS = _V1Bridge("validate_inputs")
    IS_CHANGED = _V1Bridge("fingerprint_inputs")

    @final
    @classmethod
    def PREPARE_CLASS_CLONE(cls, hidden_inputs) -> type[ComfyNode]:
        """A throwaway subclass of the node class with `hidden` set (dict keyed by Hidden, or
        V3 data with a "hidden_inputs" entry)."""
        if isinstance(hidden_inputs, dict) and "hidden_inputs" in hidden_inputs:
            hidden_inputs = hidden_inputs["hidden_inputs"]
        owner = _owner(cls if is_class(cls) else type(cls))
        clone = shallow_clone_class(owner)
        type.__setattr__(clone, _CLONE_MARK, True)
        type.__setattr__(clone, "hidden", HiddenHolder.from_dict(hidden_inputs))
        return clone

    @final
    @classmethod
    def GET_NODE_INFO_V3(cls) -> dict[str, Any]:
        return asdict(cls.GET_SCHEMA().get_v3_info(_owner(cls)))

    @final
    @classmethod
    def GET_NODE_INFO_V1(cls) -> dict[str, Any]:
        """ComfyUI's /object_info entry for this node."""
        return asdict(cls.GET_SCHEMA().get_v1_info(_owner(cls)))

    # ---- V1 attributes derived from the schema ------------------------------------------------
    _DESCRIPTION = None
    _CATEGORY = None
    _EXPERIMENTAL = None
    _DEPRECATED = None
    _API_NODE = None
    _OUTPUT_NODE = None
    _INPUT_IS_LIST = None
    _OUTPUT_IS_LIST = None
    _RETURN_TYPES = None
    _RETURN_NAMES = None
    _OUTPUT_TOOLTIPS = None
    _NOT_IDEMPOTENT = None

    @final
    @classproperty
    def DESCRIPTION(cls):  # noqa: N802
        return _cached(cls, "_DESCRIPTION")

    @final
    @classproperty
    def CATEGORY(cls):  # noqa: N802
        return _cached(cls, "_CATEGORY")

    @final
    @classproperty
    def EXPERIMENTAL(cls):  # noqa: N802
        return _cached(cls, "_EXPERIMENTAL")

    @final
    @classproperty
    def DEPRECATED(cls):  # noqa: N802
        return _cached(cls, "_DEPRECATED")

    @final
    @classproperty
    def API_NODE(cls):  # noqa: N802
        return _cached(cls, "_API_NODE")

    @final
    @classproperty
    def OUTPUT_NODE(cls):  # noqa: N802
        return _cached(cls, "_OUTPUT_NODE")

    @final
    @classproperty
    def INPUT_IS_LIST(cls):  # noqa: N802
        return _cached(cls, "_INPUT_IS_LIST")

    @final
    @classproperty
    def OUTPUT_IS_LIST(cls):  # noqa: N802
        return _cached(cls, "_OUTPUT_IS_LIST")

    @final
    @classproperty
    def RETURN_TYPES(cls):  # noqa: N802
        return _cached(cls, "_RETURN_TYPES")

    @final
    @classproperty
    def RETURN_NAMES(cls):  # noqa: N802
        return _cached(cls, "_RETURN_NAMES")

    @final
    @classproperty
    def OUTPUT_TOOLTIPS(cls):  # noqa: N802
        return _cached(cls, "_OUTPUT_TOOLTIPS")

    @final
    @classproperty
    def NOT_IDEMPOTENT(cls):  # noqa: N802
        return _cached(cls, "_NOT_IDEMPOTENT")

    @final
    @classmethod
    def INPUT_TYPES(cls, include_hidden=True, return_schema=False):
        """The V1 input declaration the executor reads. `required`/`optional` are ComfyUI's;
        `hidden` maps HIDDEN_KWARGS names to the marker strings ("UNIQUE_ID", ...) because the
        executor passes hidden values back as keyword arguments (/object_info instead shows
        ComfyUI's `{"unique_id": ["UNIQUE_ID"]}` layout, see GET_NODE_INFO_V1)."""
        schema = _owner(cls).FINALIZE_SCHEMA()
        inputs = schema._v1_inputs()
        if include_hidden and schema.hidden:
            inputs["hidden"] = {HIDDEN_KWARGS[Hidden(member)]: Hidden(member).value for member in schema.hidden}
        if return_schema:
            return inputs, schema
        return inputs

    @final
    @classmethod
    def FINALIZE_SCHEMA(cls):
        """define_schema(), finalized."""
        schema = cls.define_schema()
        schema.finalize()
        return schema

    @final
    @classmethod
    def GET_SCHEMA(cls) -> Schema:
        """Checks the class, builds, finalizes and validates the schema, and caches the V1
        attributes derived from it."""
        owner = _owner(cls)
        owner.VALIDATE_CLASS()
        schema = owner.FINALIZE_SCHEMA()
        schema.validate()
        own = owner.__dict__
        for attr, value in (("_DESCRIPTION", schema.description), ("_CATEGORY", schema.category),
                            ("_EXPERIMENTAL", schema.is_experimental), ("_DEPRECATED", schema.is_deprecated),
                            ("_API_NODE", schema.is_api_node), ("_OUTPUT_NODE", schema.is_output_node),
                            ("_INPUT_IS_LIST", schema.is_input_list), ("_NOT_IDEMPOTENT", schema.not_idempotent)):
            if own.get(attr) is None:
                setattr(owner, attr, value)
        if own.get("_RETURN_TYPES") is None:
            outputs = schema.outputs or []
            owner._RETURN_TYPES = [o.io_type for o in outputs]
            owner._RETURN_NAMES = [o.display_name if o.display_name else o.io_type for o in outputs]
            owner._OUTPUT_IS_LIST = [o.is_output_list for o in outputs]
            owner._OUTPUT_TOOLTIPS = [o.tooltip if o.tooltip else None for o in outputs]
        owner.SCHEMA = schema
        return schema


class ComfyNode(_ComfyNodeBaseInternal):
    """Base class of V3 nodes: override define_schema() and execute() (classmethods)."""

    @classmethod
    @abstractmethod
    def define_schema(cls) -> Schema:
        """Override: return the node's Schema."""
        raise NotImplementedError

    @classmethod
    @abstractmethod
    def execute(cls, **kwargs) -> NodeOutput:
        """Override: the node's work."""
        raise NotImplementedError

    @classmethod
    def validate_inputs(cls, **kwargs) -> bool | str:
        """Optional override (V1 VALIDATE_INPUTS): True, or an error message."""
        raise NotImplementedError

    @classmethod
    def fingerprint_inputs(cls, **kwargs) -> Any:
        """Optional override (V1 IS_CHANGED): the node re-runs when the value changes."""
        raise NotImplementedError

    @_OverridableClassmethod
    def check_lazy_status(cls, **kwargs) -> list[str]:
        """Optional override: names of lazy inputs still needed (None = not evaluated yet)."""
        return [name for name in kwargs if kwargs[name] is None]

    @final
    @classmethod
    def GET_BASE_CLASS(cls):
        return ComfyNode


class NodeOutput(_NodeOutputInternal):
    """What execute() returns: positional output values, plus optional `ui` (dict or a ui
    object with as_dict()), `expand` (a graph, needs Schema.enable_expand) and
    `block_execution` (a message: every output becomes an ExecutionBlocker)."""

    def __init__(self, *args: Any, ui: _UIOutput | dict = None, expand: dict = None, block_execution: str = None):
        self.args = args
        self.ui = ui
        self.expand = expand
        self.block_execution = block_execution

    @property
    def result(self):
        return self.args if len(self.args) > 0 else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeOutput:
        args = ()
        if "result" in data:
            result = data["result"]
            if isinstance(result, ExecutionBlocker):
                return cls(block_execution=result.message)
            args = result
        return cls(*args, ui=data.get("ui"), expand=data.get("expand"))

    def __getitem__(self, index) -> Any:
        return self.args[index]


class _UIOutput(ABC):
    def __init__(self):
        pass

    @abstractmethod
    def as_dict(self) -> dict:
        ...


__all__ = [
    "FolderType", "UploadType", "RemoteOptions", "NumberDisplay",
    "comfytype", "Custom", "Input", "WidgetInput", "Output", "ComfyTypeI", "ComfyTypeIO",
    "Boolean", "Int", "Float", "String", "Combo", "MultiCombo", "Image", "WanCameraEmbedding", "Webcam",
    "Mask", "Latent", "Conditioning", "Sampler", "Sigmas", "Noise", "Guider", "Clip", "ControlNet", "Vae",
    "Model", "ClipVision", "ClipVisionOutput", "AudioEncoder", "AudioEncoderOutput", "StyleModel", "Gligen",
    "UpscaleModel", "LatentUpscaleModel", "Audio", "Video", "SVG", "LoraModel", "LossMap", "Voxel", "Mesh",
    "Hooks", "HookKeyframes", "TimestepsRange", "LatentOperation", "FlowControl", "Accumulation",
    "Load3DCamera", "Load3D", "Load3DAnimation", "Photomaker", "Point", "FaceAnalysis", "BBOX", "SEGS",
    "AnyType", "MODEL_PATCH", "MultiType", "Tracks",
    "MatchType", "AutogrowDynamic",
    "HiddenHolder", "Hidden", "NodeInfoV1", "NodeInfoV3", "Schema", "ComfyNode", "NodeOutput",
    "add_to_dict_v1", "add_to_dict_v3",
]
