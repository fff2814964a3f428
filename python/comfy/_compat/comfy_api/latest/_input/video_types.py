"""The abstract VIDEO input."""
from __future__ import annotations

import io
from abc import ABC, abstractmethod
from typing import Optional


class VideoInput(ABC):
    """A video node code can read (get_components) and write (save_to)."""

    @abstractmethod
    def get_components(self):
        """-> VideoComponents (images [T,H,W,C], frame_rate, audio, metadata)."""

    @abstractmethod
    def save_to(self, path, format=None, codec=None, metadata: Optional[dict] = None):
        """Writes the video to a path or binary file object."""

    def get_stream_source(self):
        """Something PyAV can open: a path, or a BytesIO with the encoded video."""
        buffer = io.BytesIO()
        self.save_to(buffer)
        buffer.seek(0)
        return buffer

    def get_dimensions(self) -> tuple[int, int]:
        """-> (width, height)."""
        images = self.get_components().images
        return images.shape[2], images.shape[1]

    def get_duration(self) -> float:
        components = self.get_components()
        return float(components.images.shape[0] / components.frame_rate)
