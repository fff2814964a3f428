"""Routes answered by Python (run on the main thread, called by the native server): node
definitions and model folder listings (spec sections 2.2 and 2.4), and the image half of the file
routes (spec section 2.5): `/view` re-encoding and the `/upload/mask` composite, decoded and encoded
by comfy._media (native; Pillow decodes what libpng should not). The native side has already
resolved and checked every path it passes here."""
import io
import json
import logging
import os

import numpy as np

JSON_TYPE = "application/json; charset=utf-8"


def node_info(name, cls, display_names):
    from comfy_api.internal import is_v3, node_info_v1
    if is_v3(cls):
        return node_info_v1(cls, display_names)
    info = {}
    input_types = cls.INPUT_TYPES()
    info["input"] = input_types
    info["input_order"] = {key: list(value.keys()) for (key, value) in input_types.items()}
    info["output"] = cls.RETURN_TYPES
    info["output_is_list"] = cls.OUTPUT_IS_LIST if hasattr(cls, "OUTPUT_IS_LIST") else [False] * len(cls.RETURN_TYPES)
    info["output_name"] = cls.RETURN_NAMES if hasattr(cls, "RETURN_NAMES") else info["output"]
    info["name"] = name
    info["display_name"] = display_names.get(name, name)
    info["description"] = cls.DESCRIPTION if hasattr(cls, "DESCRIPTION") else ""
    info["python_module"] = getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes")
    info["category"] = getattr(cls, "CATEGORY", "sd")
    info["output_node"] = hasattr(cls, "OUTPUT_NODE") and cls.OUTPUT_NODE is True
    if hasattr(cls, "OUTPUT_TOOLTIPS"):
        info["output_tooltips"] = cls.OUTPUT_TOOLTIPS
    if getattr(cls, "DEPRECATED", False):
        info["deprecated"] = True
    if getattr(cls, "EXPERIMENTAL", False):
        info["experimental"] = True
    if hasattr(cls, "API_NODE"):
        info["api_node"] = cls.API_NODE
    return info


TEXT_TYPE = "text/plain; charset=utf-8"


def _first_values(query):
    out = {}
    for key, value in query:
        out.setdefault(key, value)
    return out


def _preview_params(q):
    """ComfyUI's reading of `preview=fmt;quality` and `channel`: (format, quality, force RGB)."""
    info = q["preview"].split(";")
    fmt = info[0]
    if fmt not in ("webp", "jpeg") or "a" in q.get("channel", ""):
        fmt = "webp"
    quality = int(info[-1]) if info[-1].isdigit() else 90
    return fmt, quality, fmt == "jpeg" or q.get("channel", "") == "rgb"


def _view_native(decoded, q):
    """view_image for a PNG decoded natively (L, LA, RGB or RGBA pixels), encoded natively."""
    from comfy import _media
    if "preview" in q:
        fmt, quality, rgb = _preview_params(q)
        if fmt == "jpeg":
            return 200, "image/jpeg", _media.encode_jpeg(decoded.to_mode("RGB"), quality)
        # Pillow's WebP writer turns L into RGB and LA into RGBA (LA carries transparency).
        mode = "RGB" if rgb or decoded.mode in ("L", "RGB") else "RGBA"
        return 200, "image/webp", _media.encode_webp(decoded.to_mode(mode), quality)
    if q.get("channel", "rgba") == "rgb":
        out = decoded.to_mode("RGB")
    else:  # "a": black RGB carrying the source alpha, only RGBA sources have one (as in ComfyUI)
        out = np.zeros(decoded.pixels.shape[:2] + (4,), np.uint8)
        out[..., 3] = decoded.pixels[..., 3] if decoded.mode == "RGBA" else 255
    return 200, "image/png", _media.encode_png(out, 6)  # Pillow's default level


def _view_pillow(path, q):
    """view_image through Pillow's decoder (non-PNG files and unusual PNGs), encoded natively where
    the converted image allows (comfy._media.encode_pil)."""
    from PIL import Image
    from comfy import _media
    with Image.open(path) as img:
        if "preview" in q:
            fmt, quality, rgb = _preview_params(q)
            if rgb:
                img = img.convert("RGB")
            return 200, "image/" + fmt, _media.encode_pil(img, fmt, quality=quality)
        channel = q.get("channel", "rgba")
        if channel == "rgb":
            if img.mode == "RGBA":
                r, g, b, _ = img.split()
                out = Image.merge("RGB", (r, g, b))
            else:
                out = img.convert("RGB")
        else:  # "a": black RGB carrying the source alpha (opaque when there is none)
            alpha = img.split()[3] if img.mode == "RGBA" else Image.new("L", img.size, 255)
            out = Image.new("RGBA", img.size)
            out.putalpha(alpha)
        return 200, "image/png", _media.encode_pil(out, "PNG")


