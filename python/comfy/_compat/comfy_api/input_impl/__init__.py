"""comfy_api.input_impl: older import path of the concrete video inputs."""
from comfy_api.latest._input_impl import VideoFromComponents, VideoFromFile

__all__ = ["VideoFromFile", "VideoFromComponents"]
