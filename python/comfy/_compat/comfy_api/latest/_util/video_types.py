from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any, Optional


class VideoCodec(str, Enum):
    AUTO = "auto"
    H264 = "h264"

    @classmethod
    def as_input(cls) -> list[str]:
        return [member.value for member in cls]


class VideoContainer(str, Enum):
    AUTO = "auto"
    MP4 = "mp4"

    @classmethod
    def as_input(cls) -> list[str]:
        return [member.value for member in cls]

    @classmethod
    def get_extension(cls, value) -> str:
        if isinstance(value, str):
            value = cls(value)
        if value in (VideoContainer.MP4, VideoContainer.AUTO):
            return "mp4"
        return ""


@dataclass
class VideoComponents:
    """The parts of a video: frames [T,H,W,C], frame rate, optional audio and metadata."""
    images: Any
    frame_rate: Fraction
    audio: Optional[Any] = None
    metadata: Optional[dict] = None
