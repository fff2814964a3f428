"""Nodes exercising ComfyUI's execution semantics (spec §6.4-§6.7): lazy inputs, ExecutionBlocker,
list mapping (INPUT_IS_LIST / OUTPUT_IS_LIST), async node functions. Every node records its calls
in RUNS so tests can see, through a node's UI output, what ran."""
import asyncio
import time

from comfy_execution.graph_utils import ExecutionBlocker

CATEGORY = "Semantics"
RUNS = []


class SemLazySelect:
    """Returns `a` when select is 0, `b` otherwise; both inputs lazy, only the chosen one runs."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"select": ("INT", {"default": 0}),
                             "a": ("INT", {"lazy": True}),
                             "b": ("INT", {"lazy": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def check_lazy_status(self, select, a=None, b=None):
        RUNS.append(("check", select, a, b))
        if select == 0 and a is None:
            return ["a"]
        if select != 0 and b is None:
            return ["b"]
        return []

    def run(self, select, a=None, b=None):
        return (a if select == 0 else b,)


class SemValue:
    """INT passthrough that records that it ran (the tag names the call)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": -1000000, "max": 1000000}),
                             "tag": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value, tag):
        RUNS.append(("value", tag))
        return (value,)


class SemShow:
    """Output node: shows the INT values it received and the calls recorded since the last show."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}, "optional": {"key": ("STRING", {"default": ""})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    NOT_IDEMPOTENT = True
    CATEGORY = CATEGORY

    def run(self, value, key=""):
        runs = [list(r) for r in RUNS]
        RUNS.clear()
        return {"ui": {"value": [value], "runs": runs}}


class SemBlock:
    """Passes `value` on, or blocks (silently, or with a message) when `block` is set."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True}), "block": ("BOOLEAN", {"default": False}),
                             "message": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value, block, message):
        if block:
            return (ExecutionBlocker(message or None),)
        return (value,)


class SemRange:
    """OUTPUT_IS_LIST: the list [start, start+1, ..., start+count-1]."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"start": ("INT", {"default": 0}), "count": ("INT", {"default": 3, "min": 0})}}

    RETURN_TYPES = ("INT",)
    OUTPUT_IS_LIST = (True,)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, start, count):
        return (list(range(start, start + count)),)


class SemDouble:
    """Plain node over a list: called once per element."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        RUNS.append(("double", value))
        return (value * 2,)


class SemSum:
    """INPUT_IS_LIST: one call with the whole list."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"values": ("INT", {"forceInput": True})}}

    INPUT_IS_LIST = True
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, values):
        RUNS.append(("sum", list(values)))
        return (sum(values),)


class SemAsyncSleep:
    """async def node function."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True}), "seconds": ("FLOAT", {"default": 0.05})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    async def run(self, value, seconds):
        await asyncio.sleep(seconds)
        RUNS.append(("async", value))
        return (value + 1,)


class SemAsyncFail:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    async def run(self, value):
        await asyncio.sleep(0)
        raise RuntimeError(f"async failure {value}")


class SemAddOne:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        RUNS.append(("add", value))
        return (value + 1,)


class SemExpandChain:
    """Expands into `count` SemAddOne nodes built with GraphBuilder (and, with `show`, an output node
    inside the expansion); its own result links to the last one."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True}), "count": ("INT", {"default": 2, "min": 1}),
                             "show": ("BOOLEAN", {"default": False}), "collide": ("BOOLEAN", {"default": False})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value, count, show, collide):
        from comfy_execution.graph_utils import GraphBuilder
        if collide:  # a raw graph whose id is already taken by the prompt's node "1"
            return {"result": (["1", 0],), "expand": {"1": {"class_type": "SemAddOne", "inputs": {"value": value}}}}
        graph = GraphBuilder()
        last = None
        for _ in range(count):
            last = graph.node("SemAddOne", value=value if last is None else last.out(0))
        if show:
            graph.node("SemShow", value=last.out(0), key="inner")
        return {"result": (last.out(0),), "expand": graph.finalize()}


class SemExpandNested:
    """Expands into a SemExpandChain node, which expands again: an expansion inside an expansion."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        from comfy_execution.graph_utils import GraphBuilder
        graph = GraphBuilder()
        inner = graph.node("SemExpandChain", value=value, count=2, show=False, collide=False)
        return {"result": (inner.out(0),), "expand": graph.finalize()}


class SemExpandCycle:
    """Expands into two nodes that feed each other: a cycle created at run time."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        from comfy_execution.graph_utils import GraphBuilder
        graph = GraphBuilder()
        a = graph.node("SemAddOne", id="a")
        b = graph.node("SemAddOne", id="b", value=a.out(0))
        a.set_input("value", b.out(0))
        return {"result": (b.out(0),), "expand": graph.finalize()}


class SemAsyncWork:
    """async node with a constant input: records when it starts and ends, reports progress
    (ProgressBar) after each of `steps` sleeps, then returns value + 1."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0}), "seconds": ("FLOAT", {"default": 0.1}),
                             "steps": ("INT", {"default": 1, "min": 1}), "tag": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    async def run(self, value, seconds, steps, tag):
        import comfy.utils
        RUNS.append(("start", tag))
        bar = comfy.utils.ProgressBar(steps)
        for _ in range(steps):
            await asyncio.sleep(seconds / steps)
            bar.update(1)
        RUNS.append(("end", tag))
        return (value + 1,)


