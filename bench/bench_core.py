"""Prints core numbers of this server next to a baseline measured in the same run:
- POST /prompt throughput (validate + enqueue) against a minimal aiohttp app doing json parse + reply;
- executor overhead per node on a 1,000-node chain of trivial Python nodes, against a pure-Python
  reference loop calling the same node methods in topological order;
- a fully cached re-queue of that chain.
Numbers are medians of several runs. Nothing here is asserted."""
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


HERE = os.path.dirname(os.path.abspath(__file__))
PACKS = os.path.join(HERE, "packs")  # only packs in here: loose .py files there would load as nodes too
sys.path.insert(0, PACKS)
from bench_pack import BenchInt, BenchSink  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp):
    port = free_port()
    yaml = os.path.join(tmp, "extra.yaml")
    with open(yaml, "w") as f:
        f.write(f"bench:\n    custom_nodes: {PACKS}\n")
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "comfy", "--port", str(port), "--base-directory", tmp,
                             "--extra-model-paths-config", yaml, "--dont-print-server"], stdout=log, stderr=log)
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/prompt")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def chain(n):
    p = {"0": {"class_type": "BenchInt", "inputs": {"value": 1}}}
    for i in range(1, n):
        p[str(i)] = {"class_type": "BenchInt", "inputs": {"value": 1, "prev": [str(i - 1), 0]}}
    p["out"] = {"class_type": "BenchSink", "inputs": {"value": [str(n - 1), 0]}}
    return p


def post_throughput(port, path, body, count):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    data = json.dumps(body)
    t0 = time.perf_counter()
    for _ in range(count):
        conn.request("POST", path, data, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
    return count / (time.perf_counter() - t0)


def run_prompt(port, prompt):
    """Runs a prompt without a WebSocket client and returns execution_success - execution_start
    from the history timestamps (ms resolution)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/prompt", json.dumps({"prompt": prompt}))
    pid = json.loads(conn.getresponse().read())["prompt_id"]
    while True:
        conn.request("GET", f"/history/{pid}")
        h = json.loads(conn.getresponse().read())
        if h:
            msgs = dict((m[0], m[1]) for m in h[pid]["status"]["messages"])
            assert "execution_success" in msgs, msgs
            return (msgs["execution_success"]["timestamp"] - msgs["execution_start"]["timestamp"]) / 1e3
        time.sleep(0.01)


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


def aiohttp_route_baseline(count):
    """The same handler as the bench pack's route, on plain aiohttp (what ComfyUI runs)."""
    def add(app, web):
        async def hello(request):
            return web.json_response({"hello": request.query.get("name", "world")})
        app.router.add_get("/bench/hello", hello)

    port, stop = start_aiohttp(add)
    out = summarize(get_latencies(port, "/bench/hello?name=x", count))
    stop()
    return out


def reference_loop(n):
    """Pure-Python executor baseline: topological order, dict plumbing, one instance per node."""
    prompt = chain(n)
    classes = {"BenchInt": BenchInt, "BenchSink": BenchSink}
    t0 = time.perf_counter()
    outputs, objs = {}, {}
    for nid, node in prompt.items():  # chain order is already topological
        obj = objs.setdefault(nid, classes[node["class_type"]]())
        kwargs = {k: (outputs[v[0]][v[1]] if isinstance(v, list) else v) for k, v in node["inputs"].items()}
        res = getattr(obj, type(obj).FUNCTION)(**kwargs)
        outputs[nid] = res if isinstance(res, tuple) else ()
    return time.perf_counter() - t0


def start_aiohttp(add_routes):
    """A plain aiohttp server on a free port in a thread (the baseline ComfyUI would be)."""
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


def aiohttp_baseline(count, body):
    import uuid

    def add(app, web):
        async def handler(request):
            data = await request.json()
            return web.json_response({"prompt_id": str(uuid.uuid4()), "number": 0, "node_errors": {}, "n": len(data)})
        app.router.add_post("/prompt", handler)

    port, stop = start_aiohttp(add)
    rates = [post_throughput(port, "/prompt", body, count) for _ in range(3)]
    stop()
    return statistics.median(rates)


def main():
    n = 1000
    small = {"prompt": {"1": {"class_type": "BenchInt", "inputs": {"value": 1}},
                        "2": {"class_type": "BenchSink", "inputs": {"value": ["1", 0]}}}}
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp)
        try:
            bridge = summarize(get_latencies(port, "/bench/hello?name=x", 1000))
            native_get = summarize(get_latencies(port, "/prompt", 1000))
            ours_post = statistics.median(post_throughput(port, "/prompt", small, 300) for _ in range(3))
            base_post = aiohttp_baseline(300, small)
            # Let the 900 queued small prompts drain before timing the executor.
            while True:
                c = http.client.HTTPConnection("127.0.0.1", port)
                c.request("GET", "/prompt")
                if json.loads(c.getresponse().read())["exec_info"]["queue_remaining"] == 0:
                    break
                time.sleep(0.1)
            prompt = chain(n)
            cold = []
            for i in range(3):
                p = json.loads(json.dumps(prompt))
                p["0"]["inputs"]["value"] = 1000 + i  # a new constant invalidates the whole chain
                cold.append(run_prompt(port, p))
            run_prompt(port, prompt)
            cached = [run_prompt(port, prompt) for _ in range(3)]
        finally:
            proc.terminate()
            proc.wait(10)
    ref = statistics.median(reference_loop(n) for _ in range(5))
    base_route = aiohttp_route_baseline(1000)
    rows = [
        ("pack route via the bridge, req/s (1 client)", bridge[0], base_route[0], "same handler on aiohttp"),
        ("pack route via the bridge, p99 ms", bridge[1], base_route[1], "same handler on aiohttp"),
        ("native GET /prompt, req/s (1 client)", native_get[0], base_route[0], "aiohttp route above"),
        ("POST /prompt (validate+enqueue), req/s", ours_post, base_post, "aiohttp json echo"),
        (f"executor, {n}-node chain, us/node", statistics.median(cold) / (n + 1) * 1e6, ref / (n + 1) * 1e6,
         "pure-Python loop, no messages"),
        (f"cached re-queue of {n} nodes, ms", statistics.median(cached) * 1e3, None, "(target < 1 ms per 1,000)"),
    ]
    print(f"{'benchmark':45} {'ours':>12} {'baseline':>12}  baseline is")
    for name, ours, base, what in rows:
        b = f"{base:12.1f}" if base is not None else f"{'-':>12}"
        print(f"{name:45} {ours:12.1f} {b}  {what}")


if __name__ == "__main__":
    main()
