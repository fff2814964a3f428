"""comfy_api.latest._ui (`ui`): UI outputs of V3 nodes (NodeOutput(ui=...)) and the helpers
that save images and audio the way ComfyUI's own nodes do."""
from __future__ import annotations

import json
import os
import random
import sys

from ._io import ComfyNode, FolderType, Image, _UIOutput  # noqa: F401  (Image: typing)

# ComfyUI's temp-name alphabet for image previews (sic: 'p' twice, no 'w').
_IMAGE_TEMP_LETTERS = "abcdefghijklmnopqrstupvxyz"
_AUDIO_TEMP_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _folder_paths():
    import folder_paths
    return folder_paths


def _metadata_disabled():
    builtin = sys.modules.get("comfy._nodes_builtin")
    if builtin is not None and getattr(builtin, "DISABLE_METADATA", False):
        return True
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "disable_metadata", False))


class SavedResult(dict):
    """One saved file as the UI addresses it: {"filename", "subfolder", "type"}."""

    def __init__(self, filename: str, subfolder: str, type: FolderType):
        super().__init__(filename=filename, subfolder=subfolder, type=FolderType(type).value)

    @property
    def filename(self) -> str:
        return self["filename"]

    @property
    def subfolder(self) -> str:
        return self["subfolder"]

    @property
    def type(self) -> FolderType:
        return FolderType(self["type"])


class SavedImages(_UIOutput):
    """Saved images (or one animated image)."""

    def __init__(self, results: list[SavedResult], is_animated: bool = False):
        super().__init__()
        self.results = results
        self.is_animated = is_animated

    def as_dict(self) -> dict:
        data = {"images": self.results}
        if self.is_animated:
            data["animated"] = (True,)
        return data


class SavedAudios(_UIOutput):
    """Saved audio files."""

    def __init__(self, results: list[SavedResult]):
        super().__init__()
        self.results = results

    def as_dict(self) -> dict:
        return {"audio": self.results}


def _get_directory_by_folder_type(folder_type: FolderType) -> str:
    fp = _folder_paths()
    if folder_type == FolderType.input:
        return fp.get_input_directory()
    if folder_type == FolderType.output:
        return fp.get_output_directory()
    return fp.get_temp_directory()


def _hidden(cls):
    return getattr(cls, "hidden", None) if cls is not None else None


