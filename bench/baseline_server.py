"""The baseline of the HTTP and WebSocket rows: a plain aiohttp app, in its own process, whose handlers
do what ComfyUI 0.3.64's server.py does for the same routes (json_response, i.e. json.dumps; FileResponse;
the send_sync -> asyncio.Queue -> publish loop -> ws.send_json fan-out; a worker thread for node code).

Node classes are loaded by our server's own start-up code (built-ins, then the bench packs through
the custom-node loader), so /object_info calls INPUT_TYPES on the same classes. Bench-only routes:
POST /bench/spin {"seconds"}: a worker thread spins in pure Python (ComfyUI's prompt_worker thread
running a CPU-bound Python node); POST /bench/progress {"steps"}: a worker thread reports `steps`
progress updates through ComfyUI's progress hook; POST /bench/load {"queue": path, "history": path}:
the JSON a /queue or /history answer is built from."""
import argparse
import asyncio
import json
import logging
import mimetypes
import os
import sys
import threading
import uuid

from aiohttp import web

HERE = os.path.dirname(os.path.abspath(__file__))


def load_nodes(base, packs):
    """nodes.NODE_CLASS_MAPPINGS exactly as our server builds it (its own start-up steps: same
    classes, same order), with the bench packs as custom nodes."""
    from comfy import _app, cli_args
    yaml = os.path.join(base, "baseline-extra.yaml")
    with open(yaml, "w") as f:
        f.write(f"bench:\n    custom_nodes: {packs}\n")
    args = cli_args.parse_args(["--base-directory", base, "--extra-model-paths-config", yaml])
    folder_paths, nodes = _app._register_compat_modules()
    _app._setup_paths(args, folder_paths)
    mappings, names = _app._load_nodes(args, folder_paths, nodes)
    return folder_paths, mappings, names


def node_info(name, cls, display_names):
    """ComfyUI's server.py node_info (V3 classes describe themselves, as there)."""
    if hasattr(cls, "GET_NODE_INFO_V1"):
        return cls.GET_NODE_INFO_V1()
    info = {}
    info["input"] = cls.INPUT_TYPES()
    info["input_order"] = {key: list(value.keys()) for (key, value) in cls.INPUT_TYPES().items()}
    info["output"] = cls.RETURN_TYPES
    info["output_is_list"] = cls.OUTPUT_IS_LIST if hasattr(cls, "OUTPUT_IS_LIST") else [False] * len(cls.RETURN_TYPES)
    info["output_name"] = cls.RETURN_NAMES if hasattr(cls, "RETURN_NAMES") else info["output"]
    info["name"] = name
    info["display_name"] = display_names[name] if name in display_names else name
    info["description"] = cls.DESCRIPTION if hasattr(cls, "DESCRIPTION") else ""
    info["python_module"] = getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes")
    info["category"] = "sd"
    if hasattr(cls, "OUTPUT_NODE") and cls.OUTPUT_NODE is True:
        info["output_node"] = True
    else:
        info["output_node"] = False
    if hasattr(cls, "CATEGORY"):
        info["category"] = cls.CATEGORY
    if hasattr(cls, "OUTPUT_TOOLTIPS"):
        info["output_tooltips"] = cls.OUTPUT_TOOLTIPS
    if getattr(cls, "DEPRECATED", False):
        info["deprecated"] = True
    if getattr(cls, "EXPERIMENTAL", False):
        info["experimental"] = True
    if hasattr(cls, "API_NODE"):
        info["api_node"] = cls.API_NODE
    return info


