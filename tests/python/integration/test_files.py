"""File routes: GET /view, POST /upload/image, POST /upload/mask (each also under /api).

Spec: comfyui-api.md §2.5 and §13; decisions.md (Range on /view, body limit). ComfyUI's answers
where it has them; where ComfyUI answers 500 or serves something unsafe, a clear 400/403.
Hostile paths are checked against a watcher that fingerprints every file of the base directory
outside the three roots (input, output, temp) before and after.
"""

import hashlib
import io
import json
import os
import socket
import urllib.parse
from pathlib import Path

import pytest
import requests
from PIL import Image, PngImagePlugin

ROUTE_PREFIXES = ["", "/api"]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def png_bytes(color=(200, 100, 50, 255), size=(6, 4), mode="RGBA", text=None) -> bytes:
    img = Image.new(mode, size, color[: len(mode)] if isinstance(color, tuple) else color)
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_text(k, v)
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def multipart(parts, boundary="b0undary"):
    """parts: list of (content_disposition_params, body bytes[, content type])."""
    out = b""
    for p in parts:
        disp, body = p[0], p[1]
        out += f"--{boundary}\r\nContent-Disposition: form-data; {disp}\r\n".encode()
        if len(p) > 2:
            out += f"Content-Type: {p[2]}\r\n".encode()
        out += b"\r\n" + (body if isinstance(body, bytes) else body.encode()) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def upload_raw(server, image_disp, data=b"x", fields=None, route="/upload/image"):
    parts = [(image_disp, data, "image/png")]
    for k, v in (fields or {}).items():
        parts.append((f'name="{k}"', v))
    body, ctype = multipart(parts)
    return server.post(route, data=body, headers={"Content-Type": ctype})


def upload(server, data, filename, route="/upload/image", **fields):
    return server.post(route, files={"image": (filename, data, "image/png")}, data=fields)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Watcher:
    """Fingerprints of everything under `base` except the roots and the server log."""

    def __init__(self, base: Path, roots):
        self.base = base
        self.roots = {base / r for r in roots}
        self.before = self.snapshot()

    def snapshot(self):
        seen = {}
        for dirpath, dirnames, filenames in os.walk(self.base, followlinks=False):
            d = Path(dirpath)
            dirnames[:] = [n for n in dirnames if d / n not in self.roots]
            for n in dirnames:
                seen[str(d / n)] = "dir"
            for n in filenames:
                p = d / n
                if p == self.base / "server.log":
                    continue
                if p.is_symlink():
                    seen[str(p)] = "link:" + os.readlink(p)
                    continue
                st = p.stat()
                seen[str(p)] = (st.st_size, st.st_mtime_ns, sha(p.read_bytes()))
        return seen

    def assert_unchanged(self):
        after = self.snapshot()
        assert after == self.before, {k: (self.before.get(k), after.get(k))
                                      for k in set(after) | set(self.before) if after.get(k) != self.before.get(k)}


@pytest.fixture(scope="module")
def env(server):
    """Files and symlinks for the hostile-path tables, laid out once per module."""
    base = server.base
    outside = base / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(b"top secret")
    (base / "secret.txt").write_bytes(b"top secret too")
    out = server.output_dir
    (out / "sub").mkdir(exist_ok=True)
    for link, target in ((out / "leak.txt", outside / "secret.txt"), (out / "leakdir", outside),
                         (server.input_dir / "evil_link.png", outside / "secret.txt"),
                         (server.input_dir / "outdir", outside),
                         (server.input_dir / "dangling.png", outside / "created_by_upload.png")):
        if not link.is_symlink():
            link.symlink_to(target)
    return {"outside": outside}


def view(server, prefix="", **params):
    return server.get(f"{prefix}/view", params=params)


