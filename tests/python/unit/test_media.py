"""Native image encoding (comfy._media over comfy._core.media) against Pillow, ComfyUI's encoder:
decoded pixels and PNG text chunks identical, PNG sizes within 5% of Pillow's at SaveImage's and
PreviewImage's levels, JPEG/WebP within 40 dB PSNR of Pillow's encoding of the same pixels; and the
nodes and routes that now encode natively give ComfyUI's results."""
import io
import json
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from comfy import _media, _routes
from comfy._core import media as native


def natural_image(h, w, seed=0, noise=0.01, channels=3):
    """Smooth gradients plus a little noise, float32 in 0..1: compresses like a generated image."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    y /= h
    x /= w
    planes = [0.5 + 0.4 * np.sin(6.0 * x + 2.0 * y),
              0.5 + 0.4 * np.cos(4.0 * y - 3.0 * x * y),
              0.5 + 0.3 * np.sin(9.0 * (x - 0.5) ** 2 + 7.0 * (y - 0.4) ** 2),
              0.75 + 0.25 * np.cos(5.0 * x * y)]
    img = np.stack(planes[:channels], -1) + rng.normal(0, noise, (h, w, channels))
    return np.clip(img, 0, 1).astype(np.float32)


def comfy_uint8(x):
    """ComfyUI's conversion, verbatim."""
    with np.errstate(invalid="ignore"):
        return np.clip(255. * x, 0, 255).astype(np.uint8)


def pillow_png(u8, level, pnginfo=None):
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="PNG", compress_level=level, pnginfo=pnginfo)
    return buf.getvalue()


def chunks(png):
    out, pos = [], 8
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + data)
        out.append((kind, data))
        pos += 12 + n
    return out


def text_chunks(png):
    return [(k, d) for k, d in chunks(png) if k in (b"tEXt", b"zTXt", b"iTXt")]


def decode(data):
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return np.asarray(im), dict(getattr(im, "text", {})), im.mode


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


# -- float -> uint8 ---------------------------------------------------------------------------------

def test_quantize_truncates_exactly_like_numpy():
    rng = np.random.default_rng(5)
    x = rng.uniform(-0.3, 1.3, (64, 297, 3)).astype(np.float32)
    x[0, :4, 0] = [np.nan, np.inf, -np.inf, -0.0]
    x[1, :256, 0] = np.arange(256, dtype=np.float32) / 255
    inverted = np.float32(1) - np.float32(65) / np.float32(255)  # EmptyImage 0x41, inverted
    x[2, 0, 0] = inverted
    assert 255. * inverted == np.float32(189.99998)
    ours = native.quantize(x)
    assert ours.dtype == np.uint8 and ours.shape == x.shape
    assert np.array_equal(ours, comfy_uint8(x))
    assert ours[2, 0, 0] == 189 and ours[0, 0, 0] == 0 and ours[0, 1, 0] == 255


def test_image_array_keeps_float32_tensors_without_copy_and_converts_others_as_comfyui():
    t = torch.rand(2, 8, 9, 3)
    arr = _media.image_array(t)
    assert arr.dtype == np.float32 and np.shares_memory(arr, t.numpy())
    half = torch.rand(8, 9, 3).half()
    assert np.array_equal(_media.image_array(half), comfy_uint8(half.numpy()))
    strided = t[:, ::2]  # not contiguous: copied once
    assert np.array_equal(_media.quantize(strided), comfy_uint8(strided.numpy()))


# -- PNG ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [0, 2, 3, 4])
@pytest.mark.parametrize("level", [0, 1, 4, 6, 9])
def test_png_pixels_identical_to_pillow(channels, level):
    x = natural_image(33, 47, seed=channels, channels=max(channels, 1))
    if channels == 0:
        x = x[..., 0]  # H x W: Pillow mode L
    ours = native.encode_png(x, level)
    pixels, _, mode = decode(ours)
    ref, _, ref_mode = decode(pillow_png(comfy_uint8(x), level))
    assert mode == ref_mode
    assert np.array_equal(pixels, ref)


def test_png_text_chunks_identical_to_pnginfo():
    prompt = {"3": {"class_type": "SaveImage", "inputs": {"filename_prefix": "Comfy\u00e9 \u4e2d"}}}
    extra = {"workflow": {"nodes": [{"title": "caf\u00e9"}]}, "note": "plain", "\u00fcber": [1, 2]}
    ours = native.encode_png(natural_image(8, 8), 4, _media.png_text(prompt, extra))
    info = PngInfo()
    info.add_text("prompt", json.dumps(prompt))
    for key in extra:
        info.add_text(key, json.dumps(extra[key]))
    ref = pillow_png(comfy_uint8(natural_image(8, 8)), 4, info)
    assert text_chunks(ours) == text_chunks(ref)
    assert decode(ours)[1] == decode(ref)[1]
    assert [k for k, _ in chunks(ours)] == [b"IHDR", b"tEXt", b"tEXt", b"tEXt", b"tEXt", b"IDAT", b"IEND"]


