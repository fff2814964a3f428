"""Where the web UI comes from (spec section 11): --front-end-root, else the pinned
comfyui-frontend-package's static folder; and the workflow templates and node docs beside it.

Workflow templates come in two layouts, told apart by the installed comfyui-workflow-templates
version as ComfyUI does: before 0.3.0 one `templates/` folder inside the package (a native static
mount at /templates); from 0.3.0 on a meta package whose files live in several bundle packages
(json, media-api, media-image, ...) listed by a manifest. ComfyUI then serves exactly the
manifest's files, by name (some names have a folder, `logo/x.png`): `GET /templates/{path}` maps
the name through the package's own `get_asset_path`, anything else is 404. Several bundles hold
files the manifest does not list, or the same name twice, so a union of their folders would not
serve the same thing; that route is a Python one (`register_templates`).
"""
import functools
import importlib
import importlib.metadata
import importlib.resources
import logging
import mimetypes
import os


def web_root(args):
    if args.front_end_root:
        root = os.path.abspath(args.front_end_root)
        if not os.path.isdir(root):
            raise SystemExit(f"--front-end-root: {root} is not a directory")
        return root
    try:
        import comfyui_frontend_package
    except ImportError:
        logging.warning("comfyui-frontend-package is not installed: the web UI is not served")
        return ""
    return str(importlib.resources.files(comfyui_frontend_package) / "static")


def core_extension_scripts(root):
    """'/extensions/...js' URLs of the web root's own extensions, as ComfyUI lists them first."""
    out = []
    ext = os.path.join(root, "extensions") if root else ""
    if not ext or not os.path.isdir(ext):
        return out
    for dirpath, _, names in os.walk(ext):
        for name in sorted(names):
            if name.endswith(".js"):
                out.append("/" + os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return sorted(out)


def _version_tuple(text):
    return tuple(int(x) for x in text.split("."))


def _package_folder(module, sub):
    try:
        folder = importlib.resources.files(importlib.import_module(module)) / sub
    except ImportError:
        return None
    return str(folder) if os.path.isdir(str(folder)) else None


@functools.lru_cache(maxsize=1)
def templates_layout():
    """("legacy", folder), ("manifest", {name: path}) or (None, None) when nothing is installed."""
    try:
        installed = importlib.metadata.version("comfyui-workflow-templates")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    legacy = True
    if installed:
        try:
            legacy = _version_tuple(installed) < (0, 3, 0)
        except ValueError:
            logging.warning("Unable to parse templates version '%s'", installed)
    if legacy:
        folder = _package_folder("comfyui_workflow_templates", "templates")
        return ("legacy", folder) if folder else (None, None)
    try:
        from comfyui_workflow_templates import get_asset_path, iter_templates
        assets = {}
        for entry in iter_templates():
            for asset in entry.assets:
                assets[asset.filename] = get_asset_path(entry.template_id, asset.filename)
    except Exception as e:  # a bundle package missing or broken: no templates, as ComfyUI
        logging.error("Failed to resolve workflow template assets: %s", e)
        return None, None
    if not assets:
        logging.error("No workflow template assets found. Did the packages install correctly?")
        return None, None
    return "manifest", assets


def static_mounts():
    """[url prefix, folder] for the native static mounts: the legacy templates folder and the
    embedded node docs, when installed."""
    mounts = []
    kind, folder = templates_layout()
    if kind == "legacy":
        mounts.append(["/templates", folder])
    docs = _package_folder("comfyui_embedded_docs", "docs")
    if docs:
        mounts.append(["/docs", docs])
    return mounts


def register_templates(app):
    """GET /templates/{path} over the manifest's files (templates 0.3.0 and later)."""
    kind, assets = templates_layout()
    if kind != "manifest":
        return
    from aiohttp import web

    async def serve_template(request):
        target = assets.get(request.match_info.get("path", ""))
        if target is None:
            raise web.HTTPNotFound()
        # aiohttp guesses with its own table, built from the system's mime.types (none in slim
        # images: .webp thumbnails would go out as application/octet-stream); ask the global one.
        kind = mimetypes.guess_type(target)[0] or "application/octet-stream"
        return web.FileResponse(target, headers={"Content-Type": kind})

    app.router.add_get("/templates/{path:.*}", serve_template)


def init_web_mime_types():
    """The web types ComfyUI registers at start-up (packs guessing types see them too); the
    templates route answers with them, as the native static files do."""
    mimetypes.init()
    mimetypes.add_type("application/javascript; charset=utf-8", ".js")
    mimetypes.add_type("image/webp", ".webp")
    mimetypes.add_type("image/svg+xml", ".svg")
    mimetypes.add_type("image/x-exr", ".exr")


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pbm", ".pgm", ".tif", ".tiff", ".webp")


async def add_cache_control(request, response):
    """ComfyUI's cache_control middleware for the responses of the Python app (templates, pack
    statics and routes); the native server adds the same to its own. An aiohttp on_response_prepare
    signal, not a middleware: app middlewares make every native request take a preflight."""
    path = request.path.lower()
    name = path.rsplit("/", 1)[-1]
    if path.endswith((".js", ".css")) or (name.startswith("index") and name.endswith(".json")):
        response.headers.setdefault("Cache-Control", "no-cache")
    elif path.endswith(IMAGE_EXTENSIONS):
        status = response.status
        if status == 404:
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        elif status in (200, 201, 202, 203, 204, 205, 206, 301, 308):
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
        elif status in (302, 303, 307):
            response.headers.setdefault("Cache-Control", "no-cache")
