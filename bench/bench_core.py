"""Shared helpers of the benchmarks: starting this server and the aiohttp baseline process, wrk,
prompts, the executor reference loop. The table itself is printed by bench/run.py (`make bench`);
running this file does the same.

A row is (name, ours, baseline, unit): medians of several runs, measured in the same command;
`baseline` may be None. A unit ending in "/s" is a rate (higher is better); any other unit (ms, us/node)
is a cost (lower is better). Nothing here is asserted."""
import asyncio
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time


HERE = os.path.dirname(os.path.abspath(__file__))
PACKS = os.path.join(HERE, "packs")  # only packs in here: loose .py files there would load as nodes too
sys.path.insert(0, PACKS)
from bench_pack import BenchInt, BenchNop, BenchSink  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))  # runs per row, ours and baseline interleaved


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/prompt", proc=None, tries=1200):
    for _ in range(tries):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


def start_server(tmp, packs=PACKS):
    """This server (python -m comfy) with the bench packs as custom nodes; returns (proc, port)."""
    port = free_port()
    yaml = os.path.join(tmp, "extra.yaml")
    with open(yaml, "w") as f:
        f.write(f"bench:\n    custom_nodes: {packs}\n")
    log_file = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "comfy", "--port", str(port), "--base-directory", tmp,
                             "--extra-model-paths-config", yaml, "--dont-print-server"],
                            stdout=log_file, stderr=log_file)
    wait_http(port, proc=proc)
    return proc, port


def start_baseline(tmp, packs=PACKS):
    """The aiohttp baseline (bench/baseline_server.py) in its own process, as ComfyUI would run."""
    port = free_port()
    log_file = open(os.path.join(tmp, "baseline.log"), "w")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "baseline_server.py"), "--port", str(port),
                             "--base-directory", tmp, "--packs", packs], stdout=log_file, stderr=log_file)
    wait_http(port, proc=proc)
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def wrk(port, path, seconds=2, connections=64, headers=()):
    """wrk -t1 against 127.0.0.1:port/path: {"rps", "p99_ms", "errors"} (errors: socket errors and
    non-2xx/3xx answers, reported by wrk)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    errors = 0
    for e in re.findall(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in e)
    for e in re.findall(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(e)
    return {"rps": rps, "p99_ms": float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan"), "errors": errors}


def interleave(ours, base, runs=RUNS):
    """Runs ours() and base() alternately `runs` times each (so load from elsewhere hits both alike)."""
    a, b = [], []
    for _ in range(runs):
        a.append(ours())
        if base is not None:
            b.append(base())
    return a, b


def median(xs):
    return statistics.median(xs) if xs else None


def request(port, method, path, body=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = json.dumps(body) if body is not None and not isinstance(body, (bytes, str)) else body
    c.request(method, path, data, {"Content-Type": "application/json"} if data is not None else {})
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, raw


def get_json(port, path):
    status, raw = request(port, "GET", path)
    assert status == 200, (path, status)
    return json.loads(raw)


def post_prompt(port, prompt, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/prompt", json.dumps({"prompt": prompt}), {"Content-Type": "application/json"})
    r = c.getresponse()
    raw = r.read()
    if r.status != 200:
        raise RuntimeError(f"POST /prompt: {r.status} {raw[:300]!r}")
    return json.loads(raw)["prompt_id"]


def wait_idle(port, timeout=600):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if get_json(port, "/prompt")["exec_info"]["queue_remaining"] == 0:
            return
        time.sleep(0.02)
    raise RuntimeError("queue did not drain")


def wait_running(port, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if get_json(port, "/queue")["queue_running"]:
            return
        time.sleep(0.01)
    raise RuntimeError("nothing started running")


def chain(n, salt=1):
    p = {"0": {"class_type": "BenchInt", "inputs": {"value": salt}}}
    for i in range(1, n):
        p[str(i)] = {"class_type": "BenchInt", "inputs": {"value": 1, "prev": [str(i - 1), 0]}}
    p["out"] = {"class_type": "BenchSink", "inputs": {"value": [str(n - 1), 0]}}
    return p


def wide(n, salt=1):
    """n independent output nodes (every one runs; changing `salt` invalidates all of them)."""
    return {str(i): {"class_type": "BenchNop", "inputs": {"value": salt * n + i}} for i in range(n)}


def run_prompt(port, prompt):
    """Runs a prompt without a WebSocket client and returns execution_success - execution_start
    from the history timestamps (ms resolution), in seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    pid = post_prompt(port, prompt, conn)
    while True:
        conn.request("GET", f"/history/{pid}")
        h = json.loads(conn.getresponse().read())
        if h:
            msgs = dict((m[0], m[1]) for m in h[pid]["status"]["messages"])
            assert "execution_success" in msgs, msgs
            return (msgs["execution_success"]["timestamp"] - msgs["execution_start"]["timestamp"]) / 1e3
        time.sleep(0.002)


def get_latencies(port, path, count):
    """Sequential GETs; a new connection whenever the server closed the previous one."""
    lat = []
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(count):
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
        except (http.client.HTTPException, ConnectionError):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
        assert r.status == 200, r.status
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port)
        lat.append(time.perf_counter() - t0)
    return lat


def summarize(lat):
    lat = sorted(lat)
    return len(lat) / sum(lat), lat[int(len(lat) * 0.99) - 1] * 1e3


def reference_loop(prompt):
    """Pure-Python executor baseline: prompt order (topological for chain() and wide()), dict plumbing,
    one instance per node, no caching, no messages. Returns seconds."""
    classes = {"BenchInt": BenchInt, "BenchSink": BenchSink, "BenchNop": BenchNop}
    t0 = time.perf_counter()
    outputs, objs = {}, {}
    for nid, node in prompt.items():
        obj = objs.setdefault(nid, classes[node["class_type"]]())
        kwargs = {k: (outputs[v[0]][v[1]] if isinstance(v, list) else v) for k, v in node["inputs"].items()}
        res = getattr(obj, type(obj).FUNCTION)(**kwargs)
        outputs[nid] = res if isinstance(res, tuple) else ()
    return time.perf_counter() - t0


def start_aiohttp(add_routes):
    """A plain aiohttp server on a free port in a thread of this process."""
    from aiohttp import web
    port = free_port()
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def serve():
        asyncio.set_event_loop(loop)
        app = web.Application()
        add_routes(app, web)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait()
    return port, lambda: loop.call_soon_threadsafe(loop.stop)


if __name__ == "__main__":
    import run
    run.main()
