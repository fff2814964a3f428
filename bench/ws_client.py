"""WebSocket receiver for the fan-out rows, run in its own process so that it does not share a GIL with
either server: opens N raw RFC 6455 connections to /ws, sends one HTTP trigger (a prompt that reports
progress, or the baseline's /bench/progress), then counts frames until every client has received
`steps` `progress` messages. Prints {"elapsed": s, "frames": n} (all text frames of all clients
between the trigger and the last progress frame). Frames are only split and counted, never decoded:
the client must not be the bottleneck."""
import argparse
import base64
import http.client
import json
import os
import selectors
import socket
import sys
import time

PROGRESS = b'{"type": "progress", '  # json.dumps layout (both servers); progress_state does not match


class Client:
    def __init__(self, port, cid):
        self.sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws?clientId={cid} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed during the handshake")
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"handshake refused: {head[:200]!r}")
        self.buf = bytearray(rest)
        self.frames = self.progress = 0
        self.sock.setblocking(False)

    def feed(self, data):
        buf = self.buf
        buf += data
        pos, n = 0, len(buf)
        frames = progress = 0
        while n - pos >= 2:
            ln = buf[pos + 1] & 0x7F
            hdr = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln = (buf[pos + 2] << 8) | buf[pos + 3]
                hdr = 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = int.from_bytes(buf[pos + 2:pos + 10], "big")
                hdr = 10
            if n - pos < hdr + ln:
                break
            if buf[pos] & 0x0F == 1:
                frames += 1
                if buf.startswith(PROGRESS, pos + hdr):
                    progress += 1
            pos += hdr + ln
        del buf[:pos]
        self.frames += frames
        self.progress += progress

    def drain(self):
        try:
            while True:
                data = self.sock.recv(1 << 18)
                if not data:
                    return
                self.feed(data)
        except BlockingIOError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--trigger-path", required=True)
    ap.add_argument("--trigger-body", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    clients = [Client(args.port, f"bench-{os.getpid()}-{i}") for i in range(args.clients)]
    time.sleep(0.2)  # the greeting (status) frames; not counted
    for c in clients:
        c.drain()
        c.frames = c.progress = 0
    sel = selectors.DefaultSelector()
    for c in clients:
        sel.register(c.sock, selectors.EVENT_READ, c)

    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    t0 = time.perf_counter()
    conn.request("POST", args.trigger_path, args.trigger_body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"trigger failed: {r.status} {body[:300]!r}")
    pending = set(clients)
    t_end = t0
    deadline = t0 + args.timeout
    while pending:
        if time.perf_counter() > deadline:
            sys.exit(f"timed out: progress counts {[c.progress for c in clients]}")
        for key, _ in sel.select(1.0):
            c = key.data
            try:
                data = c.sock.recv(1 << 18)
            except BlockingIOError:
                continue
            if not data:
                sys.exit("a server closed a WebSocket")
            c.feed(data)
            if c in pending and c.progress >= args.steps:
                pending.discard(c)
                sel.unregister(c.sock)  # later frames (execution_success, ...) are not counted
                t_end = time.perf_counter()
    print(json.dumps({"elapsed": t_end - t0, "frames": sum(c.frames for c in clients)}))


if __name__ == "__main__":
    main()
