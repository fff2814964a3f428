"""Image encoding, ours (comfy._media over cpp/media) next to ComfyUI's own code path (numpy + Pillow)
run in the same process on the same pixels: medians of BENCH_RUNS runs (default 5), ours and the
baseline interleaved. Nothing is asserted.

    .venv/bin/python bench/bench_media.py        # prints the table
    bench/run.py media                           # the same rows inside `make bench`

Rows: SaveImage-equivalent (float32 IMAGE -> PNG file with prompt/workflow text) at 1024² and 2048²,
level 4; PreviewImage (level 1); a batch of 4 encoded in parallel vs Pillow one by one, and vs our own
encoder on one thread; JPEG q95 (progress previews) and WebP q90 (`/view?preview=webp;90`) from
uint8; the `/view` WebP re-encode of a PNG end to end (decode + encode); float32 -> uint8; PNG sizes.
"""
import io
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def natural_image(h, w, seed=0, noise=0.01):
    """Smooth gradients plus a little noise (float32 0..1): compresses like a generated image."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    y /= h
    x /= w
    img = np.stack([0.5 + 0.4 * np.sin(6.0 * x + 2.0 * y),
                    0.5 + 0.4 * np.cos(4.0 * y - 3.0 * x * y),
                    0.5 + 0.3 * np.sin(9.0 * (x - 0.5) ** 2 + 7.0 * (y - 0.4) ** 2)], -1)
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


PROMPT = {str(i): {"class_type": "KSampler", "inputs": {"seed": i, "steps": 20, "cfg": 7.5,
                                                      "model": ["4", 0], "positive": ["6", 0]}}
          for i in range(20)}
EXTRA = {"workflow": {"nodes": [{"id": i, "type": "KSampler", "pos": [i * 10, 0], "size": [300, 200],
                                 "widgets_values": [i, "fixed", 20, 7.5]} for i in range(40)]}}


def comfy_save(image, path, level):
    """ComfyUI's SaveImage body for one image (nodes.py)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    i = 255. * image.cpu().numpy()
    img = Image.fromarray(np.clip(i, 0, 255).astype(np.uint8))
    metadata = PngInfo()
    metadata.add_text("prompt", json.dumps(PROMPT))
    for x in EXTRA:
        metadata.add_text(x, json.dumps(EXTRA[x]))
    img.save(path, pnginfo=metadata, compress_level=level)


def ours_save(images, paths, level, threads=0):
    from comfy import _media
    from comfy._core import media
    text = _media.png_text(PROMPT, EXTRA)
    if threads:
        media.save_png_batch(_media.image_array(images), paths, level, text, threads)
    else:
        _media.save_png_batch(images, paths, level, text)


def timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def pair(ours, base, runs=RUNS):
    """Medians in ms, the two interleaved so drift on a shared machine hits both alike."""
    ours(), base()  # warm-up: compressor state, page cache, lazy imports
    a, b = [], []
    for _ in range(runs):
        a.append(timed(ours))
        b.append(timed(base))
    return statistics.median(a), statistics.median(b)


def rows():
    import torch
    from PIL import Image
    from comfy import _media, _routes
    from comfy._core import media

    out = []
    tmp = tempfile.mkdtemp(prefix="bench_media_")
    p_ours, p_base = os.path.join(tmp, "ours.png"), os.path.join(tmp, "base.png")
    pillow = "ComfyUI's numpy + Pillow code"

    for n in (1024, 2048):
        img = torch.from_numpy(natural_image(n, n, seed=n))
        runs = RUNS if n == 1024 else max(3, RUNS // 2)
        o, b = pair(lambda: ours_save(img[None], [p_ours], 4), lambda: comfy_save(img, p_base, 4), runs)
        out.append((f"SaveImage {n}² PNG level 4 (file, prompt+workflow text)", o, b, "ms", pillow))
        out.append((f"  PNG size {n}² level 4", os.path.getsize(p_ours) / 1024, os.path.getsize(p_base) / 1024,
                    "KiB", "Pillow (zlib-ng)"))

    img = torch.from_numpy(natural_image(1024, 1024, seed=1))
    o, b = pair(lambda: ours_save(img[None], [p_ours], 1), lambda: comfy_save(img, p_base, 1))
    out.append(("PreviewImage 1024² PNG level 1 (file)", o, b, "ms", pillow))
    out.append(("  PNG size 1024² level 1", os.path.getsize(p_ours) / 1024, os.path.getsize(p_base) / 1024,
                "KiB", "Pillow (zlib-ng)"))

    batch = torch.from_numpy(np.stack([natural_image(1024, 1024, seed=s) for s in range(4)]))
    paths = [os.path.join(tmp, f"b{i}.png") for i in range(4)]

    def comfy_batch():
        for i in range(4):
            comfy_save(batch[i], paths[i], 4)
    o, b = pair(lambda: ours_save(batch, paths, 4), comfy_batch)
    out.append(("SaveImage batch of 4 × 1024², level 4", o, b, "ms", pillow + ", one by one"))
    o, b = pair(lambda: ours_save(batch, paths, 4), lambda: ours_save(batch, paths, 4, threads=1))
    out.append(("  batch of 4: parallel vs our own one thread", o, b, "ms", f"ours sequential (ratio {o / b:.2f})"))

    u8 = media.quantize(natural_image(1024, 1024, seed=2))
    pil = Image.fromarray(u8)

    def pil_save(fmt, **kw):
        buf = io.BytesIO()
        pil.save(buf, format=fmt, **kw)
        return buf.getvalue()
    o, b = pair(lambda: media.encode_jpeg(u8, 95), lambda: pil_save("JPEG", quality=95))
    out.append(("JPEG q95 1024² (progress preview)", o, b, "ms", "Pillow (libjpeg-turbo)"))
    o, b = pair(lambda: media.encode_webp(u8, 90), lambda: pil_save("WEBP", quality=90))
    out.append(("WebP q90 1024² (/view preview)", o, b, "ms", "Pillow (libwebp)"))

    src = os.path.join(tmp, "view_src.png")
    Image.fromarray(u8).save(src, compress_level=4)

    def comfy_view():
        with Image.open(src) as im:
            buf = io.BytesIO()
            im.save(buf, format="webp", quality=90)
    o, b = pair(lambda: _routes.view_image(src, [("preview", "webp;90")]), comfy_view)
    out.append(("/view?preview=webp;90 of a 1024² PNG (decode + encode)", o, b, "ms", pillow))

    f32 = natural_image(1024, 1024, seed=3)
    o, b = pair(lambda: media.quantize(f32), lambda: np.clip(255. * f32, 0, 255).astype(np.uint8))
    out.append(("float32 -> uint8 1024²×3 (truncating)", o, b, "ms", "numpy clip/astype"))

    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)
    return out


def main():
    print(f"image encoding, medians of {RUNS} runs, {os.cpu_count()} CPUs")
    print(f"{'benchmark':58} {'unit':>5} {'ours':>10} {'baseline':>10} {'ratio':>7}  baseline is")
    for name, ours, base, unit, what in rows():
        ratio = base / ours if ours and base else float("nan")
        print(f"{name:58} {unit:>5} {ours:10.1f} {base:10.1f} {ratio:6.2f}×  {what}")


if __name__ == "__main__":
    main()
