"""Custom node pack loading, following ComfyUI 0.3.64 (nodes.py / main.py).

Packs rely on the details: a package is registered in sys.modules under its full
directory path (dots replaced by '_x_') *before* it executes, so relative imports
work and two packs with the same folder name in different custom_nodes dirs do not
collide; built-in node names cannot be overridden; one failing pack never stops the
others. The pack's parent directory is not added to sys.path.
"""
import asyncio
import importlib.util
import inspect
import logging
import os
import sys
import threading
import time
import traceback

try:
    import tomllib
except ImportError:  # Python < 3.11
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None


class LoadResult:
    """What loading produced; the app copies these into the `nodes` module."""

    def __init__(self):
        self.node_class_mappings = {}
        self.display_name_mappings = {}
        self.extension_web_dirs = {}      # name -> absolute web dir (served at /extensions/<name>/)
        self.loaded_module_dirs = {}      # module name -> absolute module dir
        self.failed = []                  # module paths that failed to import
        self.import_times = []            # (seconds, module path, success)


def get_module_name(module_path):
    """custom_nodes/foo.py -> foo; custom_nodes/foo/ -> foo."""
    base = os.path.basename(module_path.rstrip("/\\"))
    if os.path.isfile(module_path):
        base = os.path.splitext(base)[0]
    return base


def _run_sync(value):
    """Awaits `value` if it is awaitable, from sync code, even when the calling
    thread already runs an event loop (then on a helper thread)."""
    if not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(value))
    box = {}

    def runner():
        try:
            box["value"] = asyncio.run(_await(value))
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e
    t = threading.Thread(target=runner)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _await(value):
    return await value


