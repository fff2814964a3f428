"""Tiny V1 custom-node pack used by the black-box integration tests.

The test harness copies this directory into a temporary ``custom_nodes``
folder and points the server at it through ``--extra-model-paths-config``.
Every node here is deliberately small and deterministic; the tests rely on
the exact ``INPUT_TYPES`` / ``RETURN_TYPES`` declared below, so change them
only together with the tests.
"""

import time

# Records every execution of the counter nodes (one entry per call, the key).
# The count is reported through the node's UI output so a test can tell from
# the outside whether the node really ran or was served from cache.
EXEC_LOG = []

CATEGORY = "_for_testing"


class TestRaise:
    """Always raises ValueError("boom <value>")."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("STRING", {"default": "x"})}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, value):
        raise ValueError(f"boom {value}")


class TestSlow:
    """Passes an image through after sleeping ``seconds`` in 0.05 s steps.

    Checks the global interrupt flag every step, so POST /interrupt stops it.
    """

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE",),
                "seconds": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 600.0, "step": 0.05}),
            }
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, image, seconds):
        import comfy.model_management

        deadline = time.monotonic() + seconds
        while True:
            comfy.model_management.throw_exception_if_processing_interrupted()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(0.05, remaining))
        return (image,)


class TestIntConst:
    """INT constant in [0, 100] -> INT (not an output node)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": 0, "max": 100})}}

    RETURN_TYPES = ("INT",)
    RETURN_NAMES = ("number",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, value):
        return (value,)


class TestIntOut:
    """Output node showing an INT (no min/max)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, value):
        return {"ui": {"value": [value]}, "result": (value,)}


class TestStringOut:
    """Output node echoing a string in its UI and as its result."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY
    DESCRIPTION = "Echoes a string."

    def run(self, value):
        return {"ui": {"text": [value]}, "result": (value,)}


class TestValidated:
    """VALIDATE_INPUTS rejects the value "invalid" with a string error."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    @classmethod
    def VALIDATE_INPUTS(cls, value):
        if value == "invalid":
            return "forbidden value"
        return True

    def run(self, value):
        return {"ui": {"text": [value]}, "result": (value,)}


class TestCounter:
    """Counts its own executions per ``key`` (UI output ``count``)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"key": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, key):
        EXEC_LOG.append(key)
        n = EXEC_LOG.count(key)
        return {"ui": {"count": [n]}, "result": (n,)}


class TestNaNCounter(TestCounter):
    """Like TestCounter, but IS_CHANGED returns NaN: never served from cache."""

    @classmethod
    def IS_CHANGED(cls, key):
        return float("NaN")


_STATE_CHOICES = ["a"]  # TestStateCombo's options, set through POST /test_pack/choices




_STATE_HIDDEN = {"on": False}  # whether TestStateHidden declares a hidden UNIQUE_ID (POST /test_pack/hidden)


class TestStateHidden:
    """Declares a hidden UNIQUE_ID input only while the pack says so: a plain class one prompt, one
    that needs its node id the next."""

    @classmethod
    def INPUT_TYPES(cls):
        spec = {"required": {"value": ("INT", {"default": 0})}}
        if _STATE_HIDDEN["on"]:
            spec["hidden"] = {"unique_id": "UNIQUE_ID"}
        return spec

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, value, unique_id=None):
        return {"ui": {"text": [f"{value}:{unique_id}"]}, "result": (str(unique_id),)}


class TestCombo:
    """Combo input with options a/b/c."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"choice": (["a", "b", "c"],)}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, choice):
        return {"ui": {"text": [choice]}, "result": (choice,)}


class TestStateCombo(TestCombo):
    """TestCombo whose options come from pack state, not from a folder (the server cannot see them
    change)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"choice": (list(_STATE_CHOICES),)}}


