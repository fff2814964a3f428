"""HTTP rows: small JSON GETs (wrk, keep-alive and not), GETs while a Python node holds the GIL, a pack
route through the bridge, /object_info with 2,000 classes, /view of a 1.5 MB PNG, POST /prompt, and
/queue and /history with 10,000 entries. Baseline: bench/baseline_server.py (aiohttp, as ComfyUI)."""
import http.client
import itertools
import json
import os
import threading
import time

from bench_core import (RUNS, get_json, interleave, log, median, post_prompt, request, wait_idle, wait_running,
                        wrk)

AIOHTTP = "aiohttp json_response (ComfyUI's handler)"
_seed = itertools.count(1)


def _wrk_rows(name, ours, base, what, p99=True):
    for r in ours + base:
        if r["errors"]:
            log(f"  note: wrk reported {r['errors']} errors in '{name}'")
    rows = [(f"{name}, req/s", median([r["rps"] for r in ours]), median([r["rps"] for r in base]), "req/s", what)]
    if p99:
        rows.append((f"{name}, p99", median([r["p99_ms"] for r in ours]), median([r["p99_ms"] for r in base]), "ms",
                     what))
    for row in rows:
        log(f"  {row}")
    return rows


def small_get_rows(port, base_port, seconds=2):
    rows = []
    for label, headers in (("keep-alive", ()), ("Connection: close", ("Connection: close",))):
        a, b = interleave(lambda: wrk(port, "/prompt", seconds, 64, headers),
                          lambda: wrk(base_port, "/prompt", seconds, 64, headers))
        rows += _wrk_rows(f"GET /prompt (small JSON), wrk -c64, {label}", a, b, AIOHTTP)
    return rows


def bridge_rows(port, base_port, seconds=2):
    a, b = interleave(lambda: wrk(port, "/bench/hello?name=x", seconds, 64),
                      lambda: wrk(base_port, "/bench/hello?name=x", seconds, 64))
    return _wrk_rows("pack route through the bridge, wrk -c64", a, b, "the same handler on aiohttp")


def _while_baseline_spins(base_port, spin, measure):
    """`measure()` while the baseline's worker thread spins for `spin` seconds (ComfyUI running a
    node); waits for the spin to end before returning its result."""
    t0 = time.monotonic()
    request(base_port, "POST", "/bench/spin", {"seconds": spin})
    time.sleep(0.2)
    result = measure()
    time.sleep(max(0.0, t0 + spin + 0.1 - time.monotonic()))
    return result


def _ms_per_request(runs):
    return 1e3 / median([r["rps"] for r in runs])


def gil_rows(port, base_port, seconds=2):
    """wrk on GET /prompt while a Python node spins (ours: a BenchSpin prompt on the executor thread;
    baseline: a worker thread spinning next to the aiohttp loop, which is how ComfyUI runs nodes)."""
    spin = seconds + 1.0

    def ours():
        post_prompt(port, {"1": {"class_type": "BenchSpin", "inputs": {"seconds": spin, "seed": next(_seed)}}})
        wait_running(port)
        time.sleep(0.2)
        r = wrk(port, "/prompt", seconds)
        wait_idle(port)
        return r

    a, b = interleave(ours, lambda: _while_baseline_spins(base_port, spin, lambda: wrk(base_port, "/prompt", seconds)))
    return _wrk_rows("GET /prompt while a Python node holds the GIL, wrk -c64", a, b,
                     "aiohttp with a node spinning in a worker thread (ComfyUI)")


def object_info_rows(port, base_port, seconds=2):
    ours_info, base_info = get_json(port, "/object_info"), get_json(base_port, "/object_info")  # warm-up
    if ours_info != base_info:
        diff = [k for k in set(ours_info) | set(base_info) if ours_info.get(k) != base_info.get(k)]
        log(f"  note: /object_info differs from the baseline's in {len(diff)} classes, e.g. {sorted(diff)[:3]}")
    a, b = interleave(lambda: wrk(port, "/object_info", seconds, 1), lambda: wrk(base_port, "/object_info", seconds, 1))
    row = (f"GET /object_info, {len(ours_info)} classes, warm, sequential", _ms_per_request(a), _ms_per_request(b),
           "ms", "aiohttp: node_info per class + json.dumps (ComfyUI)")
    log(f"  {row}")
    return [row]