# --------------------------------------------------------------------------
# Upload, then view
# --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ROUTE_PREFIXES)
def test_upload_then_view_is_byte_identical(server, prefix):
    data = png_bytes(color=(1, 2, 3, 4), text={"k": "v"})
    name = f"roundtrip{prefix.strip('/')}.png"
    r = upload(server, data, name, route=f"{prefix}/upload/image")
    assert r.status_code == 200, r.text
    assert r.text == json.dumps({"name": name, "subfolder": "", "type": "input"})  # key order as ComfyUI
    assert (server.input_dir / name).read_bytes() == data
    v = view(server, prefix, filename=name, type="input")
    assert v.status_code == 200
    assert v.content == data
    assert v.headers["Content-Type"] == "image/png"
    assert v.headers["Content-Disposition"] == f'filename="{name}"'
    assert v.headers["Accept-Ranges"] == "bytes"
    assert int(v.headers["Content-Length"]) == len(data)


def test_view_default_type_is_output_and_head(server):
    data = png_bytes(color=(9, 9, 9, 255))
    (server.output_dir / "out_default.png").write_bytes(data)
    assert view(server, filename="out_default.png").content == data
    assert view(server, filename="out_default.png", type="input").status_code == 404
    h = server.session.head(server.url("/view"), params={"filename": "out_default.png"}, timeout=10)
    assert h.status_code == 200 and h.content == b""
    assert int(h.headers["Content-Length"]) == len(data)


def test_upload_types_and_subfolders(server):
    data = png_bytes(color=(5, 6, 7, 255))
    for typ, root in (("input", server.input_dir), ("temp", server.temp_dir), ("output", server.output_dir)):
        r = upload(server, data, "typed.png", type=typ, subfolder="a/b/../c")
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "typed.png", "subfolder": "a/b/../c", "type": typ}  # subfolder as sent
        assert (root / "a" / "c" / "typed.png").read_bytes() == data
        v = view(server, filename="typed.png", type=typ, subfolder="a/c")
        assert v.content == data
    # A leading '/' of a multipart filename is dropped (aiohttp does), so it stays in the root.
    r = upload_raw(server, 'name="image"; filename="/abs_name.png"', data)
    assert r.status_code == 200 and r.json()["name"] == "abs_name.png"
    assert (server.input_dir / "abs_name.png").read_bytes() == data


def test_duplicate_names(server):
    a, b, c = png_bytes(color=(1, 0, 0, 255)), png_bytes(color=(0, 1, 0, 255)), png_bytes(color=(0, 0, 1, 255))
    assert upload(server, a, "dup.png", subfolder="dups").json()["name"] == "dup.png"
    first = server.input_dir / "dups" / "dup.png"
    mtime = first.stat().st_mtime_ns
    assert upload(server, a, "dup.png", subfolder="dups").json()["name"] == "dup.png"  # identical: reused
    assert first.stat().st_mtime_ns == mtime
    assert upload(server, b, "dup.png", subfolder="dups").json()["name"] == "dup (1).png"
    assert upload(server, c, "dup.png", subfolder="dups").json()["name"] == "dup (2).png"
    assert upload(server, b, "dup.png", subfolder="dups").json()["name"] == "dup (1).png"  # matches (1)
    assert upload(server, c, "noext", subfolder="dups").json()["name"] == "noext"
    assert upload(server, a, "noext", subfolder="dups").json()["name"] == "noext (1)"
    assert upload(server, a, ".hidden", subfolder="dups").json()["name"] == ".hidden"
    assert upload(server, b, ".hidden", subfolder="dups").json()["name"] == ".hidden (1)"
    d = server.input_dir / "dups"
    assert (d / "dup.png").read_bytes() == a and (d / "dup (1).png").read_bytes() == b
    assert (d / "dup (2).png").read_bytes() == c


