"""Built-in image nodes: exact pixels, PNG text chunks, names and masks."""
import hashlib
import json
import os
import re
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from comfy import _nodes_builtin as nb


def _png_chunks(path):
    """[(type, data)] of a PNG file, in file order."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.append((ctype.decode(), data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def _text_chunks(path):
    return [tuple(d.split(b"\0", 1)) for t, d in _png_chunks(path) if t == "tEXt"]


def _idat_level(path):
    """zlib FLEVEL bits of the first IDAT (Pillow level 4 -> 1, level 1 -> 0)."""
    idat = next(d for t, d in _png_chunks(path) if t == "IDAT")
    return idat[1] >> 6


def test_mappings():
    # The image I/O nodes are here; the rest of ComfyUI's nodes.py classes are checked in
    # test_compat_nodes.py.
    for name in ("LoadImage", "SaveImage", "PreviewImage", "EmptyImage", "ImageInvert"):
        assert nb.NODE_CLASS_MAPPINGS[name] is getattr(nb, name)
    assert len(nb.NODE_CLASS_MAPPINGS) == 64
    for name, shown in {"LoadImage": "Load Image", "SaveImage": "Save Image", "PreviewImage": "Preview Image",
                        "ImageInvert": "Invert Image"}.items():
        assert nb.NODE_DISPLAY_NAME_MAPPINGS[name] == shown
    assert nb.NODE_DISPLAY_NAME_MAPPINGS.get("EmptyImage", "EmptyImage") == "EmptyImage"
    assert nb.SaveImage.OUTPUT_NODE is True and nb.SaveImage.RETURN_TYPES == ()
    assert nb.PreviewImage.OUTPUT_NODE is True
    assert nb.LoadImage.RETURN_TYPES == ("IMAGE", "MASK")
    assert nb.EmptyImage.INPUT_TYPES()["required"]["color"] == (
        "INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1, "display": "color"})
    assert nb.SaveImage.INPUT_TYPES()["hidden"] == {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    assert nb.SaveImage.INPUT_TYPES()["required"]["filename_prefix"][1]["default"] == "ComfyUI"


def test_empty_image_colour():
    (img,) = nb.EmptyImage().generate(width=4, height=3, batch_size=2, color=0x414345)
    assert img.shape == (2, 3, 4, 3) and img.dtype == torch.float32
    expected = torch.tensor([65 / 255, 67 / 255, 69 / 255], dtype=torch.float32)
    assert torch.equal(img[1, 2, 3], expected)
    assert torch.equal(img, expected.expand(2, 3, 4, 3))


def test_empty_invert_save_pixels_and_metadata(folder_paths):
    (img,) = nb.EmptyImage().generate(width=5, height=2, batch_size=2, color=0x414345)
    (inv,) = nb.ImageInvert().invert(img)
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"color": 4277061}}}
    extra = {"workflow": {"nodes": [], "note": "é"}, "other": [1, 2]}
    out = nb.SaveImage().save_images(inv, "ComfyUI", prompt=prompt, extra_pnginfo=extra)
    assert out == {"ui": {"images": [
        {"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"},
        {"filename": "ComfyUI_00002_.png", "subfolder": "", "type": "output"}]}}
    path = os.path.join(folder_paths.get_output_directory(), "ComfyUI_00001_.png")
    with Image.open(path) as decoded:
        assert decoded.mode == "RGB" and decoded.size == (5, 2)
        pixels = np.array(decoded)
    # Truncation: 255 * (1 - 65/255) in float32 is 189.99998 -> 189 (not 190).
    assert (pixels == np.array([189, 187, 185], dtype=np.uint8)).all()
    assert _text_chunks(path) == [
        (b"prompt", json.dumps(prompt).encode("latin-1")),
        (b"workflow", json.dumps(extra["workflow"]).encode("latin-1")),
        (b"other", b"[1, 2]")]
    assert _idat_level(path) == 1  # compress_level 4
    # The counter continues after existing files.
    again = nb.SaveImage().save_images(inv[:1], "ComfyUI")
    assert again["ui"]["images"][0]["filename"] == "ComfyUI_00003_.png"


def test_save_subfolder_batch_num_and_no_metadata(folder_paths, monkeypatch):
    monkeypatch.setattr(nb, "DISABLE_METADATA", True)
    (img,) = nb.EmptyImage().generate(width=2, height=2, batch_size=2, color=0xFFFFFF)
    out = nb.SaveImage().save_images(img, "sub/x_%batch_num%", prompt={"a": 1},
                                     extra_pnginfo={"workflow": {}})
    assert out["ui"]["images"] == [
        {"filename": "x_0_00001_.png", "subfolder": "sub", "type": "output"},
        {"filename": "x_1_00002_.png", "subfolder": "sub", "type": "output"}]
    path = os.path.join(folder_paths.get_output_directory(), "sub", "x_1_00002_.png")
    assert _text_chunks(path) == []
    with Image.open(path) as decoded:
        assert (np.array(decoded) == 255).all()


def test_save_refuses_escape(folder_paths):
    (img,) = nb.EmptyImage().generate(width=1, height=1)
    with pytest.raises(Exception, match="outside the output folder"):
        nb.SaveImage().save_images(img, "../escape")


def test_preview_image(folder_paths):
    (img,) = nb.EmptyImage().generate(width=3, height=3, color=0x010203)
    out = nb.PreviewImage().save_images(img, prompt={"p": 1})
    (entry,) = out["ui"]["images"]
    assert entry["type"] == "temp" and entry["subfolder"] == ""
    assert re.fullmatch(r"ComfyUI_temp_[a-z]{5}_00001_\.png", entry["filename"])
    path = os.path.join(folder_paths.get_temp_directory(), entry["filename"])
    assert _idat_level(path) == 0  # compress_level 1
    assert _text_chunks(path) == [(b"prompt", b'{"p": 1}')]
    with Image.open(path) as decoded:
        assert decoded.getpixel((0, 0)) == (1, 2, 3)


RGBA = [[(255, 0, 0, 255), (0, 255, 0, 128)],
        [(0, 0, 255, 0), (10, 20, 30, 51)]]


def _write_rgba(path):
    Image.fromarray(np.array(RGBA, dtype=np.uint8), "RGBA").save(path)


def test_load_image_rgba(folder_paths):
    inp = folder_paths.get_input_directory()
    path = os.path.join(inp, "rgba.png")
    _write_rgba(path)
    image, mask = nb.LoadImage().load_image("rgba.png")
    arr = np.array(RGBA, dtype=np.float32)
    assert image.shape == (1, 2, 2, 3) and image.dtype == torch.float32
    assert torch.equal(image[0], torch.from_numpy(arr[..., :3] / 255.0))
    assert mask.shape == (1, 2, 2) and mask.dtype == torch.float32
    assert torch.equal(mask[0], 1. - torch.from_numpy(arr[..., 3] / 255.0))
    assert mask[0, 0, 0].item() == 0.0 and mask[0, 1, 0].item() == 1.0
    assert abs(mask[0, 1, 1].item() - 0.8) < 1e-6
    with open(path, "rb") as f:
        assert nb.LoadImage.IS_CHANGED("rgba.png") == hashlib.sha256(f.read()).hexdigest()


def test_load_image_rgb_gives_64x64_zero_mask(folder_paths):
    out_dir = folder_paths.get_output_directory()
    Image.new("RGB", (3, 2), (51, 102, 153)).save(os.path.join(out_dir, "rgb.png"))
    image, mask = nb.LoadImage().load_image("rgb.png [output]")
    assert image.shape == (1, 2, 3, 3)
    assert torch.equal(image[0, 0, 0], torch.tensor([0.2, 0.4, 0.6], dtype=torch.float32))
    assert torch.equal(mask, torch.zeros((1, 64, 64)))


def test_load_image_multiframe(folder_paths):
    inp = folder_paths.get_input_directory()
    frames = [Image.new("RGB", (4, 4), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    frames[0].save(os.path.join(inp, "anim.gif"), save_all=True, append_images=frames[1:],
                   duration=10, loop=0)
    image, mask = nb.LoadImage().load_image("anim.gif")
    assert image.shape == (3, 4, 4, 3) and mask.shape == (3, 64, 64)
    assert image[1, 0, 0].tolist() == [0.0, 1.0, 0.0]
    assert image[2, 3, 3].tolist() == [0.0, 0.0, 1.0]


def test_load_image_inputs_and_validation(folder_paths):
    inp = folder_paths.get_input_directory()
    _write_rgba(os.path.join(inp, "b.png"))
    _write_rgba(os.path.join(inp, "a.webp"))
    open(os.path.join(inp, "notes.txt"), "w").close()
    os.makedirs(os.path.join(inp, "dir.png"))
    assert nb.LoadImage.INPUT_TYPES() == {
        "required": {"image": (["a.webp", "b.png"], {"image_upload": True})}}
    assert nb.LoadImage.VALIDATE_INPUTS("b.png") is True
    assert nb.LoadImage.VALIDATE_INPUTS("nope.png") == "Invalid image file: nope.png"
    assert nb.LoadImage.VALIDATE_INPUTS("b.png [output]") == "Invalid image file: b.png [output]"
