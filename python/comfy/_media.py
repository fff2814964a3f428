"""Native image encoding for the nodes and routes that write images (comfy._core.media, cpp/media).

SaveImage, PreviewImage, progress previews, `/view?preview=` / `channel=` and `/upload/mask` encode
here instead of through Pillow. The results are what ComfyUI writes: the same truncating float ->
uint8 conversion, PNG text chunks byte for byte as Pillow's PngInfo.add_text writes them, the same
decoded pixels; only the deflate stream differs (libdeflate instead of zlib), and JPEG/WebP bytes
differ within encoder tolerance. Pillow stays for what it alone does: decoding non-PNG files and
unusual PNGs (palette, 16-bit, transparency keys, APNG), resizing, mode conversions of those.

The native calls release the GIL; a batch is encoded (and its files written) on several threads.
"""
import io
import json
import os

import numpy as np

from comfy._core import media as _native

# Pillow's modes that map one-to-one onto interleaved uint8 arrays.
_CHANNELS_TO_MODE = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_NATIVE_MODES = frozenset(_CHANNELS_TO_MODE.values())


# -- pixels ----------------------------------------------------------------------------------------

def image_array(image):
    """One IMAGE (a [H, W, C] tensor or array of floats in 0..1) or a batch of them -> what the native
    encoders take without a copy: float32 stays float32 (quantized natively, as ComfyUI's
    `np.clip(255. * x, 0, 255).astype(np.uint8)`), C-contiguous. Any other dtype is converted by that
    same numpy expression in its own precision, so results match ComfyUI for float16/float64 too."""
    if hasattr(image, "detach"):  # torch: .numpy() of a CPU tensor shares its memory
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.dtype != np.float32:
        return np.clip(255. * arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def pixel_array(pixels):
    """uint8 pixels (H x W x C, or H x W) as they are; float32 as an IMAGE (quantized natively)."""
    arr = np.asarray(pixels)
    if arr.dtype == np.uint8 or arr.dtype == np.float32:
        return np.ascontiguousarray(arr)
    return image_array(arr)


def quantize(image):
    """ComfyUI's `np.clip(255. * x, 0, 255).astype(np.uint8)` of an IMAGE, natively for float32."""
    arr = image_array(image)
    return _native.quantize(arr) if arr.dtype == np.float32 else arr


# -- PNG text --------------------------------------------------------------------------------------

def png_text(prompt=None, extra_pnginfo=None):
    """SaveImage's text chunks: "prompt" (when not None) then each extra_pnginfo key, values as
    json.dumps; -> entries for the native writer."""
    text = []
    if prompt is not None:
        text.append(("prompt", json.dumps(prompt)))
    if extra_pnginfo is not None:
        for key in extra_pnginfo:
            text.append((key, json.dumps(extra_pnginfo[key])))
    return text


def text_entries(pil_text):
    """A Pillow `.text` dict -> native entries that re-add each value as PngInfo.add_text would:
    values Pillow read from iTXt chunks stay iTXt with their language and translated key."""
    from PIL.PngImagePlugin import iTXt
    out = []
    for key, value in pil_text.items():
        if isinstance(value, iTXt):
            out.append((key, str(value), True, _text(value.lang), _text(value.tkey)))
        else:
            out.append((key, value))
    return out


def _text(v):
    if v is None:
        return ""
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


# -- encoders --------------------------------------------------------------------------------------

def encode_png(pixels, compress_level=6, text=None):
    """H x W (x C) pixels (see pixel_array) -> PNG bytes, compress_level on Pillow's 0..9 scale,
    text entries as png_text / text_entries make them."""
    return _native.encode_png(pixel_array(pixels), compress_level, text)


def encode_jpeg(pixels, quality=75):
    """1 or 3 channels -> JPEG as Pillow's default save (4:2:0, quality clamped to 1..100)."""
    return _native.encode_jpeg(pixel_array(pixels), int(quality))


def encode_webp(pixels, quality=80, lossless=False):
    """3 or 4 channels -> WebP as Pillow's save (method 4); quality outside 0..100 is a ValueError."""
    return _native.encode_webp(pixel_array(pixels), float(quality), bool(lossless))


def save_png_batch(images, paths, compress_level=4, text=None):
    """A whole IMAGE batch ([B, H, W, C] tensor or array, or a list of images) to one PNG file per
    path, encoded and written in parallel."""
    if isinstance(images, (list, tuple)):
        arrays = [image_array(i) for i in images]
        if len({(a.shape, a.dtype) for a in arrays}) == 1:
            batch = np.stack(arrays)
        else:
            for a, p in zip(arrays, paths):
                _native.save_png_batch(a[None], [p], compress_level, text)
            return
    else:
        batch = image_array(images)
    _native.save_png_batch(batch, list(paths), compress_level, text)


def save_image_batch(images, filename_prefix, output_dir, compress_level=4, text=None):
    """SaveImage's files: one PNG per image of the batch, named as ComfyUI names them
    (folder_paths.get_save_image_path, %batch_num%, a 5-digit counter), encoded and written in
    parallel. Returns [(file name, subfolder)] in batch order."""
    import folder_paths
    # Width/height for %width%/%height% come from the first image ([H, W, C]).
    full_output_folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
        filename_prefix, output_dir, images[0].shape[1], images[0].shape[0])
    saved, paths = [], []
    for batch_number in range(len(images)):
        file = f"{filename.replace('%batch_num%', str(batch_number))}_{counter + batch_number:05}_.png"
        paths.append(os.path.join(full_output_folder, file))
        saved.append((file, subfolder))
    # Truncation, not rounding (189.99998 becomes 189 as in ComfyUI); text chunks as PngInfo writes.
    save_png_batch(images, paths, compress_level, text)
    return saved


