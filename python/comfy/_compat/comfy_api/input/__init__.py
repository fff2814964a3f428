"""comfy_api.input: older import path of the input types."""
from comfy_api.latest._input import AudioInput, ImageInput, LatentInput, MaskInput, VideoInput

__all__ = ["ImageInput", "AudioInput", "MaskInput", "LatentInput", "VideoInput"]
