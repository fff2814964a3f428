"""HTTP routes: shapes, /api mirror, HTTP/1.1 details, body limit, origin check.

Spec: comfyui-api.md §1.2, §1.3, §2.1-§2.4; decisions.md.
The module gets its own fresh classic server; the first tests rely on it being
untouched (empty queue and history), so keep them first.
"""

import json
import os
import socket
import time

import pytest
import requests

from comfy_harness import (DEFAULT_MODEL_FOLDERS, SERVER_FEATURES, assert_python_json, queue_and_collect,
                      string_graph, wait_history, wait_idle)

SAVE_IMAGE_INFO = {
    "input": {
        "required": {
            "images": ["IMAGE", {"tooltip": "The images to save."}],
            "filename_prefix": ["STRING", {
                "default": "ComfyUI",
                "tooltip": "The prefix for the file to save. This may include formatting information such as "
                           "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.",
            }],
        },
        "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
    },
    "input_order": {"required": ["images", "filename_prefix"], "hidden": ["prompt", "extra_pnginfo"]},
    "output": [],
    "output_is_list": [],
    "output_name": [],
    "name": "SaveImage",
    "display_name": "Save Image",
    "description": "Saves the input images to your ComfyUI output directory.",
    "python_module": "nodes",
    "category": "image",
    "output_node": True,
}

NODE_INFO_KEY_ORDER = ["input", "input_order", "output", "output_is_list", "output_name", "name",
                       "display_name", "description", "python_module", "category", "output_node"]


def _json_ok(r):
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type") == "application/json; charset=utf-8", r.headers.get("Content-Type")
    assert_python_json(r.text)
    return r.json()


# ----------------------------------------------------------------------------
# Fresh-server state (must run before anything is queued in this module)
# ----------------------------------------------------------------------------

def test_fresh_prompt_queue_history(server):
    r = server.get("/prompt")
    assert _json_ok(r) == {"exec_info": {"queue_remaining": 0}}
    assert r.text == '{"exec_info": {"queue_remaining": 0}}'

    r = server.get("/queue")
    assert _json_ok(r) == {"queue_running": [], "queue_pending": []}
    assert list(r.json().keys()) == ["queue_running", "queue_pending"]

    r = server.get("/history")
    assert _json_ok(r) == {}
    assert r.text == "{}"


def test_history_unknown_id_is_empty_200(server):
    r = server.get("/history/does-not-exist")
    assert _json_ok(r) == {}


# ----------------------------------------------------------------------------
# Node definitions
# ----------------------------------------------------------------------------

def test_object_info_save_image_exact(server):
    r = server.get("/object_info/SaveImage")
    body = _json_ok(r)
    assert list(body.keys()) == ["SaveImage"]
    info = body["SaveImage"]
    assert info == SAVE_IMAGE_INFO
    assert list(info.keys()) == NODE_INFO_KEY_ORDER
    assert list(info["input"].keys()) == ["required", "hidden"]
    assert list(info["input"]["required"].keys()) == ["images", "filename_prefix"]


def test_object_info_unknown_is_empty(server):
    assert _json_ok(server.get("/object_info/Nope")) == {}


