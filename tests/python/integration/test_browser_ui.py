"""End to end through the official web UI (comfyui-frontend-package 1.58.1) in headless Chromium.

One test drives the real frontend against a real server (the ``server`` fixture: a fresh base
directory, so a fresh user, with testing_pack loaded):

1. the UI boots: the graph canvas, ``window.app`` and the Run button appear, the WebSocket opens,
   and the templates browser a new user gets shows thumbnails fetched from /templates (its index
   and index_logo.json too); over the
   whole session no page error and no failed same-origin request but the 404s ComfyUI answers a
   fresh user too;
2. the Node Library sidebar finds built-in nodes (Comfy nodes) and testing_pack's (Extensions) by
   their display names, and the graph knows their classes and categories;
3. a PNG uploaded with POST /upload/image runs LoadImage -> ImageInvert -> SaveImage, queued with
   the Run button: history says success, the saved PNG is the exact inverse of the upload, and the
   SaveImage node shows the output loaded from /view;
4. the job queue panel (the "N active" toggle) lists the finished job, by prompt id, with its
   output image as the thumbnail (the frontend reads it from GET /api/jobs);
5. a 20 s TestSlow prompt shows as "1 active" and as a row of the panel while it runs; the
   actionbar's "Cancel current run" button stops it (POST /api/interrupt with its prompt id): it
   ends with ``execution_interrupted`` within seconds, the jobs API calls it cancelled and the
   panel shows it as failed (the frontend's word for both).

Screenshots go to the test's tmp_path (their paths are printed; run pytest with -s to see them).
Skipped only when /usr/bin/chromium or the playwright package is missing.
"""

import io
import re
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

# Same-origin 404s that ComfyUI answers a fresh user too (no user.css, no workflows/ or subgraphs/
# folder under the user directory yet, no saved template customisation).
ALLOWED_404_PREFIXES = (
    "/user.css",
    "/api/userdata/user.css",
    "/api/userdata?dir=workflows",
    "/api/userdata?dir=subgraphs",
    "/api/userdata/comfy.templates.json",
)

SLOW_SECONDS = 20.0

RUN_BUTTON = '[data-testid="queue-button"]'
QUEUE_TOGGLE = '[data-testid="queue-overlay-toggle"]'
JOB_LIST = '[data-testid="job-assets-list"]'
CANCEL_BUTTON = 'button[aria-label="Cancel current run"]'


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
            # read the empty 200 of POST /api/settings/{id} or /api/interrupt) as
            # net::ERR_ABORTED; the response event already judged its status.
            self.aborted.append((failure, req.method, path))
        else:
            self.net_failures.append((failure, req.method, path))

    def unexpected_requests(self) -> list:
        bad = [r for r in self.bad_responses
               if not (r[0] == 404 and r[2].startswith(ALLOWED_404_PREFIXES))]
        return bad + self.net_failures

    def summary(self) -> str:
        return (f"page errors: {self.page_errors}\nbad responses: {self.bad_responses}\n"
                f"network failures: {self.net_failures}")


