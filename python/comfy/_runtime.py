"""Python side of the native executor's NodeRuntime: describes node classes, calls them with
ComfyUI's list mapping and result merging (spec section 6.4), evaluates IS_CHANGED and
VALIDATE_INPUTS, and formats exceptions like ComfyUI's execution_error. Called by comfy._core
with the GIL held; everything here runs on the executor thread or the Python thread."""
import asyncio
import contextvars
import inspect
import logging
import traceback

from comfy import model_management

MAPPINGS = {}  # merged NODE_CLASS_MAPPINGS, set by the app
_objects = {}  # (node_id, class_type) -> node instance, kept across prompts
_ctx = {"prompt_id": None, "prompt": {}, "extra_data": {}}
_hidden_specs = {}  # class -> its hidden input dict, for the current prompt only
# (node id, list index) of the node function running in this context. A context variable, so an
# async node's tasks keep their own node while other nodes run (ComfyUI's CurrentNodeContext).
_executing = contextvars.ContextVar("comfy_native_executing", default=(None, 0))
# node id -> (results with unfinished tasks, call data): async nodes left PENDING (spec §6.3 step 7)
_pending_async = {}


def executing_node():
    return _executing.get()[0]


def _type_json(t):
    if isinstance(t, (list, tuple)):
        return [x if isinstance(x, (str, int, float, bool)) or x is None else str(x) for x in t]
    return t if isinstance(t, str) else str(t)


def _custom(t):
    # A str subclass may override __ne__ (the "any type" trick); compare it in Python.
    return isinstance(t, str) and type(t) is not str


# class_type -> (snapshot of its last INPUT_TYPES answer and class attributes, the description)
_descriptions = {}
_PLAIN = (str, int, float, bool, type(None))


def _snapshot(value):
    """A comparable copy of a value: containers and plain values by type and content (1, 1.0 and
    True differ; dict order counts), any other object by identity (kept alive by the snapshot), so
    a list mutated in place, an "any type" str subclass or an object with a permissive __eq__
    cannot pass for what was there before. Bound methods count as their function and owner."""
    t = type(value)
    if t is dict:
        return (dict, tuple((_snapshot(k), _snapshot(v)) for k, v in value.items()))
    if t is list or t is tuple:
        return (t, tuple(_snapshot(v) for v in value))
    if t in _PLAIN:
        return (t, value)
    func = getattr(value, "__func__", None)
    if func is not None and hasattr(value, "__self__"):
        return ("method", id(func), func, id(value.__self__), value.__self__)
    return ("object", id(value), value)


def _class_attributes(cls):
    return (cls, getattr(cls, "RETURN_TYPES", ()), getattr(cls, "OUTPUT_IS_LIST", None),
            getattr(cls, "OUTPUT_NODE", False), getattr(cls, "INPUT_IS_LIST", False),
            getattr(cls, "VALIDATE_INPUTS", None), hasattr(cls, "IS_CHANGED"), getattr(cls, "NOT_IDEMPOTENT", False),
            hasattr(cls, "check_lazy_status"), getattr(cls, getattr(cls, "FUNCTION", ""), None))


def describe(class_type):
    """The class's definition for validation and execution. INPUT_TYPES is called every time (as
    ComfyUI calls it on every validation); when it and the class attributes describe reads answer
    exactly as last time, the same description object is returned, so the caller can keep what it
    built from it."""
    cls = MAPPINGS.get(class_type)
    if cls is None:
        return None
    spec_all = cls.INPUT_TYPES()
    try:
        snapshot = _snapshot((spec_all, _class_attributes(cls)))
    except RecursionError:  # a self-containing answer: described every time
        snapshot = None
    last = _descriptions.get(class_type)
    if snapshot is not None and last is not None and last[0] == snapshot:
        return last[1]
    description = _describe(cls, spec_all)
    if snapshot is None:
        _descriptions.pop(class_type, None)
    else:
        _descriptions[class_type] = (snapshot, description)
    return description


