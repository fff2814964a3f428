"""Execution over the WebSocket: message order and payloads, PNG output, history
entries, caching per cache mode, errors, interrupts, feature flags.

Spec: comfyui-api.md §3 (all), §4, §6.1, §6.3-§6.5, §15; decisions.md.
Every test runs against three fresh servers (classic cache, --cache-lru 10,
--cache-none).  Graphs are made structurally unique per test so caches left by
earlier tests cannot serve them, except where a test wants exactly that.
"""

import copy
import hashlib
import json
import os
import re
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from comfy_harness import (SERVER_FEATURES, WsClient, assert_python_json, image_graph, is_done, node, post_prompt,
                      queue_and_collect, shown, slow_graph, string_graph, unique_int, unique_str, wait_history,
                      wait_idle)

WORKFLOW = {
    "last_node_id": 3,
    "nodes": [{"id": 1, "type": "EmptyImage", "pos": [10, 20.5], "widgets_values": [16, 8, 1, 4277061]}],
    "extra": {"ds": {"scale": 1.0, "offset": [0, -12.5]}, "title": "h\u00e9llo \u2713", "tiny": 1e-07},
    "version": 0.4,
}


def comfy_files(srv):
    """Files in the output folder written with the default "ComfyUI" prefix."""
    return sorted(f for f in os.listdir(srv.output_dir) if f.startswith("ComfyUI_"))


def caching(srv) -> bool:
    """True when outputs survive between prompts (classic and LRU)."""
    return srv.cache_mode in ("classic", "lru")


