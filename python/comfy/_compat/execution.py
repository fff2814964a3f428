"""The top-level `execution` module custom nodes import (ComfyUI 0.3.64 names, spec sections 4, 5, 9.5).

Prompts run in the native executor, not here. What this module offers:

- `PromptQueue`: ComfyUI's in-process queue (heap, history, flags) for code that builds its own
  (ComfyUI-to-Python scripts construct `PromptQueue(server)`); the server's own queue,
  `PromptServer.instance.prompt_queue`, is a `PromptQueue` subclass whose methods act on the native
  queue. Both take ComfyUI's 5- or 6-element item tuples.
- `validate_prompt` (async, as in 0.3.64): the validation of spec section 5 in Python, with the
  native validator's choices where they differ from 0.3.64 (`missing_node_type` for unknown or
  class-less nodes, `dependency_cycle` errors instead of a RecursionError, inputs checked in their
  declared order). Limits: it validates against `nodes.NODE_CLASS_MAPPINGS` as Python sees it and
  does not run on-prompt handlers; V3 dynamic inputs are not expanded.
- `get_input_data`, `IsChangedCache`, `format_value`, `full_type_name`, `ExecutionResult`, `CacheType`,
  `CacheEntry`, `SENSITIVE_EXTRA_DATA_KEYS`, `MAXIMUM_HISTORY_SIZE`.
- `PromptExecutor`: constructible (packs and scripts create one at import time); running a prompt
  through it raises a RuntimeError that says to queue the prompt instead, since the native
  executor runs every prompt. Replacing `execution.execute` (comfyui-deploy) has no effect.
"""
import asyncio
import copy
import heapq
import inspect
import logging
import sys
import threading
import traceback
from enum import Enum
from typing import List, Literal, NamedTuple, Optional

MAXIMUM_HISTORY_SIZE = 10000
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")


class ExecutionResult(Enum):
    SUCCESS = 0
    FAILURE = 1
    PENDING = 2


class DuplicateNodeError(Exception):
    pass


class CacheType(Enum):
    CLASSIC = 0
    LRU = 1
    DEPENDENCY_AWARE = 2


class CacheEntry(NamedTuple):
    ui: dict
    outputs: list


def _nodes():
    module = sys.modules.get("nodes")
    if module is None or not hasattr(module, "NODE_CLASS_MAPPINGS"):
        from comfy._compat import nodes as module
    return module


def _graph_utils():
    from comfy._compat.comfy_execution import graph_utils
    return graph_utils


def _is_link(value):
    return _graph_utils().is_link(value)


def _is_blocker(value):
    return isinstance(value, _graph_utils().ExecutionBlocker)


def full_type_name(klass):
    module = klass.__module__
    if module == "builtins":
        return klass.__qualname__
    return module + "." + klass.__qualname__


def format_value(x):
    if x is None:
        return None
    if isinstance(x, (int, float, bool, str)):
        return x
    return str(x)


# -- inputs ---------------------------------------------------------------------------------------------

def _input_info(class_def, name, valid_inputs):
    from comfy._compat.comfy_execution.graph import get_input_info
    return get_input_info(class_def, name, valid_inputs)


def _cached_outputs(outputs, source_id, unique_id):
    """The output lists of `source_id` from whatever the caller passed as `outputs`: a dict or a
    cache with .get (values may be CacheEntry-like), or an execution list with .get_cache."""
    if outputs is None:
        return None
    if hasattr(outputs, "get_cache"):
        found = outputs.get_cache(source_id, unique_id)
    else:
        found = outputs.get(source_id)
    if found is not None and hasattr(found, "outputs"):
        found = found.outputs
    return found