def test_png_non_latin1_values_become_itxt_as_in_pillow():
    entries = [("latin", "caf\u00e9 \u00ff"), ("cjk", "\u4e2d\u6587"), ("emoji", "\U0001f600"), ("empty", "")]
    ours = native.encode_png(natural_image(4, 4), 1, entries)
    info = PngInfo()
    for k, v in entries:
        info.add_text(k, v)
    ref = pillow_png(comfy_uint8(natural_image(4, 4)), 1, info)
    assert text_chunks(ours) == text_chunks(ref)
    assert [k for k, _ in text_chunks(ours)] == [b"tEXt", b"iTXt", b"iTXt", b"tEXt"]
    with pytest.raises(ValueError):
        native.encode_png(natural_image(4, 4), 1, [("\u4e2d", "key outside latin-1")])


def test_text_read_from_itxt_is_written_back_as_pillow_would():
    info = PngInfo()
    info.add_itxt("wf", "ascii only", lang="en", tkey="Workflow")
    info.add_itxt("z", "compressed \u4e2d", zip=True)
    info.add_text("t", "plain")
    info.add_text("zt", "zipped latin", zip=True)
    src = pillow_png(comfy_uint8(natural_image(6, 5)), 4, info)
    with Image.open(io.BytesIO(src)) as im:
        pil_text = im.text
    again = PngInfo()
    for k, v in pil_text.items():
        again.add_text(k, v)
    ref = pillow_png(comfy_uint8(natural_image(6, 5)), 4, again)
    ours = native.encode_png(natural_image(6, 5), 4, _media.text_entries(pil_text))
    assert text_chunks(ours) == text_chunks(ref)
    decoded = _media.decode_png(src)  # the native reader sees the same entries
    assert decoded is not None
    ours_native = native.encode_png(natural_image(6, 5), 4, decoded.text)
    assert text_chunks(ours_native) == text_chunks(ref)


@pytest.mark.parametrize("level", [1, 4])
def test_png_size_within_5_percent_of_pillow(level, capsys):
    x = natural_image(768, 768, seed=11, noise=0.01)
    ours = len(native.encode_png(x, level))
    ref = len(pillow_png(comfy_uint8(x), level))
    with capsys.disabled():
        print(f"\n  PNG level {level}: ours {ours} bytes, Pillow {ref} bytes, ratio {ours / ref:.3f}")
    # Smaller is better; the bound is that trading size for speed never costs more than 5%.
    assert ours <= 1.05 * ref


def test_png_rejects_what_it_cannot_write():
    with pytest.raises(TypeError):
        native.encode_png(np.zeros((4, 4, 3), np.float64))
    with pytest.raises(TypeError):
        native.encode_png(np.zeros((4, 8, 3), np.uint8)[:, ::2])  # not C-contiguous
    with pytest.raises(ValueError):
        native.encode_png(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError):
        native.encode_png(np.zeros((4, 4, 3), np.uint8), 10)


# -- PNG decoding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_decode_matches_pillow(mode):
    channels = len(mode)
    u8 = comfy_uint8(natural_image(21, 13, channels=channels))
    if channels == 1:
        u8 = u8[..., 0]
    src = pillow_png(u8, 6)
    got = _media.decode_png(src)
    assert got is not None and got.mode == mode
    ref, _, _ = decode(src)
    assert np.array_equal(got.pixels.reshape(ref.shape), ref)


def test_decode_leaves_unusual_pngs_to_pillow():
    rgb = comfy_uint8(natural_image(8, 8))
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("P").save(buf, format="PNG")
    assert _media.decode_png(buf.getvalue()) is None  # palette
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", transparency=(1, 2, 3))
    assert _media.decode_png(buf.getvalue()) is None  # tRNS
    buf = io.BytesIO()
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(buf, format="PNG")
    assert _media.decode_png(buf.getvalue()) is None  # 16-bit
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", icc_profile=b"not really a profile")
    assert _media.decode_png(buf.getvalue()) is None  # ICC profile (Pillow carries it over)
    good = pillow_png(rgb, 1)
    assert _media.decode_png(good[:-30]) is None  # truncated
    assert _media.decode_png(b"\xff\xd8\xff") is None  # not a PNG


# -- JPEG / WebP -------------------------------------------------------------------------------------

