"""Video helper types (comfy_api.latest.Types)."""
from .video_types import VideoCodec, VideoComponents, VideoContainer

__all__ = ["VideoContainer", "VideoCodec", "VideoComponents"]
