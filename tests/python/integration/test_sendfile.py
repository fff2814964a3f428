"""Large /view and static-file bodies go out with sendfile (issue #5, cpp/http/file_sender.h).

Black-box: a 20 MB file byte for byte, Range slices, HEAD, keep-alive and pipelining after a large
body on the same socket, clients that disconnect mid-transfer, a file that shrinks (or is
replaced) while it is sent, 8 concurrent downloads with the server's memory watched. Every
response head is compared byte for byte (Date aside) with a second server started with
COMFY_SENDFILE_MIN_BYTES above every size, i.e. the buffered path that existed before.
"""

import concurrent.futures
import hashlib
import os
import re
import socket
import time

import pytest
import requests

BIG = 20 * 1024 * 1024
SMALL = b"small file body\n" * 10


@pytest.fixture(scope="module")
def data():
    return os.urandom(BIG)


@pytest.fixture(scope="module")
def web(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("webroot")
    (root / "index.html").write_text("<!doctype html><title>t</title>" + "x" * 200000)
    (root / "assets").mkdir()
    (root / "assets" / "big.js").write_bytes(data[: 5 * 1024 * 1024])
    return root


@pytest.fixture(scope="module")
def servers(server_factory, web, data):
    """(sendfile server, buffered server), the same files with the same mtimes in both."""
    fast = server_factory(["--front-end-root", str(web)], name="sendfile")
    old = os.environ.get("COMFY_SENDFILE_MIN_BYTES")
    os.environ["COMFY_SENDFILE_MIN_BYTES"] = str(1 << 62)
    try:
        buffered = server_factory(["--front-end-root", str(web)], name="buffered")
    finally:
        if old is None:
            del os.environ["COMFY_SENDFILE_MIN_BYTES"]
        else:
            os.environ["COMFY_SENDFILE_MIN_BYTES"] = old
    mtime = time.time_ns() - 10**9
    for srv in (fast, buffered):
        for name, body in (("big.bin", data), ("small.txt", SMALL), ("big.png", data[: 3 * 1024 * 1024])):
            p = srv.output_dir / name
            p.write_bytes(body)
            os.utime(p, ns=(mtime, mtime))
    return fast, buffered


@pytest.fixture(scope="module")
def srv(servers):
    return servers[0]


# --------------------------------------------------------------------------
# Raw HTTP on one socket
# --------------------------------------------------------------------------

def connect(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    return s


def request_bytes(method, target, headers=(), version="1.1"):
    lines = [f"{method} {target} HTTP/{version}", "Host: 127.0.0.1"] + list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(f, method="GET"):
    """(status, head bytes without the Date line, header dict (lower-case), body) from a file object."""
    head = b""
    while True:
        line = f.readline()
        assert line, f"connection closed before a full response head ({head!r})"
        head += line
        if line == b"\r\n":
            break
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = b"" if method == "HEAD" or status in (204, 304) else f.read(n)
    assert len(body) == (0 if method == "HEAD" or status in (204, 304) else n), "body cut short"
    return status, re.sub(rb"Date: [^\r]*\r\n", b"", head), headers, body


def fetch(port, method, target, headers=()):
    with connect(port) as s:
        s.sendall(request_bytes(method, target, headers))
        with s.makefile("rb") as f:
            return read_response(f, method)


def view_target(name, prefix=""):
    return f"{prefix}/view?filename={name}&type=output"


def sha(b):
    return hashlib.sha256(b).hexdigest()


def open_fds(proc):
    return len(os.listdir(f"/proc/{proc.pid}/fd"))


def peak_rss_kb(proc):
    with open(f"/proc/{proc.pid}/status") as fh:
        return int(re.search(r"VmHWM:\s+(\d+) kB", fh.read()).group(1))


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


# --------------------------------------------------------------------------
# Bodies and heads
# --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["", "/api"])
def test_large_view_is_byte_identical(srv, data, prefix):
    r = srv.get(view_target("big.bin", prefix))
    assert r.status_code == 200
    assert len(r.content) == BIG and sha(r.content) == sha(data)
    assert r.headers["Content-Length"] == str(BIG)
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Disposition"] == 'filename="big.bin"'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["ETag"].startswith('"') and r.headers["Last-Modified"].endswith("GMT")


RANGES = [
    ("bytes=0-99", 0, 100),                          # first bytes (buffered: below the threshold)
    ("bytes=0-1048575", 0, 1048576),                 # first MB (sendfile)
    ("bytes=7340032-8388607", 7340032, 1048576),     # middle
    ("bytes=-1000", BIG - 1000, 1000),               # last bytes, suffix
    ("bytes=-3000000", BIG - 3000000, 3000000),      # a large suffix
    ("bytes=19000000-", 19000000, BIG - 19000000),   # open-ended
    ("bytes=0-", 0, BIG),                            # everything, as a 206
    ("bytes=1-99999999", 1, BIG - 1),                # end past the size
]


@pytest.mark.parametrize("rng,start,count", RANGES, ids=[r[0] for r in RANGES])
def test_ranges(srv, data, rng, start, count):
    r = srv.get(view_target("big.bin"), headers={"Range": rng})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {start}-{start + count - 1}/{BIG}"
    assert r.headers["Content-Length"] == str(count)
    assert r.content == data[start:start + count]


HEAD_CASES = [
    ("GET", view_target("big.bin"), ()),
    ("GET", view_target("big.bin", "/api"), ()),
    ("HEAD", view_target("big.bin"), ()),
    ("GET", view_target("big.png"), ()),             # image: the Cache-Control rule
    ("GET", view_target("small.txt"), ()),
    ("HEAD", view_target("small.txt"), ()),
    ("GET", view_target("big.bin"), ("Connection: close",)),
] + [("GET", view_target("big.bin"), (f"Range: {r[0]}",)) for r in RANGES] + [
    ("HEAD", view_target("big.bin"), ("Range: bytes=5-",)),
    ("GET", view_target("big.bin"), ("Range: bytes=99999999-",)),  # 416
    ("GET", view_target("big.bin"), ("Range: bytes=0-1,5-6",)),    # 416
    ("GET", view_target("big.bin"), ("If-Range: Thu, 01 Jan 1970 00:00:00 GMT", "Range: bytes=0-9")),
    ("GET", "/assets/big.js", ()),                  # static file of the web root
    ("GET", "/assets/big.js", ("Range: bytes=100-2000000",)),
    ("HEAD", "/assets/big.js", ()),
    ("GET", "/", ()),                               # index.html with ComfyUI's no-cache headers
    ("GET", "/index.html", ()),
]


@pytest.mark.parametrize("method,target,headers", HEAD_CASES,
                         ids=[f"{m} {t} {' '.join(h)}" for m, t, h in HEAD_CASES])
def test_heads_and_bodies_match_the_buffered_path(servers, method, target, headers):
    fast, buffered = servers
    a = fetch(fast.port, method, target, headers)
    b = fetch(buffered.port, method, target, headers)
    assert a[1] == b[1]  # every header byte but Date
    assert a[0] == b[0] and sha(a[3]) == sha(b[3])


def test_conditional_requests_still_304(srv):
    etag = srv.get(view_target("big.bin"), headers={"Range": "bytes=0-0"}).headers["ETag"]
    status, _, h, body = fetch(srv.port, "GET", view_target("big.bin"), (f"If-None-Match: {etag}",))
    assert status == 304 and body == b"" and h["etag"] == etag


# --------------------------------------------------------------------------
# The connection after a large body
# --------------------------------------------------------------------------

def test_keep_alive_reuse_after_large_response(srv, data):
    with connect(srv.port) as s, s.makefile("rb") as f:
        s.sendall(request_bytes("GET", view_target("big.bin")))
        status, _, h, body = read_response(f)
        assert status == 200 and "connection" not in h and sha(body) == sha(data)
        s.sendall(request_bytes("GET", view_target("small.txt")))
        assert read_response(f)[3] == SMALL
        s.sendall(request_bytes("GET", view_target("big.bin"), ("Range: bytes=-2000000",)))
        assert read_response(f)[3] == data[-2000000:]
        s.sendall(request_bytes("GET", "/prompt"))
        status, _, _, body = read_response(f)
        assert status == 200 and b"exec_info" in body


def test_pipelined_requests_after_large_bodies(srv, data):
    with connect(srv.port) as s, s.makefile("rb") as f:
        s.sendall(request_bytes("GET", view_target("big.bin"), ("Range: bytes=1000-3000999",))
                  + request_bytes("HEAD", view_target("big.bin"))
                  + request_bytes("GET", view_target("big.bin"))
                  + request_bytes("GET", view_target("small.txt")))
        assert read_response(f)[3] == data[1000:3001000]
        status, _, h, body = read_response(f, "HEAD")
        assert status == 200 and h["content-length"] == str(BIG) and body == b""
        assert sha(read_response(f)[3]) == sha(data)
        assert read_response(f)[3] == SMALL


def test_head_sends_no_body_and_the_connection_goes_on(srv):
    with connect(srv.port) as s, s.makefile("rb") as f:
        s.sendall(request_bytes("HEAD", view_target("big.bin")))
        status, _, h, _ = read_response(f, "HEAD")
        assert status == 200 and h["content-length"] == str(BIG)
        s.sendall(request_bytes("GET", view_target("small.txt")))
        status, _, _, body = read_response(f)  # would read body bytes of the HEAD if any were sent
        assert status == 200 and body == SMALL


@pytest.mark.parametrize("headers,version", [(("Connection: close",), "1.1"), ((), "1.0")])
def test_connection_closes_after_the_body_when_asked(srv, data, headers, version):
    with connect(srv.port) as s, s.makefile("rb") as f:
        s.sendall(request_bytes("GET", view_target("big.bin"), headers, version))
        status, _, h, body = read_response(f)
        assert status == 200 and sha(body) == sha(data)
        assert f.read(1) == b""  # EOF right after the body


# --------------------------------------------------------------------------
# Clients that go away, files that change, many downloads at once
# --------------------------------------------------------------------------

def test_client_disconnects_mid_transfer(srv, data):
    srv.get("/prompt")
    baseline = open_fds(srv.proc)
    for i in range(12):
        s = connect(srv.port, rcvbuf=65536)
        s.sendall(request_bytes("GET", view_target("big.bin")))
        got = b""
        while len(got) < 65536:
            got += s.recv(65536)
        if i % 2:  # half of them reset the connection instead of closing it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    assert srv.alive()
    r = srv.get(view_target("big.bin"))
    assert r.status_code == 200 and sha(r.content) == sha(data)
    assert srv.get("/prompt").status_code == 200
    # Every file descriptor of the abandoned transfers is closed again (the file's and the socket).
    assert wait_for(lambda: open_fds(srv.proc) <= baseline + 2), (open_fds(srv.proc), baseline)


def test_file_that_shrinks_mid_transfer_closes_the_connection(srv, data):
    path = srv.output_dir / "shrinking.bin"
    path.write_bytes(data)
    with connect(srv.port, rcvbuf=65536) as s:
        s.sendall(request_bytes("GET", view_target("shrinking.bin")))
        got = b""
        while b"\r\n\r\n" not in got or len(got) < 1024 * 1024:
            chunk = s.recv(65536)
            assert chunk
            got += chunk
        os.truncate(path, 2 * 1024 * 1024)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    head, body = got.split(b"\r\n\r\n", 1)
    assert b"Content-Length: %d\r\n" % BIG in head + b"\r\n"
    assert len(body) < BIG  # cut short: the client can tell
    assert body == data[: len(body)]  # and nothing but the file's bytes
    assert srv.get("/prompt").status_code == 200
    r = srv.get(view_target("shrinking.bin"))
    assert r.status_code == 200 and r.content == data[: 2 * 1024 * 1024]


def test_file_replaced_mid_transfer_sends_the_opened_file(srv, data):
    path = srv.output_dir / "replaced.bin"
    path.write_bytes(data)
    with connect(srv.port, rcvbuf=65536) as s, s.makefile("rb") as f:
        s.sendall(request_bytes("GET", view_target("replaced.bin")))
        line = f.readline()
        assert b" 200 " in line
        tmp = srv.output_dir / "replaced.tmp"
        tmp.write_bytes(b"new")
        os.replace(tmp, path)
        while f.readline() != b"\r\n":
            pass
        body = f.read(BIG)
    assert sha(body) == sha(data)


def test_concurrent_large_downloads(srv, data):
    before = peak_rss_kb(srv.proc)

    def one(i):
        with requests.Session() as sess:
            if i % 2:
                start = i * 1000003
                r = sess.get(srv.url(view_target("big.bin")), headers={"Range": f"bytes={start}-"}, timeout=60)
                return r.status_code == 206 and r.content == data[start:]
            r = sess.get(srv.url(view_target("big.bin")), timeout=60)
            return r.status_code == 200 and sha(r.content) == sha(data)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, range(8)))
    # No body is held in memory: 8 x 20 MB read whole (the buffered path) would show here.
    grew_mb = (peak_rss_kb(srv.proc) - before) / 1024
    assert grew_mb < 48, f"peak RSS grew by {grew_mb:.0f} MB"
    assert srv.alive()
