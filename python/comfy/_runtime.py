"""Python side of the native executor's NodeRuntime: describes node classes, calls them with
ComfyUI's list mapping and result merging (spec section 6.4), evaluates IS_CHANGED and
VALIDATE_INPUTS, and formats exceptions like ComfyUI's execution_error. Called by comfy._core
with the GIL held; everything here runs on the executor thread or the Python thread."""
import inspect
import logging
import traceback

from comfy import model_management

MAPPINGS = {}  # merged NODE_CLASS_MAPPINGS, set by the app
_objects = {}  # (node_id, class_type) -> node instance, kept across prompts
_ctx = {"prompt_id": None, "prompt": {}, "extra_data": {}}
_hidden_specs = {}  # class -> its hidden input dict, for the current prompt only
_executing = [None]  # node id whose function is running (the executing context)


def executing_node():
    return _executing[0]


def _type_json(t):
    if isinstance(t, (list, tuple)):
        return [x if isinstance(x, (str, int, float, bool)) or x is None else str(x) for x in t]
    return t if isinstance(t, str) else str(t)


def _custom(t):
    # A str subclass may override __ne__ (the "any type" trick); compare it in Python.
    return isinstance(t, str) and type(t) is not str


def describe(class_type):
    cls = MAPPINGS.get(class_type)
    if cls is None:
        return None
    spec_all = cls.INPUT_TYPES()
    inputs = []
    for category in ("required", "optional", "hidden"):
        for name, spec in (spec_all.get(category) or {}).items():
            if category == "hidden":
                inputs.append(dict(name=name, category=category, type=_type_json(spec), options={},
                                   lazy=False, raw_link=False, custom_type=False))
                continue
            if not isinstance(spec, (tuple, list)) or not spec:
                spec = (spec,)
            t = spec[0]
            opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            inputs.append(dict(name=name, category=category, type=_type_json(t), options=opts,
                               lazy=bool(opts.get("lazy", False)), raw_link=bool(opts.get("rawLink", False)),
                               custom_type=_custom(t)))
    return_types = tuple(getattr(cls, "RETURN_TYPES", ()))
    output_is_list = getattr(cls, "OUTPUT_IS_LIST", None) or [False] * len(return_types)
    validate = getattr(cls, "VALIDATE_INPUTS", None)
    params, kwargs = [], False
    if validate is not None:
        argspec = inspect.getfullargspec(validate)
        params, kwargs = list(argspec.args), argspec.varkw is not None
    hidden = spec_all.get("hidden") or {}
    return dict(
        inputs=inputs,
        return_types=[_type_json(t) for t in return_types],
        return_custom=[_custom(t) for t in return_types],
        output_is_list=[bool(x) for x in output_is_list],
        output_node=getattr(cls, "OUTPUT_NODE", False) is True,
        input_is_list=bool(getattr(cls, "INPUT_IS_LIST", False)),
        has_validate=validate is not None,
        validate_params=params,
        validate_kwargs=kwargs,
        has_is_changed=hasattr(cls, "IS_CHANGED"),
        not_idempotent=bool(getattr(cls, "NOT_IDEMPOTENT", False)),
        has_unique_id="UNIQUE_ID" in hidden.values(),
    )


def validate_node_input(received_type, input_type, strict=False):
    """ComfyUI's type check: Python != on the type objects, then comma-separated set logic."""
    if not received_type != input_type:
        return True
    if not isinstance(received_type, str) or not isinstance(input_type, str):
        return False
    received = {t.strip() for t in received_type.split(",")}
    expected = {t.strip() for t in input_type.split(",")}
    if strict:
        return received.issubset(expected)
    return len(received & expected) > 0


def _input_type(cls, name):
    spec_all = cls.INPUT_TYPES()
    for category in ("required", "optional"):
        entry = (spec_all.get(category) or {}).get(name)
        if entry is not None:
            return entry[0] if isinstance(entry, (tuple, list)) else entry
    return None


def types_match(src_class, slot, dst_class, input_name):
    received = MAPPINGS[src_class].RETURN_TYPES[slot]
    return validate_node_input(received, _input_type(MAPPINGS[dst_class], input_name))


def begin_prompt(prompt_id, prompt, extra_data):
    _hidden_specs.clear()
    _ctx.update(prompt_id=prompt_id, prompt=prompt, extra_data=extra_data)


def end_prompt():
    _ctx.update(prompt_id=None, prompt={}, extra_data={})


def retain_objects(keep):
    keep = set(keep)
    for key in [k for k in _objects if k not in keep]:
        del _objects[key]


def clear_objects():
    _objects.clear()


def _hidden_inputs(cls, node_id, data, prompt):
    hidden = _hidden_specs.get(cls)
    if hidden is None:
        hidden = _hidden_specs[cls] = cls.INPUT_TYPES().get("hidden") or {}
    extra = _ctx["extra_data"] or {}
    for name, marker in hidden.items():
        if marker == "PROMPT":
            data[name] = [prompt]
        elif marker == "DYNPROMPT":
            data[name] = [None]
        elif marker == "EXTRA_PNGINFO":
            data[name] = [extra.get("extra_pnginfo", None)]
        elif marker == "UNIQUE_ID":
            data[name] = [node_id]
        elif marker == "AUTH_TOKEN_COMFY_ORG":
            data[name] = [extra.get("auth_token_comfy_org", None)]
        elif marker == "API_KEY_COMFY_ORG":
            data[name] = [extra.get("api_key_comfy_org", None)]
    return data


