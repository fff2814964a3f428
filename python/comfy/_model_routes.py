"""ComfyUI 0.3.64's safetensors metadata and model preview routes (spec comfyui-api.md sections 2.5,
2.7 and 13), as aiohttp handlers on `PromptServer.routes`.

    GET /view_metadata/{folder_name}?filename=<name>.safetensors
        The `__metadata__` object of the file's JSON header. 404 when the folder or file is unknown,
        the name does not end in `.safetensors`, the header is over 1 MiB, unreadable or not JSON,
        or has no `__metadata__`.

    GET /experiment/models/preview/{folder}/{path_index}/{filename:.*}
        A preview image of the model, re-encoded as WEBP: `<base>.<image ext>`, then
        `<base>.preview.<image ext>` next to the model, then the images of the JSON list in the
        safetensors metadata key `ssmd_cover_images` (base64). 404 when there is none.

`register(prompt_server)` runs inside `PromptServer.add_routes` before the table is mirrored, so both
routes are also served under /api.

Paths: view_metadata resolves like ComfyUI, through `folder_paths.get_full_path` (the name is
re-rooted at '/' so '..' and absolute names cannot climb out of the folder; a symlink placed inside a
model folder is followed, as model folders of symlinked checkpoints are common). The preview route is
stricter than ComfyUI: the name must be relative, without '..' components, NUL, control characters
or backslashes, must name something strictly below the root, and every file it opens (sidecar image,
safetensors) must have its real path (symlinks resolved) inside the real root; anything else is a
404 with nothing opened. ComfyUI answers a bad or out-of-range path_index with a 500; here it is 404.
"""
import asyncio
import base64
import binascii
import io
import json
import logging
import os
import struct

from aiohttp import web

import comfy.utils

try:
    import folder_paths  # the compat module, registered by the app before packs load
except ImportError:  # imported outside the app
    from comfy._compat import folder_paths

log = logging.getLogger(__name__)

METADATA_HEADER_LIMIT = 1024 * 1024      # /view_metadata, as ComfyUI
PREVIEW_HEADER_LIMIT = 8 * 1024 * 1024   # cover images live in the header; ComfyUI allows 8 MiB there
# Sidecar preview extensions, in the order they are preferred (compared case-insensitively).
PREVIEW_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "gif", "bmp")
COVER_KEY = "ssmd_cover_images"


class _NotFound(Exception):
    pass


# --------------------------------------------------------------------------
# safetensors header
# --------------------------------------------------------------------------

def read_safetensors_header(path, max_size):
    """The parsed JSON header of a safetensors file (a dict), or None when the file cannot be read,
    is truncated, declares a header longer than `max_size` bytes, or the header is not a JSON object.

    Layout: 8 bytes little-endian unsigned header length N, then N bytes of UTF-8 JSON."""
    try:
        raw = comfy.utils.safetensors_header(path, max_size)
    except (OSError, ValueError, struct.error):
        return None
    if raw is None:
        return None
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return header if isinstance(header, dict) else None


def _metadata_for(folder_name, filename):
    if not filename.endswith(".safetensors") or "\x00" in filename:
        raise _NotFound()
    try:
        path = folder_paths.get_full_path(folder_name, filename)
    except (OSError, ValueError, TypeError):
        path = None
    if path is None:
        raise _NotFound()
    header = read_safetensors_header(path, METADATA_HEADER_LIMIT)
    if header is None or "__metadata__" not in header:
        raise _NotFound()
    return header["__metadata__"]


# --------------------------------------------------------------------------
# Model preview
# --------------------------------------------------------------------------

def _inside(root, path):
    """True when `path` is strictly below `root` (both absolute and normalised)."""
    try:
        return path != root and os.path.commonpath((root, path)) == root
    except ValueError:
        return False