def test_object_info_builtin_image_nodes(server):
    empty = _json_ok(server.get("/object_info/EmptyImage"))["EmptyImage"]
    assert empty["input"] == {"required": {
        "width": ["INT", {"default": 512, "min": 1, "max": 16384, "step": 1}],
        "height": ["INT", {"default": 512, "min": 1, "max": 16384, "step": 1}],
        "batch_size": ["INT", {"default": 1, "min": 1, "max": 4096}],
        "color": ["INT", {"default": 0, "min": 0, "max": 16777215, "step": 1, "display": "color"}],
    }}
    assert empty["input_order"] == {"required": ["width", "height", "batch_size", "color"]}
    assert empty["output"] == ["IMAGE"] and empty["output_name"] == ["IMAGE"]
    assert empty["output_is_list"] == [False]
    assert empty["python_module"] == "nodes" and empty["category"] == "image"
    assert empty["output_node"] is False

    inv = _json_ok(server.get("/object_info/ImageInvert"))["ImageInvert"]
    assert inv["input"] == {"required": {"image": ["IMAGE"]}}
    assert inv["output"] == ["IMAGE"] and inv["output_node"] is False
    assert inv["display_name"] == "Invert Image"

    prev = _json_ok(server.get("/object_info/PreviewImage"))["PreviewImage"]
    assert prev["input"] == {"required": {"images": ["IMAGE"]},
                             "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}
    assert prev["output_node"] is True and prev["output"] == []
    assert prev["display_name"] == "Preview Image"


def test_object_info_pack_nodes(server):
    combo = _json_ok(server.get("/object_info/TestCombo"))["TestCombo"]
    assert combo == {
        "input": {"required": {"choice": [["a", "b", "c"]]}},
        "input_order": {"required": ["choice"]},
        "output": ["STRING"],
        "output_is_list": [False],
        "output_name": ["STRING"],
        "name": "TestCombo",
        "display_name": "Test Combo",
        "description": "",
        "python_module": "custom_nodes.testing_pack",
        "category": "_for_testing",
        "output_node": True,
    }
    assert list(combo.keys()) == NODE_INFO_KEY_ORDER

    b = _json_ok(server.get("/object_info/TestBool"))["TestBool"]
    assert b == {
        "input": {"required": {"flag": ["BOOLEAN", {"default": False}]}, "hidden": {"unique_id": "UNIQUE_ID"}},
        "input_order": {"required": ["flag"], "hidden": ["unique_id"]},
        "output": ["BOOLEAN"],
        "output_is_list": [False],
        "output_name": ["BOOLEAN"],
        "name": "TestBool",
        "display_name": "TestBool",
        "description": "",
        "python_module": "custom_nodes.testing_pack",
        "category": "_for_testing",
        "output_node": True,
        "output_tooltips": ["the flag"],
        "experimental": True,
    }
    assert list(b.keys()) == NODE_INFO_KEY_ORDER + ["output_tooltips", "experimental"]

    c = _json_ok(server.get("/object_info/TestIntConst"))["TestIntConst"]
    assert c["output"] == ["INT"] and c["output_name"] == ["number"]
    assert c["input"] == {"required": {"value": ["INT", {"default": 0, "min": 0, "max": 100}]}}
    assert c["output_node"] is False

    s = _json_ok(server.get("/object_info/TestStringOut"))["TestStringOut"]
    assert s["description"] == "Echoes a string."
    assert s["display_name"] == "Test String Out"


def test_object_info_all(server):
    allinfo = _json_ok(server.get("/object_info"))
    for name in ("LoadImage", "SaveImage", "PreviewImage", "EmptyImage", "ImageInvert",
                 "TestRaise", "TestSlow", "TestIntConst", "TestStringOut", "TestCombo", "TestBool"):
        assert name in allinfo, name
    assert allinfo["SaveImage"] == SAVE_IMAGE_INFO
    single = _json_ok(server.get("/object_info/TestCombo"))
    assert allinfo["TestCombo"] == single["TestCombo"]
    # Pack nodes keep their NODE_CLASS_MAPPINGS order and come after the built-in nodes they follow.
    keys = list(allinfo)
    pack = [k for k in keys if allinfo[k]["python_module"] == "custom_nodes.testing_pack"]
    assert pack == ["TestRaise", "TestSlow", "TestIntConst", "TestIntOut", "TestStringOut", "TestValidated",
                    "TestCounter", "TestNaNCounter", "TestCombo", "TestBool", "TestProgress", "TestStateCombo",
                    "TestStateHidden"]
    assert keys.index("SaveImage") < keys.index("TestRaise")


# ----------------------------------------------------------------------------
# Discovery routes
# ----------------------------------------------------------------------------

def test_features_exact(server):
    r = server.get("/features")
    assert _json_ok(r) == SERVER_FEATURES
    assert r.text == '{"supports_preview_metadata": true, "max_upload_size": 104857600}'
    assert isinstance(r.json()["max_upload_size"], int)


def test_models(server):
    models = _json_ok(server.get("/models"))
    assert models[0] == "checkpoints"
    assert models[:len(DEFAULT_MODEL_FOLDERS)] == DEFAULT_MODEL_FOLDERS
    assert "custom_nodes" in models and "configs" in models
    assert len(models) == len(set(models))

    assert _json_ok(server.get("/models/checkpoints")) == []
    r = server.get("/models/nope")
    assert r.status_code == 404
    # Legacy aliases are not folder keys here.
    assert server.get("/models/unet").status_code == 404
    assert server.get("/models/clip").status_code == 404


def test_embeddings_empty(server):
    assert _json_ok(server.get("/embeddings")) == []


def test_system_stats_shape(server):
    st = _json_ok(server.get("/system_stats"))
    assert list(st.keys()) == ["system", "devices"]
    system = st["system"]
    assert set(system.keys()) == {
        "os", "ram_total", "ram_free", "comfyui_version", "required_frontend_version",
        "installed_templates_version", "required_templates_version", "python_version",
        "pytorch_version", "embedded_python", "argv"}
    assert system["os"] == os.name
    assert isinstance(system["ram_total"], int) and system["ram_total"] > 0
    assert isinstance(system["ram_free"], int) and 0 <= system["ram_free"] <= system["ram_total"]
    assert isinstance(system["comfyui_version"], str) and system["comfyui_version"]
    assert isinstance(system["python_version"], str)
    assert isinstance(system["pytorch_version"], str)
    assert isinstance(system["embedded_python"], bool)
    assert isinstance(system["argv"], list) and all(isinstance(a, str) for a in system["argv"])
    assert "--port" in system["argv"] and str(server.port) in system["argv"]

    devices = st["devices"]
    assert isinstance(devices, list) and len(devices) == 1
    dev = devices[0]
    assert set(dev.keys()) == {"name", "type", "index", "vram_total", "vram_free",
                               "torch_vram_total", "torch_vram_free"}
    assert isinstance(dev["name"], str) and isinstance(dev["type"], str)
    assert dev["index"] is None or isinstance(dev["index"], int)
    for k in ("vram_total", "vram_free", "torch_vram_total", "torch_vram_free"):
        assert isinstance(dev[k], int), k


# ----------------------------------------------------------------------------
# POST routes with empty / odd bodies
# ----------------------------------------------------------------------------

def test_interrupt_empty_and_odd_bodies(server):
    r = server.post("/interrupt")
    assert r.status_code == 200 and r.content == b""
    r = server.post("/interrupt", data=b"not json", headers={"Content-Type": "text/plain"})
    assert r.status_code == 200 and r.content == b""
    r = server.post("/interrupt", json={"prompt_id": "not-running"})
    assert r.status_code == 200 and r.content == b""


def test_free(server):
    r = server.post("/free", json={})
    assert r.status_code == 200 and r.content == b""
    r = server.post("/free", json={"unload_models": True, "free_memory": True})
    assert r.status_code == 200 and r.content == b""
    # The worker must still serve prompts afterwards.
    time.sleep(0.3)
    run = queue_and_collect(server, string_graph())
    assert run.one("execution_success")


def test_queue_post_empty_ops(server):
    r = server.post("/queue", json={})
    assert r.status_code == 200 and r.content == b""
    r = server.post("/queue", json={"delete": ["nope"]})
    assert r.status_code == 200 and r.content == b""
    r = server.post("/history", json={"delete": ["nope"]})
    assert r.status_code == 200 and r.content == b""


# ----------------------------------------------------------------------------
# /api mirror
# ----------------------------------------------------------------------------

MIRRORED_GETS = [
    "/prompt", "/queue", "/history", "/history/unknown-id", "/history?max_items=1",
    "/object_info/SaveImage", "/object_info/TestCombo", "/object_info/Nope", "/object_info",
    "/features", "/models", "/models/checkpoints", "/embeddings",
]


@pytest.mark.parametrize("path", MIRRORED_GETS)
def test_api_mirror_get(server, path):
    plain = server.get(path)
    api = server.get("/api" + path)
    assert plain.status_code == 200 and api.status_code == 200, (plain.status_code, api.status_code)
    assert api.json() == plain.json()
    assert api.headers.get("Content-Type") == plain.headers.get("Content-Type")


def test_api_mirror_misc(server):
    assert server.get("/api/models/nope").status_code == 404
    st = server.get("/api/system_stats")
    assert st.status_code == 200
    assert set(st.json().keys()) == {"system", "devices"}

    r1 = server.post("/prompt", json={"client_id": "x"})
    r2 = server.post("/api/prompt", json={"client_id": "x"})
    assert r1.status_code == r2.status_code == 400
    assert r1.json() == r2.json()

    assert server.post("/api/interrupt").status_code == 200
    assert server.post("/api/free", json={}).status_code == 200
    assert server.post("/api/queue", json={}).status_code == 200
    assert server.post("/api/history", json={}).status_code == 200

    # A prompt posted through /api runs like any other.
    r = server.post("/api/prompt", json={"prompt": string_graph("via-api")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body.keys()) == ["prompt_id", "number", "node_errors"]
    entry = wait_history(server, body["prompt_id"])
    assert entry["status"]["status_str"] == "success"
    assert entry["outputs"] == {"1": {"text": ["via-api"]}}
    wait_idle(server)


# ----------------------------------------------------------------------------
# HTTP/1.1 details
# ----------------------------------------------------------------------------

def _read_response(f):
    status_line = f.readline()
    assert status_line, "connection closed without a response"
    parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    version, status = parts[0], int(parts[1])
    headers = []
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers.append((k.strip().lower(), v.strip()))
    hd = dict(headers)
    body = b""
    if "content-length" in hd:
        body = f.read(int(hd["content-length"]))
    elif hd.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().strip().split(b";")[0], 16)
            if size == 0:
                f.readline()
                break
            body += f.read(size)
            f.readline()
    return version, status, headers, body


def test_keep_alive_two_requests_one_socket(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        f = s.makefile("rb")
        req = f"GET /prompt HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        for _ in range(2):
            s.sendall(req)
            version, status, headers, body = _read_response(f)
            assert version == "HTTP/1.1"
            assert status == 200
            assert json.loads(body) == {"exec_info": {"queue_remaining": 0}}
            assert ("connection", "close") not in [(k, v.lower()) for k, v in headers]
        # A third request with an explicit /api prefix on the same connection.
        s.sendall(f"GET /api/features HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        _, status, _, body = _read_response(f)
        assert status == 200 and json.loads(body) == SERVER_FEATURES
    finally:
        s.close()


def test_query_percent_decoding(server):
    for _ in range(2):
        queue_and_collect(server, string_graph())
    full = server.get_json("/history")
    assert len(full) >= 2
    newest = list(full)[-1]
    plain = server.get_json("/history?max_items=1")
    assert list(plain) == [newest]
    assert server.get_json("/history?max%5Fitems=1") == plain
    assert server.get_json("/history?max%5fitems=%31") == plain
    assert server.get_json("/api/history?%6Dax_items=1") == plain


def test_malformed_json_prompt_is_400_envelope(server):
    r = server.post("/prompt", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body.keys()) == {"error", "node_errors"}
    err = body["error"]
    assert set(err.keys()) == {"type", "message", "details", "extra_info"}
    assert isinstance(err["type"], str) and err["type"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], str)
    assert isinstance(err["extra_info"], dict)
    assert body["node_errors"] == {}
    # Nothing was queued and the server still answers.
    assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 0}}


