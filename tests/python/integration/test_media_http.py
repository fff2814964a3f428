"""Natively encoded images over HTTP, checked against what ComfyUI's Pillow code gives for the same
pixels: SaveImage / PreviewImage files fetched through /view (identical pixels and text chunks, PNG
size within 5%), and /view's preview and channel re-encodings of a saved file."""
import io
import json
import struct
import zlib

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from comfy_harness import image_graph, queue_and_collect, unique_str

WORKFLOW = {"nodes": [{"id": 1, "type": "LoadImage", "title": "caf\u00e9 \u4e2d\u6587"}], "version": 0.4}


def text_chunks(png):
    out, pos = [], 8
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            out.append((kind, body))
        pos += 12 + n
    return out


def pillow_png(pixels, level, prompt, extra):
    info = PngInfo()
    info.add_text("prompt", json.dumps(prompt))
    for key in extra:
        info.add_text(key, json.dumps(extra[key]))
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=level, pnginfo=info)
    return buf.getvalue()


def pixels_of(data):
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert(im.mode)), im.mode, im.format


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def natural_u8(h, w, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.5 + 0.4 * np.sin(x / 17 + y / 40), 0.5 + 0.4 * np.cos(y / 23),
                    0.5 + 0.3 * np.sin((x + y) / 31)], -1) + rng.normal(0, 0.01, (h, w, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def test_saved_images_over_http_match_comfyui(server):
    src = natural_u8(96, 128, seed=3)
    name = unique_str("src") + ".png"
    Image.fromarray(src).save(server.input_dir / name)
    prefix = unique_str("media")
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": name}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}},
              "3": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    extra = {"workflow": WORKFLOW}
    run = queue_and_collect(server, prompt, extra_data={"extra_pnginfo": extra})
    assert run.one("execution_success")
    outputs = {m.data["node"]: m.data["output"]["images"] for m in run.of("executed")}
    saved, preview = outputs["2"][0], outputs["3"][0]
    assert saved == {"filename": f"{prefix}_00001_.png", "subfolder": "", "type": "output"}
    assert preview["type"] == "temp"

    # ComfyUI: LoadImage divides by 255 in float32, SaveImage truncates 255 * x.
    expected = np.clip(255. * (src.astype(np.float32) / 255.0), 0, 255).astype(np.uint8)
    data = server.get("/view", params=saved).content
    pixels, mode, fmt = pixels_of(data)
    assert (fmt, mode) == ("PNG", "RGB") and np.array_equal(pixels, expected)
    with Image.open(io.BytesIO(data)) as im:
        embedded = json.loads(im.text["prompt"])
    assert embedded["2"] == prompt["2"]  # the prompt as executed (LoadImage also carries is_changed)
    reference = pillow_png(expected, 4, embedded, extra)
    assert text_chunks(data) == text_chunks(reference)
    assert len(data) <= 1.05 * len(reference)

    temp = server.get("/view", params=preview).content
    assert np.array_equal(pixels_of(temp)[0], expected)
    assert text_chunks(temp) == text_chunks(pillow_png(expected, 1, embedded, extra))

    # /view re-encodings of the saved file, against Pillow on the same file.
    with Image.open(io.BytesIO(data)) as im:
        for preview_arg, pil_fmt in (("webp;90", "WEBP"), ("jpeg;85", "JPEG")):
            r = server.get("/view", params={**saved, "preview": preview_arg})
            assert r.status_code == 200 and r.headers["Content-Type"] == "image/" + pil_fmt.lower()
            buf = io.BytesIO()
            im.save(buf, format=pil_fmt, quality=int(preview_arg.split(";")[1]))
            ours, _, ours_fmt = pixels_of(r.content)
            assert ours_fmt == pil_fmt and psnr(ours, pixels_of(buf.getvalue())[0]) >= 40
    r = server.get("/view", params={**saved, "channel": "rgb"})
    assert np.array_equal(pixels_of(r.content)[0], expected)
    r = server.get("/view", params={**saved, "channel": "a"})
    alpha, mode, _ = pixels_of(r.content)
    assert mode == "RGBA" and (alpha[..., :3] == 0).all() and (alpha[..., 3] == 255).all()


def test_saved_batch_truncates_like_comfyui(server):
    prefix = unique_str("batch")
    run = queue_and_collect(server, image_graph(24, 8, 0x414345, prefix=prefix, batch_size=3))
    assert run.one("execution_success")
    files = run.one("executed").data["output"]["images"]
    assert [f["filename"] for f in files] == [f"{prefix}_{i:05}_.png" for i in (1, 2, 3)]
    for f in files:
        pixels, mode, _ = pixels_of(server.get("/view", params=f).content)
        assert mode == "RGB" and (pixels == np.array([189, 187, 185], np.uint8)).all()