def view_image(path, query):
    """GET /view with `preview` or `channel=rgb|a` (server.py view_image): the re-encoded image as
    (status, content type, bytes). PNGs decode natively (libpng) unless Pillow's result could
    differ; everything is encoded natively. Images that cannot be decoded are a 400 (ComfyUI: 500)."""
    from comfy import _media
    q = _first_values(query)
    try:
        decoded = _media.decode_file(path)
        if decoded is not None:
            return _view_native(decoded, q)
        return _view_pillow(path, q)
    except Exception as e:  # undecodable, truncated, decompression bomb, bad quality value
        logging.warning("/view: cannot re-encode %r: %s", os.path.basename(path), e)
        return 400, TEXT_TYPE, f"cannot decode or re-encode the image: {e}".encode()


def _mask_alpha(mask_bytes):
    """The uploaded mask's alpha as Pillow's .convert("RGBA").getchannel("A") gives it."""
    from PIL import Image
    from comfy import _media
    decoded = _media.decode_png(mask_bytes)
    if decoded is not None:
        return decoded.to_mode("RGBA")[..., 3]
    with Image.open(io.BytesIO(mask_bytes)) as mask:
        return np.asarray(mask.convert("RGBA").getchannel("A"))


def composite_mask(original, mask_bytes, target_ext):
    """POST /upload/mask (server.py upload_mask): the original converted to RGBA with its alpha
    replaced by the uploaded image's alpha, its PNG text chunks kept, encoded in the format of the
    target name's extension (Pillow picks it from the path in ComfyUI; PNG, compress level 4).
    PNG originals decode natively when they can, and PNG output is encoded natively."""
    from PIL import Image
    from comfy import _media

    fmt = Image.registered_extensions().get(target_ext.lower()) if target_ext else None
    if fmt is None:
        return 400, TEXT_TYPE, f"unknown image file extension {target_ext!r}".encode()
    try:
        decoded = _media.decode_file(original) if fmt == "PNG" else None
        if decoded is not None:
            rgba, text = decoded.to_mode("RGBA"), decoded.text
        else:
            with Image.open(original) as original_pil:
                text = _media.text_entries(getattr(original_pil, "text", {}))
                converted = original_pil.convert("RGBA")
            if fmt != "PNG" or "icc_profile" in converted.info:
                return _composite_pillow(converted, mask_bytes, fmt, text)
            rgba = np.array(converted)
        alpha = _mask_alpha(mask_bytes)
        if alpha.shape != rgba.shape[:2]:
            raise ValueError("images do not match")  # Pillow's putalpha message
        rgba = np.ascontiguousarray(rgba)
        rgba[..., 3] = alpha
        return 200, "image/png", _media.encode_png(rgba, 4, text)
    except Exception as e:
        logging.warning("/upload/mask: cannot composite onto %r: %s", os.path.basename(original), e)
        return 400, TEXT_TYPE, f"cannot composite the mask: {e}".encode()


def _composite_pillow(rgba, mask_bytes, fmt, text):
    """composite_mask entirely in Pillow, for targets other than PNG (or PNGs whose ICC profile
    Pillow would carry over)."""
    from PIL import Image
    from comfy import _media
    mask = Image.open(io.BytesIO(mask_bytes)).convert("RGBA")
    rgba.putalpha(mask.getchannel("A"))
    buf = io.BytesIO()
    rgba.save(buf, format=fmt, compress_level=4, pnginfo=_media._pnginfo(text))
    return 200, "image/png", buf.getvalue()


def _model_files(folder_paths, folder):
    """Model manager listing (spec §2.7): files with a PyTorch/safetensors extension under each root
    of the folder, hidden entries and .git skipped."""
    out = []
    exts = set(folder_paths.supported_pt_extensions)
    for index, root in enumerate(folder_paths.get_folder_paths(folder)):
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != ".git")
            for name in sorted(filenames):
                if name.startswith(".") or os.path.splitext(name)[1].lower() not in exts:
                    continue
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                out.append({"name": rel, "pathIndex": index, "modified": st.st_mtime, "created": st.st_ctime,
                            "size": st.st_size})
    return out