@pytest.mark.parametrize("quality", [75, 90, 95])
def test_jpeg_close_to_pillow(quality):
    u8 = comfy_uint8(natural_image(96, 128, seed=3))
    ours, _, mode = decode(native.encode_jpeg(u8, quality))
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=quality)
    ref, _, _ = decode(buf.getvalue())
    assert mode == "RGB"
    assert psnr(ours, ref) >= 40, psnr(ours, ref)
    grey, _, gmode = decode(native.encode_jpeg(np.ascontiguousarray(u8[..., 0]), quality))
    assert gmode == "L" and grey.shape == (96, 128)


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("quality", [80, 90])
def test_webp_close_to_pillow(channels, quality):
    u8 = comfy_uint8(natural_image(96, 128, seed=4, channels=channels))
    ours, _, mode = decode(native.encode_webp(u8, quality))
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="WEBP", quality=quality)
    ref, _, ref_mode = decode(buf.getvalue())
    assert mode == ref_mode
    assert psnr(ours, ref) >= 40, psnr(ours, ref)
    with pytest.raises(ValueError):
        native.encode_webp(u8, 101)  # Pillow: "invalid configuration"


# -- batches ------------------------------------------------------------------------------------------

def test_batch_equals_single_encodes_and_writes_files(tmp_path):
    batch = np.stack([natural_image(40, 30, seed=s) for s in range(5)])
    text = _media.png_text({"1": {}}, {"workflow": {}})
    singles = [native.encode_png(img, 4, text) for img in batch]
    assert native.encode_png_batch(batch, 4, text) == singles
    assert native.encode_png_batch(batch, 4, text, threads=1) == singles
    paths = [str(tmp_path / f"b{i}.png") for i in range(5)]
    native.save_png_batch(batch, paths, 4, text)
    assert [open(p, "rb").read() for p in paths] == singles
    with pytest.raises(OSError):
        native.save_png_batch(batch[:1], [str(tmp_path / "missing" / "x.png")], 4)
    with pytest.raises(ValueError):
        native.save_png_batch(batch, paths[:2], 4)


# -- nodes --------------------------------------------------------------------------------------------

def test_save_image_node_writes_comfyui_pixels_and_text(folder_paths, tmp_path):
    from comfy._nodes_builtin import PreviewImage, SaveImage
    images = torch.from_numpy(np.stack([natural_image(20, 24, seed=s) for s in range(3)]))
    images[0, 0, 0] = float(np.float32(1) - np.float32(65) / np.float32(255))  # 189.99998 after * 255
    prompt = {"1": {"class_type": "SaveImage", "inputs": {}}}
    extra = {"workflow": {"title": "caf\u00e9 \u4e2d"}}
    out = SaveImage().save_images(images, "batch", prompt=prompt, extra_pnginfo=extra)
    names = [r["filename"] for r in out["ui"]["images"]]
    assert names == ["batch_00001_.png", "batch_00002_.png", "batch_00003_.png"]
    ref_info = SaveImage()._pnginfo(prompt, extra)
    for i, name in enumerate(names):
        data = (tmp_path / "comfy_base" / "output" / name).read_bytes()
        pixels, text, mode = decode(data)
        assert mode == "RGB" and np.array_equal(pixels, comfy_uint8(images[i].numpy()))
        ref = pillow_png(comfy_uint8(images[i].numpy()), 4, ref_info)
        assert text_chunks(data) == text_chunks(ref)
        assert len(data) <= 1.05 * len(ref) + 200
    assert decode((tmp_path / "comfy_base" / "output" / names[0]).read_bytes())[0][0, 0, 0] == 189
    preview = PreviewImage().save_images(images[:1])
    temp = preview["ui"]["images"][0]
    assert temp["type"] == "temp"
    data = (tmp_path / "comfy_base" / "temp" / temp["filename"]).read_bytes()
    assert np.array_equal(decode(data)[0], comfy_uint8(images[0].numpy()))
    assert text_chunks(data) == []


def test_progress_preview_encodes_natively():
    from comfy.utils import encode_preview
    u8 = comfy_uint8(natural_image(300, 200))
    fmt, data = encode_preview(("PNG", Image.fromarray(u8), None))
    assert fmt == 2 and np.array_equal(decode(data)[0], u8)
    fmt, data = encode_preview(("JPEG", Image.fromarray(u8), 128))
    pixels, _, mode = decode(data)
    assert fmt == 1 and mode == "RGB" and pixels.shape == (128, 85, 3)


# -- routes: /view re-encoding and /upload/mask against ComfyUI's Pillow code --------------------------