def _import_module(module_path):
    """Executes a pack; returns (module, module_name, module_dir)."""
    if os.path.isfile(module_path):
        # ComfyUI keys single-file modules by their path without extension.
        module_name = os.path.splitext(module_path)[0]
        sys_name = module_name
        init_file, module_dir = module_path, os.path.split(module_path)[0]
    else:
        module_name = get_module_name(module_path)
        sys_name = module_path.replace(".", "_x_")
        init_file, module_dir = os.path.join(module_path, "__init__.py"), module_path
        if not os.path.isfile(init_file):
            raise ImportError(f"No __init__.py in {module_path}")
    spec = importlib.util.spec_from_file_location(sys_name, init_file)
    module = importlib.util.module_from_spec(spec)
    # Registered before execution so the pack's relative imports find their parent.
    sys.modules[sys_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(sys_name, None)
        raise
    return module, module_name, module_dir


def _pyproject_web_dir(module_path, result):
    """`[tool.comfy] web = "<dir>"` in a pack's pyproject.toml also registers a web dir."""
    toml_path = os.path.join(module_path, "pyproject.toml")
    if tomllib is None or not os.path.isfile(toml_path):
        return
    try:
        with open(toml_path, "rb") as f:
            data = tomllib.load(f)
        web = data.get("tool", {}).get("comfy", {}).get("web")
        name = data.get("project", {}).get("name")
        if web and name:
            web_path = os.path.join(module_path, web)
            if os.path.isdir(web_path):
                result.extension_web_dirs[name] = web_path
                logging.info("Automatically register web folder {} for {}".format(web, name))
    except Exception as e:
        logging.warning(f"Unable to parse {toml_path}: {e}")


def _register_v1(module, module_path, ignore, module_parent, result):
    relative = "{}.{}".format(module_parent, get_module_name(module_path))
    for name, node_cls in module.NODE_CLASS_MAPPINGS.items():
        if name not in ignore:
            result.node_class_mappings[name] = node_cls
            try:
                node_cls.RELATIVE_PYTHON_MODULE = relative
            except (AttributeError, TypeError):
                pass  # e.g. a locked V3 class; the mapping still counts
    display = getattr(module, "NODE_DISPLAY_NAME_MAPPINGS", None)
    if display is not None:
        # 0.3.64 merges display names unfiltered.
        result.display_name_mappings.update(display)


def _node_schema(node_cls):
    getter = getattr(node_cls, "GET_SCHEMA", None) or getattr(node_cls, "define_schema")
    return getter()


def _register_v3(module, module_path, ignore, module_parent, result):
    entrypoint = getattr(module, "comfy_entrypoint")
    if not callable(entrypoint):
        logging.warning(f"comfy_entrypoint in {module_path} is not callable, skipping.")
        return False
    try:
        extension = _run_sync(entrypoint())
        if not hasattr(extension, "get_node_list"):
            logging.warning(f"comfy_entrypoint in {module_path} did not return a ComfyExtension, skipping.")
            return False
        node_list = _run_sync(extension.get_node_list())
        if not isinstance(node_list, list):
            logging.warning(f"comfy_entrypoint in {module_path} did not return a list of nodes, skipping.")
            return False
        relative = "{}.{}".format(module_parent, get_module_name(module_path))
        for node_cls in node_list:
            schema = _node_schema(node_cls)
            if schema.node_id in ignore:
                continue
            result.node_class_mappings[schema.node_id] = node_cls
            node_cls.RELATIVE_PYTHON_MODULE = relative
            if getattr(schema, "display_name", None) is not None:
                result.display_name_mappings[schema.node_id] = schema.display_name
        return True
    except Exception as e:
        logging.warning(f"Error while calling comfy_entrypoint in {module_path}: {e}")
        return False


def load_custom_node(module_path, ignore=(), module_parent="custom_nodes", result=None):
    """Imports one pack (file or package dir) into `result`; returns success."""
    result = result if result is not None else LoadResult()
    try:
        logging.debug("Trying to load custom node {}".format(module_path))
        module, module_name, module_dir = _import_module(module_path)
        result.loaded_module_dirs[module_name] = os.path.abspath(module_dir)
        if os.path.isdir(module_path):
            _pyproject_web_dir(module_path, result)
        web = getattr(module, "WEB_DIRECTORY", None)
        if web is not None:
            web_dir = os.path.abspath(os.path.join(module_dir, web))
            if os.path.isdir(web_dir):
                result.extension_web_dirs[module_name] = web_dir
        if getattr(module, "NODE_CLASS_MAPPINGS", None) is not None:
            _register_v1(module, module_path, ignore, module_parent, result)
            return True
        if hasattr(module, "comfy_entrypoint"):
            return _register_v3(module, module_path, ignore, module_parent, result)
        logging.warning(f"Skip {module_path} module for custom nodes due to the lack of "
                        "NODE_CLASS_MAPPINGS or NODES_LIST (need one).")
        return False
    except Exception as e:
        logging.warning(traceback.format_exc())
        logging.warning(f"Cannot import {module_path} module for custom nodes: {e}")
        return False


def _skip_name(name, disabled, whitelist, what):
    if name == "__pycache__" or name.startswith(".") or name.endswith(".disabled"):
        return True
    if disabled and name not in whitelist:
        logging.info(f"{what}Skipping {name} due to disable_all_custom_nodes and whitelist_custom_nodes")
        return True
    return False


def _candidates(dirs, disabled, whitelist, what=""):
    """(name, path) of every entry of each dir in listdir order (ComfyUI does not sort)."""
    for node_dir in dirs:
        try:
            names = os.listdir(os.path.realpath(node_dir))
        except OSError:
            continue  # a configured custom_nodes path that does not exist
        for name in names:
            path = os.path.join(node_dir, name)
            if os.path.isfile(path) and os.path.splitext(path)[1] != ".py":
                continue
            if _skip_name(name, disabled, whitelist, what):
                continue
            yield name, path


def _log_times(title, times, failed_tag):
    if not times:
        return
    logging.info("\n{}:".format(title))
    for seconds, path, success in sorted(times):
        logging.info("{:6.1f} seconds{}: {}".format(seconds, "" if success else failed_tag, path))
    logging.info("")


def load_custom_nodes(dirs, disabled=False, whitelist=(), ignore=(), module_parent="custom_nodes"):
    """Loads every pack in `dirs` (in order). `disabled`/`whitelist` mirror
    --disable-all-custom-nodes/--whitelist-custom-nodes; `ignore` holds built-in
    node names packs may not override. Returns a LoadResult."""
    result = LoadResult()
    ignore = set(ignore)
    whitelist = set(whitelist or ())
    for _name, path in _candidates(dirs, disabled, whitelist):
        started = time.perf_counter()
        ok = load_custom_node(path, ignore, module_parent, result)
        result.import_times.append((time.perf_counter() - started, path, ok))
        if not ok:
            result.failed.append(path)
    _log_times("Import times for custom nodes", result.import_times, " (IMPORT FAILED)")
    return result


def _execute_script(script_path):
    module_name = os.path.splitext(script_path)[0]
    try:
        spec = importlib.util.spec_from_file_location(module_name, script_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return True
    except Exception as e:
        logging.error(f"Failed to execute startup-script: {script_path} / {e}")
        logging.debug(traceback.format_exc())
        return False


def run_prestartup_scripts(dirs, disabled=False, whitelist=()):
    """Runs <pack>/prestartup_script.py of every pack directory before anything else
    is loaded. Returns [(seconds, pack path, success)]."""
    whitelist = set(whitelist or ())
    times = []
    for _name, path in _candidates(dirs, disabled, whitelist, what="Prestartup "):
        if os.path.isfile(path):
            continue
        script_path = os.path.join(path, "prestartup_script.py")
        if not os.path.exists(script_path):
            continue
        started = time.perf_counter()
        ok = _execute_script(script_path)
        times.append((time.perf_counter() - started, path, ok))
    _log_times("Prestartup times for custom nodes", times, " (PRESTARTUP FAILED)")
    return times
