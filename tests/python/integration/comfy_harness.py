"""Black-box harness for the drop-in ComfyUI server (helpers; fixtures live in conftest.py).

Starts the server as a child process (``python -m comfy ...``) on a free port
with a private base directory, waits until ``GET /prompt`` answers 200, and
offers small HTTP / WebSocket helpers.  Nothing here imports the server: the
tests only talk to it over the network, exactly as ComfyUI clients do, so the
same suite can be pointed at upstream ComfyUI 0.3.64 for comparison by
setting ``COMFY_SERVER_CMD`` (e.g. ``"python /path/to/ComfyUI/main.py --cpu"``).

Environment knobs (all optional):
  COMFY_SERVER_CMD         command prefix replacing ``<python> -m comfy``
                           (shell-split)
  COMFY_SERVER_CWD         working directory for the server (default: repo root)
  COMFY_SERVER_START_TIMEOUT  seconds to wait for readiness (default 60)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import requests
import websocket

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]  # tests/python/integration -> repo root
PACK_SRC = HERE / "testing_pack"

MAX_UPLOAD_SIZE = 104857600
SERVER_FEATURES = {"supports_preview_metadata": True, "max_upload_size": MAX_UPLOAD_SIZE}

CACHE_MODES = {
    "classic": [],
    "lru": ["--cache-lru", "10"],
    "none": ["--cache-none"],
}

# Default model-folder keys of ComfyUI 0.3.64 folder_paths, in insertion order.
DEFAULT_MODEL_FOLDERS = [
    "checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models",
    "clip_vision", "style_models", "embeddings", "diffusers", "vae_approx", "controlnet",
    "gligen", "upscale_models", "custom_nodes", "hypernetworks", "photomaker",
    "classifiers", "model_patches", "audio_encoders",
]

_unique = itertools.count(1)


def unique_int() -> int:
    """A process-wide increasing integer (used to make graphs structurally unique
    so that caches left by earlier tests can never serve them)."""
    return next(_unique)


def node(class_type: str, **inputs) -> dict:
    """One API-format prompt node."""
    return {"class_type": class_type, "inputs": inputs}


def shown(run, node_id: str = "9") -> dict:
    """The UI output of the last `executed` message of `node_id` in a run."""
    ex = [m for m in run.of("executed") if m.data["node"] == node_id]
    assert ex, run.messages
    return ex[-1].data["output"]


def unique_str(prefix: str = "t") -> str:
    return f"{prefix}{unique_int()}_{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# --------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------

class ServerStartError(RuntimeError):
    pass


@dataclass
class ComfyServer:
    base: Path
    port: int
    proc: subprocess.Popen
    log_path: Path
    extra_args: list
    cache_mode: str = "classic"
    session: requests.Session = field(default_factory=requests.Session)

    # -- paths ------------------------------------------------------------
    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def input_dir(self) -> Path:
        return self.base / "input"

    @property
    def temp_dir(self) -> Path:
        # ComfyUI appends "temp" to --temp-directory.
        return self.base / "temp"

    # -- HTTP -------------------------------------------------------------
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self, client_id: Optional[str] = None, path: str = "/ws") -> str:
        u = f"ws://127.0.0.1:{self.port}{path}"
        if client_id is not None:
            u += f"?clientId={client_id}"
        return u

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.session.get(self.url(path), **kw)

    def post(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.session.post(self.url(path), **kw)

    def get_json(self, path: str, **kw) -> Any:
        r = self.get(path, **kw)
        assert r.status_code == 200, f"GET {path} -> {r.status_code}: {r.text[:500]}"
        return r.json()

    # -- process ----------------------------------------------------------
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 80) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        self.session.close()
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        sys.stderr.write(
            f"\n[comfy test server :{self.port} {self.cache_mode}] exited with code {self.proc.returncode}"
            f" (log: {self.log_path})\n"
        )


def _server_command(base: Path, port: int, yaml_path: Path, extra_args) -> list:
    prefix = os.environ.get("COMFY_SERVER_CMD")
    cmd = shlex.split(prefix) if prefix else [sys.executable, "-m", "comfy"]
    return cmd + [
        "--listen", "127.0.0.1",
        "--port", str(port),
        "--base-directory", str(base),
        "--output-directory", str(base / "output"),
        "--input-directory", str(base / "input"),
        "--temp-directory", str(base),
        "--user-directory", str(base / "user"),
        "--extra-model-paths-config", str(yaml_path),
        *extra_args,
    ]


def _prepare_base(base: Path) -> Path:
    """Lay out the base directory; return the extra-model-paths YAML path.

    The pack is copied into ``<base>/packs/testing_pack`` (a folder holding only
    the pack) rather than pointing ``custom_nodes`` at the tests directory,
    because a custom-node folder's loose ``*.py`` files are themselves imported
    as custom nodes by ComfyUI (that would import conftest.py and the tests).
    """
    for sub in ("output", "input", "user"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    packs = base / "packs"
    packs.mkdir(exist_ok=True)
    shutil.copytree(PACK_SRC, packs / "testing_pack",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    for extra in ("semantics_pack", "v3_pack", "broken_pack"):
        shutil.copytree(HERE / extra, packs / extra,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    cfg_dir = base / "config"
    cfg_dir.mkdir(exist_ok=True)
    yaml_path = cfg_dir / "extra_model_paths.yaml"
    yaml_path.write_text(
        "testing:\n"
        f"    base_path: {cfg_dir}\n"
        f"    custom_nodes: {packs}\n"
    )
    return yaml_path


def start_server(base: Path, extra_args=(), cache_mode: str = "classic") -> ComfyServer:
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    yaml_path = _prepare_base(base)
    port = free_port()
    log_path = base / "server.log"
    cmd = _server_command(base, port, yaml_path, list(extra_args))
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    cwd = os.environ.get("COMFY_SERVER_CWD", str(REPO_ROOT))
    log = open(log_path, "wb")
    try:
        log.write(("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()
    srv = ComfyServer(base=base, port=port, proc=proc, log_path=log_path,
                      extra_args=list(extra_args), cache_mode=cache_mode)
    timeout = float(os.environ.get("COMFY_SERVER_START_TIMEOUT", "60"))
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise ServerStartError(
                f"server exited with code {proc.returncode} before becoming ready\n{srv.log_tail()}")
        try:
            r = requests.get(srv.url("/prompt"), timeout=1)
            if r.status_code == 200:
                return srv
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            srv.stop()
            raise ServerStartError(f"server not ready after {timeout:.0f} s\n{srv.log_tail()}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_server(base: Path, extra_args=(), cache_mode: str = "classic"):
    srv = start_server(base, extra_args, cache_mode)
    try:
        yield srv
    finally:
        srv.stop()


# --------------------------------------------------------------------------
# WebSocket helpers
# --------------------------------------------------------------------------

@dataclass
class Msg:
    type: str
    data: Any
    raw: str

    @property
    def node(self):
        return self.data.get("node") if isinstance(self.data, dict) else None

    @property
    def prompt_id(self):
        return self.data.get("prompt_id") if isinstance(self.data, dict) else None

    def __repr__(self):  # compact in assertion output
        return f"Msg({self.type!r}, {self.raw[:300]})"


class WsClient:
    def __init__(self, srv: ComfyServer, client_id: Optional[str] = None, path: str = "/ws",
                 read_status: bool = True):
        self.srv = srv
        self.requested_id = client_id
        self.ws = websocket.create_connection(srv.ws_url(client_id, path), timeout=15)
        self.messages: list = []      # every JSON message received
        self.binary: list = []        # every binary frame received
        self.client_id = client_id
        self.initial: Optional[Msg] = None
        if read_status:
            m = self.recv(timeout=10)
            assert m is not None, "no initial status message on connect"
            self.initial = m
            if client_id is None and m.type == "status":
                self.client_id = m.data.get("sid")

    def send_json(self, obj) -> None:
        self.ws.send(json.dumps(obj))

    def recv(self, timeout: float = 10.0) -> Optional[Msg]:
        """Next JSON message (binary frames are stored and skipped); None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.ws.settimeout(remaining)
            try:
                opcode, payload = self.ws.recv_data()
            except websocket.WebSocketTimeoutException:
                return None
            if opcode == websocket.ABNF.OPCODE_TEXT:
                raw = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
                obj = json.loads(raw)
                m = Msg(obj.get("type"), obj.get("data"), raw)
                self.messages.append(m)
                return m
            if opcode == websocket.ABNF.OPCODE_BINARY:
                self.binary.append(bytes(payload))
                continue
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise AssertionError("server closed the websocket")

    def recv_until(self, pred: Callable[[Msg], bool], timeout: float = 60.0) -> list:
        """Collect messages up to and including the first one matching ``pred``."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            m = self.recv(timeout=max(0.0, remaining))
            if m is None:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for a message; got {[(x.type, x.node) for x in out]}"
                    f"\n--- server log ---\n{self.srv.log_tail(40)}")
            out.append(m)
            if pred(m):
                return out

    def drain(self, quiet: float = 0.3) -> list:
        """Read until nothing arrives for ``quiet`` seconds."""
        out = []
        while True:
            m = self.recv(timeout=quiet)
            if m is None:
                return out
            out.append(m)

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def is_done(prompt_id: str) -> Callable[[Msg], bool]:
    return lambda m: (m.type == "executing" and isinstance(m.data, dict)
                      and m.data.get("node") is None and m.data.get("prompt_id") == prompt_id)


@dataclass
class Run:
    prompt_id: str
    number: Any
    response: dict
    messages: list
    elapsed: float

    def of(self, *types) -> list:
        return [m for m in self.messages if m.type in types]

    def one(self, type_: str) -> Msg:
        ms = self.of(type_)
        assert len(ms) == 1, f"expected exactly one {type_!r}, got {ms}"
        return ms[0]

    def executing_nodes(self) -> list:
        return [m.data["node"] for m in self.of("executing") if m.data.get("node") is not None]

    def executed_nodes(self) -> list:
        return [m.data["node"] for m in self.of("executed")]

    def sequence(self) -> list:
        """(type, node) pairs; node only for executing / executed."""
        return [(m.type, m.node if m.type in ("executing", "executed") else None) for m in self.messages]


def post_prompt(srv: ComfyServer, prompt: dict, client_id: Optional[str] = None, **body) -> requests.Response:
    payload = {"prompt": prompt}
    if client_id is not None:
        payload["client_id"] = client_id
    payload.update(body)
    return srv.post("/prompt", json=payload)


def queue_and_collect(srv: ComfyServer, prompt: dict, client_id: Optional[str] = None,
                      ws: Optional[WsClient] = None, timeout: float = 60.0, **body) -> Run:
    """POST the prompt with a client id and return every WS message up to the
    ``executing`` {node: null, prompt_id} that ends it."""
    own = ws is None
    if own:
        ws = WsClient(srv, client_id or uuid.uuid4().hex)
    try:
        t0 = time.monotonic()
        r = post_prompt(srv, prompt, ws.client_id, **body)
        assert r.status_code == 200, f"POST /prompt -> {r.status_code}: {r.text}"
        resp = r.json()
        pid = resp["prompt_id"]
        msgs = ws.recv_until(is_done(pid), timeout=timeout)
        return Run(pid, resp.get("number"), resp, msgs, time.monotonic() - t0)
    finally:
        if own:
            ws.close()


def wait_history(srv: ComfyServer, prompt_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        h = srv.get_json(f"/history/{prompt_id}")
        if prompt_id in h:
            return h[prompt_id]
        if time.monotonic() > deadline:
            raise AssertionError(f"prompt {prompt_id} not in history after {timeout} s\n{srv.log_tail(40)}")
        time.sleep(0.05)


def wait_idle(srv: ComfyServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if srv.get_json("/prompt")["exec_info"]["queue_remaining"] == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"queue not empty after {timeout} s\n{srv.log_tail(40)}")
        time.sleep(0.05)


def assert_python_json(raw: str) -> None:
    """The text must be exactly what Python's json.dumps produces (", " / ": "
    separators, ASCII escapes, key order as sent)."""
    assert raw == json.dumps(json.loads(raw)), f"not Python json.dumps formatting: {raw[:300]}"


# --------------------------------------------------------------------------
# Graph builders
# --------------------------------------------------------------------------

def image_graph(width: int, height: int, color: int, prefix: str = "ComfyUI",
                batch_size: int = 1) -> dict:
    """EmptyImage -> ImageInvert -> SaveImage with ids "1", "2", "3"."""
    return {
        "1": {"class_type": "EmptyImage",
              "inputs": {"width": width, "height": height, "batch_size": batch_size, "color": color}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix},
              "_meta": {"title": "Save Image"}},
    }


def slow_graph(seconds: float, width: Optional[int] = None) -> dict:
    """EmptyImage -> TestSlow -> PreviewImage with ids "1", "2", "3"."""
    w = width if width is not None else 8 + unique_int()
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": w, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "TestSlow", "inputs": {"image": ["1", 0], "seconds": seconds}},
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    }


def string_graph(value: Optional[str] = None) -> dict:
    return {"1": {"class_type": "TestStringOut", "inputs": {"value": value if value is not None else unique_str("s")}}}


# ---------------------------------------------------------------------------
# Raw HTTP: the request target sent byte for byte (no client-side normalisation of dot segments or
# escapes, which hostile-path tests need), one request per connection, read until the server closes.
# ---------------------------------------------------------------------------

class RawResponse:
    """The parts of a requests.Response the tests read."""

    def __init__(self, status_code, reason, headers, content):
        self.status_code, self.reason, self.headers, self.content = status_code, reason, headers, content

    @property
    def text(self):
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content)


def _dechunk(body):
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


def raw_http(port, method, target, body=b"", headers=None) -> RawResponse:
    from requests.structures import CaseInsensitiveDict
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode("utf-8") + body)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    top, _, rest = out.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    _, status, *reason = lines[0].split(" ", 2)
    hdrs = CaseInsensitiveDict()
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip()] = v.strip()
    if hdrs.get("Transfer-Encoding", "").lower() == "chunked":
        rest = _dechunk(rest)
    return RawResponse(int(status), reason[0] if reason else "", hdrs, rest)