def encode_pil(img, fmt, **params):
    """Pillow's img.save(buf, format=fmt, ...) for the formats and modes encoded natively (PNG with
    compress_level/pnginfo-as-text, JPEG and WebP with quality), else Pillow itself."""
    fmt = fmt.upper()
    if fmt == "WEBP" and img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if img.has_transparency_data else "RGB")  # what Pillow's plugin does
    mode_ok = img.mode in _NATIVE_MODES and (fmt != "JPEG" or img.mode in ("L", "RGB"))
    # Pillow's PNG writer carries a transparency key and an ICC profile over from img.info.
    carried = fmt == "PNG" and ("transparency" in img.info or "icc_profile" in img.info)
    if not mode_ok or carried or fmt not in ("PNG", "JPEG", "WEBP"):
        buf = io.BytesIO()
        pil_params = dict(params)
        if "text" in pil_params:
            pil_params["pnginfo"] = _pnginfo(pil_params.pop("text"))
        img.save(buf, format=fmt, **pil_params)
        return buf.getvalue()
    arr = np.asarray(img)
    if fmt == "PNG":
        return encode_png(arr, params.get("compress_level", 6), params.get("text"))
    if fmt == "JPEG":
        return encode_jpeg(arr, params.get("quality", 75))
    return encode_webp(arr, params.get("quality", 80))


def _pnginfo(text):
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    for entry in text or ():
        if len(entry) > 2 and entry[2]:
            info.add_itxt(entry[0], entry[1], entry[3], entry[4])
        else:
            info.add_text(entry[0], entry[1])
    return info


# -- decoding --------------------------------------------------------------------------------------

class Decoded:
    """Pixels (uint8 H x W x C) of an image file, with its Pillow mode and PNG text entries."""

    def __init__(self, pixels, text):
        self.pixels = pixels
        self.mode = _CHANNELS_TO_MODE[pixels.shape[2]]
        self.text = text

    def to_mode(self, mode):
        """Pillow's convert() from L, LA, RGB or RGBA to RGB or RGBA (replicated grey, opaque alpha)."""
        px, have = self.pixels, self.mode
        if mode == have:
            return px
        colour = px[..., :3] if have in ("RGB", "RGBA") else np.repeat(px[..., :1], 3, axis=2)
        if mode == "RGB":
            return np.ascontiguousarray(colour)
        if mode != "RGBA":
            raise ValueError(f"conversion to {mode} is left to Pillow")
        alpha = px[..., -1:] if have in ("LA", "RGBA") else np.full(px.shape[:2] + (1,), 255, np.uint8)
        return np.ascontiguousarray(np.concatenate([colour, alpha], axis=2))


def max_pixels():
    from PIL import Image
    limit = Image.MAX_IMAGE_PIXELS
    return 2 ** 62 if limit is None else 2 * int(limit)  # Pillow raises above twice the limit


def decode_png(data):
    """PNG bytes -> Decoded, or None when Pillow must decode them (not a PNG, or a layout or
    chunk whose Pillow result is not simply the stored bytes, or a broken file)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    got = _native.decode_png(data, max_pixels())
    if got is None:
        return None
    return Decoded(got[0], got[1])


def decode_file(path):
    """decode_png of a file; other formats are recognised from the first 8 bytes, unread."""
    with open(path, "rb") as f:
        head = f.read(8)
        if head != b"\x89PNG\r\n\x1a\n":
            return None
        return decode_png(head + f.read())
