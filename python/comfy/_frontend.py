"""Where the web UI comes from (spec section 11): --front-end-root, else the pinned
comfyui-frontend-package's static folder."""
import importlib
import importlib.resources
import logging
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


def static_mounts():
    """[url prefix, folder] for the workflow templates and the embedded node docs, when installed."""
    mounts = []
    for prefix, module, sub in (("/templates", "comfyui_workflow_templates", "templates"),
                                ("/docs", "comfyui_embedded_docs", "docs")):
        try:
            folder = importlib.resources.files(importlib.import_module(module)) / sub
        except ImportError:
            continue
        if os.path.isdir(str(folder)):
            mounts.append([prefix, str(folder)])
    return mounts
