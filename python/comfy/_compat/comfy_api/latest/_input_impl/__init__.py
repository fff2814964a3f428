"""Concrete VIDEO inputs. Decoding and encoding need PyAV, imported when first used."""
from __future__ import annotations

from .._input.video_types import VideoInput


def _need_av():
    try:
        import av
    except ImportError as e:
        raise RuntimeError("video support needs the PyAV package (pip install av)") from e
    return av


class VideoFromFile(VideoInput):
    """A video in a file (path or binary file object)."""

    def __init__(self, file):
        self.__file = file

    def get_stream_source(self):
        if hasattr(self.__file, "seek"):
            self.__file.seek(0)
        return self.__file

    def get_components(self):
        import numpy as np
        import torch
        from .._util import VideoComponents
        av = _need_av()
        with av.open(self.get_stream_source(), mode="r") as container:
            stream = container.streams.video[0]
            frames = [torch.from_numpy(f.to_ndarray(format="rgb24").astype(np.float32) / 255.0)
                      for f in container.decode(stream)]
            rate = stream.average_rate or stream.guessed_rate
        images = torch.stack(frames) if frames else torch.zeros(0, 0, 0, 3)
        return VideoComponents(images=images, frame_rate=rate)

    def save_to(self, path, format=None, codec=None, metadata=None):
        source = self.get_stream_source()
        if isinstance(source, str) and isinstance(path, str):
            import shutil
            shutil.copyfile(source, path)
            return
        data = source.read() if hasattr(source, "read") else open(source, "rb").read()
        if isinstance(path, str):
            with open(path, "wb") as f:
                f.write(data)
        else:
            path.write(data)


class VideoFromComponents(VideoInput):
    """A video made of frames (and optional audio) in memory."""

    def __init__(self, components):
        self.__components = components

    def get_components(self):
        return self.__components

    def save_to(self, path, format=None, codec=None, metadata=None):
        import numpy as np
        av = _need_av()
        components = self.__components
        with av.open(path, mode="w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
            for key, value in (metadata or {}).items():
                out.metadata[key] = value if isinstance(value, str) else str(value)
            stream = out.add_stream("h264", rate=components.frame_rate)
            stream.width = components.images.shape[2]
            stream.height = components.images.shape[1]
            stream.pix_fmt = "yuv420p"
            for frame in components.images:
                img = (frame * 255).clamp(0, 255).byte().cpu().numpy().astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)


__all__ = ["VideoFromFile", "VideoFromComponents"]