def _map_over_list(target, func_name, data, input_is_list, check_interrupt):
    func = getattr(target, func_name)
    if input_is_list:
        if check_interrupt:
            model_management.throw_exception_if_processing_interrupted()
        return [func(**data)]
    if not data:
        if check_interrupt:
            model_management.throw_exception_if_processing_interrupted()
        return [func()]
    count = max(len(v) for v in data.values())
    results = []
    for i in range(count):
        if check_interrupt:
            model_management.throw_exception_if_processing_interrupted()
        results.append(func(**{k: v[i if len(v) > i else -1] for k, v in data.items()}))
    return results


def _merge_outputs(cls, results):
    output_is_list = getattr(cls, "OUTPUT_IS_LIST", None) or [False] * len(results[0])
    output = []
    for i, is_list in zip(range(len(results[0])), output_is_list):
        if is_list:
            value = []
            for r in results:
                value.extend(r[i])
            output.append(value)
        else:
            output.append([r[i] for r in results])
    return output


def _outputs_from_returns(cls, returns):
    results, uis = [], []
    for r in returns:
        if isinstance(r, dict):
            if "ui" in r:
                uis.append(r["ui"])
            if "expand" in r:
                raise NotImplementedError("node expansion is not supported by this server yet")
            if "result" in r:
                results.append(r["result"])
        else:
            results.append(r)
    output = _merge_outputs(cls, results) if results else []
    ui = {}
    if uis:
        ui = {k: [y for x in uis for y in x[k]] for k in uis[0].keys()}
    return output, ui


def _format_value(x):
    if x is None or isinstance(x, (int, float, bool, str)):
        return x
    return str(x)


def _full_type_name(klass):
    module = klass.__module__
    if module == "builtins":
        return klass.__qualname__
    return module + "." + klass.__qualname__


def _call_data(cls, node_id, inputs, prompt):
    # The native side already dropped undeclared constants (links to undeclared inputs stay).
    return _hidden_inputs(cls, node_id, dict(inputs), prompt)


def execute(node_id, class_type, inputs):
    cls = MAPPINGS[class_type]
    data = None
    try:
        data = _call_data(cls, node_id, inputs, _ctx["prompt"])
        obj = _objects.get((node_id, class_type))
        if obj is None:
            obj = cls()
            _objects[(node_id, class_type)] = obj
        _executing[0] = node_id
        try:
            returns = _map_over_list(obj, cls.FUNCTION, data, getattr(cls, "INPUT_IS_LIST", False), True)
        finally:
            _executing[0] = None
        output, ui = _outputs_from_returns(cls, returns)
        return ("ok", output, ui if ui else None)
    except model_management.InterruptProcessingException:
        logging.info("Processing interrupted")
        return ("interrupted", None, None)
    except Exception as ex:
        tb = ex.__traceback__
        logging.error("!!! Exception during processing !!! %s", ex)
        logging.error(traceback.format_exc())
        formatted = {}
        if data is not None:
            formatted = {name: [_format_value(x) for x in values] for name, values in data.items()}
        return ("error", {
            "exception_message": "{}\n{}".format(ex, ""),
            "exception_type": _full_type_name(type(ex)),
            "traceback": traceback.format_tb(tb),
            "current_inputs": formatted,
        }, None)


def is_changed(node_id, class_type, inputs):
    cls = MAPPINGS[class_type]
    try:
        data = _call_data(cls, node_id, inputs, {})
        return _map_over_list(cls, "IS_CHANGED", data, getattr(cls, "INPUT_IS_LIST", False), False)
    except Exception as ex:
        logging.warning("WARNING: %s", ex)
        return float("nan")


def _is_link(v):
    return isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], (int, float))


def validate(node_id, class_type, inputs, received_types):
    cls = MAPPINGS[class_type]
    declared = {}
    spec_all = cls.INPUT_TYPES()
    for category in ("required", "optional", "hidden"):
        declared.update(spec_all.get(category) or {})
    data = {}
    for k, v in inputs.items():
        opts = declared.get(k)
        raw = isinstance(opts, (tuple, list)) and len(opts) > 1 and isinstance(opts[1], dict) and opts[1].get("rawLink")
        if _is_link(v) and not raw:
            data[k] = (None,)
        elif k in declared:
            data[k] = [v]
    data = _hidden_inputs(cls, node_id, data, {})
    argspec = inspect.getfullargspec(cls.VALIDATE_INPUTS)
    params, kwargs = argspec.args, argspec.varkw is not None
    filtered = {k: v for k, v in data.items() if k in params or kwargs}
    if "input_types" in params:
        filtered["input_types"] = [received_types]
    results = _map_over_list(cls, "VALIDATE_INPUTS", filtered, getattr(cls, "INPUT_IS_LIST", False), False)
    out = []
    for r in results:
        if r is True or r is False or isinstance(r, str):
            out.append(r)
        elif type(r).__name__ == "ExecutionBlocker":
            out.append(True)
        else:
            out.append(str(r))
    return out
