"""Nodes for the benchmarks (bench/run.py): trivial nodes for the executor rows, a node that holds the
GIL in pure Python, and a node that sends many progress updates. Importable outside the server (the
pure-Python baselines call the same classes)."""
import time


class BenchInt:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": -(2**62), "max": 2**62})},
                "optional": {"prev": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = "bench"

    def run(self, value, prev=0):
        return (value + prev,)


class BenchSink:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = "bench"

    def run(self, value):
        return {"ui": {"value": [value]}}


class BenchNop:
    """An output node with nothing to show: N of them side by side make the 'wide' executor prompt."""
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": -(2**62), "max": 2**62})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = "bench"

    def run(self, value):
        return ()


def spin(seconds, check=None):
    """Pure-Python busy loop: holds the GIL (save the interpreter's switch interval) for `seconds`."""
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        i += 1
        if check is not None and not i & 0x3FFF:
            check()
    return i


class BenchSpin:
    """Spins in pure Python for `seconds` (a CPU-bound Python node); /interrupt stops it."""
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"seconds": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 3600.0}),
                             "seed": ("INT", {"default": 0, "min": 0, "max": 2**62})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = "bench"

    def run(self, seconds, seed):
        from comfy.model_management import throw_exception_if_processing_interrupted
        spin(seconds, throw_exception_if_processing_interrupted)
        return ()


class BenchProgress:
    """Reports `steps` progress updates through comfy.utils.ProgressBar, as sampler loops do."""
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"steps": ("INT", {"default": 100, "min": 1, "max": 10**7}),
                             "seed": ("INT", {"default": 0, "min": 0, "max": 2**62})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = "bench"

    def run(self, steps, seed):
        from comfy.utils import ProgressBar
        bar = ProgressBar(steps)
        for _ in range(steps):
            bar.update(1)
        return ()


NODE_CLASS_MAPPINGS = {"BenchInt": BenchInt, "BenchSink": BenchSink, "BenchNop": BenchNop,
                       "BenchSpin": BenchSpin, "BenchProgress": BenchProgress}


try:  # a pack route, for the bridge benchmark (absent when imported outside the server)
    from aiohttp import web
    from server import PromptServer

    @PromptServer.instance.routes.get("/bench/hello")
    async def bench_hello(request):
        return web.json_response({"hello": request.query.get("name", "world")})
except (ImportError, AttributeError):  # no server module, or one without a running instance
    pass