def test_body_over_limit_is_413_without_sending_body(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall((
            "POST /prompt HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {104857600 + 1}\r\n"
            "\r\n").encode())
        s.sendall(b'{"prompt": ')  # a few bytes, far from the announced length
        f = s.makefile("rb")
        status_line = f.readline()
        assert status_line, "connection closed without a response"
        assert int(status_line.split(b" ")[1]) == 413, status_line
    finally:
        s.close()
    assert server.get("/prompt").status_code == 200


# ----------------------------------------------------------------------------
# Origin (anti-CSRF) middleware
# ----------------------------------------------------------------------------

def test_origin_mismatch_on_loopback_is_403_empty(server):
    r = server.get("/prompt", headers={"Origin": "http://evil.com"})
    assert r.status_code == 403
    assert r.content == b""

    pending_before = server.get_json("/queue")["queue_pending"]
    r = server.post("/prompt", json={"prompt": string_graph()}, headers={"Origin": "http://evil.com"})
    assert r.status_code == 403 and r.content == b""
    assert server.get_json("/queue")["queue_pending"] == pending_before

    # localhost vs 127.0.0.1 is a mismatch too (both loopback, strings differ).
    r = server.get("/prompt", headers={"Origin": f"http://localhost:{server.port}"})
    assert r.status_code == 403 and r.content == b""

    r = server.get("/api/features", headers={"Origin": "https://evil.com:443"})
    assert r.status_code == 403 and r.content == b""


def test_same_origin_is_allowed(server):
    r = server.get("/prompt", headers={"Origin": f"http://127.0.0.1:{server.port}"})
    assert r.status_code == 200
    assert r.json() == {"exec_info": {"queue_remaining": 0}}
    # Origin without a port: the Host port is dropped before comparing.
    r = server.get("/prompt", headers={"Origin": "http://127.0.0.1"})
    assert r.status_code == 200
    # Host "localhost:<port>" with the matching Origin.
    r = server.get("/prompt", headers={"Host": f"localhost:{server.port}",
                                        "Origin": f"http://localhost:{server.port}"})
    assert r.status_code == 200
    # No Origin header at all: never checked.
    assert server.get("/prompt").status_code == 200


def test_same_origin_options_is_empty_200(server):
    r = requests.options(server.url("/prompt"), headers={"Origin": f"http://127.0.0.1:{server.port}"},
                         timeout=10)
    assert r.status_code == 200
    assert r.content == b""
    r = requests.options(server.url("/prompt"), headers={"Origin": "http://evil.com"}, timeout=10)
    assert r.status_code == 403 and r.content == b""


def test_experiment_models_lists_folders_and_files(server):
    folders = server.get_json("/api/experiment/models")
    names = [f["name"] for f in folders]
    assert names[0] == "checkpoints" and "configs" not in names and "custom_nodes" not in names
    ckpt = next(f for f in folders if f["name"] == "checkpoints")["folders"][0]
    import os
    os.makedirs(os.path.join(ckpt, "sub"), exist_ok=True)
    with open(os.path.join(ckpt, "sub", "m.safetensors"), "wb") as f:
        f.write(b"12345")
    with open(os.path.join(ckpt, "notes.txt"), "w") as f:
        f.write("x")
    files = server.get_json("/experiment/models/checkpoints")
    entry = next(e for e in files if e["name"] == "sub/m.safetensors")
    assert entry["pathIndex"] == 0 and entry["size"] == 5 and set(entry) == {"name", "pathIndex", "modified", "created", "size"}
    assert all(e["name"] != "notes.txt" for e in files)
    assert server.get("/experiment/models/nope").status_code == 404
