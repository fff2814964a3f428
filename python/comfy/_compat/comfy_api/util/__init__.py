"""comfy_api.util: older import path of the video helper types."""
from comfy_api.latest._util import VideoCodec, VideoComponents, VideoContainer

__all__ = ["VideoContainer", "VideoCodec", "VideoComponents"]