class Server:
    def __init__(self, base, packs):
        self.folder_paths, self.mappings, self.display_names = load_nodes(base, packs)
        self.sockets = {}
        self.client_id = None
        self.loop = None
        self.messages = None
        self.queue_running, self.queue_pending, self.history = [], [], {}
        self.mutex = threading.RLock()
        self.interrupt = False
        self.interrupt_mutex = threading.RLock()

    # -- ComfyUI's send path: send_sync from any thread -> queue -> publish loop -> send_json -------
    def send_sync(self, event, data, sid=None):
        self.loop.call_soon_threadsafe(self.messages.put_nowait, (event, data, sid))

    async def send_json(self, event, data, sid=None):
        message = {"type": event, "data": data}
        if sid is None:
            for ws in list(self.sockets.values()):
                await self.send_catch(ws.send_json, message)
        elif sid in self.sockets:
            await self.send_catch(self.sockets[sid].send_json, message)

    @staticmethod
    async def send_catch(fn, message):
        try:
            await fn(message)
        except (ConnectionResetError, ConnectionError, RuntimeError) as err:
            logging.warning("send error: %s", err)

    async def publish_loop(self):
        while True:
            event, data, sid = await self.messages.get()
            await self.send_json(event, data, sid)

    def queue_info(self):
        with self.mutex:
            return {"exec_info": {"queue_remaining": len(self.queue_running) + len(self.queue_pending)}}

    # -- worker-thread jobs (ComfyUI's prompt_worker running one node) ------------------------------
    def throw_if_interrupted(self):
        with self.interrupt_mutex:
            if self.interrupt:
                self.interrupt = False
                raise InterruptedError()

    def progress_job(self, steps):
        """What ComfyUI does for ProgressBar(steps).update(1) x steps: the hook checks the interrupt
        flag, updates the progress registry, sends progress_state (every non-pending node) and progress."""
        prompt_id, node_id = uuid.uuid4().hex, "1"
        registry = {node_id: {"state": "running", "value": 0, "max": 1}}
        for i in range(1, steps + 1):
            self.throw_if_interrupted()
            entry = registry[node_id]
            entry["state"], entry["value"], entry["max"] = "running", i, steps
            nodes = {nid: {"value": st["value"], "max": st["max"], "state": st["state"], "node_id": nid,
                           "prompt_id": prompt_id, "display_node_id": nid, "parent_node_id": None,
                           "real_node_id": nid} for nid, st in registry.items() if st["state"] != "pending"}
            self.send_sync("progress_state", {"prompt_id": prompt_id, "nodes": nodes}, self.client_id)
            self.send_sync("progress", {"value": i, "max": steps, "prompt_id": prompt_id, "node": node_id},
                           self.client_id)

    def routes(self):
        routes = web.RouteTableDef()

        @routes.get("/prompt")
        async def get_prompt(request):
            return web.json_response(self.queue_info())

        @routes.post("/prompt")
        async def post_prompt(request):  # parse + answer, no validation (the POST row's baseline)
            data = await request.json()
            return web.json_response({"prompt_id": str(uuid.uuid4()), "number": 0, "node_errors": {}, "n": len(data)})

        @routes.get("/bench/hello")
        async def hello(request):
            return web.json_response({"hello": request.query.get("name", "world")})

        @routes.get("/queue")
        async def get_queue(request):
            with self.mutex:  # get_current_queue_volatile
                current = (list(self.queue_running), list(self.queue_pending))
            return web.json_response({"queue_running": current[0], "queue_pending": current[1]})

        @routes.get("/history")
        async def get_history(request):
            max_items = request.rel_url.query.get("max_items", None)
            max_items = int(max_items) if max_items is not None else None
            offset = int(request.rel_url.query.get("offset", -1))
            with self.mutex:  # PromptQueue.get_history(prompt_id=None)
                out, i = {}, 0
                if offset < 0 and max_items is not None:
                    offset = len(self.history) - max_items
                for k in self.history:
                    if i >= offset:
                        out[k] = self.history[k]
                        if max_items is not None and len(out) >= max_items:
                            break
                    i += 1
            return web.json_response(out)

        @routes.get("/object_info")
        async def object_info(request):
            with self.folder_paths.cache_helper:
                out = {}
                for x in self.mappings:
                    try:
                        out[x] = node_info(x, self.mappings[x], self.display_names)
                    except Exception:
                        logging.exception("node_info %s", x)
                return web.json_response(out)

        @routes.get("/view")
        async def view(request):
            folder_paths = self.folder_paths
            query = request.rel_url.query
            if "filename" in query:
                filename, output_dir = folder_paths.annotated_filepath(query["filename"])
                if not filename or filename[0] == "/" or ".." in filename:
                    return web.Response(status=400)
                if output_dir is None:
                    output_dir = folder_paths.get_directory_by_type(query.get("type", "output"))
                if output_dir is None:
                    return web.Response(status=400)
                if "subfolder" in query:
                    full = os.path.abspath(os.path.join(output_dir, query["subfolder"]))
                    if os.path.commonpath((full, output_dir)) != output_dir:
                        return web.Response(status=403)
                    output_dir = full
                filename = os.path.basename(filename)
                file = os.path.join(output_dir, filename)
                if os.path.isfile(file):
                    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                    if content_type in {"text/html", "text/html-sandboxed", "application/xhtml+xml",
                                        "text/javascript", "text/css"}:
                        content_type = "application/octet-stream"
                    return web.FileResponse(file, headers={"Content-Disposition": f"filename=\"{filename}\"",
                                                           "Content-Type": content_type})
            return web.Response(status=404)

        @routes.get("/ws")
        async def websocket_handler(request):
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            sid = request.rel_url.query.get("clientId", "")
            if sid:
                self.sockets.pop(sid, None)
            else:
                sid = uuid.uuid4().hex
            self.sockets[sid] = ws
            try:
                await self.send_json("status", {"status": self.queue_info(), "sid": sid}, sid)
                async for msg in ws:
                    if msg.type == web.WSMsgType.ERROR:
                        break
            finally:
                self.sockets.pop(sid, None)
            return ws

        @routes.post("/bench/spin")
        async def bench_spin(request):
            from bench_pack import spin
            seconds = float((await request.json())["seconds"])
            threading.Thread(target=spin, args=(seconds,), daemon=True).start()
            return web.json_response({})

        @routes.post("/bench/progress")
        async def bench_progress(request):
            steps = int((await request.json())["steps"])
            threading.Thread(target=self.progress_job, args=(steps,), daemon=True).start()
            return web.json_response({})

        @routes.post("/bench/load")
        async def bench_load(request):
            body = await request.json()
            with self.mutex:
                if "queue" in body:
                    with open(body["queue"]) as f:
                        q = json.load(f)
                    self.queue_running, self.queue_pending = q["queue_running"], q["queue_pending"]
                if "history" in body:
                    with open(body["history"]) as f:
                        self.history = json.load(f)
            return web.json_response({})

        return routes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--base-directory", required=True)
    ap.add_argument("--packs", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.packs)
    server = Server(os.path.abspath(args.base_directory), args.packs)

    async def serve():
        server.loop = asyncio.get_running_loop()
        server.messages = asyncio.Queue()
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.add_routes(server.routes())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        await server.publish_loop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