def test_overwrite(server):
    a, b, c = png_bytes(color=(3, 0, 0, 255)), png_bytes(color=(0, 3, 0, 255)), png_bytes(color=(0, 0, 3, 255))
    upload(server, a, "ow.png", subfolder="ow")
    assert upload(server, b, "ow.png", subfolder="ow", overwrite="true").json()["name"] == "ow.png"
    assert (server.input_dir / "ow" / "ow.png").read_bytes() == b
    assert upload(server, c, "ow.png", subfolder="ow", overwrite="1").json()["name"] == "ow.png"
    assert (server.input_dir / "ow" / "ow.png").read_bytes() == c
    assert upload(server, a, "ow.png", subfolder="ow", overwrite="yes").json()["name"] == "ow (1).png"
    assert upload(server, b, "ow.png", subfolder="ow", overwrite="True").json()["name"] == "ow (2).png"


def test_upload_bad_forms(server):
    assert server.post("/upload/image", data={"type": "input"}).status_code == 400  # no image part
    assert server.post("/upload/image", data=b"x", headers={"Content-Type": "image/png"}).status_code == 400
    r = upload_raw(server, 'name="image"', b"not a file")  # a field without filename
    assert r.status_code == 400
    assert upload_raw(server, 'name="image"; filename=""').status_code == 400
    body, ctype = multipart([('name="image"; filename="x.png"', b"abc")])
    truncated = body[: -len(b"--b0undary--\r\n")]
    assert server.post("/upload/image", data=truncated, headers={"Content-Type": ctype}).status_code == 400
    assert server.post("/upload/image", data=body, headers={"Content-Type": "multipart/form-data"}).status_code == 400
    assert server.post("/upload/image", data=body,
                       headers={"Content-Type": "multipart/form-data; boundary=other"}).status_code == 400
    assert not (server.input_dir / "x.png").exists()


# --------------------------------------------------------------------------
# /view details: Range, conditional requests, content types, annotations, channels
# --------------------------------------------------------------------------

def test_view_ranges(server):
    data = bytes(range(256)) * 4
    (server.output_dir / "range.bin").write_bytes(data)

    def get(rng):
        return server.get("/view", params={"filename": "range.bin"}, headers={"Range": rng})

    r = get("bytes=0-9")
    assert r.status_code == 206 and r.content == data[:10]
    assert r.headers["Content-Range"] == f"bytes 0-9/{len(data)}"
    assert r.headers["Content-Type"] == "application/octet-stream"
    r = get("bytes=1000-")
    assert r.status_code == 206 and r.content == data[1000:]
    assert r.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    r = get("bytes=-5")
    assert r.status_code == 206 and r.content == data[-5:]
    r = get("bytes=10-99999")
    assert r.status_code == 206 and r.content == data[10:]
    for bad in ("bytes=5000-", "bytes=9-3", "bytes=0-1,5-6", "lines=1-2", "bytes=x-y"):
        r = get(bad)
        assert r.status_code == 416, bad
        assert r.headers["Content-Range"] == f"bytes */{len(data)}"
        assert r.content == b""
    r = server.get("/api/view", params={"filename": "range.bin"}, headers={"Range": "bytes=3-4"})
    assert r.status_code == 206 and r.content == data[3:5]