def comfy_view(path, preview=None, channel=None):
    """ComfyUI 0.3.64's server.py view_image body, verbatim in substance."""
    with Image.open(path) as img:
        if preview is not None:
            info = preview.split(";")
            fmt = info[0]
            if fmt not in ("webp", "jpeg") or "a" in (channel or ""):
                fmt = "webp"
            quality = int(info[-1]) if info[-1].isdigit() else 90
            if fmt == "jpeg" or channel == "rgb":
                img = img.convert("RGB")
            buf = io.BytesIO()
            img.save(buf, format=fmt, quality=quality)
            return buf.getvalue()
        if channel == "rgb":
            out = Image.merge("RGB", img.split()[:3]) if img.mode == "RGBA" else img.convert("RGB")
        else:
            alpha = img.split()[3] if img.mode == "RGBA" else Image.new("L", img.size, 255)
            out = Image.new("RGBA", img.size)
            out.putalpha(alpha)
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        return buf.getvalue()


@pytest.mark.filterwarnings("ignore:Palette images with Transparency")  # Pillow's, for ComfyUI too
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P"])
def test_view_reencoding_matches_comfyui(tmp_path, mode):
    u8 = comfy_uint8(natural_image(40, 56, seed=7, channels=4))
    src = tmp_path / f"src_{mode}.png"
    Image.fromarray(u8, "RGBA").convert(mode).save(src)
    for channel in ("rgb", "a"):
        status, ctype, data = _routes.view_image(str(src), [("channel", channel)])
        assert (status, ctype) == (200, "image/png")
        ours, _, ours_mode = decode(data)
        ref, _, ref_mode = decode(comfy_view(src, channel=channel))
        assert ours_mode == ref_mode and np.array_equal(ours, ref), (mode, channel)
    for preview, channel in (("webp;90", None), ("jpeg;85", None), ("webp", "rgb"), ("jpeg", "a")):
        query = [("preview", preview)] + ([("channel", channel)] if channel else [])
        status, ctype, data = _routes.view_image(str(src), query)
        assert status == 200
        ours, _, ours_mode = decode(data)
        ref_bytes = comfy_view(src, preview=preview, channel=channel)
        ref, _, ref_mode = decode(ref_bytes)
        assert ctype == "image/" + Image.open(io.BytesIO(ref_bytes)).format.lower()
        assert ours_mode == ref_mode and ours.shape == ref.shape, (mode, preview, channel)
        assert psnr(ours, ref) >= 40, (mode, preview, channel, psnr(ours, ref))
    assert _routes.view_image(str(src), [("preview", "webp;150")])[0] == 400


def comfy_upload_mask(original, mask_bytes):
    """ComfyUI's upload_mask compositing, verbatim in substance."""
    with Image.open(original) as original_pil:
        metadata = PngInfo()
        if hasattr(original_pil, "text"):
            for key in original_pil.text:
                metadata.add_text(key, original_pil.text[key])
        original_pil = original_pil.convert("RGBA")
        mask_pil = Image.open(io.BytesIO(mask_bytes)).convert("RGBA")
        original_pil.putalpha(mask_pil.getchannel("A"))
        buf = io.BytesIO()
        original_pil.save(buf, format="PNG", compress_level=4, pnginfo=metadata)
        return buf.getvalue()


@pytest.mark.parametrize("original_mode", ["RGB", "RGBA", "L", "P", "JPEG"])
def test_upload_mask_matches_comfyui(tmp_path, original_mode):
    u8 = comfy_uint8(natural_image(32, 24, seed=9, channels=4))
    info = PngInfo()
    info.add_text("prompt", '{"1": {}}')
    info.add_itxt("workflow", "wf \u4e2d", zip=True)
    original = tmp_path / "orig.png"
    img = Image.fromarray(u8, "RGBA")
    if original_mode == "JPEG":
        original = tmp_path / "orig.jpg"
        img.convert("RGB").save(original, quality=90)
    else:
        img.convert(original_mode).save(original, pnginfo=info)
    mask = np.zeros((32, 24, 4), np.uint8)
    mask[..., 3] = np.arange(24, dtype=np.uint8)[None, :] * 10
    mbuf = io.BytesIO()
    Image.fromarray(mask, "RGBA").save(mbuf, format="PNG")
    status, ctype, data = _routes.composite_mask(str(original), mbuf.getvalue(), ".png")
    assert (status, ctype) == (200, "image/png")
    ref = comfy_upload_mask(original, mbuf.getvalue())
    ours_px, ours_text, ours_mode = decode(data)
    ref_px, ref_text, ref_mode = decode(ref)
    assert ours_mode == ref_mode == "RGBA"
    assert np.array_equal(ours_px, ref_px)
    assert ours_text == ref_text and text_chunks(data) == text_chunks(ref)
    small = io.BytesIO()
    Image.new("RGBA", (3, 3)).save(small, format="PNG")
    assert _routes.composite_mask(str(original), small.getvalue(), ".png")[0] == 400  # sizes differ