class TestBool:
    """BOOLEAN input; also declares a hidden UNIQUE_ID, output tooltips and EXPERIMENTAL."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"flag": ("BOOLEAN", {"default": False})},
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    RETURN_TYPES = ("BOOLEAN",)
    OUTPUT_TOOLTIPS = ("the flag",)
    EXPERIMENTAL = True
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, flag, unique_id=None):
        return {"ui": {"value": [flag]}, "result": (flag,)}


class TestProgress:
    """Reports `steps` progress updates through comfy.utils.ProgressBar; the last one carries an
    8x8 solid preview (JPEG or PNG)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"steps": ("INT", {"default": 3, "min": 1, "max": 100}),
                             "fmt": (["JPEG", "PNG"],)}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, steps, fmt):
        import comfy.utils
        from PIL import Image
        pbar = comfy.utils.ProgressBar(steps)
        for i in range(steps):
            preview = (fmt, Image.new("RGB", (8, 8), (255, 0, 0)), None) if i == steps - 1 else None
            pbar.update_absolute(i + 1, steps, preview)
        return {}


NODE_CLASS_MAPPINGS = {
    "TestRaise": TestRaise,
    "TestSlow": TestSlow,
    "TestIntConst": TestIntConst,
    "TestIntOut": TestIntOut,
    "TestStringOut": TestStringOut,
    "TestValidated": TestValidated,
    "TestCounter": TestCounter,
    "TestNaNCounter": TestNaNCounter,
    "TestCombo": TestCombo,
    "TestBool": TestBool,
    "TestProgress": TestProgress,
    "TestStateCombo": TestStateCombo,
    "TestStateHidden": TestStateHidden,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "TestCombo": "Test Combo",
    "TestStringOut": "Test String Out",
}


# --- PromptServer routes, on-prompt handler and web directory (custom-node compatibility) ---------
WEB_DIRECTORY = "./web"

from aiohttp import web  # noqa: E402
from server import PromptServer  # noqa: E402

_routes = PromptServer.instance.routes


@_routes.get("/test_pack/hello")
async def _hello(request):
    return web.json_response({"a": request.query.getall("a", []), "path": request.path,
                              "method": request.method, "user": request.headers.get("comfy-user")})


@_routes.post("/test_pack/form")
async def _form(request):
    form = await request.post()
    out = {}
    for key in form:
        value = form[key]
        out[key] = {"filename": value.filename, "size": len(value.file.read())} if hasattr(value, "file") else value
    return web.json_response(out)


@_routes.put("/test_pack/json")
def _put_json(request):  # a plain (non-async) handler returning a coroutine-free response is allowed
    async def inner():
        return web.json_response({"got": await request.json()})
    return inner()


@_routes.get("/test_pack/stream")
async def _stream(request):
    resp = web.StreamResponse(headers={"X-Pack": "yes"})
    resp.content_type = "text/plain"
    await resp.prepare(request)
    for i in range(3):
        await resp.write(f"chunk{i};".encode())
    await resp.write_eof()
    return resp


@_routes.get("/test_pack/redirect")
async def _redirect(request):
    raise web.HTTPFound("/test_pack/hello")


@_routes.post("/test_pack/choices")
async def _set_choices(request):
    _STATE_CHOICES[:] = await request.json()
    return web.json_response(_STATE_CHOICES)


@_routes.post("/test_pack/hidden")
async def _set_hidden(request):
    _STATE_HIDDEN["on"] = bool(await request.json())
    return web.json_response(_STATE_HIDDEN["on"])


@_routes.get("/test_pack/boom")
async def _boom(request):
    raise RuntimeError("handler failure")


@_routes.post("/test_pack/notify")
async def _notify(request):
    body = await request.json()
    PromptServer.instance.send_sync("test_pack.event", {"value": body["value"]}, body.get("sid"))
    return web.json_response({"remaining": PromptServer.instance.prompt_queue.get_tasks_remaining(),
                              "sockets": sorted(PromptServer.instance.sockets)})