def get_input_data(inputs, class_def, unique_id, outputs=None, dynprompt=None, extra_data={}):
    """-> (input_data_all, missing_keys, hidden_inputs_v3): every input as a list of values (one
    per list-mapped call). Linked inputs come from `outputs`; without it (validation, IS_CHANGED)
    they are (None,) and listed in missing_keys. Hidden inputs are filled as the executor does."""
    valid_inputs = class_def.INPUT_TYPES()
    input_data_all = {}
    missing_keys = {}
    for name, value in inputs.items():
        _, category, info = _input_info(class_def, name, valid_inputs)
        if _is_link(value) and not (info or {}).get("rawLink", False):
            found = _cached_outputs(outputs, value[0], unique_id)
            if found is None or value[1] >= len(found):
                missing_keys[name] = True
                input_data_all[name] = (None,)
                continue
            input_data_all[name] = found[value[1]]
        elif category is not None:
            input_data_all[name] = [value]
    extra_data = extra_data or {}
    for name, marker in (valid_inputs.get("hidden") or {}).items():
        if marker == "PROMPT":
            input_data_all[name] = [dynprompt.get_original_prompt() if dynprompt is not None else {}]
        elif marker == "DYNPROMPT":
            input_data_all[name] = [dynprompt]
        elif marker == "EXTRA_PNGINFO":
            input_data_all[name] = [extra_data.get("extra_pnginfo", None)]
        elif marker == "UNIQUE_ID":
            input_data_all[name] = [unique_id]
        elif marker == "AUTH_TOKEN_COMFY_ORG":
            input_data_all[name] = [extra_data.get("auth_token_comfy_org", None)]
        elif marker == "API_KEY_COMFY_ORG":
            input_data_all[name] = [extra_data.get("api_key_comfy_org", None)]
    # Our V3 classes take their hidden values as keyword inputs (above), so this stays empty.
    return input_data_all, missing_keys, {}


async def _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, func, allow_interrupt=False,
                                    execution_block_cb=None, pre_execute_cb=None, hidden_inputs=None):
    """Calls obj.<func> once per index of the longest input list (shorter lists repeat their last
    value), or once with whole lists for INPUT_IS_LIST; awaits coroutine results."""
    from comfy._compat.comfy_execution.utils import CurrentNodeContext
    input_is_list = getattr(obj, "INPUT_IS_LIST", False)
    results = []

    async def call(inputs, index):
        if allow_interrupt:
            _nodes().before_node_execution()
        for value in inputs.values():
            if input_is_list:
                value = next((v for v in value if _is_blocker(v)), value)
            if _is_blocker(value):
                results.append(execution_block_cb(value) if execution_block_cb else value)
                return
        if pre_execute_cb is not None and index is not None:
            pre_execute_cb(index)
        with CurrentNodeContext(prompt_id, unique_id, index):
            result = getattr(obj, func)(**inputs)
            if inspect.isawaitable(result):
                result = await result
        results.append(result)

    if input_is_list:
        await call(input_data_all, 0)
    elif not input_data_all:
        await call({}, None)
    else:
        count = max(len(v) for v in input_data_all.values())
        for i in range(count):
            await call({k: v[i if len(v) > i else -1] for k, v in input_data_all.items()}, i)
    return results


async def resolve_map_node_over_list_results(results):
    out = []
    for r in results:
        if isinstance(r, asyncio.Task):
            r = await r
        out.append(r)
    return out


def merge_result_data(results, obj):
    """Per output slot: the values of every call, concatenated for OUTPUT_IS_LIST slots."""
    output_is_list = getattr(obj, "OUTPUT_IS_LIST", None) or [False] * len(results[0])
    merged = []
    for i, is_list in zip(range(len(results[0])), output_is_list):
        if is_list:
            value = []
            for r in results:
                if _is_blocker(r[i]):
                    value.append(r[i])
                else:
                    value.extend(r[i])
            merged.append(value)
        else:
            merged.append([r[i] for r in results])
    return merged


class IsChangedCache:
    """IS_CHANGED values of the prompt's nodes, computed once per node from constants only (linked
    inputs are None). A failing IS_CHANGED yields NaN, so the node always re-runs."""

    def __init__(self, prompt_id, dynprompt, outputs_cache=None):
        self.prompt_id = prompt_id
        self.dynprompt = dynprompt
        self.outputs_cache = outputs_cache
        self.is_changed = {}

    async def get(self, node_id):
        if node_id in self.is_changed:
            return self.is_changed[node_id]
        node = self.dynprompt.get_node(node_id)
        class_def = _nodes().NODE_CLASS_MAPPINGS[node["class_type"]]
        if not hasattr(class_def, "IS_CHANGED"):
            self.is_changed[node_id] = False
            return False
        if "is_changed" in node:
            self.is_changed[node_id] = node["is_changed"]
            return node["is_changed"]
        input_data_all, _, _ = get_input_data(node["inputs"], class_def, node_id, None)
        try:
            values = await _async_map_node_over_list(self.prompt_id, node_id, class_def, input_data_all, "IS_CHANGED")
            node["is_changed"] = [None if _is_blocker(x) else x for x in values]
        except Exception as e:
            logging.warning("WARNING: {}".format(e))
            node["is_changed"] = float("NaN")
        finally:
            self.is_changed[node_id] = node["is_changed"]
        return self.is_changed[node_id]


