"""End to end through the official web UI (comfyui-frontend-package 1.27.10) in headless Chromium.

One test drives the real frontend against a real server (the ``server`` fixture: a fresh base
directory, so a fresh user, with testing_pack loaded):

1. the UI boots: the graph canvas and ``window.app`` appear; no page errors but one known frontend
   bug, and no failed same-origin requests but the 404s ComfyUI answers a fresh user too;
2. the node library knows the built-in nodes and testing_pack's nodes;
3. a PNG uploaded with POST /upload/image runs LoadImage -> ImageInvert -> SaveImage, queued with
   the Run button: history says success, the saved PNG is the exact inverse of the upload, and the
   UI shows the output (the SaveImage node's preview and the queue sidebar's <img src=/view?...>);
4. the queue sidebar lists the finished job (screenshot);
5. a 20 s TestSlow prompt is cancelled with the UI's "Cancel current run" button and ends with
   ``execution_interrupted`` within seconds.

Screenshots go to the test's tmp_path (their paths are printed; run pytest with -s to see them).
Skipped only when /usr/bin/chromium or the playwright package is missing.
"""

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_harness import wait_history

CHROMIUM = Path("/usr/bin/chromium")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="the playwright Python package is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} (Debian's chromium) is not installed"),
]

# Same-origin 404s that ComfyUI 0.3.64 answers a fresh user too (no user.css, no workflows/ or
# subgraphs/ folder under the user directory yet, no saved template customisation).
ALLOWED_404_PREFIXES = (
    "/user.css",
    "/api/userdata/user.css",
    "/api/userdata?dir=workflows",
    "/api/userdata?dir=subgraphs",
    "/api/userdata/comfy.templates.json",
)

# Frontend bug in 1.27.10, independent of the server (it happens against ComfyUI too, on every
# load): while GraphView registers CORE_SETTINGS one by one, addSetting() calls the setting's
# onChange; "Comfy.Canvas.NavigationMode"'s onChange calls settingStore.set() for
# "Comfy.Canvas.LeftMouseClickBehavior", which is not registered yet, so the store's onChange()
# reads `setting.id` of undefined. The rejection is unhandled and surfaces as this page error.
KNOWN_FRONTEND_ERROR = "Cannot read properties of undefined (reading 'id')"

SLOW_SECONDS = 20.0


def _input_png() -> tuple:
    """A 16x8 RGB PNG: a red gradient across, a green gradient down, solid blue.

    Channel values are kept in {0..64, 255}: through ComfyUI's float32 pipeline
    (v / 255 -> 1 - x -> 255 * y, truncated to uint8) exactly those invert to 255 - v; e.g.
    v = 65 saves as 189, not 190, in ComfyUI as here."""
    arr = np.zeros((8, 16, 3), dtype=np.uint8)
    arr[:, :, 0] = (np.arange(16) * 4)[None, :]       # 0..60
    arr[:, :, 1] = (np.arange(8) * 8)[:, None]        # 0..56
    arr[:, :, 2] = 255
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, "PNG")
    return arr, buf.getvalue()


class PageWatch:
    """Page errors and failed same-origin requests, collected from the page's events."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.page_errors = []      # (message, stack)
        self.bad_responses = []    # (status, method, path)
        self.net_failures = []     # (failure, method, path) for requests that got no response
        self.aborted = []          # ERR_ABORTED after a response (body never read by the page)
        self._answered = set()     # Request objects that got a response
        page.on("pageerror", lambda e: self.page_errors.append((e.message, e.stack or "")))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)

    def _path(self, url: str):
        return url[len(self.origin):] if url.startswith(self.origin + "/") else None

    def _on_response(self, resp):
        self._answered.add(resp.request)
        path = self._path(resp.url)
        if path is not None and resp.status >= 400:
            self.bad_responses.append((resp.status, resp.request.method, path))

    def _on_failed(self, req):
        # Requests to other hosts (api.comfy.org release notes, ...) fail without a network, as
        # they would with ComfyUI: ignored.
        path = self._path(req.url)
        if path is None:
            return
        failure = req.failure or ""
        if req in self._answered:
            # Chromium reports a response whose body the page never reads (the frontend does not
            # read POST /api/settings/{id}'s empty 200) as net::ERR_ABORTED; the response event
            # already judged its status.
            self.aborted.append((failure, req.method, path))
        else:
            self.net_failures.append((failure, req.method, path))

    def unexpected_errors(self) -> list:
        known = [m for m, _ in self.page_errors if m == KNOWN_FRONTEND_ERROR]
        other = [(m, s) for m, s in self.page_errors if m != KNOWN_FRONTEND_ERROR]
        # At most one occurrence of the known bug (it fires once per page load).
        return other + (known[1:] if len(known) > 1 else [])

    def unexpected_requests(self) -> list:
        bad = [r for r in self.bad_responses
               if not (r[0] == 404 and r[2].startswith(ALLOWED_404_PREFIXES))]
        return bad + self.net_failures

    def summary(self) -> str:
        return (f"page errors: {self.page_errors}\nbad responses: {self.bad_responses}\n"
                f"network failures: {self.net_failures}")


def _run_button_prompt_id(page, watch) -> str:
    """Click the top menu's Run button; return the prompt id of the POST /api/prompt it sends."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/prompt"),
                              timeout=15000) as info:
        page.click('button[aria-label="Run"]')
    resp = info.value
    body = resp.json()
    assert resp.status == 200, f"POST /api/prompt -> {resp.status}: {body}\n{watch.summary()}"
    return body["prompt_id"]