class SemAsyncTimeout:
    """async node that gives up after `timeout` seconds (asyncio.wait_for raises TimeoutError)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0}), "timeout": ("FLOAT", {"default": 0.05})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    async def run(self, value, timeout):
        await asyncio.wait_for(asyncio.sleep(30), timeout)
        return (value,)


class SemAsyncExpand:
    """async node that, after an await, expands into `count` SemAddOne nodes."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0}), "count": ("INT", {"default": 2, "min": 1})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    async def run(self, value, count):
        from comfy_execution.graph_utils import GraphBuilder
        graph = GraphBuilder()  # built before the await: the id prefix is this node's
        last = None
        for _ in range(count):
            last = graph.node("SemAddOne", value=value if last is None else last.out(0))
        await asyncio.sleep(0.05)
        RUNS.append(("expand", value))
        return {"result": (last.out(0),), "expand": graph.finalize()}


class SemCollect:
    """Output node: shows the INT inputs it received (a, b, c) and the calls recorded since the last show."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {"forceInput": True})},
                "optional": {"b": ("INT", {"forceInput": True}), "c": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    NOT_IDEMPOTENT = True
    CATEGORY = CATEGORY

    def run(self, a, b=None, c=None):
        runs = [list(r) for r in RUNS]
        RUNS.clear()
        return {"ui": {"value": [a, b, c], "runs": runs}}


class SemAsyncLazySelect(SemLazySelect):
    """SemLazySelect with an async check_lazy_status."""

    async def check_lazy_status(self, select, a=None, b=None):
        await asyncio.sleep(0.01)
        return SemLazySelect.check_lazy_status(self, select, a, b)


class SemAsyncValidated:
    """Passes `value` on; an async VALIDATE_INPUTS refuses negative values."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": -100, "max": 100})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    @classmethod
    async def VALIDATE_INPUTS(cls, value):
        await asyncio.sleep(0)
        return True if value >= 0 else f"negative value {value}"

    def run(self, value):
        return (value,)


class SemWhileOpen:
    """Opens a while loop (the pattern loop packs build with DYNPROMPT and expansion)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    RETURN_TYPES = ("FLOW_CONTROL", "INT")
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        RUNS.append(("open", value))
        return ("flow", value)


class SemWhileClose:
    """Closes a while loop: while value < limit, expands into a copy of the loop body (every node
    between the open node and this one, found through DYNPROMPT) fed by a new open node, and a new
    close node; its result is the new close node's."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"flow": ("FLOW_CONTROL", {"rawLink": True}),
                             "value": ("INT", {"forceInput": True}),
                             "limit": ("INT", {"default": 5})},
                "hidden": {"dynprompt": "DYNPROMPT", "unique_id": "UNIQUE_ID"}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, flow, value, limit, dynprompt=None, unique_id=None):
        from comfy_execution.graph_utils import GraphBuilder, is_link
        if value >= limit:
            return (value,)
        open_id = flow[0]
        body, stack = [], [unique_id]
        while stack:
            for v in dynprompt.get_node(stack.pop())["inputs"].values():
                if is_link(v) and v[0] not in (open_id, unique_id) and v[0] not in body:
                    body.append(v[0])
                    stack.append(v[0])
        graph = GraphBuilder()
        new_open = graph.node("SemWhileOpen", "open", value=value)
        copies = {nid: graph.node(dynprompt.get_node(nid)["class_type"], "body" + nid) for nid in body}

        def mapped(v):
            if not is_link(v):
                return v
            return new_open.out(v[1]) if v[0] == open_id else copies[v[0]].out(v[1])
        for nid in body:
            for name, v in dynprompt.get_node(nid)["inputs"].items():
                copies[nid].set_input(name, mapped(v))
        close_value = dynprompt.get_node(unique_id)["inputs"]["value"]
        new_close = graph.node("SemWhileClose", "close", flow=new_open.out(0), value=mapped(close_value), limit=limit)
        return {"result": (new_close.out(0),), "expand": graph.finalize()}


class SemBadInit:
    """A plain node whose constructor raises."""

    def __init__(self):
        raise RuntimeError("cannot build")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        return (value,)


class SemFileStamp:
    """Output node whose IS_CHANGED is a file's content (what LoadImage does with a file's hash)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"path": ("STRING", {"default": ""})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    @classmethod
    def IS_CHANGED(cls, path):
        with open(path) as f:
            return f.read()

    def run(self, path):
        with open(path) as f:
            return {"ui": {"text": [f.read()]}}


NODE_CLASS_MAPPINGS = {c.__name__: c for c in (SemBadInit, SemFileStamp, SemAsyncLazySelect, SemAsyncValidated, SemWhileOpen, SemWhileClose,
                                               SemLazySelect, SemValue, SemShow, SemBlock, SemRange, SemDouble,
                                               SemSum, SemAsyncSleep, SemAsyncFail, SemAddOne, SemExpandChain,
                                               SemExpandNested, SemExpandCycle, SemAsyncWork, SemAsyncTimeout,
                                               SemAsyncExpand, SemCollect)}