# -- validation ----------------------------------------------------------------------------------------

def _error(type_, message, details, extra_info):
    return {"type": type_, "message": message, "details": details, "extra_info": extra_info}


def _declared_inputs(class_inputs):
    """(name, category, type, options) for every required then optional input, in declared order."""
    out = []
    for category in ("required", "optional"):
        for name, spec in (class_inputs.get(category) or {}).items():
            if not isinstance(spec, (tuple, list)) or not spec:
                spec = (spec,)
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            out.append((name, category, spec[0], options))
    return out


def _mark_cycles(prompt, validated):
    """Records a `dependency_cycle` error on every node of each dependency cycle (newer ComfyUI;
    0.3.64 recursed until RecursionError), as the native validator does. Iterative DFS."""
    state = {}
    for root in prompt:
        if state.get(root):
            continue
        stack = []

        def push(node_id):
            node = prompt[node_id]
            inputs = node.get("inputs") if isinstance(node, dict) else None
            nexts = [v[0] for v in (inputs or {}).values() if _is_link(v) and v[0] in prompt]
            state[node_id] = 1
            stack.append([node_id, nexts, 0])

        push(root)
        while stack:
            frame = stack[-1]
            if frame[2] == len(frame[1]):
                state[frame[0]] = 2
                stack.pop()
                continue
            nxt = frame[1][frame[2]]
            frame[2] += 1
            if not state.get(nxt):
                push(nxt)
            elif state[nxt] == 1:
                start = next(i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == nxt)
                cycle = [f[0] for f in stack[start:]]
                path = "".join("{} ({}) -> ".format(i, prompt[i].get("class_type", "")) for i in cycle)
                path += "{} ({})".format(nxt, prompt[nxt].get("class_type", ""))
                for node_id in cycle:
                    if node_id not in validated:
                        validated[node_id] = (False, [_error("dependency_cycle", "Dependency cycle detected", path,
                                                             {"node_id": node_id, "cycle_nodes": list(cycle)})],
                                              node_id)