def test_browser_end_to_end(server, tmp_path):
    t_start = time.monotonic()
    timings = {}
    shots = []
    origin = server.url("")

    def shot(page, name):
        p = tmp_path / f"{len(shots) + 1:02d}_{name}.png"
        page.screenshot(path=str(p))
        shots.append(p)
        print(f"screenshot: {p}")

    # -- 3 (preparation): upload the input over HTTP, as a client would ------------------------
    arr, png = _input_png()
    r = server.post("/upload/image", files={"image": ("browser_in.png", png, "image/png")})
    assert r.status_code == 200, r.text
    uploaded = r.json()
    assert uploaded == {"name": "browser_in.png", "subfolder": "", "type": "input"}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30000)
            watch = PageWatch(page, origin)
            websockets = []
            page.on("websocket", lambda ws: websockets.append(ws.url))

            # -- 1. the UI boots ---------------------------------------------------------------
            page.goto(server.url("/"))
            page.wait_for_function(
                "() => window.app && window.app.graph && window.app.canvas && window.LiteGraph"
                " && window.comfyAPI && document.querySelector('#graph-canvas')",
                timeout=60000)
            page.wait_for_selector('button[aria-label="Run"]', state="visible")
            timings["ui ready"] = time.monotonic() - t_start
            # The server is fresh, so this is a new user (no Comfy.TutorialCompleted setting): the
            # frontend opens a blank workflow and the templates browser dialog. Close the dialog.
            page.wait_for_selector(".p-dialog-mask", state="visible", timeout=15000)
            page.click(".p-dialog-mask .p-dialog-close-button")
            page.wait_for_selector(".p-dialog-mask", state="detached", timeout=10000)
            assert any(u.startswith(server.ws_url(path="/ws")) for u in websockets), websockets
            shot(page, "loaded")

            # -- 2. the node library knows our nodes -------------------------------------------
            wanted = ["LoadImage", "SaveImage", "ImageInvert", "EmptyImage", "TestIntConst", "TestSlow"]
            registered = page.evaluate(
                "(names) => names.filter(n => n in window.LiteGraph.registered_node_types)", wanted)
            assert registered == wanted, f"registered node types lack {set(wanted) - set(registered)}"
            cat = page.evaluate(
                "() => window.LiteGraph.registered_node_types['TestIntConst'].nodeData?.category")
            assert cat == server.get_json("/object_info/TestIntConst")["TestIntConst"]["category"]

            # -- 3. LoadImage -> ImageInvert -> SaveImage, queued with the Run button ---------
            prefix = "browser_ui"
            workflow = {
                "1": {"class_type": "LoadImage", "inputs": {"image": uploaded["name"]}},
                "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
                "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
            }
            page.evaluate("(w) => window.app.loadApiJson(w, 'browser_invert.json')", workflow)
            page.wait_for_function(
                "() => ['LoadImage', 'ImageInvert', 'SaveImage'].every("
                "t => window.app.graph.nodes.some(n => n.type === t))")
            widgets = page.evaluate(
                "() => Object.fromEntries(window.app.graph.nodes.map("
                "n => [n.type, Object.fromEntries((n.widgets || []).map(w => [w.name, w.value]))]))")
            assert widgets["LoadImage"]["image"] == "browser_in.png", widgets
            assert widgets["SaveImage"]["filename_prefix"] == prefix, widgets

            t_run = time.monotonic()
            pid = _run_button_prompt_id(page, watch)
            entry = wait_history(server, pid, timeout=30)
            timings["invert run"] = time.monotonic() - t_run
            assert entry["status"]["status_str"] == "success", entry["status"]
            assert entry["status"]["completed"] is True
            sent = {k: v["class_type"] for k, v in entry["prompt"][2].items()}
            assert sorted(sent.values()) == ["ImageInvert", "LoadImage", "SaveImage"], sent
            save_id = next(k for k, v in sent.items() if v == "SaveImage")
            images = entry["outputs"][save_id]["images"]
            assert len(images) == 1 and images[0]["type"] == "output", images
            out_name = images[0]["filename"]
            assert out_name.startswith(prefix + "_"), out_name

            out = np.array(Image.open(server.output_dir / images[0]["subfolder"] / out_name).convert("RGB"))
            assert out.shape == arr.shape
            assert np.array_equal(out, 255 - arr), \
                f"not the exact inverse; max diff {np.abs(out.astype(int) - (255 - arr.astype(int))).max()}"

            # The SaveImage node's preview: the frontend loads the executed output from /view.
            page.wait_for_function(
                "(fn) => window.app.graph.nodes.some(n => n.type === 'SaveImage' && (n.imgs || []).some("
                "i => i.src.includes('/view?') && i.src.includes('filename=' + fn) && i.complete"
                " && i.naturalWidth === 16 && i.naturalHeight === 8))",
                arg=out_name, timeout=15000)
            shot(page, "inverted")

            # -- 4. the queue sidebar lists the finished job ------------------------------------
            page.click('button[aria-label="Queue (q)"]')
            item = page.locator(".task-item").filter(
                has=page.locator(f'img[src*="/view?"][src*="filename={out_name}"]'))
            item.first.wait_for(state="visible", timeout=15000)
            assert item.first.locator(".pi-check").count() == 1, item.first.inner_html()[:1000]
            page.wait_for_function(
                "(fn) => [...document.images].some(i => i.src.includes('/view?')"
                " && i.src.includes('filename=' + fn) && i.complete && i.naturalWidth === 16)",
                arg=out_name, timeout=15000)
            shot(page, "queue_sidebar")

            # -- 5. interrupt a 20 s TestSlow with the UI's "Cancel current run" button --------
            slow = {
                "1": {"class_type": "EmptyImage",
                      "inputs": {"width": 24, "height": 8, "batch_size": 1, "color": 0x336699}},
                "2": {"class_type": "TestSlow", "inputs": {"image": ["1", 0], "seconds": SLOW_SECONDS}},
                "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
            }
            page.evaluate("(w) => window.app.loadApiJson(w, 'browser_slow.json')", slow)
            page.wait_for_function("() => window.app.graph.nodes.some(n => n.type === 'TestSlow')")
            t_slow = time.monotonic()
            slow_pid = _run_button_prompt_id(page, watch)
            deadline = time.monotonic() + 10
            while not any(x[1] == slow_pid for x in server.get_json("/queue")["queue_running"]):
                assert time.monotonic() < deadline, "the TestSlow prompt never started running"
                page.wait_for_timeout(50)
            # The actionbar's X ("Cancel current run", command Comfy.Interrupt) is enabled once
            # the frontend knows a prompt is running; it POSTs /api/interrupt.
            cancel = page.locator('button[aria-label="Cancel current run"]:not([disabled])')
            cancel.wait_for(state="visible", timeout=10000)
            shot(page, "running")
            with page.expect_response(lambda r: r.request.method == "POST"
                                      and r.url.endswith("/api/interrupt")) as info:
                cancel.click()
            assert info.value.status == 200
            slow_entry = wait_history(server, slow_pid, timeout=15)
            elapsed = time.monotonic() - t_slow
            timings["interrupt"] = elapsed
            assert elapsed < SLOW_SECONDS / 2, f"interrupt took {elapsed:.1f} s"
            status = slow_entry["status"]
            assert status["status_str"] == "error" and status["completed"] is False, status
            kinds = [m[0] for m in status["messages"]]
            assert kinds[-1] == "execution_interrupted", kinds
            interrupted = status["messages"][-1][1]
            assert interrupted["prompt_id"] == slow_pid
            assert interrupted["node_type"] == "TestSlow", interrupted
            # The sidebar shows the job as cancelled.
            page.locator(".task-item").filter(has_text="Cancelled").first.wait_for(
                state="visible", timeout=10000)
            shot(page, "interrupted")

            # -- 1 (end). page errors and failed requests over the whole session ---------------
            page.wait_for_timeout(300)
            errors = watch.unexpected_errors()
            assert not errors, "unexpected page errors:\n" + "\n\n".join(f"{m}\n{s}" for m, s in errors)
            bad = watch.unexpected_requests()
            assert not bad, f"failed same-origin requests: {bad}\n{watch.summary()}"
            print(f"page errors seen: {[m for m, _ in watch.page_errors]}")
            print(f"allowed 404s seen: {sorted({r[2] for r in watch.bad_responses})}")
        finally:
            browser.close()

    timings["total"] = time.monotonic() - t_start
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print("screenshots:\n  " + "\n  ".join(str(p) for p in shots))
