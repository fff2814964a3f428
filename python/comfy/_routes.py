"""Routes answered by Python (run on the main thread, called by the native server): node
definitions and model folder listings (spec sections 2.2 and 2.4)."""
import json
import logging
import os

JSON_TYPE = "application/json; charset=utf-8"


def node_info(name, cls, display_names):
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


def make_handler(mappings, display_names):
    import folder_paths

    def _json(value, status=200):
        return (status, JSON_TYPE, json.dumps(value).encode())

    def object_info_all():
        out = {}
        with folder_paths.cache_helper:
            for name, cls in mappings.items():
                try:
                    out[name] = node_info(name, cls, display_names)
                except Exception:
                    logging.exception("[ERROR] An error occurred while retrieving information for the '%s' node.", name)
        return out

    def handler(route, method, path, query, params, body):
        if route == "/object_info":
            return _json(object_info_all())
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
        if route == "/models/{folder}":
            folder = params.get("folder")
            if folder not in folder_paths.folder_names_and_paths:
                return (404, "application/octet-stream", b"")
            return _json(folder_paths.get_filename_list(folder))
        return (404, "text/plain; charset=utf-8", b"404: Not Found")

    return handler