def _validate_steps(prompt_id, prompt, unique_id, validated):
    """validate_inputs for one node as a generator: it yields ("validate", node_id) to have a linked
    node validated (the driver sends back its (ok, errors, id) or throws what validating it raised)
    and ("await", awaitable) for async VALIDATE_INPUTS results. This keeps long chains off the
    Python call stack."""
    if unique_id in validated:
        return validated[unique_id]
    node = prompt[unique_id]
    if not isinstance(node.get("inputs"), dict):
        node["inputs"] = {}
    inputs = node["inputs"]
    obj_class = _nodes().NODE_CLASS_MAPPINGS[node["class_type"]]
    class_inputs = obj_class.INPUT_TYPES()
    validate_function = getattr(obj_class, "VALIDATE_INPUTS", None)
    validate_function_inputs, validate_has_kwargs = [], False
    if validate_function is not None:
        argspec = inspect.getfullargspec(validate_function)
        validate_function_inputs, validate_has_kwargs = argspec.args, argspec.varkw is not None

    errors = []
    valid = True
    received_types = {}
    from comfy._compat.comfy_execution.validation import validate_node_input

    for x, category, input_type, extra_info in _declared_inputs(class_inputs):
        if x not in inputs:
            if category == "required":
                errors.append(_error("required_input_missing", "Required input is missing", x, {"input_name": x}))
            continue
        val = inputs[x]
        info = (input_type, extra_info)
        if isinstance(val, list):
            if len(val) != 2:
                errors.append(_error("bad_linked_input",
                                     "Bad linked input, must be a length-2 list of [node_id, slot_index]", x,
                                     {"input_name": x, "input_config": info, "received_value": val}))
                continue
            o_id = val[0]
            received_type = _nodes().NODE_CLASS_MAPPINGS[prompt[o_id]["class_type"]].RETURN_TYPES[val[1]]
            received_types[x] = received_type
            if "input_types" not in validate_function_inputs and not validate_node_input(received_type, input_type):
                errors.append(_error("return_type_mismatch", "Return type mismatch between linked nodes",
                                     f"{x}, received_type({received_type}) mismatch input_type({input_type})",
                                     {"input_name": x, "input_config": info, "received_type": received_type,
                                      "linked_node": val}))
                continue
            try:
                result = yield ("validate", o_id)
                if result[0] is False:
                    valid = False
                    continue
            except Exception as ex:
                valid = False
                validated[o_id] = (False, [_error("exception_during_inner_validation",
                                                  "Exception when validating inner node", str(ex),
                                                  {"input_name": x, "input_config": info,
                                                   "exception_message": str(ex),
                                                   "exception_type": full_type_name(type(ex)),
                                                   "traceback": traceback.format_tb(ex.__traceback__),
                                                   "linked_node": val})], o_id)
                continue
        else:
            try:
                if isinstance(val, dict) and "__value__" in val:
                    val = val["__value__"]
                    inputs[x] = val
                if input_type == "INT":
                    val = int(val)
                    inputs[x] = val
                if input_type == "FLOAT":
                    val = float(val)
                    inputs[x] = val
                if input_type == "STRING":
                    val = str(val)
                    inputs[x] = val
                if input_type == "BOOLEAN":
                    val = bool(val)
                    inputs[x] = val
            except Exception as ex:
                errors.append(_error("invalid_input_type", f"Failed to convert an input value to a {input_type} value",
                                     f"{x}, {val}, {ex}",
                                     {"input_name": x, "input_config": info, "received_value": val,
                                      "exception_message": str(ex)}))
                continue
            if x in validate_function_inputs or validate_has_kwargs:
                continue
            if "min" in extra_info and val < extra_info["min"]:
                errors.append(_error("value_smaller_than_min",
                                     "Value {} smaller than min of {}".format(val, extra_info["min"]), x,
                                     {"input_name": x, "input_config": info, "received_value": val}))
                continue
            if "max" in extra_info and val > extra_info["max"]:
                errors.append(_error("value_bigger_than_max",
                                     "Value {} bigger than max of {}".format(val, extra_info["max"]), x,
                                     {"input_name": x, "input_config": info, "received_value": val}))
                continue
            if isinstance(input_type, list) and val not in input_type:
                if len(input_type) > 20:
                    list_info, input_config = f"(list of length {len(input_type)})", None
                else:
                    list_info, input_config = str(input_type), info
                errors.append(_error("value_not_in_list", "Value not in list", f"{x}: '{val}' not in {list_info}",
                                     {"input_name": x, "input_config": input_config, "received_value": val}))
                continue

    if len(validate_function_inputs) > 0 or validate_has_kwargs:
        input_data_all, _, _ = get_input_data(inputs, obj_class, unique_id)
        input_filtered = {k: v for k, v in input_data_all.items()
                          if k in validate_function_inputs or validate_has_kwargs}
        if "input_types" in validate_function_inputs:
            input_filtered["input_types"] = [received_types]
        ret = yield ("await", _async_map_node_over_list(prompt_id, unique_id, obj_class, input_filtered,
                                                        "VALIDATE_INPUTS"))
        for x in input_filtered:
            for r in ret:
                if r is not True and not _is_blocker(r):
                    details = f"{x}" if r is False else f"{x} - {r}"
                    errors.append(_error("custom_validation_failed", "Custom validation failed for node", details,
                                         {"input_name": x}))

    ret = (len(errors) == 0 and valid is True, errors, unique_id)
    validated[unique_id] = ret
    return ret


async def _drive(prompt_id, prompt, start_id, validated):
    """Runs _validate_steps for start_id and every node it asks for, with an explicit stack."""
    stack = [_validate_steps(prompt_id, prompt, start_id, validated)]
    send, throw = None, None
    while True:
        gen = stack[-1]
        try:
            request = gen.throw(throw) if throw is not None else gen.send(send)
        except StopIteration as stop:
            stack.pop()
            send, throw = stop.value, None
            if not stack:
                return send
            continue
        except Exception as ex:
            stack.pop()
            if not stack:
                raise
            send, throw = None, ex
            continue
        send, throw = None, None
        kind, arg = request
        if kind == "validate":
            if arg in validated:
                send = validated[arg]
            else:
                stack.append(_validate_steps(prompt_id, prompt, arg, validated))
        else:
            try:
                send = await arg
            except Exception as ex:
                throw = ex


