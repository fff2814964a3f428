"""Pack middlewares appended to PromptServer.instance.app.middlewares also guard the native routes
(auth packs protect /prompt, /view and /ws), while unguarded routes stay native."""
import textwrap

import pytest
import requests
import websocket

from comfy_harness import start_server

AUTH_PACK = '''
from aiohttp import web
from server import PromptServer

GUARDED = ("/api/prompt", "/queue", "/view", "/ws", "/api/ws", "/test_pack")


_connections = []  # the aiohttp connections requests came in on (kept: their identities never repeat)


@web.middleware
async def require_token(request, handler):
    if not any(p is request.protocol for p in _connections):
        _connections.append(request.protocol)
    # (GET /prompt stays open: the test harness polls it for readiness.)
    if request.path.startswith(GUARDED) or (request.path == "/prompt" and request.method == "POST"):
        ok = request.headers.get("Authorization") == "Bearer secret" or request.query.get("token") == "secret"
        if not ok:
            return web.json_response({"error": "unauthorized"}, status=401)
    return await handler(request)


PromptServer.instance.app.middlewares.append(require_token)


@PromptServer.instance.routes.get("/auth_pack/connections")
async def connections(request):
    return web.json_response({"connections": len(_connections)})
NODE_CLASS_MAPPINGS = {}
'''


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    base = tmp_path_factory.mktemp("auth")
    pack = base / "packs" / "auth_pack"
    pack.mkdir(parents=True)
    (pack / "__init__.py").write_text(textwrap.dedent(AUTH_PACK))
    srv = start_server(base, extra_args=[])
    yield srv
    srv.stop()


def test_native_routes_pass_through_pack_middleware(guarded):
    r = requests.get(guarded.url("/api/prompt"), timeout=10)
    assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    r = requests.get(guarded.url("/queue"), timeout=10)
    assert r.status_code == 401
    r = requests.get(guarded.url("/api/prompt"), headers={"Authorization": "Bearer secret"}, timeout=10)
    assert r.status_code == 200 and r.json() == {"exec_info": {"queue_remaining": 0}}
    r = requests.post(guarded.url("/prompt"), json={"prompt": {}}, timeout=10)
    assert r.status_code == 401
    r = requests.post(guarded.url("/prompt"), json={"prompt": {}}, headers={"Authorization": "Bearer secret"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["type"] == "prompt_no_outputs"
    # Routes the middleware does not guard are answered as usual.
    assert requests.get(guarded.url("/features"), timeout=10).status_code == 200
    # Pack routes are guarded by the same middleware.
    assert requests.get(guarded.url("/test_pack/hello"), timeout=10).status_code == 401
    r = requests.get(guarded.url("/test_pack/hello"), headers={"Authorization": "Bearer secret"}, timeout=10)
    assert r.status_code == 200 and r.json()["path"] == "/test_pack/hello"


def test_websocket_needs_the_token(guarded):
    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(guarded.ws_url("nope"), timeout=10)
    assert err.value.status_code == 401
    ws = websocket.create_connection(guarded.ws_url("yes") + "&token=secret", timeout=10)
    try:
        assert '"sid": "yes"' in ws.recv()
    finally:
        ws.close()


def test_preflights_and_forwards_share_kept_alive_upstream_connections(guarded):
    def upstream_connections():
        return requests.get(guarded.url("/auth_pack/connections"), timeout=10).json()["connections"]

    before = upstream_connections()
    session = requests.Session()
    auth = {"Authorization": "Bearer secret"}
    for _ in range(10):
        r = session.get(guarded.url("/queue"), headers=auth, timeout=10)  # preflight, then native
        assert r.status_code == 200 and "queue_running" in r.json()
        r = session.get(guarded.url("/test_pack/hello"), headers=auth, timeout=10)  # forwarded
        assert r.status_code == 200
        r = session.get(guarded.url("/api/prompt"), timeout=10)  # the middleware's own answer
        assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
        assert r.headers["Connection"] == "close"  # the client connection closes after a rejection
    assert upstream_connections() - before <= 1  # thirty-one requests, at most one new connection
