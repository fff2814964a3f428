"""WebSocket fan-out rows: a node reports STEPS[clients] progress updates (ProgressBar.update, each sending
progress_state and progress) to 1 and 10 connected clients; messages/s received by all clients
together, from the trigger to the last progress frame. Baseline: the same messages through ComfyUI's
send_sync -> asyncio.Queue -> publish loop -> ws.send_json path (bench/baseline_server.py)."""
import itertools
import json
import os
import subprocess
import sys

from bench_core import HERE, interleave, log, median

STEPS = {1: 10000, 10: 2000}  # updates per client count: windows of a few hundred ms
_seed = itertools.count(1)


def _receive(port, clients, steps, path, body):
    out = subprocess.run([sys.executable, os.path.join(HERE, "ws_client.py"), "--port", str(port), "--clients",
                          str(clients), "--steps", str(steps), "--trigger-path", path, "--trigger-body",
                          json.dumps(body)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"ws_client: {out.stderr.strip()[-500:]}")
    r = json.loads(out.stdout)
    return r["frames"] / r["elapsed"]


def ws_rows(port, base_port):
    rows = []
    for clients, steps in STEPS.items():
        def ours():
            prompt = {"1": {"class_type": "BenchProgress", "inputs": {"steps": steps, "seed": next(_seed)}}}
            return _receive(port, clients, steps, "/prompt", {"prompt": prompt})

        a, b = interleave(ours, lambda: _receive(base_port, clients, steps, "/bench/progress", {"steps": steps}))
        rows.append((f"WebSocket progress fan-out, {steps:,} updates to {clients} client{'s' if clients > 1 else ''}",
                     median(a), median(b), "msg/s", "aiohttp send_sync/publish loop (ComfyUI)"))
        log(f"  {rows[-1]}")
    return rows
