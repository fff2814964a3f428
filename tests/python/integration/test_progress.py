"""ProgressBar plumbing (spec §3.3, §3.4, §6.9): progress_state, progress and preview frames in
ComfyUI's order, legacy type-1 previews for plain clients and type-4 previews with metadata for
clients that announced supports_preview_metadata in their first message."""
import io
import json
import struct
import uuid

import requests
import websocket
from PIL import Image


def collect(server, prompt, client_id, feature_flags=None):
    ws = websocket.create_connection(server.ws_url(client_id), timeout=15)
    try:
        assert json.loads(ws.recv())["type"] == "status"
        if feature_flags is not None:
            ws.send(json.dumps({"type": "feature_flags", "data": feature_flags}))
            assert json.loads(ws.recv())["type"] == "feature_flags"
        r = requests.post(server.url("/prompt"), json={"prompt": prompt, "client_id": client_id}, timeout=30)
        assert r.status_code == 200, r.text
        pid = r.json()["prompt_id"]
        seq = []
        while True:
            op, data = ws.recv_data()
            if op == websocket.ABNF.OPCODE_BINARY:
                seq.append(("binary", data))
                continue
            m = json.loads(data)
            seq.append((m["type"], m["data"]))
            if m["type"] == "executing" and m["data"]["node"] is None and m["data"]["prompt_id"] == pid:
                return pid, seq
    finally:
        ws.close()


def node_part(seq):
    """The messages between the node's `executing` and the end of the prompt."""
    start = next(i for i, (t, d) in enumerate(seq) if t == "executing" and d["node"] == "1")
    end = next(i for i, (t, _) in enumerate(seq) if t == "execution_success")
    return seq[start + 1:end]


def test_progress_messages_and_legacy_jpeg_preview(server):
    cid = uuid.uuid4().hex
    pid, seq = collect(server, {"1": {"class_type": "TestProgress", "inputs": {"steps": 3, "fmt": "JPEG"}}}, cid)
    part = node_part(seq)
    kinds = [t for t, _ in part]
    assert kinds == ["progress_state", "progress", "progress_state", "progress", "progress_state", "progress",
                     "binary", "progress_state"]
    progress = [d for t, d in part if t == "progress"]
    assert progress == [{"value": v, "max": 3, "prompt_id": pid, "node": "1"} for v in (1, 2, 3)]
    states = [d for t, d in part if t == "progress_state"]
    assert states[0]["nodes"]["1"] == {"value": 1, "max": 3, "state": "running", "node_id": "1", "prompt_id": pid,
                                       "display_node_id": "1", "parent_node_id": None, "real_node_id": "1"}
    assert states[-1]["nodes"]["1"]["state"] == "finished" and states[-1]["nodes"]["1"]["value"] == 3
    frame = [d for t, d in part if t == "binary"][0]
    event, fmt = struct.unpack(">II", frame[:8])
    assert (event, fmt) == (1, 1)
    img = Image.open(io.BytesIO(frame[8:]))
    assert img.format == "JPEG" and img.size == (8, 8)
    r, g, b = img.convert("RGB").getpixel((4, 4))
    assert r > 240 and g < 15 and b < 15


def test_preview_with_metadata_for_clients_that_support_it(server):
    cid = uuid.uuid4().hex
    pid, seq = collect(server, {"1": {"class_type": "TestProgress", "inputs": {"steps": 1, "fmt": "PNG"}}}, cid,
                       feature_flags={"supports_preview_metadata": True})
    part = node_part(seq)
    assert [t for t, _ in part] == ["progress_state", "binary", "progress", "progress_state"]
    frame = [d for t, d in part if t == "binary"][0]
    event, mlen = struct.unpack(">II", frame[:8])
    assert event == 4
    meta = json.loads(frame[8:8 + mlen])
    assert meta == {"node_id": "1", "prompt_id": pid, "display_node_id": "1", "parent_node_id": None,
                    "real_node_id": "1", "image_type": "image/png"}
    img = Image.open(io.BytesIO(frame[8 + mlen:]))
    assert img.format == "PNG" and img.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_bursts_reach_every_client_whole_and_in_order(server):
    """100 progress updates (each a progress_state and a progress frame) sent as fast as the node
    can, to three clients at once, one of them the prompt's own: every client gets every frame,
    intact and in order (the sender coalesces queued frames into one write)."""
    cid = "burst-" + uuid.uuid4().hex[:6]
    others = [websocket.create_connection(server.ws_url(f"{cid}-{i}"), timeout=15) for i in range(2)]
    try:
        for o in others:
            assert json.loads(o.recv())["type"] == "status"
        pid, seq = collect(server, {"1": {"class_type": "TestProgress", "inputs": {"steps": 100, "fmt": "PNG"}}}, cid)
        values = [d["value"] for t, d in seq if t == "progress"]
        assert values == list(range(1, 101))
        states = [d["nodes"]["1"]["value"] for t, d in seq if t == "progress_state" and "1" in d["nodes"]]
        assert states[:1] == [0] and states[-1] == 100 and states == sorted(states)
        # The other clients are not the prompt's: they get the broadcast `status` messages only.
        for o in others:
            o.settimeout(2)
            got = []
            try:
                while True:
                    got.append(json.loads(o.recv())["type"])
            except websocket.WebSocketTimeoutException:
                pass
            assert set(got) <= {"status"} and got, got
    finally:
        for o in others:
            o.close()


def test_broadcast_bursts_reach_every_client_in_order(server):
    """A prompt without a client id broadcasts its progress (ComfyUI sends `executing` only to a
    prompt's client): three clients each get all 100 progress frames, intact and in order, then the
    last step's preview."""
    cid = "bcast-" + uuid.uuid4().hex[:6]
    clients = [websocket.create_connection(server.ws_url(f"{cid}-{i}"), timeout=15) for i in range(3)]
    try:
        for c in clients:
            assert json.loads(c.recv())["type"] == "status"
        r = requests.post(server.url("/prompt"), timeout=30,
                          json={"prompt": {"1": {"class_type": "TestProgress", "inputs": {"steps": 100, "fmt": "JPEG"}}}})
        pid = r.json()["prompt_id"]
        for c in clients:
            values, binary = [], 0
            while not binary:
                op, data = c.recv_data()
                if op == websocket.ABNF.OPCODE_BINARY:
                    binary += 1
                    continue
                m = json.loads(data)
                if m["type"] == "progress":
                    assert m["data"]["prompt_id"] == pid
                    values.append(m["data"]["value"])
            assert values == list(range(1, 101))
    finally:
        for c in clients:
            c.close()