def test_view_conditional_requests(server):
    (server.output_dir / "cond.png").write_bytes(png_bytes())
    r = view(server, filename="cond.png")
    etag, last = r.headers["ETag"], r.headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')
    r2 = server.get("/view", params={"filename": "cond.png"}, headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    r3 = server.get("/view", params={"filename": "cond.png"}, headers={"If-None-Match": '"other"'})
    assert r3.status_code == 200
    r4 = server.get("/view", params={"filename": "cond.png"}, headers={"If-Modified-Since": last})
    assert r4.status_code == 304


CONTENT_TYPES = [
    ("img.png", "image/png", 'filename="img.png"'),
    ("img.JPG", "image/jpeg", 'filename="img.JPG"'),
    ("img.webp", "image/webp", 'filename="img.webp"'),
    ("clip.mp4", "video/mp4", 'filename="clip.mp4"'),
    ("sound.flac", "audio/flac", 'filename="sound.flac"'),
    ("data.json", "application/json", 'filename="data.json"'),
    ("notes.txt", "text/plain", 'filename="notes.txt"'),
    ("model.safetensors", "application/octet-stream", 'filename="model.safetensors"'),
    ("page.html", "application/octet-stream", 'attachment; filename="page.html"'),
    ("page.xhtml", "application/octet-stream", 'attachment; filename="page.xhtml"'),
    ("app.js", "application/octet-stream", 'attachment; filename="app.js"'),
    ("style.css", "application/octet-stream", 'attachment; filename="style.css"'),
    ("pic.svg", "application/octet-stream", 'attachment; filename="pic.svg"'),
    ('q"uote.png', "image/png", 'filename="q\\"uote.png"'),
]


@pytest.mark.parametrize("name,ctype,disp", CONTENT_TYPES)
def test_view_content_types(server, name, ctype, disp):
    (server.output_dir / name).write_bytes(b"<html><script>alert(1)</script></html>")
    r = view(server, filename=name)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype
    assert r.headers["Content-Disposition"] == disp
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_view_svg_inline_only_for_img_tags(server):
    (server.output_dir / "icon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    r = server.get("/view", params={"filename": "icon.svg"}, headers={"Sec-Fetch-Dest": "image"})
    assert r.headers["Content-Type"] == "image/svg+xml"
    assert r.headers["Content-Disposition"] == 'filename="icon.svg"'
    r = server.get("/view", params={"filename": "icon.svg"}, headers={"Sec-Fetch-Dest": "document"})
    assert r.headers["Content-Type"] == "application/octet-stream"


def test_view_annotated_names(server):
    data_in, data_tmp = png_bytes(color=(7, 0, 0, 255)), png_bytes(color=(0, 7, 0, 255))
    (server.input_dir / "ann.png").write_bytes(data_in)
    server.temp_dir.mkdir(exist_ok=True)
    (server.temp_dir / "ann.png").write_bytes(data_tmp)
    assert view(server, filename="ann.png [input]", type="output").content == data_in
    assert view(server, filename="ann.png [temp]").content == data_tmp
    r = view(server, filename="ann.png [input]")
    assert r.headers["Content-Disposition"] == 'filename="ann.png"'
    assert view(server, filename="ann.png [output]").status_code == 404
    assert view(server).status_code == 404  # no filename at all
    assert view(server, filename="missing.png").status_code == 404


def test_view_channels_and_previews(server):
    img = Image.new("RGBA", (5, 3), (10, 20, 30, 40))
    img.putpixel((0, 0), (255, 0, 0, 200))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    (server.output_dir / "chan.png").write_bytes(buf.getvalue())

    r = view(server, filename="chan.png", channel="rgb")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"] == 'filename="chan.png"'
    rgb = Image.open(io.BytesIO(r.content))
    assert rgb.mode == "RGB" and rgb.getpixel((0, 0)) == (255, 0, 0) and rgb.getpixel((1, 1)) == (10, 20, 30)

    r = view(server, filename="chan.png", channel="a")
    a = Image.open(io.BytesIO(r.content))
    assert a.mode == "RGBA" and a.getpixel((0, 0)) == (0, 0, 0, 200) and a.getpixel((2, 2)) == (0, 0, 0, 40)

    r = view(server, filename="chan.png", channel="rgba")  # the file as-is
    assert r.content == buf.getvalue()

    for preview, channel, fmt in (("jpeg;80", None, "jpeg"), ("webp;90", None, "webp"), ("png;50", None, "webp"),
                                  ("jpeg", "a", "webp"), ("webp", "rgb", "webp")):
        params = {"filename": "chan.png", "preview": preview}
        if channel:
            params["channel"] = channel
        r = server.get("/view", params=params)
        assert r.status_code == 200, (preview, channel)
        assert r.headers["Content-Type"] == f"image/{fmt}"
        assert r.headers["Content-Disposition"] == 'filename="chan.png"'
        decoded = Image.open(io.BytesIO(r.content))
        assert decoded.format == fmt.upper() and decoded.size == (5, 3)
        if preview.startswith("jpeg") and not channel or channel == "rgb":
            assert decoded.mode == "RGB"

    (server.output_dir / "notimage.png").write_bytes(b"nope")
    assert view(server, filename="notimage.png", channel="rgb").status_code == 400
    assert view(server, filename="notimage.png").status_code == 200  # served as a plain file


# --------------------------------------------------------------------------
# Hostile paths
# --------------------------------------------------------------------------

def q(value):
    return urllib.parse.quote(value, safe="")


HOSTILE_VIEW = [  # (raw query string, expected status)
    ("filename=" + q("../outside/secret.txt"), 400),
    ("filename=..%2Foutside%2Fsecret.txt", 400),
    ("filename=%2e%2e/outside/secret.txt", 400),
    ("filename=" + q("../../etc/passwd"), 400),
    ("filename=" + q("/etc/passwd"), 400),
    ("filename=%2F%2Fetc%2Fpasswd", 400),
    ("filename=" + q("....//outside/secret.txt"), 400),
    ("filename=" + q("sub/../../outside/secret.txt"), 400),
    ("filename=" + q("..\\outside\\secret.txt"), 400),
    ("filename=" + q("a\\b.png"), 400),
    ("filename=secret.txt%00.png", 400),
    ("filename=x.png%0D%0ASet-Cookie:%20a=b", 400),
    ("filename=" + "a" * 300 + ".png", 400),
    ("filename=", 400),
    ("filename=" + q(" [output]"), 400),
    ("filename=" + q("../outside/secret.txt [input]"), 400),
    ("filename=secret.txt&type=user", 400),
    ("filename=secret.txt&type=" + q("../outside"), 400),
    ("filename=secret.txt&type=", 400),
    ("filename=secret.txt&subfolder=..", 403),
    ("filename=secret.txt&subfolder=%2e%2e", 403),
    ("filename=secret.txt&subfolder=" + q("../outside"), 403),
    ("filename=secret.txt&subfolder=..%2Foutside", 403),
    ("filename=secret.txt&subfolder=" + q("../../"), 403),
    ("filename=passwd&subfolder=" + q("/etc"), 403),
    ("filename=secret.txt&subfolder=" + q("sub/../../outside"), 403),
    ("filename=" + q("secret.txt [output]") + "&subfolder=" + q("../outside"), 403),
    ("filename=secret.txt&subfolder=x%00", 400),
    ("filename=secret.txt&subfolder=" + q("..\\outside"), 400),
    ("filename=leak.txt", 403),  # symlink in output pointing outside
    ("filename=secret.txt&subfolder=leakdir", 403),  # symlinked subfolder pointing outside
    ("filename=%252e%252e%252fsecret.txt", 404),  # double encoding arrives as a literal name
    ("filename=secret.txt", 404),
    ("", 404),
]


def test_hostile_view_paths(server, env):
    outside_abs = str(env["outside"])
    cases = HOSTILE_VIEW + [("filename=secret.txt&subfolder=" + q(outside_abs), 403)]
    watcher = Watcher(server.base, ["input", "output", "temp"])
    for prefix in ROUTE_PREFIXES:
        for query, status in cases:
            r = server.get(f"{prefix}/view?{query}")
            assert r.status_code == status, (prefix, query, r.status_code, r.text[:200])
            assert b"secret" not in r.content
            assert "Set-Cookie" not in r.headers
    watcher.assert_unchanged()


HOSTILE_UPLOAD = [  # (image Content-Disposition params, extra fields, expected status)
    ('name="image"; filename="../evil.png"', {}, 400),
    ('name="image"; filename="../../evil.png"', {}, 400),
    ('name="image"; filename="../outside/secret.txt"', {"overwrite": "true"}, 400),
    ('name="image"; filename=".."', {}, 400),
    ('name="image"; filename="."', {}, 400),
    ('name="image"; filename="a/../../evil.png"', {}, 400),
    ('name="image"; filename="sub/evil.png"', {}, 400),
    ('name="image"; filename="e\\\\vil.png"', {}, 400),  # an escaped backslash reaches the name
    ("name=\"image\"; filename*=utf-8''..%2Fevil.png", {}, 400),
    ("name=\"image\"; filename*=utf-8''evil%00.png", {}, 400),
    ("name=\"image\"; filename*=utf-8''evil%0D%0A.png", {}, 400),
    ('name="image"; filename="' + "e" * 300 + '.png"', {}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": ".."}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "../outside"}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "../../"}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "/tmp"}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "a/../../outside"}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "..\\outside"}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "x\x00y"}, 400),
    ('name="image"; filename="evil.png"', {"subfolder": "outdir"}, 400),  # symlink to outside
    ('name="image"; filename="evil.png"', {"subfolder": "outdir/new"}, 400),
    ('name="image"; filename="evil_link.png"', {"overwrite": "true"}, 400),  # symlink to a file outside
    ('name="image"; filename="evil_link.png"', {}, 400),
    ('name="image"; filename="dangling.png"', {"overwrite": "true"}, 400),
    ('name="image"; filename="evil.png"', {"type": "user"}, 400),
    ('name="image"; filename="evil.png"', {"type": "bogus"}, 400),
    ('name="image"; filename="evil.png"', {"type": ""}, 400),
    ('name="image"; filename="evil.png"', {"type": "../outside"}, 400),
]


def test_hostile_upload_paths(server, env):
    outside = env["outside"]
    cases = HOSTILE_UPLOAD + [('name="image"; filename="evil.png"', {"subfolder": str(outside)}, 400)]
    input_before = sorted(p.name for p in server.input_dir.iterdir())
    watcher = Watcher(server.base, ["input", "output", "temp"])
    for prefix in ROUTE_PREFIXES:
        for route in ("/upload/image", "/upload/mask"):
            for disp, fields, status in cases:
                if route == "/upload/mask":
                    fields = dict(fields, original_ref=json.dumps({"filename": "x.png", "type": "input"}))
                r = upload_raw(server, disp, b"pwned", fields, route=prefix + route)
                assert r.status_code == status, (prefix, route, disp, fields, r.status_code, r.text[:200])
    watcher.assert_unchanged()
    assert (outside / "secret.txt").read_bytes() == b"top secret"
    assert not (outside / "created_by_upload.png").exists()
    assert sorted(p.name for p in server.input_dir.iterdir()) == input_before


# --------------------------------------------------------------------------
# /upload/mask
# --------------------------------------------------------------------------

def test_upload_mask_composites_alpha_and_keeps_text(server):
    original = Image.new("RGB", (4, 4), (100, 150, 200))
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", '{"1": {}}')
    info.add_text("workflow", "wf")
    buf = io.BytesIO()
    original.save(buf, format="PNG", pnginfo=info)
    (server.input_dir / "orig.png").write_bytes(buf.getvalue())

    mask = Image.new("RGBA", (4, 4), (0, 0, 0, 255))
    mask.putpixel((1, 2), (0, 0, 0, 0))
    mbuf = io.BytesIO()
    mask.save(mbuf, format="PNG")
    ref = json.dumps({"filename": "orig.png", "subfolder": "", "type": "input"})
    for prefix in ROUTE_PREFIXES:
        r = server.post(f"{prefix}/upload/mask", files={"image": ("clip_mask.png", mbuf.getvalue(), "image/png")},
                        data={"original_ref": ref, "type": "input", "subfolder": "clipspace", "overwrite": "true"})
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "clip_mask.png", "subfolder": "clipspace", "type": "input"}
    out = Image.open(server.input_dir / "clipspace" / "clip_mask.png")
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0)) == (100, 150, 200, 255)
    assert out.getpixel((1, 2)) == (100, 150, 200, 0)
    assert out.text == {"prompt": '{"1": {}}', "workflow": "wf"}

    # Annotated original; the duplicate check compares the uploaded bytes (not the composite).
    (server.output_dir / "orig_out.png").write_bytes(buf.getvalue())
    ref2 = json.dumps({"filename": "orig_out.png [output]", "type": "input"})
    r = server.post("/upload/mask", files={"image": ("m2.png", mbuf.getvalue(), "image/png")},
                    data={"original_ref": ref2, "subfolder": "clipspace"})
    assert r.json()["name"] == "m2.png"
    assert Image.open(server.input_dir / "clipspace" / "m2.png").getpixel((1, 2)) == (100, 150, 200, 0)
    r = server.post("/upload/mask", files={"image": ("m2.png", mbuf.getvalue(), "image/png")},
                    data={"original_ref": ref2, "subfolder": "clipspace"})
    assert r.json()["name"] == "m2 (1).png"  # the stored composite differs from the uploaded mask