async def validate_inputs(prompt_id, prompt, item, validated):
    """(ok, errors, node_id) for one node, validating what it links to first (memo: `validated`)."""
    return await _drive(prompt_id, prompt, item, validated)


async def validate_prompt(prompt_id, prompt, partial_execution_list: Optional[list] = None):
    """-> (ok, error, good_output_ids, node_errors), as ComfyUI's validate_prompt. Converted
    constants are written back into `prompt`."""
    mappings = _nodes().NODE_CLASS_MAPPINGS
    outputs = []
    for x in prompt:
        node = prompt[x]
        if not isinstance(node, dict) or "class_type" not in node:
            return (False, _error("missing_node_type", "Cannot execute because a node is missing the class_type property.",
                                  f"Node ID '#{x}'", {"node_id": x, "class_type": None, "node_title": None}), [], {})
        class_type = node["class_type"]
        class_ = mappings.get(class_type, None) if isinstance(class_type, str) else None
        if class_ is None:
            title = (node.get("_meta") or {}).get("title", class_type) if isinstance(node.get("_meta"), dict) \
                else class_type
            return (False, _error("missing_node_type", f"Cannot execute because node {class_type} does not exist.",
                                  f"Node ID '#{x}'", {"node_id": x, "class_type": class_type, "node_title": title}),
                    [], {})
        if getattr(class_, "OUTPUT_NODE", False) is True:
            if partial_execution_list is None or x in partial_execution_list:
                outputs.append(x)
    if not outputs:
        return (False, _error("prompt_no_outputs", "Prompt has no outputs", "", {}), [], {})

    validated = {}
    _mark_cycles(prompt, validated)
    good_outputs = []
    errors = []
    node_errors = {}
    for o in outputs:
        try:
            ok, reasons, _ = await validate_inputs(prompt_id, prompt, o, validated)
        except Exception as ex:
            ok = False
            reasons = [_error("exception_during_validation", "Exception when validating node", str(ex),
                              {"exception_type": full_type_name(type(ex)),
                               "traceback": traceback.format_tb(ex.__traceback__)})]
            validated[o] = (False, reasons, o)
        if ok is True:
            good_outputs.append(o)
            continue
        logging.error(f"Failed to validate prompt for output {o}:")
        if reasons:
            logging.error("* (prompt):")
            for reason in reasons:
                logging.error(f"  - {reason['message']}: {reason['details']}")
        errors.append((o, reasons))
        for node_id, (node_ok, node_reasons, _) in validated.items():
            if node_ok is not True and len(node_reasons) > 0:
                if node_id not in node_errors:
                    class_type = prompt[node_id]["class_type"]
                    node_errors[node_id] = {"errors": node_reasons, "dependent_outputs": [], "class_type": class_type}
                    logging.error(f"* {class_type} {node_id}:")
                    for reason in node_reasons:
                        logging.error(f"  - {reason['message']}: {reason['details']}")
                node_errors[node_id]["dependent_outputs"].append(o)
        logging.error("Output will be ignored")

    if not good_outputs:
        details = "\n".join(f"{e['message']}: {e['details']}" for _, reasons in errors for e in reasons)
        return (False, _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details, {}),
                [], node_errors)
    return (True, None, list(good_outputs), node_errors)


# -- queue ---------------------------------------------------------------------------------------------

