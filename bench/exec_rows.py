"""Executor rows: overhead per node for 100 and 1,000 trivial Python nodes (chain and wide) against a
bare Python loop calling the same nodes, and a fully cached re-queue against a Python re-implementation
of the cache-key pass ComfyUI 0.3.64 runs before it can tell that nothing needs to run."""
import itertools
import os
import statistics
import time

from bench_core import RUNS, chain, log, median, reference_loop, run_prompt, wide

SIZES = (100, 1000)


def _ours(port, make, n, salt, per):
    """Mean of `per` cold runs (history timestamps have ms resolution; small prompts need several)."""
    return statistics.mean(run_prompt(port, make(n, next(salt))) for _ in range(per))


NATIVE_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "cp311",
                            "comfy_bench_executor")


def native_rows():
    """The executor's own cost without Python (bench/cpp/bench_executor.cpp: a no-op NodeRuntime
    driving the real executor, queue and history), if `make bench` built it."""
    import subprocess
    if not os.path.exists(NATIVE_BENCH):
        log("  (build/cp311/comfy_bench_executor not built: no native executor rows)")
        return []
    runs = {}
    for _ in range(max(3, RUNS)):
        out = subprocess.run([NATIVE_BENCH], capture_output=True, text=True, timeout=300).stdout
        for line in out.splitlines():
            shape, n, _, cold, _, cached = line.split()
            runs.setdefault((shape, int(n)), []).append((float(cold), float(cached)))
    rows = []
    for (shape, n), vals in sorted(runs.items()):
        rows.append((f"native executor alone (no-op nodes), {n} nodes, {shape}", median([v[0] for v in vals]), None,
                     "us/node", "C++ only: what a node costs besides its Python call"))
    for (shape, n), vals in sorted(runs.items()):
        rows.append((f"native executor alone, fully cached re-queue, {n} nodes, {shape}",
                     median([v[1] for v in vals]), None, "ms", "C++ only"))
    for r in rows:
        log(f"  {r}")
    return rows


def executor_rows(port):
    rows = []
    salt = itertools.count(1000)
    for shape, make in (("chain", chain), ("wide", wide)):
        for n in SIZES:
            nodes = len(make(n))
            per = max(1, 2000 // n)
            ours, base = [], []
            for _ in range(RUNS):
                ours.append(_ours(port, make, n, salt, per))
                base.append(statistics.mean(reference_loop(make(n, next(salt))) for _ in range(per)))
            rows.append((f"executor, {n} trivial Python nodes, {shape}", median(ours) / nodes * 1e6,
                         median(base) / nodes * 1e6, "us/node", "bare Python loop calling the same nodes"))
            log(f"  {rows[-1]}")
    return rows


# -- ComfyUI's cache-key pass, re-implemented for the baseline --------------------------------------

def _is_link(v):
    return isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], int)


def _hashable(obj):
    """ComfyUI's to_hashable: mappings and sequences (tuples too) become frozensets, recursively."""
    if isinstance(obj, (int, float, str, bool, bytes, type(None))):
        return obj
    if isinstance(obj, dict):
        return frozenset((_hashable(k), _hashable(v)) for k, v in sorted(obj.items()))
    if isinstance(obj, (list, tuple)):
        return frozenset(zip(itertools.count(), [_hashable(i) for i in obj]))
    raise TypeError(type(obj))


def _ancestry(prompt, node_id):
    """Ancestors in the order ComfyUI's recursive walk finds them (sorted input names, depth first)."""
    ancestors, order = [], {}
    stack = [iter(sorted(prompt[node_id]["inputs"].items()))]
    while stack:
        for _, v in stack[-1]:
            if _is_link(v) and v[0] not in order:
                order[v[0]] = len(ancestors)
                ancestors.append(v[0])
                stack.append(iter(sorted(prompt[v[0]]["inputs"].items())))
                break
        else:
            stack.pop()
    return ancestors, order


def _immediate(prompt, node_id, order, is_changed):
    node = prompt[node_id]
    sig = [node["class_type"], is_changed[node_id]]
    for key in sorted(node["inputs"]):
        v = node["inputs"][key]
        sig.append((key, ("ANCESTOR", order[v[0]], v[1])) if _is_link(v) else (key, v))
    return sig


def comfy_cache_pass(prompt, outputs_cache):
    """What ComfyUI 0.3.64 computes before it finds a prompt fully cached: IS_CHANGED per node (the
    bench nodes have none: False), the input-signature key of every node (its whole ancestry, so
    quadratic on a chain), the id keys of the objects cache, the lookup of every output node, and the
    list of cached nodes for execution_cached. Returns (seconds, keys)."""
    t0 = time.perf_counter()
    is_changed = {nid: False for nid in prompt}
    keys = {}
    for nid in prompt:
        ancestors, order = _ancestry(prompt, nid)
        sig = [_immediate(prompt, nid, order, is_changed)]
        sig += [_immediate(prompt, a, order, is_changed) for a in ancestors]
        keys[nid] = _hashable(sig)
    object_keys = {nid: (nid, node["class_type"]) for nid, node in prompt.items()}  # the objects cache
    outputs = [nid for nid, node in prompt.items() if node["class_type"] in ("BenchSink", "BenchNop")]
    to_run = [nid for nid in outputs if keys[nid] not in outputs_cache]
    cached = [nid for nid in prompt if keys[nid] in outputs_cache]
    elapsed = time.perf_counter() - t0
    assert len(object_keys) == len(prompt) and (not to_run and len(cached) == len(prompt) or not outputs_cache)
    return elapsed, keys


def cached_rows(port):
    """Re-queues of an unchanged prompt (ours: execution_start to execution_success). The reference
    pass is quadratic on a chain (about 16 s and 1.7 GB for 1,000 nodes on the development machine),
    so the 1,000-node chain gets its baseline only with BENCH_SLOW=1."""
    rows = []
    for shape, make, n in (("chain", chain, 100), ("wide", wide, 1000), ("chain", chain, 1000)):
        prompt = make(n, 7)
        run_prompt(port, prompt)  # cold: fills the cache
        per = max(30, 3000 // n)  # ms timestamps: average over enough runs to resolve fractions of a ms
        ours = [statistics.mean(run_prompt(port, prompt) for _ in range(per)) for _ in range(max(3, RUNS))]
        base = [None]
        if not (shape == "chain" and n >= 1000) or os.environ.get("BENCH_SLOW"):
            # The baseline's cache holds keys of an earlier pass (equal, not identical: lookups compare).
            _, keys = comfy_cache_pass(prompt, {})
            cache = {k: ("outputs",) for k in keys.values()}
            base = [comfy_cache_pass(prompt, cache)[0] for _ in range(RUNS)]
        rows.append((f"fully cached re-queue, {n} nodes, {shape}", median(ours) * 1e3,
                     median(base) * 1e3 if base[0] is not None else None, "ms",
                     "Python re-implementation of ComfyUI's cache-key pass" if base[0] is not None
                     else "(ComfyUI's pass: quadratic, ~16 s; BENCH_SLOW=1 runs it)"))
        log(f"  {rows[-1]}")
    return rows
