"""GET /view_metadata/{folder_name} and GET /experiment/models/preview/{folder}/{path_index}/{filename}.

Spec: comfyui-api.md §2.5 (view_metadata), §2.7 (model preview), §13 (safety). The safetensors files
are written here (a JSON header and zero-length tensors). Hostile paths are sent byte for byte and
run under two watchers: inotify on the canary files outside the model roots (any open or read of
them is reported, which atime cannot promise), and a fingerprint of the whole base directory.
The canary images have a colour no legitimate preview uses, so a leaked one would also be visible
in a decoded response.
"""

import base64
import ctypes
import ctypes.util
import errno
import hashlib
import io
import json
import os
import struct
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

from comfy_harness import raw_http

PREFIXES = ["", "/api"]
RED, GREEN, BLUE, YELLOW, CYAN = (220, 20, 20), (20, 200, 40), (30, 40, 210), (230, 210, 20), (20, 200, 210)
CANARY_COLOUR = (255, 0, 255)
CANARY_TEXT = "CANARY-f3a9c1-outside-the-model-roots"


# --------------------------------------------------------------------------
# HTTP: one request per connection, target sent verbatim, read until the server closes
# --------------------------------------------------------------------------

def get(srv, target: str):
    return raw_http(srv.port, "GET", target)


def q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

def safetensors_bytes(metadata=None, tensors=("w",), pad_to=None, header=None) -> bytes:
    """A safetensors file: 8-byte LE header length, JSON header padded with spaces, no data."""
    if header is None:
        header = {}
        if metadata is not None:
            header["__metadata__"] = metadata
        for name in tensors:
            header[name] = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
    raw = json.dumps(header).encode("utf-8")
    size = pad_to if pad_to is not None else (len(raw) + 7) // 8 * 8
    raw += b" " * (size - len(raw))
    return struct.pack("<Q", len(raw)) + raw


