"""`make bench`: one table, every row ours next to a baseline measured in the same command, medians of
BENCH_RUNS (default 3) runs with ours and the baseline interleaved, and the ratio. Nothing is asserted.

    .venv/bin/python bench/run.py [section ...]     sections: http gil bridge object_info view exec ws queue media

Ours is `python -m comfy` with bench/packs as custom nodes (bench_pack: trivial, spinning and progress
nodes; bench_many_nodes: 2,000 classes). The HTTP and WebSocket baselines are bench/baseline_server.py,
an aiohttp app in its own process doing what ComfyUI's server.py does; executor rows compare with a
bare Python loop, the cached re-queue with a Python re-implementation of ComfyUI's cache-key pass.
Load generators: wrk -t1 (HTTP), bench/ws_client.py in its own process (WebSocket).

Rows from other files. If bench/bench_media.py exists, its `rows()` is called with no arguments after
every other section, when neither server of this script is running (it starts what it needs) and must
return a list of (name, ours, baseline, unit) tuples, optionally with a fifth item saying what the
baseline is: ours and baseline are medians (baseline may be None). A unit ending in "/s" is a rate
(higher is better); any other unit (ms, us/node, ...) is a cost (lower is better). The ratio column is
then baseline/ours for costs and ours/baseline for rates: above 1 means ours is better."""
import datetime
import os
import platform
import sys
import tempfile
import time
import traceback

from bench_core import HERE, RUNS, log, start_baseline, start_server, stop

SECTIONS = ("http", "gil", "bridge", "object_info", "view", "exec", "ws", "queue", "media")


def fmt(x):
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(ours, base, unit):
    if ours is None or base is None or ours <= 0 or base <= 0:
        return "—"
    r = ours / base if unit.endswith("/s") else base / ours
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def table(rows):
    lines = ["| benchmark | unit | ours | baseline | ratio | baseline is |", "|---|---|--:|--:|--:|---|"]
    for row in rows:
        name, ours, base, unit = row[:4]
        what = row[4] if len(row) > 4 else ""
        lines.append(f"| {name} | {unit} | {fmt(ours)} | {fmt(base)} | {ratio(ours, base, unit)} | {what} |")
    return "\n".join(lines)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def media_rows():
    if not os.path.exists(os.path.join(HERE, "bench_media.py")):
        log("  bench/bench_media.py not present: no image rows")
        return []
    import bench_media
    return [tuple(r) for r in bench_media.rows()]


def main(argv=None):
    wanted = [a for a in (sys.argv[1:] if argv is None else argv)] or list(SECTIONS)
    unknown = [a for a in wanted if a not in SECTIONS]
    if unknown:
        sys.exit(f"unknown sections {unknown}; choose from {' '.join(SECTIONS)}")
    import exec_rows
    import http_rows
    import ws_rows

    started = time.monotonic()
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="comfy-bench-") as tmp:
        log("starting the server and the aiohttp baseline ...")
        proc, port = start_server(tmp)
        base_proc, base_port = start_baseline(tmp)
        input_dir = os.path.join(tmp, "input")
        os.makedirs(input_dir, exist_ok=True)
        sections = [
            ("http", lambda: http_rows.small_get_rows(port, base_port)),
            ("bridge", lambda: http_rows.bridge_rows(port, base_port)),
            ("gil", lambda: http_rows.gil_rows(port, base_port)),
            ("ws", lambda: ws_rows.ws_rows(port, base_port)),
            ("exec", lambda: exec_rows.executor_rows(port) + exec_rows.cached_rows(port) + exec_rows.native_rows()),
            ("object_info", lambda: http_rows.object_info_rows(port, base_port)),
            ("view", lambda: http_rows.view_rows(port, base_port, input_dir)),
            ("queue", lambda: http_rows.queue_history_rows(port, base_port, tmp)),  # last: fills the history
        ]
        try:
            for name, fn in sections:
                if name in wanted:
                    rows += run_section(name, fn)
        finally:
            stop(proc)
            stop(base_proc)
    if "media" in wanted:
        rows += run_section("media", media_rows)

    load1 = os.getloadavg()
    print(f"make bench, {datetime.date.today().isoformat()}, {machine()}; medians of {RUNS} runs; "
          f"load average {load0[0]:.2f} at start, {load1[0]:.2f} at end; {time.monotonic() - started:.0f} s")
    print("ratio: above 1 means ours is better (ours/baseline for rates, baseline/ours for costs)")
    print()
    print(table(rows))
    failed = [r[0] for r in rows if ": failed (" in r[0]]
    if failed:  # the table is printed, but a run with missing sections is not a success
        sys.exit(f"{len(failed)} section(s) failed: " + "; ".join(failed))


def run_section(name, fn):
    log(f"[{name}]")
    t0 = time.monotonic()
    try:
        rows = fn()
    except Exception as e:  # one broken section must not lose the others' numbers
        traceback.print_exc()
        rows = [(f"{name}: failed ({type(e).__name__}: {str(e)[:80]})", None, None, "")]
    log(f"  {time.monotonic() - t0:.0f} s")
    return rows


if __name__ == "__main__":
    main()
