"""Trivial nodes for the executor benchmarks."""


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


NODE_CLASS_MAPPINGS = {"BenchInt": BenchInt, "BenchSink": BenchSink}


try:  # a pack route, for the bridge benchmark (absent when imported outside the server)
    from aiohttp import web
    from server import PromptServer

    @PromptServer.instance.routes.get("/bench/hello")
    async def bench_hello(request):
        return web.json_response({"hello": request.query.get("name", "world")})
except ImportError:
    pass