def test_upload_mask_unusable_original_writes_nothing(server, env):
    mask = png_bytes()
    watcher = Watcher(server.base, ["input", "output", "temp"])
    for i, ref in enumerate([{"filename": "../outside/secret.txt", "type": "input"},
                             {"filename": "/etc/passwd"},
                             {"filename": "secret.txt", "subfolder": "../outside"},
                             {"filename": "leak.txt", "type": "output"},
                             {"filename": "x.png", "type": "user"},
                             {"filename": "does_not_exist.png", "type": "input"}]):
        name = f"skipped{i}.png"
        r = server.post("/upload/mask", files={"image": (name, mask, "image/png")},
                        data={"original_ref": json.dumps(ref), "subfolder": "masks"})
        assert r.status_code == 200, (ref, r.text)
        assert r.json() == {"name": name, "subfolder": "masks", "type": "input"}
        assert not (server.input_dir / "masks" / name).exists()
    watcher.assert_unchanged()
    for bad in ("not json", json.dumps(["x"]), json.dumps({"type": "input"})):
        r = server.post("/upload/mask", files={"image": ("bad.png", mask, "image/png")}, data={"original_ref": bad})
        assert r.status_code == 400
    r = server.post("/upload/mask", files={"image": ("bad.png", mask, "image/png")})
    assert r.status_code == 400