def _run_button_prompt_id(page, watch) -> str:
    """Click the actionbar's Run button; return the prompt id of the POST /api/prompt it sends."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/prompt"),
                              timeout=15000) as info:
        page.click(RUN_BUTTON)
    resp = info.value
    body = resp.json()
    assert resp.status == 200, f"POST /api/prompt -> {resp.status}: {body}\n{watch.summary()}"
    return body["prompt_id"]


def _find_in_node_library(page, display_name):
    """Type a node's display name into the Node Library's search box; return its result row."""
    box = page.locator('input[placeholder="Search Nodes..."]')
    box.fill(display_name)
    row = page.locator('[role="treeitem"][aria-level="2"]').filter(
        has_text=re.compile("^" + re.escape(display_name) + "$"))
    row.first.wait_for(state="visible", timeout=10000)
    return row.first


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
            template_responses = []  # (status, path, content type)
            page.on("response", lambda r: template_responses.append(
                (r.status, r.url[len(origin):], r.headers.get("content-type")))
                if r.url.startswith(origin + "/templates/") else None)

            # -- 1. the UI boots ---------------------------------------------------------------
            page.goto(server.url("/"))
            page.wait_for_function(
                "() => window.app && window.app.graph && window.app.canvas && window.LiteGraph"
                " && window.comfyAPI && document.querySelector('#graph-canvas')",
                timeout=60000)
            page.wait_for_selector(RUN_BUTTON, state="visible")
            timings["ui ready"] = time.monotonic() - t_start
            # The server is fresh, so this is a new user: the frontend opens a blank workflow and
            # the templates browser. Its thumbnails are fetched from /templates (the
            # workflow-templates bundles) and shown as blob: images; wait for some to decode.
            page.wait_for_selector('[role="dialog"] button[aria-label="Close dialog"]', state="visible",
                                   timeout=15000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('[role=dialog] img')].filter(i =>"
                " i.complete && i.naturalWidth > 0).length >= 4", timeout=15000)
            thumbs = [r for r in template_responses if r[1].endswith(".webp")]
            assert len(thumbs) >= 4 and all(r[0] == 200 and r[2] == "image/webp" for r in thumbs), thumbs
            index = [r for r in template_responses if r[1] in ("/templates/index.json", "/templates/index_logo.json")]
            assert {r[1] for r in index} == {"/templates/index.json", "/templates/index_logo.json"}
            assert all(r[0] == 200 and r[2] == "application/json" for r in index), index
            shot(page, "templates")
            page.click('[role="dialog"] button[aria-label="Close dialog"]')
            page.wait_for_selector('[role="dialog"]', state="detached", timeout=10000)
            assert any(u.startswith(server.ws_url(path="/ws")) for u in websockets), websockets

            # -- 2. the node library knows our nodes -------------------------------------------
            wanted = ["LoadImage", "SaveImage", "ImageInvert", "EmptyImage", "TestIntConst", "TestSlow"]
            info = server.get_json("/object_info")
            registered = page.evaluate(
                "(names) => names.filter(n => n in window.LiteGraph.registered_node_types)", wanted)
            assert registered == wanted, f"registered node types lack {set(wanted) - set(registered)}"
            for name in wanted:
                cat = page.evaluate(
                    "(n) => window.LiteGraph.registered_node_types[n].nodeData?.category", name)
                assert cat == info[name]["category"], (name, cat)
            page.click('[data-testid="node-library-tab-button"]')
            for name in ("ImageInvert", "TestSlow", "TestIntConst"):
                _find_in_node_library(page, info[name]["display_name"])
            shot(page, "node_library")
            page.click('[data-testid="node-library-tab-button"]')  # close the sidebar again

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

            # -- 4. the job queue panel lists the finished job ---------------------------------
            page.click(QUEUE_TOGGLE)
            row = page.locator(f'{JOB_LIST} [data-job-id="{pid}"]')
            row.wait_for(state="visible", timeout=15000)
            assert out_name in row.inner_text(), row.inner_text()
            thumb = row.locator(f'img[src*="/view?"][src*="filename={out_name}"]')
            thumb.wait_for(state="visible", timeout=15000)
            page.wait_for_function(
                "(img) => img.complete && img.naturalWidth === 16 && img.naturalHeight === 8",
                arg=thumb.element_handle(), timeout=15000)
            assert server.get_json(f"/api/jobs/{pid}")["status"] == "completed"
            shot(page, "queue_panel")

            # -- 5. interrupt a 20 s TestSlow with the UI's "Cancel current run" button --------
            slow = {
                "1": {"class_type": "EmptyImage",
                      "inputs": {"width": 24, "height": 8, "batch_size": 1, "color": 0x336699}},
                "2": {"class_type": "TestSlow", "inputs": {"image": ["1", 0], "seconds": SLOW_SECONDS}},
                "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
            }
            page.evaluate("(w) => window.app.loadApiJson(w, 'browser_slow.json')", slow)
            page.wait_for_function("() => window.app.graph.nodes.some(n => n.type === 'TestSlow')")
            slow_pid = _run_button_prompt_id(page, watch)
            deadline = time.monotonic() + 10
            while not any(x[1] == slow_pid for x in server.get_json("/queue")["queue_running"]):
                assert time.monotonic() < deadline, "the TestSlow prompt never started running"
                page.wait_for_timeout(50)
            # The panel learns of the running job from GET /api/jobs (in_progress): the toggle
            # counts it and the list shows its row.
            page.wait_for_function(
                "(sel) => /^\\s*1 active/.test(document.querySelector(sel)?.innerText || '')",
                arg=QUEUE_TOGGLE, timeout=10000)
            page.locator(f'{JOB_LIST} [data-job-id="{slow_pid}"]').wait_for(state="visible", timeout=10000)
            # The actionbar's X ("Cancel current run") is enabled once the frontend knows a prompt
            # is running; it POSTs /api/interrupt with that prompt's id.
            cancel = page.locator(f"{CANCEL_BUTTON}:not([disabled])")
            cancel.wait_for(state="visible", timeout=10000)
            shot(page, "running")
            t_click = time.monotonic()  # the bound below is about the interrupt, not the UI's waits
            with page.expect_response(lambda r: r.request.method == "POST"
                                      and r.url.endswith("/api/interrupt")) as info_resp:
                cancel.click()
            assert info_resp.value.status == 200
            assert info_resp.value.request.post_data_json == {"prompt_id": slow_pid}
            slow_entry = wait_history(server, slow_pid, timeout=15)
            elapsed = time.monotonic() - t_click
            timings["interrupt"] = elapsed
            assert elapsed < SLOW_SECONDS / 2, f"interrupt took {elapsed:.1f} s"
            status = slow_entry["status"]
            assert status["status_str"] == "error" and status["completed"] is False, status
            kinds = [m[0] for m in status["messages"]]
            assert kinds[-1] == "execution_interrupted", kinds
            interrupted = status["messages"][-1][1]
            assert interrupted["prompt_id"] == slow_pid
            assert interrupted["node_type"] == "TestSlow", interrupted
            assert server.get_json(f"/api/jobs/{slow_pid}")["status"] == "cancelled"
            # The panel shows the job as failed (the frontend folds cancelled into failed) and
            # nothing is active any more.
            page.locator(f'{JOB_LIST} [data-job-id="{slow_pid}"]').filter(has_text="Failed").wait_for(
                state="visible", timeout=10000)
            page.wait_for_function(
                "(sel) => /^\\s*0 active/.test(document.querySelector(sel)?.innerText || '')",
                arg=QUEUE_TOGGLE, timeout=10000)
            shot(page, "interrupted")

            # -- 1 (end). page errors and failed requests over the whole session ---------------
            page.wait_for_timeout(300)
            errors = watch.page_errors
            assert not errors, "page errors:\n" + "\n\n".join(f"{m}\n{s}" for m, s in errors)
            bad = watch.unexpected_requests()
            assert not bad, f"failed same-origin requests: {bad}\n{watch.summary()}"
            print(f"allowed 404s seen: {sorted({r[2] for r in watch.bad_responses})}")
        finally:
            browser.close()

    timings["total"] = time.monotonic() - t_start
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print("screenshots:\n  " + "\n  ".join(str(p) for p in shots))
