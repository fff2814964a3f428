"""GET /view of large files: the buffered path (file read whole into memory, then written) against
sendfile(2) in chunks as the socket drains (cpp/http/file_sender.h). Both are this server: the
buffered one is started with COMFY_SENDFILE_MIN_BYTES above every file size, which turns sendfile
off (the code path before sendfile existed). Runs alternate between the servers; medians of --runs.

    .venv/bin/python bench/bench_sendfile.py [--runs 3] [--seconds 4] [--sweep]

Prints, per file and mode, req/s, MB/s and the server's peak RSS (VmHWM) so far. --sweep measures
small bodies with sendfile forced on (COMFY_SENDFILE_MIN_BYTES=0) against the buffered path: where
the lines cross is the threshold (files.h, kSendfileMinBytes).
Not a bench/run.py section: that table compares ours with aiohttp, this one ours before/after."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_core import free_port, stop, wait_http, wrk  # noqa: E402
from http_rows import make_png  # noqa: E402

BUFFERED = {"COMFY_SENDFILE_MIN_BYTES": str(1 << 62)}
MODES = {"buffered": BUFFERED, "sendfile": {}}
SWEEP_MODES = {"buffered": BUFFERED, "sendfile (forced)": {"COMFY_SENDFILE_MIN_BYTES": "0"}}
LOGS = tempfile.gettempdir()  # server logs stay there: server-<port>.log
SWEEP_SIZES = [int(x) << 10 for x in os.environ.get("SWEEP_KIB", "4 16 32 64 128 256 1024").split()]


def start(tmp, extra_env):
    port = free_port()
    env = dict(os.environ, **extra_env)
    log = open(os.path.join(LOGS, f"server-{port}.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "comfy", "--port", str(port), "--base-directory", tmp,
                             "--disable-all-custom-nodes", "--dont-print-server"],
                            stdout=log, stderr=log, env=env)
    wait_http(port, proc=proc)
    return proc, port


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024 if m else float("nan")


def measure(servers, files, runs, seconds):
    for label, name, size, conns in files:
        path = f"/view?filename={name}&type=input"
        got = {m: [] for m in servers}
        for _ in range(runs):
            for m, (proc, port) in servers.items():
                try:
                    got[m].append(wrk(port, path, seconds, conns))
                except subprocess.CalledProcessError as e:
                    alive = proc.poll() is None
                    raise RuntimeError(f"wrk failed on the {m} server (alive: {alive}): {e.stdout}{e.stderr}") from e
        for m, (proc, _) in servers.items():
            errors = sum(r["errors"] for r in got[m])
            rps = statistics.median(r["rps"] for r in got[m])
            print(f"GET /view {label}, wrk -t1 -c{conns}, {m:17s}: {rps:9.1f} req/s {rps * size / 1e6:8.0f} MB/s"
                  f"  peak RSS {peak_rss_mb(proc.pid):5.0f} MB" + (f"  errors {errors}" if errors else ""),
                  flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--sweep", action="store_true", help="small sizes, sendfile forced on vs buffered")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench_sendfile_")
    inp = os.path.join(tmp, "input")
    os.makedirs(inp, exist_ok=True)
    if args.sweep:
        files = []
        for size in SWEEP_SIZES:
            with open(os.path.join(inp, f"s{size}.bin"), "wb") as f:
                f.write(os.urandom(size))
            files.append((f"{size >> 10:5d} KiB", f"s{size}.bin", size, 8))
        modes = SWEEP_MODES
    else:
        png = make_png(os.path.join(inp, "bench_view.png"))
        big = 50 * 1000 * 1000
        with open(os.path.join(inp, "big.bin"), "wb") as f:
            f.write(os.urandom(big))
        files = [(f"{png / 1e6:.2f} MB PNG", "bench_view.png", png, 8), (f"{big / 1e6:.0f} MB file", "big.bin", big, 4)]
        modes = MODES
    servers = {}
    try:
        for m, env in modes.items():
            servers[m] = start(tmp, env)
        measure(servers, files, args.runs, args.seconds)
    finally:
        for proc, _ in servers.values():
            stop(proc)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
