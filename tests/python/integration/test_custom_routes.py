"""Custom-node routes through PromptServer.instance.routes (spec §1.2, §9.1): served by the real
aiohttp app behind the native server, mirrored under /api, every response kind, pack WebSocket
routes, send_sync, prompt_queue, on-prompt handlers and WEB_DIRECTORY."""
import uuid

import requests
import websocket

from comfy_harness import WsClient, wait_history


def test_get_route_with_decoded_repeated_query_and_api_mirror(server):
    for prefix in ("", "/api"):
        r = requests.get(server.url(prefix + "/test_pack/hello?a=1&a=x%20y"), headers={"comfy-user": "bob"}, timeout=10)
        assert r.status_code == 200
        assert r.json() == {"a": ["1", "x y"], "path": prefix + "/test_pack/hello", "method": "GET", "user": "bob"}


def test_multipart_post_and_plain_function_put(server):
    r = requests.post(server.url("/test_pack/form"), data={"field": "v"},
                      files={"image": ("a.png", b"\x89PNG" + b"x" * 1000, "image/png")}, timeout=10)
    assert r.status_code == 200
    assert r.json() == {"field": "v", "image": {"filename": "a.png", "size": 1004}}
    r = requests.put(server.url("/api/test_pack/json"), json={"k": [1, 2]}, timeout=10)
    assert r.json() == {"got": {"k": [1, 2]}}


def test_stream_redirect_error_and_missing(server):
    r = requests.get(server.url("/test_pack/stream"), timeout=10)
    assert r.status_code == 200 and r.text == "chunk0;chunk1;chunk2;" and r.headers["X-Pack"] == "yes"
    r = requests.get(server.url("/test_pack/redirect"), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "/test_pack/hello"
    r = requests.get(server.url("/test_pack/boom"), timeout=10)
    assert r.status_code == 500
    r = requests.get(server.url("/no/such/route"), timeout=10)
    assert r.status_code == 404
    assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 0}}  # still serving


def test_pack_websocket_route_is_tunnelled(server):
    ws = websocket.create_connection(server.ws_url(path="/test_pack/ws"), timeout=10)
    try:
        ws.send("hi")
        assert ws.recv() == "echo:hi"
        ws.send("again")
        assert ws.recv() == "echo:again"
    finally:
        ws.close()


def test_send_sync_from_a_route_reaches_the_client(server):
    with WsClient(server, "packclient") as client:
        r = requests.post(server.url("/test_pack/notify"), json={"value": 42, "sid": "packclient"}, timeout=10)
        assert r.status_code == 200
        assert r.json()["remaining"] == 0 and "packclient" in r.json()["sockets"]
        m = client.recv_until(lambda m: m.type == "test_pack.event", timeout=10)[-1]
        assert m.data == {"value": 42}


def test_on_prompt_handler_rewrites_the_body(server):
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 2, "height": 2, "batch_size": 1, "color": 0}},
              "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    r = requests.post(server.url("/prompt"), json={"prompt": prompt, "extra_data": {"tag_me": True}}, timeout=10)
    assert r.status_code == 200, r.text
    entry = wait_history(server, r.json()["prompt_id"])
    assert entry["prompt"][3] == {"tag_me": True, "tagged_by_pack": True}


def test_web_directory_served_and_listed(server):
    listing = server.get_json("/extensions")
    assert "/extensions/testing_pack/ext.js" in listing
    assert server.get_json("/api/extensions") == listing
    r = requests.get(server.url("/extensions/testing_pack/ext.js"), timeout=10)
    assert r.status_code == 200 and r.text.startswith('console.log("testing_pack')
    assert r.headers["Content-Type"].startswith(("text/javascript", "application/javascript"))


def test_static_route_and_no_api_mirror_for_it(server):
    r = requests.get(server.url("/test_pack/static/hello.txt"), timeout=10)
    assert r.status_code == 200 and r.text == "static file from testing_pack\n"
    assert requests.get(server.url("/api/test_pack/static/hello.txt"), timeout=10).status_code == 404