class PromptQueue:
    """ComfyUI's prompt queue: a heap of (number, prompt_id, prompt, extra_data, outputs_to_execute[,
    sensitive]) items, the running items, the history and the /free flags. Calls
    server.queue_updated() on every change, as ComfyUI does."""

    class ExecutionStatus(NamedTuple):
        status_str: Literal["success", "error"]
        completed: bool
        messages: List[str]

    def __init__(self, server):
        self.server = server
        self.mutex = threading.RLock()
        self.not_empty = threading.Condition(self.mutex)
        self.task_counter = 0
        self.queue = []
        self.currently_running = {}
        self.history = {}
        self.flags = {}

    def _updated(self):
        notify = getattr(self.server, "queue_updated", None)
        if notify is not None:
            notify()

    def put(self, item):
        with self.mutex:
            heapq.heappush(self.queue, item)
            self._updated()
            self.not_empty.notify()

    def get(self, timeout=None):
        with self.not_empty:
            while len(self.queue) == 0:
                self.not_empty.wait(timeout=timeout)
                if timeout is not None and len(self.queue) == 0:
                    return None
            item = heapq.heappop(self.queue)
            i = self.task_counter
            self.currently_running[i] = copy.deepcopy(item)
            self.task_counter += 1
            self._updated()
            return (item, i)

    def task_done(self, item_id, history_result, status: Optional["PromptQueue.ExecutionStatus"], process_item=None):
        with self.mutex:
            prompt = self.currently_running.pop(item_id)
            if len(self.history) > MAXIMUM_HISTORY_SIZE:
                self.history.pop(next(iter(self.history)))
            status_dict = copy.deepcopy(status._asdict()) if status is not None else None
            if process_item is not None:
                prompt = process_item(prompt)
            self.history[prompt[1]] = {"prompt": prompt, "outputs": {}, "status": status_dict}
            self.history[prompt[1]].update(history_result)
            self._updated()

    def get_current_queue(self):
        with self.mutex:
            return list(self.currently_running.values()), copy.deepcopy(self.queue)

    def get_current_queue_volatile(self):
        with self.mutex:
            return list(self.currently_running.values()), copy.copy(self.queue)

    def get_tasks_remaining(self):
        with self.mutex:
            return len(self.queue) + len(self.currently_running)

    def wipe_queue(self):
        with self.mutex:
            self.queue = []
            self._updated()

    def delete_queue_item(self, function):
        with self.mutex:
            for x in range(len(self.queue)):
                if function(self.queue[x]):
                    if len(self.queue) == 1:
                        self.wipe_queue()
                    else:
                        self.queue.pop(x)
                        heapq.heapify(self.queue)
                    self._updated()
                    return True
        return False

    def get_history(self, prompt_id=None, max_items=None, offset=-1, map_function=None):
        with self.mutex:
            if prompt_id is None:
                out = {}
                if offset < 0 and max_items is not None:
                    offset = len(self.history) - max_items
                for i, k in enumerate(self.history):
                    if i >= offset:
                        p = self.history[k]
                        out[k] = map_function(p) if map_function is not None else p
                        if max_items is not None and len(out) >= max_items:
                            break
                return out
            if prompt_id in self.history:
                p = copy.deepcopy(self.history[prompt_id])
                return {prompt_id: map_function(p) if map_function is not None else p}
            return {}

    def wipe_history(self):
        with self.mutex:
            self.history = {}

    def delete_history_item(self, id_to_delete):
        with self.mutex:
            self.history.pop(id_to_delete, None)

    def set_flag(self, name, data):
        with self.mutex:
            self.flags[name] = data
            self.not_empty.notify()

    def get_flags(self, reset=True):
        with self.mutex:
            if reset:
                flags = self.flags
                self.flags = {}
                return flags
            return self.flags.copy()