def png_text_chunks(path):
    """[(keyword, text)] of every tEXt chunk in file order (and fail on zTXt/iTXt)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(ctype + body) & 0xFFFFFFFF, f"bad CRC in {ctype!r}"
        if ctype == b"tEXt":
            k, _, v = body.partition(b"\0")
            out.append((k.decode("latin-1"), v.decode("latin-1")))
        assert ctype not in (b"zTXt", b"iTXt"), f"unexpected {ctype!r} chunk"
        pos += 12 + length
        if ctype == b"IEND":
            break
    return out


def progress_states(msgs):
    """For each progress_state message: {node_id: state}."""
    return [{k: v["state"] for k, v in m.data["nodes"].items()} for m in msgs if m.type == "progress_state"]


def ps_entry(pid, node, state, value, max_):
    return {"value": value, "max": max_, "state": state, "node_id": node, "prompt_id": pid,
            "display_node_id": node, "parent_node_id": None, "real_node_id": node}


def assert_frames_python_json(msgs):
    for m in msgs:
        assert m.raw.startswith('{"type": '), m.raw[:80]
        assert_python_json(m.raw)


def assert_timestamp(ts):
    assert type(ts) is int
    assert abs(ts - time.time() * 1000) < 120_000


RUN_SEQ = [("status", None), ("status", None), ("execution_start", None), ("execution_cached", None)]
END_SEQ = [("execution_success", None), ("status", None), ("executing", None)]


def node_seq(node, executed=False):
    seq = [("progress_state", None), ("executing", node)]
    if executed:
        seq.append(("executed", node))
    seq.append(("progress_state", None))
    return seq


# ----------------------------------------------------------------------------
# The canonical EmptyImage -> ImageInvert -> SaveImage run
# ----------------------------------------------------------------------------

def test_image_pipeline_messages_png_history_and_requeue(cache_server):
    srv = cache_server
    w, h = 16 + unique_int(), 8
    prompt = image_graph(w, h, 0x414345, prefix="ComfyUI")
    extra_data = {"extra_pnginfo": {"workflow": WORKFLOW}}
    cid = unique_str("client")

    with WsClient(srv, cid) as ws:
        assert ws.initial.raw == json.dumps(
            {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": cid}})

        run = queue_and_collect(srv, prompt, ws=ws, extra_data=extra_data)
        pid = run.prompt_id
        assert_frames_python_json(run.messages)

        # ---- exact order -------------------------------------------------
        expected = (RUN_SEQ + node_seq("1") + node_seq("2") + node_seq("3", executed=True) + END_SEQ)
        assert run.sequence() == expected

        assert [m.data for m in run.of("status")] == [
            {"status": {"exec_info": {"queue_remaining": 1}}},
            {"status": {"exec_info": {"queue_remaining": 1}}},
            {"status": {"exec_info": {"queue_remaining": 0}}},
        ]
        start = run.one("execution_start")
        assert list(start.data.keys()) == ["prompt_id", "timestamp"]
        assert start.data["prompt_id"] == pid
        assert_timestamp(start.data["timestamp"])
        cached = run.one("execution_cached")
        assert list(cached.data.keys()) == ["nodes", "prompt_id", "timestamp"]
        assert cached.data["nodes"] == [] and cached.data["prompt_id"] == pid
        assert_timestamp(cached.data["timestamp"])
        success = run.one("execution_success")
        assert list(success.data.keys()) == ["prompt_id", "timestamp"]
        assert success.data["prompt_id"] == pid
        assert start.data["timestamp"] <= cached.data["timestamp"] <= success.data["timestamp"]

        for m in run.of("executing")[:-1]:
            n = m.data["node"]
            assert m.raw == json.dumps({"type": "executing",
                                        "data": {"node": n, "display_node": n, "prompt_id": pid}})
        assert run.messages[-1].raw == json.dumps({"type": "executing", "data": {"node": None, "prompt_id": pid}})

        images = [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]
        executed = run.one("executed")
        assert executed.raw == json.dumps({"type": "executed", "data": {
            "node": "3", "display_node": "3", "output": {"images": images}, "prompt_id": pid}})

        # ---- progress_state contents --------------------------------------
        ps = run.of("progress_state")
        assert progress_states(run.messages) == [
            {"1": "running"},
            {"1": "finished"},
            {"1": "finished", "2": "running"},
            {"1": "finished", "2": "finished"},
            {"1": "finished", "2": "finished", "3": "running"},
            {"1": "finished", "2": "finished", "3": "finished"},
        ]
        for m in ps:
            assert list(m.data.keys()) == ["prompt_id", "nodes"]
            assert m.data["prompt_id"] == pid
        assert ps[0].data["nodes"] == {"1": ps_entry(pid, "1", "running", 0, 1)}
        assert ps[-1].data["nodes"] == {n: ps_entry(pid, n, "finished", 1, 1) for n in ("1", "2", "3")}
        assert list(ps[0].data["nodes"]["1"].keys()) == ["value", "max", "state", "node_id", "prompt_id",
                                                         "display_node_id", "parent_node_id", "real_node_id"]

        # ---- the PNG ------------------------------------------------------
        out_file = srv.output_dir / "ComfyUI_00001_.png"
        assert comfy_files(srv) == ["ComfyUI_00001_.png"]
        with Image.open(out_file) as img:
            assert img.format == "PNG" and img.mode == "RGB" and img.size == (w, h)
            px = np.asarray(img)
        assert (px == np.array([189, 187, 185], dtype=np.uint8)).all(), np.unique(px.reshape(-1, 3), axis=0)
        chunks = png_text_chunks(out_file)
        assert [k for k, _ in chunks] == ["prompt", "workflow"]
        assert dict(chunks)["prompt"] == json.dumps(prompt)
        assert dict(chunks)["workflow"] == json.dumps(WORKFLOW)

        # ---- the history entry --------------------------------------------
        entry = srv.get_json(f"/history/{pid}")[pid]
        assert list(entry.keys()) == ["prompt", "outputs", "status", "meta"]
        assert entry["prompt"] == [run.number, pid, prompt,
                                   {"extra_pnginfo": {"workflow": WORKFLOW}, "client_id": cid}, ["3"]]
        assert entry["outputs"] == {"3": {"images": images}}
        assert entry["status"] == {
            "status_str": "success", "completed": True,
            "messages": [["execution_start", start.data], ["execution_cached", cached.data],
                         ["execution_success", success.data]],
        }
        assert list(entry["status"].keys()) == ["status_str", "completed", "messages"]
        assert entry["meta"] == {"3": {"node_id": "3", "display_node": "3", "parent_node": None,
                                       "real_node_id": "3"}}
        assert list(entry["meta"]["3"].keys()) == ["node_id", "display_node", "parent_node", "real_node_id"]

        # ---- the same prompt again -----------------------------------------
        run2 = queue_and_collect(srv, prompt, ws=ws, extra_data=extra_data)
        pid2 = run2.prompt_id
        assert_frames_python_json(run2.messages)
        if caching(srv):
            assert run2.sequence() == RUN_SEQ + [("executed", "3"), ("progress_state", None)] + END_SEQ
            assert run2.one("execution_cached").data["nodes"] == ["1", "2", "3"]
            assert run2.executing_nodes() == []
            assert run2.one("executed").raw == json.dumps({"type": "executed", "data": {
                "node": "3", "display_node": "3", "output": {"images": images}, "prompt_id": pid2}})
            assert progress_states(run2.messages) == [{"3": "finished"}]
            assert run2.of("progress_state")[0].data["nodes"]["3"] == ps_entry(pid2, "3", "finished", 1, 1)
            assert comfy_files(srv) == ["ComfyUI_00001_.png"]
            images2 = images
        else:
            assert run2.sequence() == expected
            assert run2.one("execution_cached").data["nodes"] == []
            images2 = [{"filename": "ComfyUI_00002_.png", "subfolder": "", "type": "output"}]
            assert run2.one("executed").data["output"] == {"images": images2}
            assert comfy_files(srv) == ["ComfyUI_00001_.png", "ComfyUI_00002_.png"]
            assert png_text_chunks(srv.output_dir / "ComfyUI_00002_.png") == chunks
        entry2 = srv.get_json(f"/history/{pid2}")[pid2]
        assert entry2["outputs"] == {"3": {"images": images2}}
        assert entry2["meta"] == entry["meta"]
        assert [m[0] for m in entry2["status"]["messages"]] == ["execution_start", "execution_cached",
                                                                "execution_success"]
        assert entry2["prompt"][0] == run2.number == run.number + 1

        # ---- changed prefix --------------------------------------------------
        prefix = unique_str("pfx")
        prompt3 = image_graph(w, h, 0x414345, prefix=prefix)
        run3 = queue_and_collect(srv, prompt3, ws=ws)
        images3 = [{"filename": f"{prefix}_00001_.png", "subfolder": "", "type": "output"}]
        assert run3.one("executed").data["output"] == {"images": images3}
        if caching(srv):
            assert run3.one("execution_cached").data["nodes"] == ["1", "2"]
            assert run3.sequence() == RUN_SEQ + node_seq("3", executed=True) + END_SEQ
            assert progress_states(run3.messages) == [{"3": "running"}, {"3": "finished"}]
        else:
            assert run3.one("execution_cached").data["nodes"] == []
            assert run3.executing_nodes() == ["1", "2", "3"]
        with Image.open(srv.output_dir / f"{prefix}_00001_.png") as img:
            assert (np.asarray(img) == np.array([189, 187, 185], dtype=np.uint8)).all()
        # No workflow was sent this time: only the prompt chunk.
        assert [k for k, _ in png_text_chunks(srv.output_dir / f"{prefix}_00001_.png")] == ["prompt"]


def test_batch_and_subfolder_prefix(cache_server):
    srv = cache_server
    sub = unique_str("sub")
    prompt = image_graph(4 + unique_int(), 3, 0x000000, prefix=f"{sub}/img", batch_size=2)
    run = queue_and_collect(srv, prompt)
    out = run.one("executed").data["output"]
    assert out == {"images": [
        {"filename": "img_00001_.png", "subfolder": sub, "type": "output"},
        {"filename": "img_00002_.png", "subfolder": sub, "type": "output"},
    ]}
    for f in ("img_00001_.png", "img_00002_.png"):
        with Image.open(srv.output_dir / sub / f) as img:
            assert (np.asarray(img) == 255).all()


def test_preview_image_goes_to_temp(cache_server):
    srv = cache_server
    prompt = {"1": {"class_type": "EmptyImage",
                    "inputs": {"width": 5 + unique_int(), "height": 4, "batch_size": 1, "color": 0xFF0000}},
              "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    run = queue_and_collect(srv, prompt)
    out = run.one("executed").data["output"]
    assert list(out.keys()) == ["images"] and len(out["images"]) == 1
    img_ref = out["images"][0]
    assert list(img_ref.keys()) == ["filename", "subfolder", "type"]
    assert re.fullmatch(r"ComfyUI_temp_[a-z]{5}_\d{5}_\.png", img_ref["filename"]), img_ref
    assert img_ref["subfolder"] == "" and img_ref["type"] == "temp"
    with Image.open(srv.temp_dir / img_ref["filename"]) as img:
        assert (np.asarray(img) == np.array([255, 0, 0], dtype=np.uint8)).all()
    assert not any(f.startswith("ComfyUI_temp") for f in os.listdir(srv.output_dir))


def test_load_image_roundtrip(cache_server):
    srv = cache_server
    name = unique_str("src") + ".png"
    rng = np.random.default_rng(1234)
    src = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    Image.fromarray(src, "RGB").save(srv.input_dir / name)
    prefix = unique_str("load")
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": name}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}}}
    run = queue_and_collect(srv, prompt)
    assert run.one("execution_success")
    out = srv.output_dir / f"{prefix}_00001_.png"
    expected = np.clip(255.0 * (src.astype(np.float32) / 255.0), 0, 255).astype(np.uint8)
    with Image.open(out) as img:
        assert img.size == (7, 5)
        assert (np.asarray(img) == expected).all()
    # IS_CHANGED results are written into the executing prompt, which SaveImage embeds.
    digest = hashlib.sha256((srv.input_dir / name).read_bytes()).hexdigest()
    embedded = copy.deepcopy(prompt)
    embedded["1"]["is_changed"] = [digest]
    assert dict(png_text_chunks(out))["prompt"] == json.dumps(embedded)


# ----------------------------------------------------------------------------
# Caching semantics
# ----------------------------------------------------------------------------

def test_counter_caching_per_mode(cache_server):
    srv = cache_server
    key = unique_str("k")
    counter = {"1": {"class_type": "TestCounter", "inputs": {"key": key}}}
    with WsClient(srv, unique_str("c")) as ws:
        r1 = queue_and_collect(srv, counter, ws=ws)
        assert r1.one("executed").data["output"] == {"count": [1]}
        assert r1.executing_nodes() == ["1"]
        assert r1.one("execution_cached").data["nodes"] == []

        r2 = queue_and_collect(srv, counter, ws=ws)
        if caching(srv):
            assert r2.one("execution_cached").data["nodes"] == ["1"]
            assert r2.executing_nodes() == []
            assert r2.one("executed").data["output"] == {"count": [1]}
        else:
            assert r2.one("execution_cached").data["nodes"] == []
            assert r2.executing_nodes() == ["1"]
            assert r2.one("executed").data["output"] == {"count": [2]}

        # Cache keys are structural: another node id with the same class and inputs is a hit.
        r3 = queue_and_collect(srv, {"7": {"class_type": "TestCounter", "inputs": {"key": key}}}, ws=ws)
        executed = r3.one("executed")
        assert executed.data["node"] == "7" and executed.data["display_node"] == "7"
        if caching(srv):
            assert r3.one("execution_cached").data["nodes"] == ["7"]
            assert r3.executing_nodes() == []
            assert executed.data["output"] == {"count": [1]}
        else:
            assert r3.executing_nodes() == ["7"]
            assert executed.data["output"] == {"count": [3]}
        assert wait_history(srv, r3.prompt_id)["outputs"] == {"7": executed.data["output"]}


def test_is_changed_nan_never_cached(cache_server):
    srv = cache_server
    key = unique_str("nan")
    prompt = {"1": {"class_type": "TestNaNCounter", "inputs": {"key": key}}}
    with WsClient(srv, unique_str("c")) as ws:
        for i in (1, 2, 3):
            run = queue_and_collect(srv, prompt, ws=ws)
            assert run.one("execution_cached").data["nodes"] == []
            assert run.executing_nodes() == ["1"]
            assert run.one("executed").data["output"] == {"count": [i]}


def test_upstream_cache_partial(cache_server):
    """A changed downstream constant re-runs only the downstream node."""
    srv = cache_server
    base = unique_int()
    with WsClient(srv, unique_str("c")) as ws:
        p1 = {"1": {"class_type": "TestIntConst", "inputs": {"value": base % 100}},
              "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}},
              "3": {"class_type": "TestCounter", "inputs": {"key": unique_str("d")}}}
        r1 = queue_and_collect(srv, p1, ws=ws)
        assert sorted(r1.executing_nodes()) == ["1", "2", "3"]
        p2 = copy.deepcopy(p1)
        p2["3"]["inputs"]["key"] = unique_str("d")
        r2 = queue_and_collect(srv, p2, ws=ws)
        if caching(srv):
            assert r2.one("execution_cached").data["nodes"] == ["1", "2"]
            assert r2.executing_nodes() == ["3"]
            assert sorted(r2.executed_nodes()) == ["2", "3"]
        else:
            assert r2.one("execution_cached").data["nodes"] == []
            assert sorted(r2.executing_nodes()) == ["1", "2", "3"]


def test_free_memory_drops_caches(cache_server):
    srv = cache_server
    if not caching(srv):
        pytest.skip("nothing is cached across prompts with --cache-none")
    key = unique_str("free")
    prompt = {"1": {"class_type": "TestCounter", "inputs": {"key": key}}}
    with WsClient(srv, unique_str("c")) as ws:
        assert queue_and_collect(srv, prompt, ws=ws).one("executed").data["output"] == {"count": [1]}
        assert queue_and_collect(srv, prompt, ws=ws).executing_nodes() == []
        r = srv.post("/free", json={"unload_models": True, "free_memory": True})
        assert r.status_code == 200
        time.sleep(1.0)  # the worker handles /free flags between prompts
        run = queue_and_collect(srv, prompt, ws=ws)
        assert run.one("execution_cached").data["nodes"] == []
        assert run.executing_nodes() == ["1"]
        assert run.one("executed").data["output"] == {"count": [2]}


# ----------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------

ERROR_KEYS = ["prompt_id", "node_id", "node_type", "executed", "exception_message", "exception_type",
              "traceback", "current_inputs", "current_outputs", "timestamp"]


def test_node_exception(cache_server):
    srv = cache_server
    prompt = {"1": {"class_type": "TestRaise", "inputs": {"value": "x"}}}
    run = queue_and_collect(srv, prompt)
    pid = run.prompt_id
    assert_frames_python_json(run.messages)
    assert run.sequence() == RUN_SEQ + [("progress_state", None), ("executing", "1"), ("execution_error", None),
                                        ("status", None), ("executing", None)]
    err = run.one("execution_error").data
    assert list(err.keys()) == ERROR_KEYS
    assert err["prompt_id"] == pid
    assert err["node_id"] == "1"
    assert err["node_type"] == "TestRaise"
    assert err["executed"] == []
    assert err["exception_message"] == "boom x\n"
    assert err["exception_type"] == "ValueError"
    assert isinstance(err["traceback"], list) and err["traceback"]
    assert all(isinstance(t, str) for t in err["traceback"])
    assert any("testing_pack" in t and "boom" in t for t in err["traceback"]), err["traceback"]
    assert err["current_inputs"] == {"value": ["x"]}
    assert isinstance(err["current_outputs"], list)
    if caching(srv):
        assert err["current_outputs"] == ["1"]
    assert_timestamp(err["timestamp"])

    entry = wait_history(srv, pid)
    assert entry["status"] == {
        "status_str": "error", "completed": False,
        "messages": [["execution_start", run.one("execution_start").data],
                     ["execution_cached", run.one("execution_cached").data],
                     ["execution_error", err]],
    }
    assert entry["outputs"] == {}
    assert entry["meta"] == {}

    # The server keeps serving.
    ok = queue_and_collect(srv, string_graph("after-error"))
    assert ok.one("executed").data["output"] == {"text": ["after-error"]}


def test_node_exception_after_upstream_ui(cache_server):
    srv = cache_server
    v = unique_str("y")
    prompt = {"1": {"class_type": "TestStringOut", "inputs": {"value": v}},
              "2": {"class_type": "TestRaise", "inputs": {"value": ["1", 0]}}}
    run = queue_and_collect(srv, prompt)
    assert run.executing_nodes() == ["1", "2"]
    err = run.one("execution_error").data
    assert err["node_id"] == "2" and err["node_type"] == "TestRaise"
    assert err["executed"] == ["1"]
    assert err["exception_message"] == f"boom {v}\n"
    assert err["current_inputs"] == {"value": [v]}
    if caching(srv):
        assert sorted(err["current_outputs"]) == ["1", "2"]
    entry = wait_history(srv, run.prompt_id)
    assert entry["status"]["status_str"] == "error"
    # UI produced before the failure is kept.
    assert entry["outputs"] == {"1": {"text": [v]}}
    assert entry["meta"] == {"1": {"node_id": "1", "display_node": "1", "parent_node": None, "real_node_id": "1"}}


# ----------------------------------------------------------------------------
# Interrupts
# ----------------------------------------------------------------------------

def test_interrupt_running_prompt(cache_server):
    srv = cache_server
    wait_idle(srv)
    prompt = slow_graph(10)
    with WsClient(srv, unique_str("c")) as ws:
        r = post_prompt(srv, prompt, ws.client_id)
        assert r.status_code == 200
        pid = r.json()["prompt_id"]
        before = ws.recv_until(lambda m: m.type == "executing" and m.data.get("node") == "2", timeout=30)

        # A targeted interrupt for another prompt id does nothing.
        assert srv.post("/interrupt", json={"prompt_id": "some-other-prompt"}).status_code == 200
        idle = ws.drain(0.7)
        assert not any(m.type in ("execution_interrupted", "executing") for m in idle), idle

        t0 = time.monotonic()
        r = srv.post("/interrupt")
        assert r.status_code == 200 and r.content == b""
        after = ws.recv_until(is_done(pid), timeout=5)
        assert time.monotonic() - t0 < 3.0
    msgs = before + idle + after
    assert_frames_python_json(msgs)
    seq = [(m.type, m.node if m.type in ("executing", "executed") else None) for m in msgs
           if m.type != "progress_state"]
    assert seq == [("status", None), ("status", None), ("execution_start", None), ("execution_cached", None),
                   ("executing", "1"), ("executing", "2"), ("execution_interrupted", None), ("status", None),
                   ("executing", None)]
    intr = [m for m in msgs if m.type == "execution_interrupted"][0].data
    assert list(intr.keys()) == ["prompt_id", "node_id", "node_type", "executed", "timestamp"]
    assert intr["prompt_id"] == pid and intr["node_id"] == "2" and intr["node_type"] == "TestSlow"
    assert intr["executed"] == ["1"]
    assert_timestamp(intr["timestamp"])

    entry = wait_history(srv, pid)
    assert entry["status"]["status_str"] == "error"
    assert entry["status"]["completed"] is False
    assert [m[0] for m in entry["status"]["messages"]] == ["execution_start", "execution_cached",
                                                           "execution_interrupted"]
    assert entry["status"]["messages"][2][1] == intr
    assert entry["outputs"] == {}

    # An interrupt while idle does not affect the next prompt.
    assert srv.post("/interrupt").status_code == 200
    run = queue_and_collect(srv, slow_graph(0.3))
    assert run.one("execution_success")
    assert run.of("execution_interrupted") == []


def test_targeted_interrupt(cache_server):
    srv = cache_server
    wait_idle(srv)
    with WsClient(srv, unique_str("c")) as ws:
        r = post_prompt(srv, slow_graph(10), ws.client_id)
        pid = r.json()["prompt_id"]
        ws.recv_until(lambda m: m.type == "executing" and m.data.get("node") == "2", timeout=30)
        t0 = time.monotonic()
        assert srv.post("/interrupt", json={"prompt_id": pid}).status_code == 200
        msgs = ws.recv_until(is_done(pid), timeout=5)
        assert time.monotonic() - t0 < 3.0
        assert [m.type for m in msgs if m.type.startswith("execution_")] == ["execution_interrupted"]


def test_reconnect_with_same_client_id_gets_current_node(cache_server):
    srv = cache_server
    if srv.cache_mode != "classic":
        pytest.skip("cache-independent; checked once")
    wait_idle(srv)
    cid = unique_str("re")
    ws1 = WsClient(srv, cid)
    try:
        r = post_prompt(srv, slow_graph(10), cid)
        pid = r.json()["prompt_id"]
        ws1.recv_until(lambda m: m.type == "executing" and m.data.get("node") == "2", timeout=30)
        with WsClient(srv, cid, read_status=False) as ws2:
            m1 = ws2.recv(timeout=5)
            assert m1.raw == json.dumps({"type": "status", "data": {
                "status": {"exec_info": {"queue_remaining": 1}}, "sid": cid}})
            m2 = ws2.recv(timeout=5)
            assert m2.raw == json.dumps({"type": "executing", "data": {"node": "2"}})
            assert srv.post("/interrupt").status_code == 200
            tail = ws2.recv_until(is_done(pid), timeout=5)
            assert [m.type for m in tail if m.type.startswith("execution_")] == ["execution_interrupted"]
        # The first socket was replaced in the registry: it gets nothing for this prompt any more.
        late = ws1.drain(0.5)
        assert not any(m.type in ("execution_interrupted", "executing") for m in late), late
    finally:
        ws1.close()


# ----------------------------------------------------------------------------
# Addressing: no client id, other clients
# ----------------------------------------------------------------------------

def test_prompt_without_client_id(cache_server):
    srv = cache_server
    if srv.cache_mode != "classic":
        pytest.skip("cache-independent; checked once")
    wait_idle(srv)
    with WsClient(srv, unique_str("watch")) as ws:
        r = post_prompt(srv, string_graph())
        assert r.status_code == 200
        pid = r.json()["prompt_id"]
        msgs = ws.recv_until(lambda m: m.type == "status"
                             and m.data["status"]["exec_info"]["queue_remaining"] == 0, timeout=30)
        msgs += ws.drain(0.5)
    # execution_* / executing / executed go only to the prompt's client: with none, nobody gets them;
    # progress_state is broadcast.
    assert [m.type for m in msgs] == ["status", "status", "progress_state", "progress_state", "status"]
    assert all(m.data["prompt_id"] == pid for m in msgs if m.type == "progress_state")
    entry = wait_history(srv, pid)
    assert entry["status"]["status_str"] == "success"
    assert entry["prompt"][3] == {}
    # The status messages are still recorded in history.
    assert [m[0] for m in entry["status"]["messages"]] == ["execution_start", "execution_cached",
                                                           "execution_success"]


def test_other_client_gets_only_broadcasts(cache_server):
    srv = cache_server
    if srv.cache_mode != "classic":
        pytest.skip("cache-independent; checked once")
    wait_idle(srv)
    with WsClient(srv, unique_str("a")) as a, WsClient(srv, unique_str("b")) as b:
        run = queue_and_collect(srv, string_graph(), ws=a)
        assert run.one("execution_success")
        other = b.drain(0.5)
    assert [m.type for m in other] == ["status", "status", "status"]
    assert [m.data["status"]["exec_info"]["queue_remaining"] for m in other] == [1, 1, 0]


# ----------------------------------------------------------------------------
# WebSocket connection details
# ----------------------------------------------------------------------------

def test_ws_without_client_id_gets_hex_sid(cache_server):
    srv = cache_server
    if srv.cache_mode != "classic":
        pytest.skip("cache-independent; checked once")
    with WsClient(srv, None) as ws:
        sid = ws.initial.data["sid"]
        assert re.fullmatch(r"[0-9a-f]{32}", sid), sid
        assert ws.initial.raw == json.dumps({"type": "status", "data": {
            "status": {"exec_info": {"queue_remaining": 0}}, "sid": sid}})
        # The server-assigned sid works as a client id.
        run = queue_and_collect(srv, string_graph(), ws=ws)
        assert run.one("execution_success")


def test_api_ws_path(cache_server):
    srv = cache_server
    if srv.cache_mode != "classic":
        pytest.skip("cache-independent; checked once")
    cid = unique_str("api")
    with WsClient(srv, cid, path="/api/ws") as ws:
        assert ws.initial.data == {"status": {"exec_info": {"queue_remaining": 0}}, "sid": cid}
        run = queue_and_collect(srv, string_graph(), ws=ws)
        assert run.one("execution_success")


def test_feature_flags_handshake(cache_server):
    srv = cache_server
    if srv.cache_mode != "classic":
        pytest.skip("cache-independent; checked once")
    expected = '{"type": "feature_flags", "data": {"supports_preview_metadata": true, "max_upload_size": 104857600}}'
    with WsClient(srv, unique_str("ff")) as ws:
        ws.send_json({"type": "feature_flags", "data": {"supports_preview_metadata": True,
                                                         "supports_manager_v4_ui": True,
                                                         "supports_progress_text_metadata": True}})
        m = ws.recv(timeout=5)
        assert m is not None and m.raw == expected
        assert m.data == SERVER_FEATURES
        # Only the first message is inspected.
        ws.send_json({"type": "feature_flags", "data": {}})
        assert ws.recv(timeout=0.7) is None

    with WsClient(srv, unique_str("ff2")) as ws:
        ws.ws.send("this is not json")
        ws.send_json({"type": "feature_flags", "data": {"supports_preview_metadata": False}})
        m = ws.recv(timeout=5)
        assert m is not None and m.raw == expected

    with WsClient(srv, unique_str("ff3")) as ws:
        ws.send_json({"type": "hello", "data": {}})
        ws.send_json({"type": "feature_flags", "data": {}})
        assert ws.recv(timeout=0.7) is None


def test_hidden_inputs_declared_later_reach_the_node(cache_server):
    """A class that was plain (called straight from C++) gains a hidden UNIQUE_ID between two
    prompts: the second run must pass it, so nothing decided about the class may outlive the
    definition it was decided for."""
    srv = cache_server
    assert srv.post("/test_pack/hidden", json=False).json() is False
    try:
        first = unique_int()
        run = queue_and_collect(srv, {"5": node("TestStateHidden", value=first)})
        assert shown(run, "5") == {"text": [f"{first}:None"]}
        assert srv.post("/test_pack/hidden", json=True).json() is True
        second = unique_int()
        run = queue_and_collect(srv, {"5": node("TestStateHidden", value=second)})
        assert shown(run, "5") == {"text": [f"{second}:5"]}
    finally:
        srv.post("/test_pack/hidden", json=False)