def test_send_sync_from_another_thread_arrives_in_order(server):
    with WsClient(server, "threads") as client:
        r = requests.post(server.url("/test_pack/thread_event"), json={"sid": "threads"}, timeout=10)
        assert r.json() == {"sent": 3}
        msgs = client.recv_until(lambda m: m.type == "test_pack.thread" and m.data == {"i": 2}, timeout=10)
        assert [m.data["i"] for m in msgs if m.type == "test_pack.thread"] == [0, 1, 2]


def test_prestartup_ran_before_the_pack_imported(server):
    assert server.get_json("/test_pack/prestartup") == {"ran": "ran", "saw_pack": "no"}


def test_pack_model_folder_is_listed(server):
    assert "test_models" in server.get_json("/models")
    assert server.get_json("/models/test_models") == []


def test_failed_pack_is_reported_and_the_server_runs(server):
    log = server.log_path.read_text()
    assert "broken_pack cannot be imported on purpose" in log  # the traceback is logged
    assert "(IMPORT FAILED)" in log and "broken_pack" in log.split("(IMPORT FAILED)")[1].splitlines()[0]
    assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 0}}


def test_pinned_aiohttp_version():
    # The bridge forwards raw HTTP to the pack-facing aiohttp app; a different aiohttp changes what packs
    # see (request parsing, middleware order). Changing the pin must be a decision, re-run with this suite.
    import aiohttp
    assert aiohttp.__version__ == "3.14.5"


def test_send_image_and_client_session(server):
    import io
    import struct

    from PIL import Image
    with WsClient(server, "imgclient") as client:
        r = requests.post(server.url("/test_pack/send_image"), json={"sid": "imgclient"}, timeout=10)
        assert r.json() == {"session": "ClientSession", "closed": False}
        deadline = __import__("time").time() + 10
        while not client.binary and __import__("time").time() < deadline:
            client.recv(timeout=0.5)
        frame = client.binary[0]
        assert struct.unpack(">II", frame[:8]) == (1, 2)  # PREVIEW_IMAGE, PNG
        img = Image.open(io.BytesIO(frame[8:]))
        assert img.size == (4, 2) and img.convert("RGB").getpixel((0, 0)) == (0, 0, 255)


def test_bridge_keeps_the_client_connection_alive_for_sized_responses(server):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    sock_ids = []
    for path in ("/test_pack/hello?a=1", "/api/test_pack/hello?a=2", "/prompt", "/test_pack/hello?a=3"):
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and body
        assert r.getheader("Connection") is None  # HTTP/1.1 default: keep-alive
        sock_ids.append(conn.sock.getsockname())  # the local port: a reconnect would change it
    assert len(set(sock_ids)) == 1  # one TCP connection served all four
    # A streamed response of unknown length still closes, as it must.
    conn.request("GET", "/test_pack/stream")
    r = conn.getresponse()
    assert r.read() == b"chunk0;chunk1;chunk2;"


# --- the bridge keeps its upstream connections to the pack app alive and reuses them -------------

def _client(server):
    import http.client
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)