def _folders_signature(folder_paths):
    """Modification times of the input folder and of every model folder with its subfolders: what
    INPUT_TYPES of file-listing nodes (LoadImage, the loaders) read. Adding, removing or renaming a
    file changes its folder's mtime."""
    roots = {folder_paths.get_input_directory()}
    for name, (paths, _exts) in folder_paths.folder_names_and_paths.items():
        if name != "custom_nodes":
            roots.update(paths)
    sig = []
    for root in sorted(roots):
        for dirpath, _dirs, _files in os.walk(root, followlinks=True):
            try:
                sig.append((dirpath, os.stat(dirpath).st_mtime_ns))
            except OSError:
                continue
    return tuple(sig)


class _ObjectInfoCache:
    """GET /object_info, kept as one serialised fragment per class (spec decisions: cached only
    while nothing it depends on changes). Every fragment is dropped when a watched folder changes
    (an upload shows up in the next answer); a class whose INPUT_TYPES answers differently on two
    consecutive calls is never cached; a class that raises is logged and left out each time, as
    ComfyUI does. The answer's bytes equal json.dumps of the whole dict."""

    def __init__(self, mappings, display_names, folder_paths):
        self.mappings, self.display_names, self.folder_paths = mappings, display_names, folder_paths
        self.signature = None
        self.whole = None
        self.fragments = {}
        self.volatile = set()
        self.checked = set()

    def _fragment(self, name, cls):
        info = node_info(name, cls, self.display_names)
        text = json.dumps(info)
        if name not in self.checked:
            self.checked.add(name)
            if json.dumps(node_info(name, cls, self.display_names)) != text:
                self.volatile.add(name)
        return json.dumps(name) + ": " + text

    def body(self):
        signature = _folders_signature(self.folder_paths)
        if signature != self.signature:
            self.fragments.clear()
            self.whole = None
            self.signature = signature
        if self.whole is not None:  # nothing volatile, nothing failing: the same bytes again
            return self.whole
        parts = []
        complete = True
        with self.folder_paths.cache_helper:
            for name, cls in self.mappings.items():
                fragment = self.fragments.get(name)
                if fragment is None:
                    try:
                        fragment = self._fragment(name, cls)
                    except Exception:
                        logging.exception("[ERROR] An error occurred while retrieving information for the '%s' node.",
                                          name)
                        complete = False
                        continue
                    if name not in self.volatile:
                        self.fragments[name] = fragment
                parts.append(fragment)
        whole = ("{" + ", ".join(parts) + "}").encode()
        if complete and not self.volatile:
            self.whole = whole
        return whole


def make_handler(mappings, display_names):
    import folder_paths

    def _json(value, status=200):
        return (status, JSON_TYPE, json.dumps(value).encode())

    cache = _ObjectInfoCache(mappings, display_names, folder_paths)

    def handler(route, method, path, query, params, body):
        if route == "/view:image":
            return view_image(params["file"], query)
        if route == "/upload/mask:composite":
            return composite_mask(params["original"], body, params.get("target_ext", ""))
        if route == "/object_info":
            return (200, JSON_TYPE, cache.body())
        if route == "/object_info/{node_class}":
            name = params.get("node_class")
            if name in mappings:
                return _json({name: node_info(name, mappings[name], display_names)})
            return _json({})
        if route == "/embeddings":
            names = folder_paths.get_filename_list("embeddings")
            return _json([os.path.splitext(x)[0] for x in names])
        if route == "/models":
            return _json(list(folder_paths.folder_names_and_paths.keys()))
        if route == "/experiment/models":
            return _json([{"name": k, "folders": list(folder_paths.get_folder_paths(k))}
                          for k in folder_paths.folder_names_and_paths if k not in ("configs", "custom_nodes")])
        if route == "/experiment/models/{folder}":
            folder = params.get("folder")
            if folder not in folder_paths.folder_names_and_paths:
                return (404, "application/octet-stream", b"")
            return _json(_model_files(folder_paths, folder))
        if route == "/models/{folder}":
            folder = params.get("folder")
            if folder not in folder_paths.folder_names_and_paths:
                return (404, "application/octet-stream", b"")
            return _json(folder_paths.get_filename_list(folder))
        return (404, "text/plain; charset=utf-8", b"404: Not Found")

    return handler