class NativePromptQueue(PromptQueue):
    """PromptServer.instance.prompt_queue: ComfyUI's methods and tuple shapes over the native
    queue and history (items come back as 5-tuples; the `sensitive` dict of a 6-tuple given to put()
    is merged into extra_data for the run, and the native queue drops those keys from history).
    get() and task_done() belong to the native worker and are not available."""

    def __init__(self, owner):
        # Not super().__init__(): queue, currently_running and history are properties here.
        self.server = owner
        self._owner = owner
        self.mutex = threading.RLock()
        self.not_empty = threading.Condition(self.mutex)
        self.flags = {}

    def _native(self):
        native = getattr(self._owner, "_native", None)
        if native is None:
            raise RuntimeError("the server is not running yet")
        return native

    def put(self, item):
        item = tuple(item)
        number, prompt_id, prompt, extra_data, outputs = item[:5]
        extra_data = dict(extra_data or {})
        if len(item) > 5 and isinstance(item[5], dict):
            extra_data.update(item[5])
        self._native().queue_put(number, str(prompt_id), prompt, extra_data, [str(o) for o in outputs])

    def get(self, timeout=None):
        raise RuntimeError("prompt_queue.get(): the native executor takes prompts from this queue itself")

    def task_done(self, item_id, history_result, status=None, process_item=None):
        raise RuntimeError("prompt_queue.task_done(): the native executor records finished prompts itself")

    @property
    def queue(self):
        return [tuple(x) for x in self._native().queue_json()["queue_pending"]]

    @property
    def currently_running(self):
        return {i: tuple(x) for i, x in enumerate(self._native().queue_json()["queue_running"])}

    @property
    def history(self):
        return self.get_history()

    @property
    def task_counter(self):
        return len(self.currently_running)

    def get_current_queue(self):
        q = self._native().queue_json()
        return [tuple(x) for x in q["queue_running"]], [tuple(x) for x in q["queue_pending"]]

    def get_current_queue_volatile(self):
        return self.get_current_queue()

    def get_tasks_remaining(self):
        return self._native().queue_remaining()

    def delete_queue_item(self, function):
        for item in self.queue:
            if function(item):
                return self._native().queue_delete(str(item[1]))
        return False

    def wipe_queue(self):
        self._native().queue_wipe()

    def get_history(self, prompt_id=None, max_items=None, offset=-1, map_function=None):
        if prompt_id is not None:
            out = self._native().history_item(str(prompt_id))
        else:
            out = self._native().history(max_items, offset)
        if map_function is not None:
            out = {k: map_function(v) for k, v in out.items()}
        return out

    def wipe_history(self):
        self._native().wipe_history()

    def delete_history_item(self, id_to_delete):
        self._native().delete_history(str(id_to_delete))

    def set_flag(self, name, data):
        self._native().set_flag(name, data)

    def get_flags(self, reset=True):
        return {}


# -- executor --------------------------------------------------------------------------------------------

_NATIVE_ONLY = ("execution.PromptExecutor cannot run prompts in this server: the native executor runs every "
                "prompt. Queue it instead (PromptServer.instance.prompt_queue.put(...) or POST /prompt).")


class PromptExecutor:
    """Import- and construction-compatible with ComfyUI's executor; execute() raises (see module doc)."""

    def __init__(self, server, cache_type=False, cache_size=None, cache_args=None, **kwargs):
        self.server = server
        self.cache_type = cache_type
        self.cache_size = cache_size
        self.cache_args = cache_args
        self.reset()

    def reset(self):
        self.status_messages = []
        self.success = True
        self.history_result = {}

    def add_message(self, event, data, broadcast: bool):
        self.status_messages.append((event, data))
        client_id = getattr(self.server, "client_id", None)
        if client_id is not None or broadcast:
            self.server.send_sync(event, data, client_id)

    def handle_execution_error(self, prompt_id, prompt, current_outputs, executed, error, ex):
        from comfy import model_management
        node_id = error["node_id"]
        class_type = prompt[node_id]["class_type"]
        if isinstance(ex, model_management.InterruptProcessingException):
            self.add_message("execution_interrupted", {"prompt_id": prompt_id, "node_id": node_id,
                                                       "node_type": class_type, "executed": list(executed)},
                             broadcast=True)
            return
        self.add_message("execution_error", {
            "prompt_id": prompt_id, "node_id": node_id, "node_type": class_type, "executed": list(executed),
            "exception_message": error["exception_message"], "exception_type": error["exception_type"],
            "traceback": error["traceback"], "current_inputs": error["current_inputs"],
            "current_outputs": list(current_outputs)}, broadcast=False)

    def execute(self, prompt, prompt_id, extra_data={}, execute_outputs=[]):
        raise RuntimeError(_NATIVE_ONLY)

    async def execute_async(self, prompt, prompt_id, extra_data={}, execute_outputs=[]):
        raise RuntimeError(_NATIVE_ONLY)


async def execute(server, dynprompt, caches, current_item, extra_data, executed, prompt_id, execution_list,
                  pending_subgraph_results, pending_async_nodes):
    """ComfyUI's per-node executor entry point; here the native executor runs nodes."""
    raise RuntimeError(_NATIVE_ONLY)