def _safe_file(real_root, path):
    """The real path of `path` when it is a regular file strictly inside `real_root`, else None
    (callers open that resolved path, not the one named in the request)."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return None
    if not _inside(real_root, real):
        return None
    try:
        return real if os.path.isfile(real) else None
    except (OSError, ValueError):
        return None


def _model_path(folder, path_index, filename):
    """(real root, lexical absolute model path) or raises _NotFound."""
    if folder not in folder_paths.folder_names_and_paths:
        raise _NotFound()
    if not path_index.isascii() or not path_index.isdigit():
        raise _NotFound()
    roots = folder_paths.get_folder_paths(folder)
    index = int(path_index)
    if index >= len(roots):
        raise _NotFound()
    if not filename or filename.startswith("/") or any(ord(c) < 0x20 or c in "\\\x7f" for c in filename):
        raise _NotFound()
    parts = filename.split("/")
    if any(p == ".." for p in parts):
        raise _NotFound()
    root = os.path.normpath(os.path.abspath(roots[index]))
    full = os.path.normpath(os.path.join(root, filename))
    if not _inside(root, full):
        raise _NotFound()
    try:
        real_root = os.path.realpath(root)
    except (OSError, ValueError):
        raise _NotFound()
    # The folder holding the model must itself resolve inside the root (no symlinked escape).
    try:
        real_dir = os.path.realpath(os.path.dirname(full))
    except (OSError, ValueError):
        raise _NotFound()
    if real_dir != real_root and not _inside(real_root, real_dir):
        raise _NotFound()
    if not os.path.isdir(real_dir):
        raise _NotFound()
    return real_root, full


def _sidecar_images(real_root, full):
    """Sidecar preview paths of the model at `full`: `<base>.<ext>` first, then `<base>.preview.<ext>`."""
    directory, name = os.path.split(full)
    base = os.path.splitext(name)[0]
    try:
        entries = sorted(os.listdir(directory))
    except (OSError, ValueError):
        return []
    found = {}
    for entry in entries:
        if not entry.startswith(base + "."):
            continue
        rest = entry[len(base) + 1:].lower()
        preview = rest.startswith("preview.")
        ext = rest[len("preview."):] if preview else rest
        if ext in PREVIEW_EXTENSIONS:
            found.setdefault((preview, PREVIEW_EXTENSIONS.index(ext)), entry)
    out = []
    for key in sorted(found):
        path = _safe_file(real_root, os.path.join(directory, found[key]))
        if path is not None:
            out.append(path)
    return out


def _cover_images(real_root, full):
    """Decoded bytes of the base64 images in the model's `ssmd_cover_images` metadata."""
    base = os.path.splitext(full)[0]
    candidate = full if full.endswith(".safetensors") else base + ".safetensors"
    path = _safe_file(real_root, candidate)
    if path is None:
        return []
    header = read_safetensors_header(path, PREVIEW_HEADER_LIMIT)
    metadata = header.get("__metadata__") if header else None
    covers = metadata.get(COVER_KEY) if isinstance(metadata, dict) else None
    if not isinstance(covers, str) or not covers:
        return []
    try:
        covers = json.loads(covers)
    except (ValueError, RecursionError):
        return []
    if not isinstance(covers, list):
        return []
    out = []
    for item in covers:
        if not isinstance(item, str):
            continue
        try:
            out.append(base64.b64decode(item))
        except (binascii.Error, ValueError):
            continue
    return out


def _to_webp(source):
    from PIL import Image
    with Image.open(source) as img:
        img.load()
        buf = io.BytesIO()
        img.save(buf, format="WEBP")
        return buf.getvalue()


def _preview_for(folder, path_index, filename):
    real_root, full = _model_path(folder, path_index, filename)
    for path in _sidecar_images(real_root, full):
        try:
            return _to_webp(path)
        except Exception as e:  # an unreadable sidecar falls through to the next candidate
            log.debug("model preview: cannot decode %s: %s", path, e)
    for data in _cover_images(real_root, full):
        try:
            return _to_webp(io.BytesIO(data))
        except Exception as e:
            log.debug("model preview: cannot decode a cover image of %s: %s", full, e)
    raise _NotFound()


# --------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------

async def _off_loop(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def add_routes(routes):
    @routes.get("/view_metadata/{folder_name}")
    async def view_metadata(request):
        folder_name = request.match_info.get("folder_name")
        filename = request.rel_url.query.get("filename")
        if not folder_name or filename is None:
            return web.Response(status=404)
        try:
            metadata = await _off_loop(_metadata_for, folder_name, filename)
        except _NotFound:
            return web.Response(status=404)
        return web.json_response(metadata)

    @routes.get("/experiment/models/preview/{folder}/{path_index}/{filename:.*}")
    async def get_model_preview(request):
        info = request.match_info
        try:
            body = await _off_loop(_preview_for, info.get("folder", ""), info.get("path_index", ""),
                                   info.get("filename", ""))
        except _NotFound:
            return web.Response(status=404)
        return web.Response(body=body, content_type="image/webp")


def register(prompt_server):
    """Adds the routes to `prompt_server.routes` (mirrored under /api by add_routes afterwards)."""
    add_routes(prompt_server.routes)


__all__ = ["register", "add_routes", "read_safetensors_header"]