class ImageSaveHelper:
    """Saving IMAGE tensors ([B,H,W,C], 0..1) with ComfyUI's file names and metadata."""

    @staticmethod
    def _convert_tensor_to_pil(image_tensor):
        import numpy as np
        from PIL import Image as PILImage
        # Truncating conversion, as ComfyUI's savers (not rounding).
        return PILImage.fromarray(np.clip(255.0 * image_tensor.cpu().numpy(), 0, 255).astype(np.uint8))

    @staticmethod
    def _png_text(cls):
        """_create_png_metadata's text as entries for the native PNG writer (None: no metadata)."""
        hidden = _hidden(cls)
        if _metadata_disabled() or hidden is None:
            return None
        from comfy import _media
        return _media.png_text(hidden.prompt or None, hidden.extra_pnginfo or None)

    @staticmethod
    def _create_png_metadata(cls):
        """PNG text chunks "prompt" and one per extra_pnginfo key, unless metadata is disabled."""
        hidden = _hidden(cls)
        if _metadata_disabled() or hidden is None:
            return None
        from PIL.PngImagePlugin import PngInfo
        metadata = PngInfo()
        if hidden.prompt:
            metadata.add_text("prompt", json.dumps(hidden.prompt))
        if hidden.extra_pnginfo:
            for key in hidden.extra_pnginfo:
                metadata.add_text(key, json.dumps(hidden.extra_pnginfo[key]))
        return metadata

    @staticmethod
    def _create_animated_png_metadata(cls):
        """As _create_png_metadata, in "comf" chunks after the image data (APNG)."""
        hidden = _hidden(cls)
        if _metadata_disabled() or hidden is None:
            return None
        from PIL.PngImagePlugin import PngInfo
        metadata = PngInfo()

        def chunk(key, value):
            metadata.add(b"comf", key.encode("latin-1", "strict") + b"\0"
                         + json.dumps(value).encode("latin-1", "strict"), after_idat=True)
        if hidden.prompt:
            chunk("prompt", hidden.prompt)
        if hidden.extra_pnginfo:
            for key in hidden.extra_pnginfo:
                chunk(key, hidden.extra_pnginfo[key])
        return metadata

    @staticmethod
    def _create_webp_metadata(pil_image, cls):
        """EXIF for WebP: Model (0x0110) = "prompt:<json>", Make (0x010F) downwards = "<key>:<json>"."""
        exif = pil_image.getexif()
        hidden = _hidden(cls)
        if _metadata_disabled() or hidden is None:
            return exif
        if hidden.prompt is not None:
            exif[0x0110] = "prompt:{}".format(json.dumps(hidden.prompt))
        if hidden.extra_pnginfo is not None:
            tag = 0x010F
            for key, value in hidden.extra_pnginfo.items():
                exif[tag] = "{}:{}".format(key, json.dumps(value))
                tag -= 1
        return exif

    @staticmethod
    def save_images(images, filename_prefix: str, folder_type: FolderType, cls, compress_level=4) -> list[SavedResult]:
        """One PNG per image of the batch, as SaveImage writes them; -> the saved files."""
        from comfy import _media
        saved = _media.save_image_batch(images, filename_prefix, _get_directory_by_folder_type(folder_type),
                                        compress_level, ImageSaveHelper._png_text(cls))
        return [SavedResult(f, s, folder_type) for f, s in saved]

    @staticmethod
    def get_save_images_ui(images, filename_prefix: str, cls, compress_level=4) -> SavedImages:
        return SavedImages(ImageSaveHelper.save_images(
            images, filename_prefix=filename_prefix, folder_type=FolderType.output, cls=cls,
            compress_level=compress_level))

    @staticmethod
    def save_animated_png(images, filename_prefix: str, folder_type: FolderType, cls, fps: float,
                          compress_level: int) -> SavedResult:
        """The whole batch as one animated PNG."""
        full_output_folder, filename, counter, subfolder, _ = _folder_paths().get_save_image_path(
            filename_prefix, _get_directory_by_folder_type(folder_type), images[0].shape[1], images[0].shape[0])
        frames = [ImageSaveHelper._convert_tensor_to_pil(img) for img in images]
        metadata = ImageSaveHelper._create_animated_png_metadata(cls)
        file = f"{filename}_{counter:05}_.png"
        frames[0].save(os.path.join(full_output_folder, file), pnginfo=metadata, compress_level=compress_level,
                       save_all=True, duration=int(1000.0 / fps), append_images=frames[1:])
        return SavedResult(file, subfolder, folder_type)

    @staticmethod
    def get_save_animated_png_ui(images, filename_prefix: str, cls, fps: float, compress_level: int) -> SavedImages:
        result = ImageSaveHelper.save_animated_png(images, filename_prefix=filename_prefix,
                                                   folder_type=FolderType.output, cls=cls, fps=fps,
                                                   compress_level=compress_level)
        return SavedImages([result], is_animated=len(images) > 1)

    @staticmethod
    def save_animated_webp(images, filename_prefix: str, folder_type: FolderType, cls, fps: float,
                           lossless: bool, quality: int, method: int) -> SavedResult:
        """The whole batch as one animated WebP."""
        full_output_folder, filename, counter, subfolder, _ = _folder_paths().get_save_image_path(
            filename_prefix, _get_directory_by_folder_type(folder_type), images[0].shape[1], images[0].shape[0])
        frames = [ImageSaveHelper._convert_tensor_to_pil(img) for img in images]
        exif = ImageSaveHelper._create_webp_metadata(frames[0], cls)
        file = f"{filename}_{counter:05}_.webp"
        frames[0].save(os.path.join(full_output_folder, file), save_all=True, duration=int(1000.0 / fps),
                       append_images=frames[1:], exif=exif, lossless=lossless, quality=quality, method=method)
        return SavedResult(file, subfolder, folder_type)

    @staticmethod
    def get_save_animated_webp_ui(images, filename_prefix: str, cls, fps: float, lossless: bool, quality: int,
                                  method: int) -> SavedImages:
        result = ImageSaveHelper.save_animated_webp(images, filename_prefix=filename_prefix,
                                                    folder_type=FolderType.output, cls=cls, fps=fps,
                                                    lossless=lossless, quality=quality, method=method)
        return SavedImages([result], is_animated=len(images) > 1)