def _describe(cls, spec_all):
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
        # V3 nodes never put their id in the cache key in ComfyUI (their hidden declarations are not
        # the V1 marker strings there).
        has_unique_id="UNIQUE_ID" in hidden.values() and not _is_v3(cls),
        has_check_lazy=hasattr(cls, "check_lazy_status"),
        is_async=inspect.iscoroutinefunction(getattr(cls, getattr(cls, "FUNCTION", ""), None)),
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
    """`prompt` is the prompt dict, or a function returning it: comfy._core converts the prompt
    only when something asks for it (PROMPT/DYNPROMPT inputs, IS_CHANGED recording), which
    most prompts never do."""
    _hidden_specs.clear()
    _ctx.pop("dynprompt", None)
    _ctx.pop("prompt_loader", None)
    if callable(prompt):
        _ctx["prompt_loader"], prompt = prompt, None
    _ctx.update(prompt_id=prompt_id, prompt=prompt, extra_data=extra_data)


_PROMPT = object()  # stands for the executing prompt, converted when a PROMPT input needs it


def _prompt():
    prompt = _ctx["prompt"]
    if prompt is None:
        prompt = _ctx["prompt"] = _ctx.pop("prompt_loader")()
    return prompt


def end_prompt():
    _ctx.pop("prompt_loader", None)  # it reads the native prompt, which is about to go
    _refs.clear()
    _pending_subgraph.clear()
    loop = _ctx.pop("loop", None)
    tasks = [t for results, _ in _pending_async.values() for t in results if isinstance(t, asyncio.Task)]
    _pending_async.clear()
    if loop is not None:
        if tasks:  # a failure or interrupt left async nodes running: cancel them, as asyncio.run does
            for t in tasks:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()
    _ctx.update(prompt_id=None, prompt={}, extra_data={})


def _resolve(value):
    """Runs a coroutine a node returned on the prompt's own event loop (ComfyUI gives each prompt a
    fresh loop on the worker thread). Called off the main thread; validation on the main thread
    hands coroutines to a short-lived thread instead."""
    if not inspect.isawaitable(value):
        return value
    import threading
    if threading.current_thread() is threading.main_thread():
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, _as_coroutine(value)).result()
    return _prompt_loop().run_until_complete(value)


def _prompt_loop():
    loop = _ctx.get("loop")
    if loop is None or loop.is_closed():
        loop = _ctx["loop"] = asyncio.new_event_loop()
    return loop


async def _as_coroutine(awaitable):
    return await awaitable


def executing_context():
    """(prompt_id, node_id, list_index) of the running node function, or None."""
    node_id, index = _executing.get()
    if node_id is None:
        return None
    return (_ctx["prompt_id"], node_id, index)


def retain_objects(keep):
    keep = set(keep)
    for key in [k for k in _objects if k not in keep]:
        del _objects[key]


def clear_objects():
    _objects.clear()


def _dynprompt():
    dyn = _ctx.get("dynprompt")
    if dyn is None:
        try:
            from comfy_execution.graph import DynamicPrompt
        except ImportError:
            return None
        dyn = _ctx["dynprompt"] = DynamicPrompt(_prompt())
    return dyn


def _hidden_inputs(cls, node_id, data, prompt):
    hidden = _hidden_specs.get(cls)
    if hidden is None:
        hidden = _hidden_specs[cls] = cls.INPUT_TYPES().get("hidden") or {}
    extra = _ctx["extra_data"] or {}
    for name, marker in hidden.items():
        if marker == "PROMPT":
            data[name] = [_prompt() if prompt is _PROMPT else prompt]
        elif marker == "DYNPROMPT":
            data[name] = [_dynprompt()]
        elif marker == "EXTRA_PNGINFO":
            data[name] = [extra.get("extra_pnginfo", None)]
        elif marker == "UNIQUE_ID":
            data[name] = [node_id]
        elif marker == "AUTH_TOKEN_COMFY_ORG":
            data[name] = [extra.get("auth_token_comfy_org", None)]
        elif marker == "API_KEY_COMFY_ORG":
            data[name] = [extra.get("api_key_comfy_org", None)]
    return data


