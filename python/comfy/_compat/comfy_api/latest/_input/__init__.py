"""Input types V3 nodes receive (comfy_api.latest.Input)."""
from .basic_types import AudioInput, ImageInput, LatentInput, MaskInput
from .video_types import VideoInput

__all__ = ["ImageInput", "AudioInput", "MaskInput", "LatentInput", "VideoInput"]