class AudioSaveHelper:
    """Saving AUDIO dicts ({"waveform": [B,C,T], "sample_rate"}) as flac / mp3 / opus (needs PyAV)."""
    _OPUS_RATES = [8000, 12000, 16000, 24000, 48000]
    _BIT_RATES = {"64k": 64000, "96k": 96000, "128k": 128000, "192k": 192000, "320k": 320000}

    @staticmethod
    def save_audio(audio: dict, filename_prefix: str, folder_type: FolderType, cls, format: str = "flac",
                   quality: str = "128k") -> list[SavedResult]:
        try:
            import av
        except ImportError as e:
            raise RuntimeError("saving audio needs the PyAV package (pip install av)") from e
        full_output_folder, filename, counter, subfolder, _ = _folder_paths().get_save_image_path(
            filename_prefix, _get_directory_by_folder_type(folder_type))
        metadata = {}
        hidden = _hidden(cls)
        if not _metadata_disabled() and hidden is not None:
            if hidden.prompt is not None:
                metadata["prompt"] = json.dumps(hidden.prompt)
            if hidden.extra_pnginfo is not None:
                for key in hidden.extra_pnginfo:
                    metadata[key] = json.dumps(hidden.extra_pnginfo[key])
        results = []
        for batch_number, waveform in enumerate(audio["waveform"].cpu()):
            name = filename.replace("%batch_num%", str(batch_number))
            file = f"{name}_{counter:05}_.{format}"
            sample_rate = audio["sample_rate"]
            if format == "opus":
                if sample_rate > 48000:
                    sample_rate = 48000
                elif sample_rate not in AudioSaveHelper._OPUS_RATES:
                    sample_rate = next((r for r in AudioSaveHelper._OPUS_RATES if r > sample_rate), 48000)
                if sample_rate != audio["sample_rate"]:
                    import torchaudio
                    waveform = torchaudio.functional.resample(waveform, audio["sample_rate"], sample_rate)
            import io as _bytes_io
            buffer = _bytes_io.BytesIO()
            container = av.open(buffer, mode="w", format=format)
            for key, value in metadata.items():
                container.metadata[key] = value
            layout = "mono" if waveform.shape[0] == 1 else "stereo"
            if format == "opus":
                stream = container.add_stream("libopus", rate=sample_rate, layout=layout)
                if quality in AudioSaveHelper._BIT_RATES:
                    stream.bit_rate = AudioSaveHelper._BIT_RATES[quality]
            elif format == "mp3":
                stream = container.add_stream("libmp3lame", rate=sample_rate, layout=layout)
                if quality == "V0":
                    stream.codec_context.qscale = 1
                elif quality in ("128k", "320k"):
                    stream.bit_rate = AudioSaveHelper._BIT_RATES[quality]
            else:
                stream = container.add_stream("flac", rate=sample_rate, layout=layout)
            frame = av.AudioFrame.from_ndarray(waveform.movedim(0, 1).reshape(1, -1).float().numpy(),
                                               format="flt", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = 0
            container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
            container.close()
            with open(os.path.join(full_output_folder, file), "wb") as f:
                f.write(buffer.getbuffer())
            results.append(SavedResult(file, subfolder, folder_type))
            counter += 1
        return results

    @staticmethod
    def get_save_audio_ui(audio, filename_prefix: str, cls, format: str = "flac", quality: str = "128k") -> SavedAudios:
        return SavedAudios(AudioSaveHelper.save_audio(audio, filename_prefix=filename_prefix,
                                                      folder_type=FolderType.output, cls=cls, format=format,
                                                      quality=quality))


class PreviewImage(_UIOutput):
    """Saves the batch as PNGs in the temp folder (compress level 1) and shows them."""

    def __init__(self, image, animated: bool = False, cls=None, **kwargs):
        self.values = ImageSaveHelper.save_images(
            image,
            filename_prefix="ComfyUI_temp_" + "".join(random.choice(_IMAGE_TEMP_LETTERS) for _ in range(5)),
            folder_type=FolderType.temp, cls=cls, compress_level=1)
        self.animated = animated

    def as_dict(self):
        return {"images": self.values, "animated": (self.animated,)}


class PreviewMask(PreviewImage):
    """A MASK ([B,H,W] or [H,W]) previewed as greyscale RGB images."""

    def __init__(self, mask, animated: bool = False, cls=None, **kwargs):
        preview = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])).movedim(1, -1).expand(-1, -1, -1, 3)
        super().__init__(preview, animated, cls, **kwargs)


class PreviewAudio(_UIOutput):
    """Saves the audio as FLAC in the temp folder and shows it."""

    def __init__(self, audio: dict, cls=None, **kwargs):
        self.values = AudioSaveHelper.save_audio(
            audio,
            filename_prefix="ComfyUI_temp_" + "".join(random.choice(_AUDIO_TEMP_LETTERS) for _ in range(5)),
            folder_type=FolderType.temp, cls=cls, format="flac", quality="128k")

    def as_dict(self) -> dict:
        return {"audio": self.values}


class PreviewVideo(_UIOutput):
    def __init__(self, values: list, **kwargs):
        self.values = values

    def as_dict(self):
        return {"images": self.values, "animated": (True,)}


class PreviewUI3D(_UIOutput):
    def __init__(self, model_file, camera_info, **kwargs):
        self.model_file = model_file
        self.camera_info = camera_info

    def as_dict(self):
        return {"result": [self.model_file, self.camera_info]}


class PreviewText(_UIOutput):
    def __init__(self, value: str, **kwargs):
        self.value = value

    def as_dict(self):
        return {"text": (self.value,)}


__all__ = [
    "SavedResult", "SavedImages", "SavedAudios", "ImageSaveHelper", "AudioSaveHelper",
    "PreviewImage", "PreviewMask", "PreviewAudio", "PreviewVideo", "PreviewUI3D", "PreviewText",
]
