"""The pure half of comfy._jobs_routes: output summaries (counts, preview choice) for output kinds
the integration suite cannot produce, job status mapping and list sorting. The HTTP routes are
covered black-box in tests/python/integration/test_jobs.py."""
from comfy import _jobs_routes as jr


def img(name, type_="output"):
    return {"filename": name, "subfolder": "", "type": type_}


def test_saved_visual_output_beats_temp_and_text():
    outputs = {
        "1": {"text": ["hello"]},
        "2": {"images": [img("a.png", "temp")]},
        "3": {"files": [img("notes.txt")]},
        "4": {"images": [img("b.png")], "animated": [False]},
    }
    count, previewable, preview = jr.summarize_outputs(outputs)
    assert (count, previewable) == (3, 3)  # raw text is not counted
    assert preview == dict(img("b.png"), nodeId="4", mediaType="images")


def test_preview_fallbacks():
    assert jr.summarize_outputs({"2": {"images": [img("a.png", "temp")]}})[2]["filename"] == "a.png"
    _, _, preview = jr.summarize_outputs({"1": {"text": ["x" * 2000]}, "3": {"files": [img("n.md")]}})
    assert preview == dict(img("n.md"), nodeId="3", mediaType="files")
    _, _, preview = jr.summarize_outputs({"1": {"text": ["x" * 2000]}})
    assert preview == {"content": "x" * 1024, "truncated": True, "nodeId": "1", "mediaType": "text"}
    assert jr.summarize_outputs({"1": {"text": [("short",)]}})[2]["content"] == "short"
    assert jr.summarize_outputs({}) == (0, 0, None)


def test_non_previewable_and_3d_outputs():
    outputs = {"5": {"latents": [img("x.latent")], "3d": ["mesh.GLB", "other"], "video": [None]},
               "6": {"gifs": [dict(img("v.mp4"), format="video/h264-mp4")]}}
    count, previewable, preview = jr.summarize_outputs(outputs)
    assert (count, previewable) == (3, 2)
    assert preview == {"filename": "mesh.GLB", "type": "output", "subfolder": "", "mediaType": "3d", "nodeId": "5"}
    assert jr.normalize_outputs(outputs)["5"]["3d"] == [
        {"filename": "mesh.GLB", "type": "output", "subfolder": "", "mediaType": "3d"}, "other"]
    assert jr.normalize_outputs(outputs)["5"]["video"] == []


def entry(status_str, *events, extra=None):
    msgs = [["execution_start", {"prompt_id": "p", "timestamp": 10}]]
    msgs += [[e, {"prompt_id": "p", "timestamp": 20}] for e in events]
    return {"prompt": [3, "p", {}, extra or {}, []], "outputs": {},
            "status": {"status_str": status_str, "completed": status_str == "success", "messages": msgs}}


def test_status_mapping_and_times():
    assert jr.history_job("p", entry("success", "execution_success"))["status"] == "completed"
    assert jr.history_job("p", entry("error", "execution_error"))["status"] == "failed"
    job = jr.history_job("p", entry("error", "execution_interrupted"))
    assert job["status"] == "cancelled" and "execution_error" not in job
    assert (job["create_time"], job["execution_start_time"], job["execution_end_time"]) == (10, 10, 20)
    no_status = dict(entry("success"), status=None)
    assert jr.history_job("p", no_status)["status"] == "completed"
    assert jr.history_job("p", no_status, detail=True)["execution_status"] is None
    # A client's numeric create_time wins; anything else falls back to the start time.
    assert jr.history_job("p", entry("success", extra={"create_time": 5}))["create_time"] == 5
    assert jr.history_job("p", entry("success", extra={"create_time": "soon"}))["create_time"] == 10
    detail = jr.history_job("p", entry("success", extra={"auth_token_comfy_org": "t", "a": 1}), detail=True)
    assert detail["workflow"]["extra_data"] == {"a": 1}


def test_list_sorting_puts_jobs_without_times_last_in_desc():
    running = [(1, "r", {}, {}, [])]
    pending = [(2, "q", {}, {"create_time": 50}, [])]
    history = {"h": entry("success", "execution_success")}
    page, total = jr.list_jobs(running, pending, history)
    assert [j["id"] for j in page] == ["q", "h", "r"] and total == 3
    page, _ = jr.list_jobs(running, pending, history, sort_order="asc", limit=1, offset=1)
    assert [j["id"] for j in page] == ["h"]
    page, total = jr.list_jobs(running, pending, history, statuses=[])
    assert (page, total) == ([], 0)
