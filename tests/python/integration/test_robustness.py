"""Bad input and process behaviour: clean Ctrl-C, broken WebSocket frames, clients that vanish
mid-request, the body limit at its edges, CORS. After each abuse the server must still serve and
keep its queue."""
import json
import os
import signal
import socket
import struct
import time

import requests

from comfy_harness import WsClient, queue_and_collect, start_server, unique_str


def raw_request(port, data: bytes, read=True, timeout=5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")]
                if length and len(rest) >= length[0]:
                    break
        return out


def test_ctrl_c_exits_zero_and_wipes_temp(tmp_path):
    srv = start_server(tmp_path / "sigint")
    (srv.temp_dir / "leftover.txt").write_text("x")
    os.kill(srv.proc.pid, signal.SIGINT)
    assert srv.proc.wait(timeout=20) == 0
    assert not (srv.temp_dir / "leftover.txt").exists()


def test_broken_websocket_frames_close_that_socket_only(server):
    with WsClient(server, "good") as good:
        assert good.initial.type == "status"
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        s.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        head = s.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
        # An unmasked client frame violates RFC 6455: expect a close frame with code 1002.
        s.sendall(b"\x81\x05hello")
        data = b""
        deadline = time.time() + 5
        while time.time() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        close_frames = [i for i in range(len(data) - 3) if data[i] == 0x88]
        assert close_frames, data
        i = close_frames[-1]
        assert struct.unpack(">H", data[i + 2:i + 4])[0] == 1002
        # The other client and HTTP still work.
        pid = requests.post(server.url("/prompt"), json={"prompt": {}}).status_code
        assert pid == 400
        assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 0}}
        run = queue_and_collect(server, {"1": {"class_type": "TestIntConst", "inputs": {"value": 7}},
                                         "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}, ws=good)
        assert run.one("execution_success").data["prompt_id"] == run.prompt_id


def test_oversized_websocket_message_closes_with_1009(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    s.recv(4096)
    # Announce a 1 GiB masked text frame; the server must refuse it without waiting for the bytes.
    s.sendall(b"\x81\xff" + struct.pack(">Q", 1 << 30) + b"\x00\x00\x00\x00")
    data = b""
    deadline = time.time() + 5
    while time.time() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    i = data.rfind(b"\x88\x02")
    assert i >= 0 and struct.unpack(">H", data[i + 2:i + 4])[0] == 1009


def test_clients_vanishing_mid_request_do_not_hurt(server):
    prefix = unique_str("keep")
    # A prompt queued before the abuse must still run.
    with WsClient(server, "survivor") as ws:
        for _ in range(20):
            raw_request(server.port, b"POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"pro", read=False)
            raw_request(server.port, b"GET /queue HTTP/1.1\r\nHost: x\r\n", read=False)
        prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0}},
                  "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}}}
        run = queue_and_collect(server, prompt, ws=ws)
        assert run.one("execution_success")
    assert (server.output_dir / f"{prefix}_00001_.png").exists()


def test_body_limit_edges_and_header_bytes_do_not_count(server_factory):
    srv = server_factory(extra_args=["--max-upload-size", "0.001"], name="small-limit")  # 1048 bytes
    limit = round(0.001 * 1024 * 1024)
    under = json.dumps({"clear": False, "pad": "x" * (limit - 40)}).encode()
    assert len(under) < limit
    pad_header = "X-Pad: " + "h" * 4000 + "\r\n"
    resp = raw_request(srv.port, (f"POST /queue HTTP/1.1\r\nHost: x\r\n{pad_header}Content-Length: {len(under)}\r\n\r\n").encode() + under)
    assert resp.startswith(b"HTTP/1.1 200"), resp[:200]
    over = b"{" + b" " * (limit - 1) + b"}"
    resp = raw_request(srv.port, f"POST /queue HTTP/1.1\r\nHost: x\r\nContent-Length: {len(over)}\r\n\r\n".encode())
    assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
    assert srv.get("/features").json()["max_upload_size"] == 0.001 * 1024 * 1024


def test_cors_flag_replaces_origin_check(server_factory):
    srv = server_factory(extra_args=["--enable-cors-header"], name="cors")
    r = requests.get(srv.url("/prompt"), headers={"Origin": "http://evil.example"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Allow-Methods"] == "POST, GET, DELETE, PUT, OPTIONS"
    assert r.headers["Access-Control-Allow-Headers"] == "Content-Type, Authorization"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    o = requests.options(srv.url("/prompt"), timeout=10)
    assert o.status_code == 200 and o.content == b""