def is_blocker(value):
    return type(value).__name__ == "ExecutionBlocker" and hasattr(value, "message")


def _graph_utils():
    """comfy_execution.graph_utils (registered under ComfyUI's name at start-up)."""
    import sys
    graph_utils = sys.modules.get("comfy_execution.graph_utils")
    if graph_utils is None:
        import importlib
        graph_utils = importlib.import_module("comfy_execution.graph_utils")
    return graph_utils


def _make_blocker(message):
    return _graph_utils().ExecutionBlocker(message)


def _set_graph_prefix(root, index):
    _graph_utils().GraphBuilder.set_default_prefix(root, index, 0)


def _map_over_list(target, func_name, data, input_is_list, check_interrupt, blocked=None, prefix_root=None,
                   defer_async=False):
    """ComfyUI's list mapping: one call per index (shorter lists repeat their last element), or one
    call with whole lists for INPUT_IS_LIST. A call that receives an ExecutionBlocker is skipped and
    yields the blocker; a blocker's message is recorded in `blocked` and a silent one propagates.
    With `defer_async`, a call returning a coroutine yields a task on the prompt's loop instead of
    its result (the caller decides whether the node is PENDING)."""
    func = getattr(target, func_name)

    def call(inputs, index):
        if check_interrupt:
            model_management.throw_exception_if_processing_interrupted()
        for v in inputs.values():
            if input_is_list:
                v = next((e for e in v if is_blocker(e)), v)
            if is_blocker(v):
                if v.message is not None and blocked is not None:
                    blocked.append(v.message)
                    return _make_blocker(None)
                return v
        token = _executing.set((_executing.get()[0], index))
        try:
            if prefix_root is not None:
                _set_graph_prefix(prefix_root, index)
            value = func(**inputs)
            if defer_async and inspect.isawaitable(value):
                # The task copies this context: it reports progress as this node and call.
                return _prompt_loop().create_task(_as_coroutine(value))
            return _resolve(value)
        finally:
            _executing.reset(token)

    if input_is_list:
        return [call(data, 0)]
    if not data:
        return [call({}, 0)]
    count = max(len(v) for v in data.values())
    return [call({k: v[i if len(v) > i else -1] for k, v in data.items()}, i) for i in range(count)]


def _merge_outputs(cls, results):
    output_is_list = getattr(cls, "OUTPUT_IS_LIST", None) or [False] * len(results[0])
    output = []
    for i, is_list in zip(range(len(results[0])), output_is_list):
        if is_list:
            value = []
            for r in results:
                if is_blocker(r[i]):
                    value.append(r[i])
                else:
                    value.extend(r[i])
            output.append(value)
        else:
            output.append([r[i] for r in results])
    return output


def _is_node_output(r):
    return all(hasattr(r, a) for a in ("result", "ui", "expand", "block_execution"))


