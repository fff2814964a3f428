"""Start-up of `python -m comfy`: flags, folders, custom nodes, then the native server, with the
asyncio loop on the main thread (architecture section 1)."""
import asyncio
import gc
import json
import logging
import os
import shutil
import signal
import sys
import tempfile

from comfy import COMFYUI_VERSION, cli_args

log = logging.getLogger("comfy")


def _register_compat_modules():
    from comfy._compat import folder_paths, protocol
    sys.modules.setdefault("folder_paths", folder_paths)
    sys.modules.setdefault("protocol", protocol)
    from comfy._compat import latent_preview, node_helpers
    sys.modules.setdefault("node_helpers", node_helpers)
    sys.modules.setdefault("latent_preview", latent_preview)
    from comfy._compat import nodes
    sys.modules.setdefault("nodes", nodes)
    from comfy._compat import execution
    sys.modules.setdefault("execution", execution)
    from comfy._compat import server
    sys.modules.setdefault("server", server)
    import importlib
    for name in ("comfy_execution", "comfy_api"):  # packages: submodules resolve via __path__
        try:
            sys.modules.setdefault(name, importlib.import_module("comfy._compat." + name))
        except ImportError as e:
            log.warning("compat package %s unavailable: %s", name, e)
    return folder_paths, nodes


def _setup_logging(level):
    logging.basicConfig(level=getattr(logging, str(level).upper(), logging.INFO), format="%(message)s")


def _setup_paths(args, folder_paths):
    base = os.path.abspath(args.base_directory or os.getcwd())
    folder_paths.set_comfy_root(base)
    folder_paths.init(base)
    default_yaml = os.path.join(base, "extra_model_paths.yaml")
    if os.path.isfile(default_yaml):
        folder_paths.load_extra_model_paths(default_yaml)
    for group in args.extra_model_paths_config or []:
        for path in group if isinstance(group, (list, tuple)) else [group]:
            folder_paths.load_extra_model_paths(os.path.abspath(path))
    if args.output_directory:
        folder_paths.set_output_directory(os.path.abspath(args.output_directory))
    if args.input_directory:
        folder_paths.set_input_directory(os.path.abspath(args.input_directory))
    if args.user_directory:
        folder_paths.set_user_directory(os.path.abspath(args.user_directory))
    if args.temp_directory:
        folder_paths.set_temp_directory(os.path.join(os.path.abspath(args.temp_directory), "temp"))
    for d in (folder_paths.get_output_directory(), folder_paths.get_input_directory(), folder_paths.get_user_directory()):
        os.makedirs(d, exist_ok=True)
    _wipe_temp(folder_paths)
    os.makedirs(folder_paths.get_temp_directory(), exist_ok=True)
    return base


def _wipe_temp(folder_paths):
    temp = folder_paths.get_temp_directory()
    if os.path.isdir(temp):
        shutil.rmtree(temp, ignore_errors=True)


def _load_nodes(args, folder_paths, nodes_module):
    from comfy import _loader, _nodes_builtin, _nodes_extras, _nodes_v3_builtin
    _nodes_builtin.DISABLE_METADATA = bool(args.disable_metadata)
    mappings = dict(_nodes_builtin.NODE_CLASS_MAPPINGS)
    names = dict(_nodes_builtin.NODE_DISPLAY_NAME_MAPPINGS)
    mappings.update(_nodes_extras.NODE_CLASS_MAPPINGS)
    names.update(_nodes_extras.NODE_DISPLAY_NAME_MAPPINGS)
    mappings.update(_nodes_v3_builtin.NODE_CLASS_MAPPINGS)
    names.update(_nodes_v3_builtin.NODE_DISPLAY_NAME_MAPPINGS)
    # Native (libtorch) bodies for the image/mask/latent nodes, before packs subclass them.
    from comfy import _native_nodes
    _native_nodes.install(mappings, enabled=False if args.disable_native_nodes else None)
    dirs = folder_paths.get_folder_paths("custom_nodes")
    disabled = bool(args.disable_all_custom_nodes)
    whitelist = tuple(args.whitelist_custom_nodes or ())
    _loader.run_prestartup_scripts(dirs, disabled=disabled, whitelist=whitelist)
    result = _loader.load_custom_nodes(dirs, disabled=disabled, whitelist=whitelist, ignore=tuple(mappings))
    mappings.update(result.node_class_mappings)
    names.update(result.display_name_mappings)
    nodes_module.NODE_CLASS_MAPPINGS.clear()
    nodes_module.NODE_CLASS_MAPPINGS.update(mappings)
    nodes_module.NODE_DISPLAY_NAME_MAPPINGS.clear()
    nodes_module.NODE_DISPLAY_NAME_MAPPINGS.update(names)
    nodes_module.EXTENSION_WEB_DIRS.update(result.extension_web_dirs)
    nodes_module.LOADED_MODULE_DIRS.update(result.loaded_module_dirs)
    return mappings, names