def _get(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r, r.read()


def test_bridge_reuses_one_upstream_connection_for_sequential_requests(server):
    conn = _client(server)
    serials = set()
    for i in range(30):
        r, body = _get(conn, "GET", f"/test_pack/conn?i={i}")
        assert r.status == 200
        serials.add(int(r.getheader("X-Conn")))
    assert len(serials) == 1  # one aiohttp connection served all thirty
    # Whatever the client's own connections do: new client connections, Connection: close.
    for _ in range(5):
        r = requests.get(server.url("/test_pack/conn"), headers={"Connection": "close"}, timeout=10)
        assert r.json()["conn"] in serials
    assert len(serials) == 1


def test_chunked_stream_streams_ends_and_its_connection_is_reused(server):
    import time
    t0 = time.monotonic()
    with requests.get(server.url("/test_pack/conn_stream?pause=0.6"), stream=True, timeout=10) as r:
        assert r.headers["Transfer-Encoding"] == "chunked"
        assert r.headers["Connection"] == "close"  # unknown length: the client connection closes after it
        parts = r.iter_content(chunk_size=None)
        assert next(parts) == b"first;"
        first_at = time.monotonic() - t0
        assert b"".join(parts) == b"second;"
        done_at = time.monotonic() - t0
    assert first_at < 0.45 <= done_at  # the first chunk arrived before the handler went on
    stream_conn = int(r.headers["X-Conn"])
    # The chunked body's end was found: the same upstream connection answers the next requests.
    conn = _client(server)
    for _ in range(3):
        r, body = _get(conn, "GET", "/test_pack/conn")
        assert r.status == 200 and int(r.getheader("X-Conn")) == stream_conn


def test_head_and_204_keep_both_connections(server):
    conn = _client(server)
    r, body = _get(conn, "GET", "/test_pack/conn")
    upstream = r.getheader("X-Conn")
    port = conn.sock.getsockname()
    r, body = _get(conn, "HEAD", "/test_pack/conn")
    assert r.status == 200 and body == b"" and int(r.getheader("Content-Length")) > 0
    assert r.getheader("X-Conn") == upstream
    r, body = _get(conn, "DELETE", "/test_pack/nothing")
    assert r.status == 204 and body == b"" and r.getheader("X-Conn") == upstream
    assert r.getheader("Connection") is None
    r, body = _get(conn, "GET", "/test_pack/conn")
    assert r.status == 200 and r.getheader("X-Conn") == upstream
    assert conn.sock.getsockname() == port  # the client connection stayed open through all four


def test_a_raising_handler_answers_500_and_the_next_request_is_served(server):
    conn = _client(server)
    before = _get(conn, "GET", "/test_pack/conn")[0].getheader("X-Conn")
    port = conn.sock.getsockname()
    r, body = _get(conn, "GET", "/test_pack/boom")
    assert r.status == 500 and body.startswith(b"500 Internal Server Error")
    assert r.getheader("Connection") is None  # a sized answer: the client connection stays open
    # aiohttp closes its connection after a handler error (Connection: close): the bridge does not
    # send the next request on it.
    r, body = _get(conn, "GET", "/test_pack/conn")
    assert r.status == 200 and r.getheader("X-Conn") != before
    assert conn.sock.getsockname() == port


def _calls(server):
    return requests.get(server.url("/test_pack/calls"), timeout=10).json()


def test_a_handler_that_drops_the_connection(server):
    requests.get(server.url("/test_pack/conn"), timeout=10)  # an upstream connection in the pool
    before = _calls(server)
    r = requests.get(server.url("/test_pack/close"), timeout=10)
    assert r.status_code == 502
    # A GET that got no byte of an answer on a kept-alive connection is sent once more, on a new one.
    assert _calls(server).get("GET /test_pack/close", 0) - before.get("GET /test_pack/close", 0) == 2
    requests.get(server.url("/test_pack/conn"), timeout=10)
    r = requests.post(server.url("/test_pack/close"), json={}, timeout=10)
    assert r.status_code == 502
    # A POST the app read is never sent twice.
    assert _calls(server).get("POST /test_pack/close", 0) - before.get("POST /test_pack/close", 0) == 1
    assert requests.get(server.url("/test_pack/conn"), timeout=10).status_code == 200


def test_a_dropped_kept_alive_connection_is_replaced(server):
    import time
    requests.get(server.url("/test_pack/conn"), timeout=10)
    r = requests.get(server.url("/test_pack/close_once?key=k1"), timeout=10)
    assert r.status_code == 200 and r.json()["calls"] == 2  # dropped once, answered on a new connection
    # The app closes idle connections (its keep-alive timeout): the next request still works.
    dropped = requests.get(server.url("/test_pack/drop_idle"), timeout=10).json()["conn"]
    time.sleep(0.3)
    conn = _client(server)
    r, body = _get(conn, "GET", "/test_pack/conn")
    assert r.status == 200 and int(r.getheader("X-Conn")) != dropped
    r, body = _get(conn, "POST", "/test_pack/json", body=b"{}")  # (405: PUT only; any answer will do)
    assert r.status == 405