def write_safetensors(path: Path, metadata=None, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(safetensors_bytes(metadata, **kw))
    return path


def image_bytes(colour, fmt="PNG", size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def write_image(path: Path, colour, fmt="PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(colour, fmt))
    return path


def cover_metadata(*colours, **extra) -> dict:
    covers = [base64.b64encode(image_bytes(c)).decode("ascii") for c in colours]
    return {"ssmd_cover_images": json.dumps(covers), **extra}


def webp_colour(resp, size=(8, 8)):
    """The response must be a WEBP of `size`; returns its (uniform) colour."""
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["Content-Type"] == "image/webp"
    assert resp.content[:4] == b"RIFF" and resp.content[8:12] == b"WEBP"
    with Image.open(io.BytesIO(resp.content)) as img:
        assert img.format == "WEBP" and img.size == size
        rgb = img.convert("RGB")
        colours = {rgb.getpixel((x, y)) for x in range(size[0]) for y in range(size[1])}
    first = next(iter(colours))
    for c in colours:  # lossy WEBP: every pixel within a few levels of the same colour
        assert all(abs(a - b) <= 12 for a, b in zip(c, first)), colours
    return first


def near(c1, c2, tol=12):
    return all(abs(a - b) <= tol for a, b in zip(c1, c2))


# --------------------------------------------------------------------------
# Watchers
# --------------------------------------------------------------------------

IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x001, 0x002, 0x004, 0x008
IN_OPEN, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x020, 0x040, 0x080, 0x100, 0x200
IN_NONBLOCK = 0o4000
WATCH_MASK = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_OPEN | IN_MOVED_FROM | IN_MOVED_TO \
    | IN_CREATE | IN_DELETE


class Inotify:
    """Reports every open, read or change of the watched paths (a directory: of it and its entries)."""

    def __init__(self, paths):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            pytest.skip("inotify unavailable")
        self.names = {}
        for p in paths:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(str(p)), WATCH_MASK)
            assert wd >= 0, f"inotify_add_watch({p}) failed: {os.strerror(ctypes.get_errno())}"
            self.names[wd] = str(p)

    def events(self):
        out = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    return out
                raise
            i = 0
            while i < len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, i)
                name = data[i + 16:i + 16 + length].rstrip(b"\0").decode(errors="replace")
                out.append((self.names.get(wd, wd), name, mask))
                i += 16 + length

    def close(self):
        os.close(self.fd)


def fingerprint(base: Path):
    seen = {}
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            if p.name == "server.log":
                continue
            st = os.lstat(p)
            digest = None
            if p.is_file() and not p.is_symlink():
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            seen[str(p.relative_to(base))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return seen


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def roots(server):
    folders = {f["name"]: f["folders"] for f in json.loads(get(server, "/experiment/models").content)}
    out = {k: Path(v[0]) for k, v in folders.items() if v}
    for p in out.values():
        p.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def ckpt(roots):
    return roots["checkpoints"]


@pytest.fixture(scope="module")
def models(server, ckpt, roots):
    """Model files with metadata, sidecar previews and embedded covers."""
    meta = {"modelspec.title": "Tiny \u00e9 model", "ss_network_dim": "4", "format": "pt",
            "nested": json.dumps({"a": [1, 2]})}
    write_safetensors(ckpt / "meta.safetensors", meta)
    write_safetensors(ckpt / "sub" / "deep" / "inner.safetensors", {"where": "deep"})
    write_safetensors(ckpt / "plain.safetensors")                               # no __metadata__
    write_safetensors(roots["loras"] / "lora.safetensors", {"ss_network_alpha": "1.0"})
    write_safetensors(roots["diffusion_models"] / "dm.safetensors", {"kind": "unet"})
    (ckpt / "model.ckpt").write_bytes(b"not a safetensors file")
    (ckpt / "meta.ckpt").write_bytes(safetensors_bytes({"x": "y"}))               # right bytes, wrong name
    exact = ckpt / "exact1mib.safetensors"
    exact.write_bytes(safetensors_bytes({"big": "1"}, pad_to=1024 * 1024))
    over = ckpt / "over1mib.safetensors"
    over.write_bytes(safetensors_bytes({"big": "2"}, pad_to=1024 * 1024 + 8))
    (ckpt / "liar.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")   # claims 1 TiB
    (ckpt / "truncated.safetensors").write_bytes(struct.pack("<Q", 4096) + b'{"__metadata__": {}}')
    (ckpt / "short.safetensors").write_bytes(b"\x05\x00")
    (ckpt / "empty.safetensors").write_bytes(b"")
    (ckpt / "badjson.safetensors").write_bytes(struct.pack("<Q", 8) + b"{not js}")
    write_safetensors(ckpt / "listhdr.safetensors", header=[1, 2, 3])
    write_safetensors(ckpt / "emptymeta.safetensors", {})

    # Previews.
    write_safetensors(ckpt / "side.safetensors", cover_metadata(CYAN))
    write_image(ckpt / "side.png", RED)
    write_image(ckpt / "side.preview.png", YELLOW)
    write_safetensors(ckpt / "prev.safetensors")
    write_image(ckpt / "prev.preview.png", GREEN)
    write_safetensors(ckpt / "covered.safetensors", cover_metadata(BLUE, RED, note="x"))
    write_safetensors(ckpt / "sub" / "jpgside.safetensors")
    write_image(ckpt / "sub" / "jpgside.jpg", YELLOW, fmt="JPEG")
    write_safetensors(ckpt / "upper.safetensors")
    write_image(ckpt / "upper.PNG", CYAN)
    (ckpt / "other.ckpt").write_bytes(b"ckpt")
    write_image(ckpt / "other.webp", GREEN, fmt="WEBP")
    write_safetensors(ckpt / "broken.safetensors", cover_metadata(BLUE))
    (ckpt / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really")        # falls through to the cover
    write_safetensors(ckpt / "nopreview.safetensors", {"a": "b"})
    write_safetensors(ckpt / "badcovers.safetensors", {"ssmd_cover_images": "not json"})
    write_safetensors(ckpt / "dictcovers.safetensors", {"ssmd_cover_images": json.dumps({"a": "b"})})
    write_safetensors(ckpt / "junkcover.safetensors",
                      {"ssmd_cover_images": json.dumps([base64.b64encode(b"junk").decode()])})
    write_image(ckpt / "realpic.png", GREEN)
    write_safetensors(ckpt / "alias.safetensors")
    os.symlink(ckpt / "realpic.png", ckpt / "alias.png")                          # symlink inside the root
    return meta


@pytest.fixture(scope="module")
def canaries(server, ckpt, models):
    """Files outside every model root that a careless implementation would read, and links to them."""
    base = Path(server.base)
    outside = base / "canary"
    outside.mkdir(exist_ok=True)
    write_image(outside / "secret.png", CANARY_COLOUR)
    write_image(outside / "secret.preview.png", CANARY_COLOUR)
    write_safetensors(outside / "secret.safetensors", cover_metadata(CANARY_COLOUR, canary=CANARY_TEXT))
    (outside / "secret.txt").write_text(CANARY_TEXT)
    # Next to the checkpoints root itself: "<root>.png" is what a preview of the root would find.
    sibling = ckpt.parent / (ckpt.name + ".png")
    write_image(sibling, CANARY_COLOUR)
    sibling_st = write_safetensors(ckpt.parent / (ckpt.name + ".safetensors"), cover_metadata(CANARY_COLOUR))
    top = ckpt.parent / "canary.safetensors"
    write_safetensors(top, {"canary": CANARY_TEXT})
    # Links inside the root that point out of it.
    write_safetensors(ckpt / "evil.safetensors")
    os.symlink(outside / "secret.png", ckpt / "evil.png")
    os.symlink(outside / "secret.safetensors", ckpt / "escape.safetensors")
    os.symlink(outside, ckpt / "linkdir")
    return {"dir": outside, "files": [outside / "secret.png", outside / "secret.preview.png",
                                      outside / "secret.safetensors", outside / "secret.txt",
                                      sibling, sibling_st, top]}


# --------------------------------------------------------------------------
# /view_metadata
# --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", PREFIXES)
def test_view_metadata_returns_the_metadata_object(server, models, prefix):
    r = get(server, f"{prefix}/view_metadata/checkpoints?filename=meta.safetensors")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.text == json.dumps(models)          # exact json.dumps text, key order as in the file
    r = get(server, f"{prefix}/view_metadata/checkpoints?filename={q('sub/deep/inner.safetensors')}")
    assert r.status_code == 200 and r.text == '{"where": "deep"}'
    r = get(server, f"{prefix}/view_metadata/loras?filename=lora.safetensors")
    assert r.status_code == 200 and r.text == '{"ss_network_alpha": "1.0"}'


def test_view_metadata_resolution_follows_get_full_path(server, models):
    # Legacy folder names are mapped (unet -> diffusion_models), as get_full_path does.
    r = get(server, "/view_metadata/unet?filename=dm.safetensors")
    assert r.status_code == 200 and r.text == '{"kind": "unet"}'
    # '..' is normalised inside the folder rather than refused.
    r = get(server, f"/view_metadata/checkpoints?filename={q('sub/../meta.safetensors')}")
    assert r.status_code == 200 and r.text == json.dumps(models)
    # An empty metadata object is still metadata.
    r = get(server, "/view_metadata/checkpoints?filename=emptymeta.safetensors")
    assert r.status_code == 200 and r.text == "{}"


def test_view_metadata_header_limit_is_one_mib(server, models):
    r = get(server, "/view_metadata/checkpoints?filename=exact1mib.safetensors")
    assert r.status_code == 200 and r.text == '{"big": "1"}'
    assert get(server, "/view_metadata/checkpoints?filename=over1mib.safetensors").status_code == 404


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("target", [
    "/view_metadata/nope?filename=meta.safetensors",             # unknown folder
    "/view_metadata/checkpoints?filename=missing.safetensors",    # missing file
    "/view_metadata/loras?filename=meta.safetensors",             # exists, but in another folder
    "/view_metadata/checkpoints?filename=meta.ckpt",              # not .safetensors (valid content)
    "/view_metadata/checkpoints?filename=model.ckpt",
    "/view_metadata/checkpoints?filename=plain.safetensors",      # no __metadata__
    "/view_metadata/checkpoints?filename=over1mib.safetensors",   # header over 1 MiB
    "/view_metadata/checkpoints?filename=liar.safetensors",       # header length 1 TiB
    "/view_metadata/checkpoints?filename=truncated.safetensors",
    "/view_metadata/checkpoints?filename=short.safetensors",
    "/view_metadata/checkpoints?filename=empty.safetensors",
    "/view_metadata/checkpoints?filename=badjson.safetensors",
    "/view_metadata/checkpoints?filename=listhdr.safetensors",
    "/view_metadata/checkpoints?filename=sub",                    # a directory
    "/view_metadata/checkpoints",                                  # no filename
    "/view_metadata/checkpoints?filename=",
    "/view_metadata/checkpoints?filename=meta.safetensors%00",
])
def test_view_metadata_not_found(server, models, prefix, target):
    r = get(server, prefix + target)
    assert r.status_code == 404, r.text[:200]
    assert CANARY_TEXT not in r.text


# --------------------------------------------------------------------------
# /experiment/models/preview
# --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", PREFIXES)
def test_preview_prefers_the_sidecar_image(server, models, prefix):
    # side.png, side.preview.png and an embedded cover: the plain sidecar wins.
    r = get(server, f"{prefix}/experiment/models/preview/checkpoints/0/side.safetensors")
    assert near(webp_colour(r), RED)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_preview_uses_the_dot_preview_sidecar(server, models, prefix):
    r = get(server, f"{prefix}/experiment/models/preview/checkpoints/0/prev.safetensors")
    assert near(webp_colour(r), GREEN)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_preview_falls_back_to_the_first_embedded_cover(server, models, prefix):
    r = get(server, f"{prefix}/experiment/models/preview/checkpoints/0/covered.safetensors")
    assert near(webp_colour(r), BLUE)


def test_preview_other_formats_and_places(server, models):
    # A JPEG sidecar in a subfolder (the path may be sent with encoded or plain slashes).
    for target in ("sub/jpgside.safetensors", q("sub/jpgside.safetensors")):
        r = get(server, f"/experiment/models/preview/checkpoints/0/{target}")
        assert near(webp_colour(r), YELLOW, tol=20)
    # Extension compared case-insensitively; non-safetensors models; WEBP sidecars re-encoded.
    assert near(webp_colour(get(server, "/experiment/models/preview/checkpoints/0/upper.safetensors")), CYAN)
    assert near(webp_colour(get(server, "/experiment/models/preview/checkpoints/0/other.ckpt")), GREEN)
    # An undecodable sidecar falls through to the embedded cover.
    assert near(webp_colour(get(server, "/experiment/models/preview/checkpoints/0/broken.safetensors")), BLUE)
    # A symlink that stays inside the root is followed.
    assert near(webp_colour(get(server, "/experiment/models/preview/checkpoints/0/alias.safetensors")), GREEN)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("target", [
    "checkpoints/0/nopreview.safetensors",    # metadata, but no cover key
    "checkpoints/0/plain.safetensors",        # no metadata at all
    "checkpoints/0/badcovers.safetensors",    # cover key not JSON
    "checkpoints/0/dictcovers.safetensors",   # cover key not a list
    "checkpoints/0/junkcover.safetensors",    # cover not an image
    "checkpoints/0/missing.safetensors",
    "checkpoints/0/nodir/missing.safetensors",
    "nope/0/side.safetensors",                # unknown folder
    "loras/0/side.safetensors",               # exists only in another folder
    "checkpoints/1/side.safetensors",         # path_index out of range
    "checkpoints/-1/side.safetensors",        # ComfyUI would index from the end
    "checkpoints/+0/side.safetensors",
    "checkpoints/x/side.safetensors",         # ComfyUI answers 500 here
    "checkpoints/99999999999999999999999/side.safetensors",
])
def test_preview_not_found(server, models, prefix, target):
    r = get(server, f"{prefix}/experiment/models/preview/{target}")
    assert r.status_code == 404, r.content[:200]


# --------------------------------------------------------------------------
# Hostile paths
# --------------------------------------------------------------------------

HOSTILE_PREVIEWS = [
    "../checkpoints.safetensors",                           # <root>.png next to the root
    "%2E%2E/checkpoints.safetensors",
    "..%2Fcheckpoints.safetensors",
    "sub/../../checkpoints.safetensors",
    "sub%2F..%2F..%2Fcheckpoints.safetensors",
    ".",                                                    # the root itself -> "<root>.png"
    "./",
    "",
    "%2E",
    "sub/..",
    "..",
    "../canary/secret.safetensors",
    "../../canary/secret.safetensors",
    "{abs}",                                                # absolute path, encoded slash
    "/{abs}",                                               # absolute path after a doubled slash
    "..%5Ccheckpoints.safetensors",                         # backslash
    "evil.safetensors",                                     # sidecar is a symlink leaving the root
    "escape.safetensors",                                   # model is a symlink leaving the root
    "linkdir/secret.safetensors",                           # folder symlink leaving the root
    "linkdir/secret.txt",
    "side.safetensors%00",
    "side%00/../../checkpoints.safetensors",
]

HOSTILE_FOLDERS = [
    "../0/checkpoints.safetensors",
    "%2E%2E/0/checkpoints.safetensors",
    "checkpoints/%2E%2E/checkpoints.safetensors",
    "checkpoints/0%2F..%2F..%2Fcanary/secret.safetensors",
]

HOSTILE_METADATA = [
    "../canary.safetensors",
    "../../canary/secret.safetensors",
    "{abs}",
    "sub/../../canary.safetensors",
    "..%5Ccanary.safetensors",
]


def test_hostile_paths_read_nothing_outside_the_roots(server, ckpt, models, canaries):
    secret = canaries["dir"] / "secret.safetensors"
    targets = []
    for prefix in PREFIXES:
        for t in HOSTILE_PREVIEWS:
            t = t.replace("{abs}", q(str(secret)))
            targets.append(f"{prefix}/experiment/models/preview/checkpoints/0/{t}")
        for t in HOSTILE_FOLDERS:
            targets.append(f"{prefix}/experiment/models/preview/{t}")
        for t in HOSTILE_METADATA:
            t = t.replace("{abs}", q(str(secret)))
            for folder in ("checkpoints", "..", "%2E%2E"):
                targets.append(f"{prefix}/view_metadata/{folder}?filename={t}")
    assert len(targets) >= 10

    base = Path(server.base)
    before = fingerprint(base)
    watch = Inotify([canaries["dir"], *canaries["files"]])
    try:
        # The watcher sees a read: prove it before relying on it.
        (canaries["dir"] / "secret.txt").read_bytes()
        assert any(e[2] & IN_OPEN for e in watch.events())
        assert watch.events() == []

        results, leaks = {}, []
        for t in targets:
            r = get(server, t)
            results[t] = r
            if r.status_code not in (400, 403, 404) or CANARY_TEXT.encode() in r.content:
                leaks.append((t, r.status_code))
            elif r.content[:4] == b"RIFF":
                with Image.open(io.BytesIO(r.content)) as img:
                    if near(img.convert("RGB").getpixel((0, 0)), CANARY_COLOUR, tol=40):
                        leaks.append((t, "canary image"))
        events = watch.events()
        assert leaks == [], f"hostile requests answered: {leaks}"
        assert events == [], f"files outside the model roots were touched: {events}"
    finally:
        watch.close()
    assert fingerprint(base) == before
    # This implementation answers 404 to all of them (the native server may refuse some earlier).
    assert {r.status_code for r in results.values()} == {404}, \
        {t: r.status_code for t, r in results.items() if r.status_code != 404}
    # And the server still serves the legitimate ones.
    assert near(webp_colour(get(server, "/experiment/models/preview/checkpoints/0/side.safetensors")), RED)
    assert get(server, "/view_metadata/checkpoints?filename=meta.safetensors").status_code == 200