def _system_stats(args):
    import torch
    devices = []
    if not args.cpu and torch.cuda.is_available():
        i = torch.cuda.current_device()
        free, total = torch.cuda.mem_get_info(i)
        devices.append({"name": f"cuda:{i} {torch.cuda.get_device_name(i)} : cudaMallocAsync", "type": "cuda",
                        "index": i, "vram_total": total, "vram_free": free, "torch_vram_total": total,
                        "torch_vram_free": free})
    else:
        devices.append({"name": "cpu", "type": "cpu", "index": None, "vram_total": 0, "vram_free": 0,
                        "torch_vram_total": 0, "torch_vram_free": 0})
    exe_dir = os.path.split(os.path.dirname(sys.executable))[1]
    return {
        "system": {
            "os": os.name, "ram_total": 0, "ram_free": 0, "comfyui_version": COMFYUI_VERSION,
            "required_frontend_version": None, "installed_templates_version": None,
            "required_templates_version": None, "python_version": sys.version,
            "pytorch_version": torch.version.__version__, "embedded_python": exe_dir == "python_embeded",
            "argv": sys.argv,
        },
        "devices": devices,
    }


def _hosts(listen):
    hosts = [h.strip() for h in (listen or "127.0.0.1").split(",") if h.strip()]
    return hosts or ["127.0.0.1"]


def main(argv=None):
    args = cli_args.parse_args(argv)
    cli_args.set_args(args)
    _setup_logging(args.verbose)
    folder_paths, nodes_module = _register_compat_modules()
    _setup_paths(args, folder_paths)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C at any point from here exits cleanly
        loop.add_signal_handler(sig, loop.stop)
    from comfy._compat.server import PromptServer
    prompt_server = PromptServer(loop)  # before packs import: they register routes at import time
    mappings, names = _load_nodes(args, folder_paths, nodes_module)
    from comfy import _frontend
    web_root = _frontend.web_root(args)
    prompt_server.web_root = web_root
    prompt_server.add_routes(nodes_module.EXTENSION_WEB_DIRS)
    upstream_dir = tempfile.mkdtemp(prefix="comfy-")
    upstream = os.path.join(upstream_dir, "routes.sock")
    loop.run_until_complete(prompt_server.start_upstream(upstream))

    from comfy import _core, _routes, _runtime, utils
    _runtime.MAPPINGS = mappings
    utils.install_native_hook()
    upload_bytes = args.max_upload_size * 1024 * 1024
    config = {
        "hosts": _hosts(args.listen),
        "port": int(args.port),
        "max_body": int(round(upload_bytes)),
        "cors_origin": args.enable_cors_header,
        "features": {"supports_preview_metadata": True, "max_upload_size": upload_bytes},
        "system_stats": _system_stats(args),
        "cache_mode": "lru" if args.cache_lru > 0 else "none" if args.cache_none else "classic",
        "cache_lru": max(0, int(args.cache_lru)),
        "threads": 2,
        "python_upstream": upstream,
        "web_root": web_root,
        "static_mounts": _frontend.static_mounts(),
        "dirs": {"input": folder_paths.get_input_directory(), "output": folder_paths.get_output_directory(),
                 "temp": folder_paths.get_temp_directory(), "user": folder_paths.get_user_directory()},
    }
    server = _core.Server(config, _runtime, _routes.make_handler(mappings, names))
    try:
        port = server.start()
    except RuntimeError as e:
        log.error("Could not start the server: %s", e)
        loop.run_until_complete(prompt_server.stop_upstream())
        shutil.rmtree(upstream_dir, ignore_errors=True)
        return 1
    prompt_server.attach(server)
    # Start-up objects (torch, packs, node classes) live for the whole process: freezing them keeps
    # the cyclic GC from re-scanning them during every prompt (it was a quarter of executor time).
    gc.collect()
    gc.freeze()
    if not args.dont_print_server:
        shown = config["hosts"][0]
        shown = "127.0.0.1" if shown in ("0.0.0.0", "::") else shown
        log.info("Starting server\n")
        log.info("To see the GUI go to: http://%s:%d", shown, port)
    sys.stdout.flush()
    try:
        return _serve(loop, server, folder_paths)
    finally:
        loop.run_until_complete(prompt_server.stop_upstream())
        loop.close()
        shutil.rmtree(upstream_dir, ignore_errors=True)


def _serve(loop, server, folder_paths):
    loop.add_reader(server.task_fd(), server.run_tasks)
    try:
        loop.run_forever()
    finally:
        loop.remove_reader(server.task_fd())
        server.stop()
        _wipe_temp(folder_paths)
    return 0