def _outputs_from_returns(cls, returns):
    """ComfyUI's get_output_from_returns (spec §6.4, §6.6), V1 and V3 results. Returns
    (outputs, ui, subgraphs) where subgraphs is None unless some call returned an expansion; then
    it lists (graph or None, result) per call."""
    results, uis, subgraphs = [], [], []
    has_subgraph = False
    n_out = len(getattr(cls, "RETURN_TYPES", ()))

    def blocked(message):
        return tuple([_make_blocker(message)] * n_out)

    for r in returns:
        if isinstance(r, dict):
            if "ui" in r:
                uis.append(r["ui"])
            if "expand" in r:
                has_subgraph = True
                result = r.get("result", None)
                if is_blocker(result):
                    result = tuple([result] * n_out)
                subgraphs.append((r["expand"], result))
            elif "result" in r:
                result = r.get("result", None)
                if is_blocker(result):
                    result = tuple([result] * n_out)
                results.append(result)
                subgraphs.append((None, result))
        elif _is_node_output(r):
            if r.ui is not None:
                uis.append(r.ui if isinstance(r.ui, dict) else r.ui.as_dict())
            if r.expand is not None:
                has_subgraph = True
                result = r.result if r.block_execution is None else blocked(r.block_execution)
                subgraphs.append((r.expand, result))
            elif r.result is not None or r.block_execution is not None:
                result = r.result if r.block_execution is None else blocked(r.block_execution)
                results.append(result)
                subgraphs.append((None, result))
        else:
            if is_blocker(r):
                r = tuple([r] * n_out)
            results.append(r)
            subgraphs.append((None, r))
    ui = {}
    if uis:
        ui = {k: [y for x in uis for y in x[k]] for k in uis[0].keys()}
    if has_subgraph:
        return None, ui, subgraphs
    output = _merge_outputs(cls, results) if results else []
    return output, ui, None


def _is_v3(cls):
    try:
        from comfy_api.internal import is_v3
    except ImportError:
        return False
    return is_v3(cls)


def _v3_hidden_names():
    try:
        from comfy_api.internal import V3_HIDDEN_KWARGS
    except ImportError:
        return frozenset()
    return V3_HIDDEN_KWARGS


def _format_value(x):
    if x is None or isinstance(x, (int, float, bool, str)):
        return x
    return str(x)


def _full_type_name(klass):
    module = klass.__module__
    if module == "builtins":
        return klass.__qualname__
    return module + "." + klass.__qualname__


_refs = {}  # Python objects in expansion graphs, stood in for by {"__py_ref__": n} on the native side
_pending_subgraph = {}  # expanding node id -> its results, resolved when it is re-entered


def _deref(values):
    if len(values) == 1 and isinstance(values[0], dict) and "__py_ref__" in values[0]:
        return [_refs[values[0]["__py_ref__"]]]
    return values


def _call_data(cls, node_id, inputs, prompt):
    # The native side already dropped undeclared constants (links to undeclared inputs stay).
    data = {k: _deref(v) if isinstance(v, list) else v for k, v in inputs.items()}
    return _hidden_inputs(cls, node_id, data, prompt)


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


def _graph_for_native(graph):
    """An expansion graph as JSON: links and plain values stay, other objects become references."""
    out = {}
    for node_id, info in graph.items():
        inputs = {}
        for name, value in (info.get("inputs") or {}).items():
            if _is_link(value) or _jsonable(value):
                inputs[name] = list(value) if isinstance(value, tuple) else value
            else:
                ref = len(_refs) + 1
                _refs[ref] = value
                inputs[name] = {"__py_ref__": ref}
        node = {"class_type": info["class_type"], "inputs": inputs}
        if "override_display_id" in info:
            node["override_display_id"] = info["override_display_id"]
        out[str(node_id)] = node
    return out


def _instance(node_id, class_type, cls):
    obj = _objects.get((node_id, class_type))
    if obj is None:
        obj = cls()
        _objects[(node_id, class_type)] = obj
    return obj


def _error(ex, data):
    logging.error("!!! Exception during processing !!! %s", ex)
    # From the exception itself: the native fast path reports it outside an except block.
    logging.error("".join(traceback.format_exception(type(ex), ex, ex.__traceback__)).rstrip("\n"))
    formatted = {}
    if data is not None:
        hidden = _v3_hidden_names()  # ComfyUI leaves V3 hidden values out of current_inputs
        formatted = {name: [_format_value(x) for x in values] for name, values in data.items() if name not in hidden}
    return {
        "exception_message": "{}\n{}".format(ex, ""),
        "exception_type": _full_type_name(type(ex)),
        "traceback": traceback.format_tb(ex.__traceback__),
        "current_inputs": formatted,
    }