@_routes.get("/test_pack/ws")
async def _ws(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        await ws.send_str("echo:" + msg.data)
    return ws


def _on_prompt(json_data):
    extra = json_data.setdefault("extra_data", {})
    if extra.get("tag_me"):
        extra["tagged_by_pack"] = True
    return json_data


PromptServer.instance.add_on_prompt_handler(_on_prompt)


# --- more of the custom-node surface: static routes, events from other threads, prestartup, model folders
import os  # noqa: E402
import threading  # noqa: E402

import folder_paths  # noqa: E402

_routes.static("/test_pack/static", os.path.join(os.path.dirname(__file__), "static"))
_MODELS = os.path.join(os.path.dirname(__file__), "test_models")
os.makedirs(_MODELS, exist_ok=True)
folder_paths.add_model_folder_path("test_models", _MODELS)
folder_paths.folder_names_and_paths["test_models"] = ([_MODELS], {".bin"})


@_routes.get("/test_pack/prestartup")
async def _prestartup(request):
    return web.json_response({"ran": os.environ.get("TESTING_PACK_PRESTARTUP"),
                              "saw_pack": os.environ.get("TESTING_PACK_PRESTARTUP_SAW_PACK")})


@_routes.post("/test_pack/thread_event")
async def _thread_event(request):
    body = await request.json()

    def worker():
        for i in range(3):
            PromptServer.instance.send_sync("test_pack.thread", {"i": i}, body["sid"])

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    return web.json_response({"sent": 3})


@_routes.post("/test_pack/send_image")
async def _send_image(request):
    from PIL import Image
    body = await request.json()
    PromptServer.instance.send_image(("PNG", Image.new("RGB", (4, 2), (0, 0, 255)), None), body["sid"])
    session = PromptServer.instance.client_session
    return web.json_response({"session": type(session).__name__, "closed": session.closed})


# --- the bridge's upstream connections: which aiohttp connection served a request ----------------
import asyncio  # noqa: E402

_connections = []  # aiohttp protocol objects seen, kept alive so that their indexes never repeat
_calls = {}        # route -> how often its handler ran


def _connection_serial(request):
    for i, proto in enumerate(_connections):
        if proto is request.protocol:
            return i
    _connections.append(request.protocol)
    return len(_connections) - 1


def _count(name):
    _calls[name] = _calls.get(name, 0) + 1


@_routes.get("/test_pack/conn")  # (GET routes answer HEAD too)
async def _conn(request):
    serial = _connection_serial(request)
    return web.json_response({"conn": serial}, headers={"X-Conn": str(serial)})


@_routes.get("/test_pack/calls")
async def _get_calls(request):
    return web.json_response(_calls)


@_routes.get("/test_pack/conn_stream")
async def _conn_stream(request):
    resp = web.StreamResponse(headers={"X-Conn": str(_connection_serial(request))})
    resp.content_type = "text/plain"
    await resp.prepare(request)
    await resp.write(b"first;")
    await asyncio.sleep(float(request.query.get("pause", "0")))
    await resp.write(b"second;")
    await resp.write_eof()
    return resp


@_routes.delete("/test_pack/nothing")
async def _nothing(request):
    return web.Response(status=204, headers={"X-Conn": str(_connection_serial(request))})


@_routes.get("/test_pack/drop_idle")
async def _drop_idle(request):
    # Answers, then closes the idle connection soon after, like aiohttp's keep-alive timeout does.
    asyncio.get_running_loop().call_later(0.05, request.transport.close)
    return web.json_response({"conn": _connection_serial(request)})


async def _close_without_answer(request):
    _count(request.method + " " + request.path)
    request.transport.close()
    await asyncio.sleep(0.05)
    return web.Response(text="never sent")


_routes.get("/test_pack/close")(_close_without_answer)
_routes.post("/test_pack/close")(_close_without_answer)


@_routes.get("/test_pack/close_once")
async def _close_once(request):
    # Drops the connection the first time it sees a key: the bridge's retry answers instead.
    key = "close_once " + request.query["key"]
    _count(key)
    if _calls[key] == 1:
        request.transport.close()
        await asyncio.sleep(0.05)
    return web.json_response({"calls": _calls[key], "conn": _connection_serial(request)})
