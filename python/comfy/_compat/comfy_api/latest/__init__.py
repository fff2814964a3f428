"""comfy_api.latest: the newest V3 API (ComfyExtension, io, ui, ComfyAPI, ComfyAPISync, Input,
InputImpl, Types)."""
from __future__ import annotations

from abc import ABC, abstractmethod

from comfy_execution.utils import get_executing_context

from ..internal import ComfyAPIBase
from ..internal.async_to_sync import create_sync_class
from ..internal.singleton import ProxiedSingleton
from . import _io as io
from . import _ui as ui
from ._input import AudioInput, ImageInput, LatentInput, MaskInput, VideoInput
from ._input_impl import VideoFromComponents, VideoFromFile
from ._util import VideoCodec, VideoComponents, VideoContainer

_DEFAULT_PREVIEW_SIZE = 512


def _preview_size(ignore_size_limit):
    if ignore_size_limit:
        return None
    try:
        from comfy.cli_args import args
    except ImportError:
        return _DEFAULT_PREVIEW_SIZE
    return getattr(args, "preview_size", _DEFAULT_PREVIEW_SIZE)


def _to_preview(preview_image, ignore_size_limit):
    """A PIL image or an IMAGE tensor ([B,H,W,C] or [H,W,C], 0..1; the first image of a batch)
    -> (format, PIL image, max size), the tuple comfy.utils.encode_preview takes."""
    if preview_image is None:
        return None
    if isinstance(preview_image, tuple):
        return preview_image
    from PIL import Image
    image = preview_image
    if not isinstance(image, Image.Image):
        import numpy as np
        tensor = image
        if len(tensor.shape) == 4:
            tensor = tensor[0]
        image = Image.fromarray((tensor.cpu().numpy() * 255).astype(np.uint8))
    image_format = image.format if image.format else "JPEG"
    return (image_format, image, _preview_size(ignore_size_limit))


def set_progress_sync(value, max_value, node_id=None, preview_image=None, ignore_size_limit=False):
    """Updates the node's progress (progress_state and, with an image, a preview) without a
    `progress` message. The node id defaults to the executing node."""
    if node_id is None:
        ctx = get_executing_context()
        if ctx is not None:
            node_id = ctx.node_id
    if node_id is None:
        raise ValueError("node_id must be provided if not in executing context")
    preview = _to_preview(preview_image, ignore_size_limit)
    fmt, data = 0, b""
    if preview is not None:
        from comfy.utils import encode_preview
        fmt, data = encode_preview(preview)
    from comfy import _core
    try:
        _core.report_progress(node_id, value, max_value, fmt, data, False)
    except TypeError as e:
        if "incompatible function arguments" not in str(e):
            raise
        _core.report_progress(node_id, value, max_value, fmt, data)  # older native module


class ComfyAPI_latest(ComfyAPIBase):
    VERSION = "latest"
    STABLE = False

    class Execution(ProxiedSingleton):
        async def set_progress(self, value: float, max_value: float, node_id: str | None = None,
                               preview_image=None, ignore_size_limit: bool = False) -> None:
            """Updates the progress bar of a node (default: the executing node), optionally with a
            preview image (PIL image or IMAGE tensor). Replaces comfy.utils.PROGRESS_BAR_HOOK."""
            set_progress_sync(value, max_value, node_id, preview_image, ignore_size_limit)

    execution: Execution


class ComfyExtension(ABC):
    """What a V3 module's comfy_entrypoint() returns."""

    async def on_load(self) -> None:
        """Called when the extension is loaded."""

    @abstractmethod
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        """The node classes this extension provides."""


class Input:
    Image = ImageInput
    Audio = AudioInput
    Mask = MaskInput
    Latent = LatentInput
    Video = VideoInput


class InputImpl:
    VideoFromFile = VideoFromFile
    VideoFromComponents = VideoFromComponents


class Types:
    VideoCodec = VideoCodec
    VideoContainer = VideoContainer
    VideoComponents = VideoComponents


ComfyAPI = ComfyAPI_latest
ComfyAPISync = create_sync_class(ComfyAPI_latest)

IO = io
UI = ui

__all__ = ["ComfyAPI", "ComfyAPISync", "Input", "InputImpl", "Types", "ComfyExtension", "io", "IO", "ui", "UI"]
