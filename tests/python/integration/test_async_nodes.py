"""Async node functions as ComfyUI runs them (spec §6.2, §6.3 step 7, §6.4): several async nodes
run concurrently on the prompt's event loop, each left PENDING while the others start; a node is
resumed (without a second `executing`) when its tasks finish; errors and timeouts inside async
nodes, an async node that expands, progress from concurrent async nodes, and an interrupt while
only async nodes are left. Run under every cache mode."""
import time
import uuid

from comfy_harness import WsClient, is_done, post_prompt, queue_and_collect, shown, wait_history, wait_idle
from comfy_harness import node as sem


def test_async_nodes_run_concurrently(cache_server):
    tag = uuid.uuid4().hex[:6]
    v = int(uuid.uuid4().int % 1000)
    prompt = {
        "1": sem("SemAsyncWork", value=v, seconds=0.1, steps=1, tag="a" + tag),
        "2": sem("SemAsyncWork", value=v + 10, seconds=0.2, steps=1, tag="b" + tag),
        "3": sem("SemAsyncWork", value=v + 20, seconds=0.3, steps=1, tag="c" + tag),
        "9": sem("SemCollect", a=["1", 0], b=["2", 0], c=["3", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = shown(run)
    assert out["value"] == [v + 1, v + 11, v + 21]
    # Staged last input first (ComfyUI's stack order); all three started before any finished, and
    # they finished shortest first, the reverse of their start: they overlapped.
    assert out["runs"][-6:] == [["start", "c" + tag], ["start", "b" + tag], ["start", "a" + tag],
                                ["end", "a" + tag], ["end", "b" + tag], ["end", "c" + tag]]
    # One `executing` per node: resuming an async node does not announce it again.
    assert run.executing_nodes() == ["3", "2", "1", "9"]
    assert run.executed_nodes() == ["9"]


def test_sync_nodes_run_while_async_nodes_wait(cache_server):
    tag = uuid.uuid4().hex[:6]
    prompt = {
        "1": sem("SemAsyncWork", value=1, seconds=0.3, steps=1, tag="slow" + tag),
        "2": sem("SemValue", value=7, tag="sync" + tag),
        "9": sem("SemCollect", a=["1", 0], b=["2", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = shown(run)
    assert out["value"] == [2, 7, None]
    # The async node is staged first (ComfyUI's pick rule) and left pending; the sync node ran in between.
    assert out["runs"][-3:] == [["start", "slow" + tag], ["value", "sync" + tag], ["end", "slow" + tag]]
    assert run.executing_nodes() == ["1", "2", "9"]


def test_async_error_after_others_started(cache_server):
    v = int(uuid.uuid4().int % 1000)
    prompt = {
        "1": sem("SemValue", value=v, tag="f"),
        "2": sem("SemAsyncFail", value=["1", 0]),
        "3": sem("SemAsyncWork", value=0, seconds=30.0, steps=1, tag="never-ends"),
        "9": sem("SemCollect", a=["2", 0], b=["3", 0]),
    }
    t0 = time.monotonic()
    run = queue_and_collect(cache_server, prompt)
    err = run.one("execution_error").data
    assert err["node_id"] == "2" and err["node_type"] == "SemAsyncFail"
    assert err["exception_type"] == "RuntimeError" and err["exception_message"] == f"async failure {v}\n"
    assert err["current_inputs"] == {"value": [v]}
    assert any("raise RuntimeError" in line for line in err["traceback"])
    # The failure does not wait for the 30 s node: its task is cancelled when the prompt ends
    # (a generous bound: this checks cancellation, not speed).
    assert time.monotonic() - t0 < 15.0
    assert wait_history(cache_server, run.prompt_id)["status"]["status_str"] == "error"


def test_async_timeout_is_an_execution_error(cache_server):
    prompt = {"1": sem("SemAsyncTimeout", value=uuid.uuid4().int % 1000, timeout=0.05),
              "9": sem("SemCollect", a=["1", 0])}
    run = queue_and_collect(cache_server, prompt)
    err = run.one("execution_error").data
    assert err["node_id"] == "1" and err["exception_type"] == "TimeoutError"
    assert err["exception_message"] == "\n"


def test_async_node_expands(cache_server):
    v = int(uuid.uuid4().int % 1000)
    prompt = {"1": sem("SemAsyncExpand", value=v, count=3), "9": sem("SemCollect", a=["1", 0])}
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    out = shown(run)
    assert out["value"] == [v + 3, None, None]
    assert out["runs"][-4:] == [["expand", v], ["add", v], ["add", v + 1], ["add", v + 2]]
    executing = [(m.data["node"], m.data["display_node"]) for m in run.of("executing") if m.data["node"]]
    assert executing == [("1", "1"), ("1.0.0.1", "1"), ("1.0.0.2", "1"), ("1.0.0.3", "1"), ("9", "9")]


def test_progress_from_concurrent_async_nodes_names_each_node(cache_server):
    prompt = {
        "1": sem("SemAsyncWork", value=uuid.uuid4().int % 1000, seconds=0.2, steps=4, tag="p1"),
        "2": sem("SemAsyncWork", value=5, seconds=0.12, steps=3, tag="p2"),
        "9": sem("SemCollect", a=["1", 0], b=["2", 0]),
    }
    run = queue_and_collect(cache_server, prompt)
    assert run.one("execution_success")
    progress = [(m.data["node"], m.data["value"], m.data["max"]) for m in run.of("progress")]
    assert [p for p in progress if p[0] == "1"] == [("1", 1, 4), ("1", 2, 4), ("1", 3, 4), ("1", 4, 4)]
    assert [p for p in progress if p[0] == "2"] == [("2", 1, 3), ("2", 2, 3), ("2", 3, 3)]
    assert len(progress) == 7
    # Interleaved: node 2's first step came before node 1 finished.
    assert progress.index(("2", 1, 3)) < progress.index(("1", 4, 4))


def test_interrupt_while_only_async_nodes_are_left(cache_server):
    srv = cache_server
    wait_idle(srv)
    prompt = {"1": sem("SemAsyncWork", value=1, seconds=30.0, steps=1, tag="long"),
              "9": sem("SemCollect", a=["1", 0])}
    with WsClient(srv, "intr-" + uuid.uuid4().hex[:6]) as ws:
        pid = post_prompt(srv, prompt, ws.client_id).json()["prompt_id"]
        ws.recv_until(lambda m: m.type == "executing" and m.data.get("node") == "1", timeout=30)
        time.sleep(0.2)
        t0 = time.monotonic()
        assert srv.post("/interrupt").status_code == 200
        after = ws.recv_until(is_done(pid), timeout=10)
        assert time.monotonic() - t0 < 15.0  # ComfyUI would wait the 30 s out (not a speed bound)
    intr = [m for m in after if m.type == "execution_interrupted"]
    assert len(intr) == 1 and intr[0].data["node_id"] == "1" and intr[0].data["node_type"] == "SemAsyncWork"
    assert intr[0].data["executed"] == []
    # The server goes on: the next prompt runs.
    run = queue_and_collect(srv, {"1": sem("SemAsyncWork", value=41, seconds=0.01, steps=1, tag="after"),
                                  "9": sem("SemCollect", a=["1", 0])})
    assert run.one("execution_success") and shown(run)["value"] == [42, None, None]