def _task_results(returns):
    """Finished tasks replaced by their results; the first exception is raised (ComfyUI)."""
    return [r.result() if isinstance(r, asyncio.Task) else r for r in returns]


def wait_async(timeout):
    """Runs the prompt's loop until an async node's tasks have all finished, or `timeout` seconds.
    Returns the ids of the nodes whose tasks are all done (they become ready to resume)."""
    def finished():
        return [nid for nid, (results, _) in _pending_async.items()
                if all(t.done() for t in results if isinstance(t, asyncio.Task))]
    done = finished()
    if done or not _pending_async:
        return done
    waiting = {t for results, _ in _pending_async.values() for t in results
               if isinstance(t, asyncio.Task) and not t.done()}
    _prompt_loop().run_until_complete(asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED))
    return finished()


def _fast_info(cls):
    """A plain V1 class (no INPUT_IS_LIST, OUTPUT_IS_LIST, hidden inputs or async function):
    one call with single values, a tuple back. None otherwise. comfy._core asks once per class
    definition (describe's answer: what this reads is what describe compares) and runs such nodes
    itself."""
    try:
        if (_is_v3(cls) or getattr(cls, "INPUT_IS_LIST", False) or any(getattr(cls, "OUTPUT_IS_LIST", None) or ())
                or inspect.iscoroutinefunction(getattr(cls, cls.FUNCTION, None))):
            return None
        hidden = _hidden_specs.get(cls)
        if hidden is None:
            hidden = _hidden_specs[cls] = cls.INPUT_TYPES().get("hidden") or {}
        return None if hidden else (cls.FUNCTION, len(getattr(cls, "RETURN_TYPES", ())))
    except Exception:  # an odd class: the general path reports whatever is wrong
        return None


def fast_class(class_type):
    """For comfy._core's native fast path: (class, FUNCTION, output count) of a plain V1 class."""
    cls = MAPPINGS.get(class_type)
    info = None if cls is None else _fast_info(cls)
    return None if info is None else (cls, info[0], info[1])


def _graph_prefix_var():
    """The context variable behind GraphBuilder.set_default_prefix (set before every node call)."""
    return _graph_utils().GraphBuilder._default_prefix


def fast_error(ex, tb, kwargs):
    """The native fast path's node call raised `ex` (traceback `tb`): ComfyUI's error payload (or
    an interrupt)."""
    if tb is not None and ex.__traceback__ is None:
        ex = ex.with_traceback(tb)
    if isinstance(ex, model_management.InterruptProcessingException):
        logging.info("Processing interrupted")
        return ("interrupted", None, None, ())
    return ("error", _error(ex, {k: [v] for k, v in kwargs.items()}), None, ())


def fast_finish(node_id, cls, result, kwargs):
    """The native fast path called the node but its result needs the general merge."""
    return _finish(node_id, cls, [result], {k: [v] for k, v in kwargs.items()}, [])


def execute(node_id, class_type, inputs):
    cls = MAPPINGS[class_type]
    data = None
    blocked = []
    try:
        if node_id in _pending_async:  # resuming an async node: collect its results (spec §6.3 step 2)
            returns, data = _pending_async.pop(node_id)
            returns = _task_results(returns)
        else:
            data = _call_data(cls, node_id, inputs, _PROMPT)
            obj = _instance(node_id, class_type, cls)
            token = _executing.set((node_id, 0))
            try:
                returns = _map_over_list(obj, cls.FUNCTION, data, getattr(cls, "INPUT_IS_LIST", False), True,
                                         blocked, prefix_root=node_id, defer_async=True)
            finally:
                _executing.reset(token)
            if any(isinstance(r, asyncio.Task) for r in returns):
                _prompt_loop().run_until_complete(asyncio.sleep(0))  # one tick, as ComfyUI gives
                if not all(r.done() for r in returns if isinstance(r, asyncio.Task)):
                    _pending_async[node_id] = (returns, data)
                    return ("pending", None, None, blocked)
                returns = _task_results(returns)
    except model_management.InterruptProcessingException:
        logging.info("Processing interrupted")
        return ("interrupted", None, None, blocked)
    except Exception as ex:
        return ("error", _error(ex, data), None, blocked)
    return _finish(node_id, cls, returns, data, blocked)