# --------------------------------------------------------------------------
# Body limit
# --------------------------------------------------------------------------

def _raw_post(port, path, ctype, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        try:
            s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
    return out


def test_upload_size_limit_edges(server_factory):
    srv = server_factory(extra_args=["--max-upload-size", "0.01"], name="upload-limit")
    limit = round(0.01 * 1024 * 1024)  # 10486 bytes; aiohttp refuses a body of `limit` or more

    def body_of(total):
        empty, ctype = multipart([('name="image"; filename="edge.png"', b"", "image/png")])
        fill = total - len(empty)
        body, _ = multipart([('name="image"; filename="edge.png"', b"z" * fill, "image/png")])
        assert len(body) == total
        return body, ctype, fill

    body, ctype, fill = body_of(limit - 1)
    resp = _raw_post(srv.port, "/upload/image", ctype, body)
    assert resp.startswith(b"HTTP/1.1 200"), resp[:300]
    assert (srv.input_dir / "edge.png").read_bytes() == b"z" * fill
    body, ctype, _ = body_of(limit)
    resp = _raw_post(srv.port, "/api/upload/image", ctype, body)
    assert resp.startswith(b"HTTP/1.1 413"), resp[:300]
    assert not (srv.input_dir / "edge (1).png").exists()
    assert srv.get("/prompt").status_code == 200