def make_png(path, target=1_500_000):
    """A noise PNG of about `target` bytes (noise does not compress: size ~ width * height * 3)."""
    import numpy as np
    from PIL import Image
    side = int((target / 3) ** 0.5)
    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, compress_level=1)
    return os.path.getsize(path)


def view_rows(port, base_port, input_dir, seconds=2):
    size = make_png(os.path.join(input_dir, "bench_view.png"))
    path = "/view?filename=bench_view.png&type=input"
    for p in (port, base_port):
        status, body = request(p, "GET", path)
        assert status == 200 and len(body) == size, (p, status, len(body))
    a, b = interleave(lambda: wrk(port, path, seconds, 8), lambda: wrk(base_port, path, seconds, 8))
    return _wrk_rows(f"GET /view, {size / 1e6:.2f} MB PNG, wrk -c8", a, b, "aiohttp FileResponse (ComfyUI)",
                     p99=False)


def _post_many(port, prompts, threads=4):
    """POSTs every prompt (threads persistent connections); returns requests/s."""
    chunks = [prompts[i::threads] for i in range(threads)]

    def worker(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in chunk:
            conn.request("POST", "/prompt", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status

    ts = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(prompts) / (time.perf_counter() - t0)


def small_prompt(i):
    return json.dumps({"prompt": {"1": {"class_type": "BenchInt", "inputs": {"value": i}},
                                  "2": {"class_type": "BenchSink", "inputs": {"value": ["1", 0]}}}})


def queue_history_rows(port, base_port, tmp, entries=10000, seconds=2):
    """POST /prompt throughput with an idle executor, then, with the executor held by a spinning node,
    POSTs `entries` prompts (POST under the GIL), measures GET /queue, interrupts, lets them all run
    and measures GET /history. The baseline serves the same JSON, loaded from our answers, the way
    ComfyUI does (json_response of its lists and dicts)."""
    rows = []
    prompts = [small_prompt(i) for i in range(entries)]
    ours, base = interleave(lambda: _post_many(port, prompts[:1000]), lambda: _post_many(base_port, prompts[:1000]))
    rows.append(("POST /prompt (validate + enqueue), 4 clients", median(ours), median(base), "req/s",
                 "aiohttp parsing the JSON and answering, no validation"))
    log(f"  {rows[-1]}")
    wait_idle(port)

    post_prompt(port, {"1": {"class_type": "BenchSpin", "inputs": {"seconds": 600.0, "seed": next(_seed)}}})
    wait_running(port)
    chunks = [prompts[i::RUNS] for i in range(RUNS)]  # every prompt is queued once, in RUNS timed runs

    ours, base = interleave(lambda: _post_many(port, chunks.pop()),
                            lambda: _while_baseline_spins(base_port, 4.0, lambda: _post_many(base_port, prompts[:300])))
    rows.append(("POST /prompt while a Python node holds the GIL, 4 clients", median(ours), median(base), "req/s",
                 "aiohttp with a node spinning in a worker thread (ComfyUI)"))
    log(f"  {rows[-1]}")

    rows.append(_served_copy_row(port, base_port, tmp, "queue", seconds,
                                 lambda body: f"{len(body['queue_pending'])} pending"))

    request(port, "POST", "/interrupt", {})
    t0 = time.perf_counter()
    wait_idle(port)
    log(f"  ran {entries} queued prompts in {time.perf_counter() - t0:.1f} s")
    rows.append(_served_copy_row(port, base_port, tmp, "history", seconds, lambda body: f"{len(body)} entries"))
    return rows


def _served_copy_row(port, base_port, tmp, name, seconds, describe):
    """GET /<name> from our server, the baseline loaded with the same answer, both timed
    sequentially; `describe(answer)` names its size in the row."""
    _status, raw = request(port, "GET", f"/{name}")
    path = os.path.join(tmp, f"{name}.json")
    with open(path, "wb") as f:
        f.write(raw)
    request(base_port, "POST", "/bench/load", {name: path})
    a, b = interleave(lambda: wrk(port, f"/{name}", seconds, 1), lambda: wrk(base_port, f"/{name}", seconds, 1))
    row = (f"GET /{name}, {describe(json.loads(raw))} ({len(raw) / 1e6:.1f} MB), sequential",
           _ms_per_request(a), _ms_per_request(b), "ms", AIOHTTP)
    log(f"  {row}")
    return row