def _finish(node_id, cls, returns, data, blocked):
    """Merges the calls' results (spec §6.4): outputs and UI, or an expansion."""
    try:
        output, ui, subgraphs = _outputs_from_returns(cls, returns)
        if subgraphs is None:
            return ("ok", output, ui if ui else None, blocked)
        new_nodes, links, pending = {}, [], []
        for graph, result in subgraphs:
            if graph is None:
                pending.append((False, result))
                continue
            new_nodes.update(_graph_for_native(graph))
            dyn = _ctx.get("dynprompt")
            if dyn is not None:  # keep the DYNPROMPT object nodes see in step with the native one
                for new_id, info in graph.items():
                    if not dyn.has_node(new_id):
                        dyn.add_ephemeral_node(new_id, info, node_id, info.get("override_display_id", node_id))
            for value in result or ():
                if _is_link(value):
                    links.append([value[0], int(value[1])])
            pending.append((True, result))
        _pending_subgraph[node_id] = pending
        return ("expand", new_nodes, ui if ui else None, blocked, links)
    except model_management.InterruptProcessingException:
        logging.info("Processing interrupted")
        return ("interrupted", None, None, blocked)
    except Exception as ex:
        return ("error", _error(ex, data), None, blocked)


def resolve_expansion(node_id, class_type, sources):
    """Re-entry of an expanded node: links in its stored results take the linked outputs."""
    cls = MAPPINGS[class_type]
    try:
        resolved = []
        for is_subgraph, result in _pending_subgraph.pop(node_id):
            if not is_subgraph:
                resolved.append(result)
                continue
            out = []
            for r in result:
                if _is_link(r):
                    out.extend(sources[r[0]][int(r[1])])
                else:
                    out.append(r)
            resolved.append(out)
        return ("ok", _merge_outputs(cls, resolved) if resolved else [])
    except Exception as ex:
        return ("error", _error(ex, None))


def check_lazy(node_id, class_type, inputs, missing):
    """check_lazy_status on the instance; returns the unevaluated inputs it asks for."""
    cls = MAPPINGS[class_type]
    data = None
    try:
        data = _call_data(cls, node_id, inputs, _PROMPT)
        obj = _instance(node_id, class_type, cls)
        token = _executing.set((node_id, 0))
        try:
            results = _map_over_list(obj, "check_lazy_status", data, getattr(cls, "INPUT_IS_LIST", False), True)
        finally:
            _executing.reset(token)
        wanted = dict.fromkeys(x for r in results if isinstance(r, list) for x in r)
        missing = set(missing)
        return ("ok", [x for x in wanted if isinstance(x, str) and (x not in data or x in missing)])
    except model_management.InterruptProcessingException:
        return ("interrupted", None)
    except Exception as ex:
        return ("error", _error(ex, data))


def is_changed(node_id, class_type, inputs, record=False):
    """IS_CHANGED on the class; with `record` the result is written into the executing prompt
    (what PROMPT hidden inputs, e.g. SaveImage's metadata, see), as ComfyUI does."""
    cls = MAPPINGS[class_type]
    try:
        data = _call_data(cls, node_id, inputs, {})
        results = _map_over_list(cls, "IS_CHANGED", data, getattr(cls, "INPUT_IS_LIST", False), False)
        value = [None if is_blocker(x) else x for x in results]
    except Exception as ex:
        logging.warning("WARNING: %s", ex)
        value = float("nan")
    node = _prompt().get(node_id) if record else None
    if isinstance(node, dict):
        node["is_changed"] = value
    return value


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
        elif is_blocker(r):
            out.append(True)
        else:
            out.append(str(r))
    return out
