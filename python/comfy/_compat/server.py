"""The top-level `server` module custom nodes import: `PromptServer` with `PromptServer.instance`.

The instance fronts the native server. `routes` is a real aiohttp `RouteTableDef` and `app` a real
`aiohttp.web.Application`; after custom nodes load, the table is mirrored under /api and the app is
served on a Unix socket that the native server forwards every request it does not answer itself to
(architecture section 3, design 2: full aiohttp behaviour, no reliance on aiohttp internals)."""
import asyncio
import json
import logging
import os
import struct
import uuid  # noqa: F401  (packs use server.uuid)

from aiohttp import web

from comfy._compat.execution import NativePromptQueue
from comfy._compat.protocol import BinaryEventTypes

__all__ = ["PromptServer", "BinaryEventTypes", "web"]


class _Sockets(dict):
    """sid -> placeholder; refreshed from the native hub on access."""


class _UserManager:
    def get_request_user_id(self, request):
        user = request.headers.get("comfy-user", "default") if request is not None else "default"
        return user if user else "default"


# ComfyUI's method names and tuple shapes over the native queue; a subclass of execution.PromptQueue.
_PromptQueue = NativePromptQueue


class PromptServer:
    instance = None

    def __init__(self, loop):
        PromptServer.instance = self
        from comfy.cli_args import args
        self.loop = loop
        self.routes = web.RouteTableDef()
        self.app = web.Application(client_max_size=round(args.max_upload_size * 1024 * 1024), middlewares=[])
        self.supports = ["custom_nodes_from_web"]
        self.prompt_queue = _PromptQueue(self)
        self.user_manager = _UserManager()
        self.on_prompt_handlers = []
        self.client_session = None
        self.web_root = ""
        self.address = args.listen.split(",")[0] if args.listen else "127.0.0.1"
        self.port = args.port
        self._native = None
        self._runner = None
        self._routes_added = False

    # -- state mirrored from the native side ---------------------------------
    @property
    def client_id(self):
        return self._native.client_id if self._native else None

    @property
    def last_node_id(self):
        return self._native.last_node_id if self._native else None

    @property
    def last_prompt_id(self):
        return self._native.current_prompt_id if self._native else None

    @property
    def number(self):
        """The next queue number (server.number in ComfyUI). Packs that bump it (VHS requeue) may
        assign; the native counter only moves forward."""
        return self._native.peek_number() if self._native else 0

    @number.setter
    def number(self, value):
        if self._native is not None:
            while self._native.peek_number() < int(value):
                self._native.take_number()

    @property
    def sockets(self):
        return _Sockets({sid: None for sid in (self._native.sids() if self._native else [])})

    @property
    def sockets_metadata(self):
        if not self._native:
            return {}
        return {sid: {"feature_flags": self._native.feature_flags(sid) or {}} for sid in self._native.sids()}

    # -- messages ----------------------------------------------------------------
    def send_sync(self, event, data, sid=None):
        if self._native is None:
            return
        if event == BinaryEventTypes.UNENCODED_PREVIEW_IMAGE:
            from comfy.utils import encode_preview
            fmt, payload = encode_preview(data)
            self._native.send_bytes(BinaryEventTypes.PREVIEW_IMAGE, struct.pack(">I", fmt) + payload, sid)
        elif event == BinaryEventTypes.PREVIEW_IMAGE_WITH_METADATA:
            from comfy.utils import encode_preview
            preview, metadata = data
            fmt, payload = encode_preview(preview)
            meta = dict(metadata, image_type="image/png" if fmt == 2 else "image/jpeg")
            body = json.dumps(meta).encode()
            self._native.send_bytes(event, struct.pack(">I", len(body)) + body + payload, sid)
        elif isinstance(data, (bytes, bytearray)):
            self._native.send_bytes(int(event), bytes(data), sid)
        else:
            self._native.send_sync(event, data, sid)

    async def send(self, event, data, sid=None):
        self.send_sync(event, data, sid)

    async def send_json(self, event, data, sid=None):
        if self._native is not None:
            self._native.send_sync(event, data, sid)

    async def send_bytes(self, event, data, sid=None):
        if self._native is not None:
            self._native.send_bytes(int(event), bytes(data), sid)

    def send_image(self, image_data, sid=None):
        """ComfyUI's send_image: (image type, PIL image, max size) as a PREVIEW_IMAGE frame."""
        self.send_sync(BinaryEventTypes.UNENCODED_PREVIEW_IMAGE, image_data, sid)

    def send_progress_text(self, text, node_id, sid=None):
        if isinstance(text, str):
            text = text.encode("utf-8")
        node = str(node_id).encode("utf-8")
        self.send_sync(BinaryEventTypes.TEXT, struct.pack(">I", len(node)) + node + text, sid)

    def queue_updated(self):
        if self._native is not None:
            self._native.broadcast_status()

    def get_queue_info(self):
        n = self._native.queue_remaining() if self._native else 0
        return {"exec_info": {"queue_remaining": n}}

    # -- on-prompt handlers --------------------------------------------------------
    def add_on_prompt_handler(self, handler):
        self.on_prompt_handlers.append(handler)
        if self._native is not None:
            self._native.set_on_prompt(self.trigger_on_prompt)

    def trigger_on_prompt(self, json_data):
        for handler in self.on_prompt_handlers:
            try:
                json_data = handler(json_data)
            except Exception:
                logging.warning("[ERROR] An error occurred during the on_prompt_handler processing", exc_info=True)
        return json_data

    # -- start-up ------------------------------------------------------------------
    def add_routes(self, extension_web_dirs=None):
        """Mirror the table under /api (static routes are not), then serve it, plus /extensions and
        each pack's WEB_DIRECTORY at /extensions/<pack>/."""
        import urllib.parse
        if self._routes_added:
            return
        self._routes_added = True
        from comfy import _user_routes
        from comfy.cli_args import args
        _user_routes.register(self, args)
        from comfy import _jobs_routes; _jobs_routes.register(self)
        from comfy import _model_routes; _model_routes.register(self)
        dirs = dict(extension_web_dirs or {})

        @self.routes.get("/extensions")
        async def get_extensions(request):
            from comfy._frontend import core_extension_scripts
            files = core_extension_scripts(self.web_root)
            for name, folder in dirs.items():
                for root, _, names in os.walk(folder):
                    for n in sorted(names):
                        if n.endswith(".js"):
                            rel = os.path.relpath(os.path.join(root, n), folder).replace(os.sep, "/")
                            files.append("/extensions/" + urllib.parse.quote(name) + "/" + rel)
            return web.json_response(files)

        api = web.RouteTableDef()
        for route in self.routes:
            if isinstance(route, web.RouteDef):
                api.route(route.method, "/api" + route.path)(route.handler)
        # One route at a time: a pack registering a path twice is logged, not fatal to start-up.
        for table in (api, self.routes):
            for route in table:
                try:
                    self.app.router.add_routes([route])
                except (RuntimeError, ValueError) as e:
                    logging.warning("[ERROR] could not add route %s: %s", getattr(route, "path", route), e)
        for name, folder in dirs.items():
            if os.path.isdir(folder):
                self.app.router.add_static("/extensions/" + name, folder)
        from comfy._frontend import add_cache_control, init_web_mime_types, register_templates
        init_web_mime_types()
        register_templates(self.app)  # split-package templates; the legacy folder is a native mount
        self.app.on_response_prepare.append(add_cache_control)
        if self.app.middlewares:
            # Pack middlewares must guard the native routes too: the native server sends each such
            # request here first (X-Comfy-Preflight); reaching this innermost handler means every
            # middleware let it through.
            async def native_marker(request):
                if request.headers.get("X-Comfy-Preflight") != "1":
                    raise web.HTTPNotFound()
                return web.Response(status=204, headers={"X-Comfy-Native": "1"})

            self.app.router.add_route("*", "/{tail:.*}", native_marker)

    async def start_upstream(self, socket_path):
        import aiohttp
        # ComfyUI's setup() opens this session for packs' outbound requests.
        self.client_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.UnixSite(self._runner, socket_path).start()

    async def stop_upstream(self):
        if self.client_session is not None:
            await self.client_session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def attach(self, native):
        self._native = native
        if self.app.middlewares:
            native.set_preflight(True)
        if self.on_prompt_handlers:
            native.set_on_prompt(self.trigger_on_prompt)
