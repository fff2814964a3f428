"""Newer ComfyUI's jobs API (/api/jobs...) and subgraph blueprints (/global_subgraphs), spec
comfyui-api.md section 14: job objects built from the queue and the history, filtering, sorting,
pagination, cancelling pending and running jobs, parameter errors, and blueprint listing."""
import hashlib
import json
import time
import uuid

import pytest

from comfy_harness import (image_graph, post_prompt, queue_and_collect, slow_graph, start_server,
                           unique_int, wait_history, wait_idle)

BLUEPRINT = {"id": "bp", "nodes": [], "links": [], "definitions": {"subgraphs": []}}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """One server for the module, with an extra pack that ships two subgraph blueprints."""
    base = tmp_path_factory.mktemp("jobs")
    pack = base / "packs" / "blueprint_pack"
    (pack / "subgraphs").mkdir(parents=True)
    (pack / "__init__.py").write_text("NODE_CLASS_MAPPINGS = {}\n")
    (pack / "subgraphs" / "Upscale Twice.json").write_text(json.dumps(BLUEPRINT))
    (pack / "subgraphs" / "second.json").write_text('{"nodes": []}\n')
    (pack / "subgraphs" / "notes.txt").write_text("not a blueprint")
    server = start_server(base)
    yield server
    server.stop()


def wf(workflow_id, create_time=None, **extra):
    extra_data = {"extra_pnginfo": {"workflow": {"id": workflow_id}}}
    if create_time is not None:
        extra_data["create_time"] = create_time
    extra_data.update(extra)
    return extra_data


def jobs(srv, query=""):
    return srv.get_json("/api/jobs" + query)


def messages(history_item):
    return {event: data for event, data in history_item["status"]["messages"]}


def wait_running(srv, prompt_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(j["id"] == prompt_id for j in jobs(srv, "?status=in_progress")["jobs"]):
            return
        time.sleep(0.05)
    raise AssertionError(f"{prompt_id} never ran\n{srv.log_tail(40)}")


def raise_graph(value):
    return {"1": {"class_type": "TestRaise", "inputs": {"value": value}}}


# --------------------------------------------------------------------------
# Finished jobs
# --------------------------------------------------------------------------

def test_completed_job_list_and_detail(srv):
    wid = f"wf-done-{uuid.uuid4()}"
    graph = image_graph(8, 8, unique_int() % 200, prefix="jobs_done")
    run = queue_and_collect(srv, graph, extra_data=wf(wid, create_time=1000))
    h = wait_history(srv, run.prompt_id)
    msgs = messages(h)
    start, end = msgs["execution_start"]["timestamp"], msgs["execution_success"]["timestamp"]
    image = h["outputs"]["3"]["images"][0]
    assert image["type"] == "output"
    summary = {
        "id": run.prompt_id, "status": "completed", "priority": run.number, "create_time": 1000,
        "execution_start_time": start, "execution_end_time": end,
        "outputs_count": 1, "previewable_outputs_count": 1,
        "preview_output": dict(image, nodeId="3", mediaType="images"),
        "workflow_id": wid,
    }
    listed = jobs(srv, f"?workflow_id={wid}")
    assert listed == {"jobs": [summary],
                      "pagination": {"offset": 0, "limit": None, "total": 1, "has_more": False}}
    detail = srv.get_json(f"/api/jobs/{run.prompt_id}")
    client_id = h["prompt"][3]["client_id"]
    assert detail == dict(summary, outputs=h["outputs"], execution_status=h["status"],
                          workflow={"prompt": h["prompt"][2], "extra_data": wf(wid, create_time=1000,
                                                                                  client_id=client_id)})


def test_failed_job(srv):
    wid = f"wf-fail-{uuid.uuid4()}"
    run = queue_and_collect(srv, raise_graph(f"x{unique_int()}"), extra_data=wf(wid))
    h = wait_history(srv, run.prompt_id)
    msgs = messages(h)
    error = msgs["execution_error"]
    assert error["exception_type"] == "ValueError"
    # No client create_time: the execution_start timestamp stands in for it.
    expected = {
        "id": run.prompt_id, "status": "failed", "priority": run.number,
        "create_time": msgs["execution_start"]["timestamp"],
        "execution_start_time": msgs["execution_start"]["timestamp"],
        "execution_end_time": error["timestamp"],
        "execution_error": error,
        "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid,
    }
    assert jobs(srv, f"?workflow_id={wid}")["jobs"] == [expected]
    assert jobs(srv, f"?workflow_id={wid}&status=failed")["jobs"] == [expected]
    assert jobs(srv, f"?workflow_id={wid}&status=completed,cancelled")["jobs"] == []
    detail = srv.get_json(f"/api/jobs/{run.prompt_id}")
    assert detail["status"] == "failed" and detail["outputs"] == {} and detail["execution_status"] == h["status"]
    assert detail["execution_status"]["status_str"] == "error"


def test_interrupted_job_is_cancelled(srv):
    wid = f"wf-int-{uuid.uuid4()}"
    r = post_prompt(srv, slow_graph(30), extra_data=wf(wid, create_time=5))
    assert r.status_code == 200, r.text
    pid, number = r.json()["prompt_id"], r.json()["number"]
    wait_running(srv, pid)
    running = jobs(srv, f"?workflow_id={wid}")["jobs"]
    assert running == [{"id": pid, "status": "in_progress", "priority": number, "create_time": 5,
                        "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid}]
    assert srv.post("/interrupt", json={}).status_code == 200
    h = wait_history(srv, pid)
    msgs = messages(h)
    assert "execution_interrupted" in msgs and h["status"]["status_str"] == "error"
    assert jobs(srv, f"?workflow_id={wid}")["jobs"] == [{
        "id": pid, "status": "cancelled", "priority": number, "create_time": 5,
        "execution_start_time": msgs["execution_start"]["timestamp"],
        "execution_end_time": msgs["execution_interrupted"]["timestamp"],
        "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid,
    }]
    assert jobs(srv, f"?workflow_id={wid}&status=cancelled")["pagination"]["total"] == 1
    assert jobs(srv, f"?workflow_id={wid}&status=failed")["pagination"]["total"] == 0


def test_queued_jobs_always_carry_create_time(srv):
    """Without a client create_time, a queued job gets the time (ms) it was first listed, and
    keeps it once finished: the frontend's jobs schema needs a number on every job (1.58 drops the
    whole queue listing otherwise)."""
    wid = f"wf-ct-{uuid.uuid4()}"
    t0 = int(time.time() * 1000)
    r1 = post_prompt(srv, slow_graph(30), extra_data=wf(wid))
    pid1, number1 = r1.json()["prompt_id"], r1.json()["number"]
    wait_running(srv, pid1)
    r2 = post_prompt(srv, slow_graph(30), extra_data=wf(wid))
    pid2, number2 = r2.json()["prompt_id"], r2.json()["number"]
    listed = jobs(srv, f"?workflow_id={wid}")["jobs"]
    t1 = int(time.time() * 1000)
    assert [j["id"] for j in listed] == [pid2, pid1]  # newest first
    ct2, ct1 = listed[0]["create_time"], listed[1]["create_time"]
    assert isinstance(ct1, int) and isinstance(ct2, int) and t0 <= ct1 <= ct2 <= t1, (t0, ct1, ct2, t1)
    assert listed == [
        {"id": pid2, "status": "pending", "priority": number2, "create_time": ct2,
         "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid},
        {"id": pid1, "status": "in_progress", "priority": number1, "create_time": ct1,
         "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid},
    ]
    # Stable across calls and in the detail view; extra_data itself is left as the client sent it.
    assert jobs(srv, f"?workflow_id={wid}&status=in_progress,pending")["jobs"] == listed
    detail = srv.get_json(f"/api/jobs/{pid2}")
    assert detail["create_time"] == ct2 and "create_time" not in detail["workflow"]["extra_data"]
    assert all("create_time" not in item[3] for item in srv.get_json("/queue")["queue_pending"])

    r = srv.post("/api/jobs/cancel", json={"job_ids": [pid2, pid1]})
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    h = wait_history(srv, pid1, timeout=20)
    wait_idle(srv)
    msgs = messages(h)
    # The finished job keeps the time it was first listed (not its execution_start timestamp).
    assert jobs(srv, f"?workflow_id={wid}")["jobs"] == [{
        "id": pid1, "status": "cancelled", "priority": number1, "create_time": ct1,
        "execution_start_time": msgs["execution_start"]["timestamp"],
        "execution_end_time": msgs["execution_interrupted"]["timestamp"],
        "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid,
    }]


# --------------------------------------------------------------------------
# Filtering, sorting, paging
# --------------------------------------------------------------------------

def test_sort_filter_and_paginate(srv):
    wid = f"wf-sort-{uuid.uuid4()}"
    ids = {}
    for create_time in (300, 100, 200):
        run = queue_and_collect(srv, image_graph(8, 8, unique_int() % 200, prefix="jobs_sort"),
                                extra_data=wf(wid, create_time=create_time))
        ids[create_time] = run.prompt_id
    q = f"?workflow_id={wid}"

    def order(query):
        return [j["create_time"] for j in jobs(srv, q + query)["jobs"]]

    assert order("") == [300, 200, 100]  # created_at, desc by default
    assert order("&sort_order=asc") == [100, 200, 300]
    assert order("&sort_by=CREATED_AT&sort_order=DESC") == [300, 200, 100]
    durations = {j["id"]: j["execution_end_time"] - j["execution_start_time"] for j in jobs(srv, q)["jobs"]}
    by_duration = [j["id"] for j in jobs(srv, q + "&sort_by=execution_duration&sort_order=asc")["jobs"]]
    assert [durations[i] for i in by_duration] == sorted(durations.values())

    page = jobs(srv, q + "&limit=2")
    assert [j["id"] for j in page["jobs"]] == [ids[300], ids[200]]
    assert page["pagination"] == {"offset": 0, "limit": 2, "total": 3, "has_more": True}
    page = jobs(srv, q + "&limit=2&offset=2")
    assert [j["id"] for j in page["jobs"]] == [ids[100]]
    assert page["pagination"] == {"offset": 2, "limit": 2, "total": 3, "has_more": False}
    page = jobs(srv, q + "&offset=1")
    assert page["pagination"] == {"offset": 1, "limit": None, "total": 3, "has_more": False}
    assert len(page["jobs"]) == 2
    page = jobs(srv, q + "&offset=10")
    assert page == {"jobs": [], "pagination": {"offset": 10, "limit": None, "total": 3, "has_more": False}}
    # A negative offset is clamped to 0, as upstream does.
    assert jobs(srv, q + "&offset=-4")["pagination"]["offset"] == 0

    assert jobs(srv, q + "&status=completed")["pagination"]["total"] == 3
    assert jobs(srv, q + "&status= Completed , failed")["pagination"]["total"] == 3
    assert jobs(srv, q + "&status=pending,in_progress")["jobs"] == []
    assert jobs(srv, q + "&status=")["pagination"]["total"] == 3  # empty filter: everything
    assert jobs(srv, "?workflow_id=nope-" + wid)["jobs"] == []
    # Without a workflow filter the other tests' jobs are there too.
    assert jobs(srv)["pagination"]["total"] >= 3


def test_mirrors(srv):
    queue_and_collect(srv, image_graph(8, 8, unique_int() % 200, prefix="jobs_mirror"))
    wait_idle(srv)
    direct = jobs(srv, "?limit=3")
    assert srv.get_json("/api/api/jobs?limit=3") == direct
    some_id = direct["jobs"][0]["id"]
    assert srv.get_json(f"/api/api/jobs/{some_id}") == srv.get_json(f"/api/jobs/{some_id}")
    r = srv.post("/api/api/jobs/cancel", json={"job_ids": []})
    assert r.status_code == 200 and r.json() == {"cancelled": False}
    # Only the /api forms exist, as upstream.
    assert srv.get("/jobs").status_code == 404


# --------------------------------------------------------------------------
# Cancelling
# --------------------------------------------------------------------------

def test_cancel_pending_then_running(srv):
    wid = f"wf-cancel-{uuid.uuid4()}"
    r1 = post_prompt(srv, slow_graph(30), extra_data=wf(wid, create_time=1))
    pid1 = r1.json()["prompt_id"]
    wait_running(srv, pid1)
    r2 = post_prompt(srv, slow_graph(30), extra_data=wf(wid, create_time=2, api_key_comfy_org="secret"))
    assert r2.status_code == 200, r2.text
    pid2, number2 = r2.json()["prompt_id"], r2.json()["number"]

    pending = {"id": pid2, "status": "pending", "priority": number2, "create_time": 2,
               "outputs_count": 0, "previewable_outputs_count": 0, "workflow_id": wid}
    assert jobs(srv, f"?workflow_id={wid}&status=pending")["jobs"] == [pending]
    assert [j["status"] for j in jobs(srv, f"?workflow_id={wid}")["jobs"]] == ["pending", "in_progress"]
    detail = srv.get_json(f"/api/jobs/{pid2}")
    assert detail == dict(pending, workflow={"prompt": detail["workflow"]["prompt"],
                                             "extra_data": detail["workflow"]["extra_data"]})
    assert detail["workflow"]["prompt"]["2"]["class_type"] == "TestSlow"
    # Comfy.org credentials never appear in job objects.
    assert "api_key_comfy_org" not in detail["workflow"]["extra_data"]
    assert detail["workflow"]["extra_data"]["create_time"] == 2
    assert srv.get_json(f"/api/jobs/{pid1}")["status"] == "in_progress"

    r = srv.post(f"/api/jobs/{pid2}/cancel")
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    assert all(item[1] != pid2 for item in srv.get_json("/queue")["queue_pending"])
    assert jobs(srv, f"?workflow_id={wid}&status=pending")["jobs"] == []
    assert srv.get(f"/api/jobs/{pid2}").status_code == 404
    assert srv.post(f"/api/jobs/{pid2}/cancel").json() == {"cancelled": False}  # idempotent

    r = srv.post(f"/api/jobs/{pid1}/cancel")
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    h = wait_history(srv, pid1, timeout=20)
    assert h["status"]["status_str"] == "error"
    assert srv.get_json(f"/api/jobs/{pid1}")["status"] == "cancelled"
    assert srv.post(f"/api/jobs/{pid1}/cancel").json() == {"cancelled": False}  # already finished
    wait_idle(srv)


def test_batch_cancel(srv):
    wid = f"wf-batch-{uuid.uuid4()}"
    pid1 = post_prompt(srv, slow_graph(30), extra_data=wf(wid)).json()["prompt_id"]
    wait_running(srv, pid1)
    pid2 = post_prompt(srv, slow_graph(30), extra_data=wf(wid)).json()["prompt_id"]
    unknown = str(uuid.uuid4())
    r = srv.post("/api/jobs/cancel", json={"job_ids": [unknown]})
    assert r.status_code == 200 and r.json() == {"cancelled": False}
    r = srv.post("/api/jobs/cancel", json={"job_ids": [pid2, unknown, pid1]})
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    h = wait_history(srv, pid1, timeout=20)
    assert h["status"]["status_str"] == "error"
    wait_idle(srv)
    assert [j["status"] for j in jobs(srv, f"?workflow_id={wid}")["jobs"]] == ["cancelled"]
    r = srv.post("/api/jobs/cancel", json={"job_ids": [pid1, pid2]})
    assert r.json() == {"cancelled": False}


def test_batch_cancel_errors(srv):
    for body in ({}, {"job_ids": "abc"}, {"job_ids": None}, [1, 2], "x"):
        r = srv.post("/api/jobs/cancel", json=body)
        assert r.status_code == 400 and r.json() == {"error": "job_ids must be a list"}, body
    r = srv.post("/api/jobs/cancel", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json() == {"error": "Request body must be valid JSON"}
    good = str(uuid.uuid4())
    r = srv.post("/api/jobs/cancel", json={"job_ids": [good, "nope", good.upper(), 7, {"a": 1}, None]})
    assert r.status_code == 400
    assert r.json() == {"error": "job_ids contains invalid id(s)",
                        "invalid_ids": ["nope", good.upper(), "7", "{'a': 1}", "None"]}


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("?status=done", "Invalid status value(s): done. Valid values: pending, in_progress, completed, failed, cancelled"),
    ("?status=pending,x,y", "Invalid status value(s): x, y. Valid values: pending, in_progress, completed, failed, cancelled"),
    ("?sort_by=name", "sort_by must be 'created_at' or 'execution_duration'"),
    ("?sort_order=up", "sort_order must be 'asc' or 'desc'"),
    ("?limit=0", "limit must be a positive integer"),
    ("?limit=-3", "limit must be a positive integer"),
    ("?limit=ten", "limit must be an integer"),
    ("?limit=", "limit must be an integer"),
    ("?offset=1.5", "offset must be an integer"),
])
def test_bad_list_params(srv, query, message):
    for prefix in ("/api/jobs", "/api/api/jobs"):
        r = srv.get(prefix + query)
        assert r.status_code == 400 and r.json() == {"error": message}


def test_unknown_job(srv):
    for path in (f"/api/jobs/{uuid.uuid4()}", "/api/jobs/not-a-job", "/api/api/jobs/nothing"):
        r = srv.get(path)
        assert r.status_code == 404 and r.json() == {"error": "Job not found"}
    r = srv.post("/api/jobs/not-a-job/cancel")
    assert r.status_code == 200 and r.json() == {"cancelled": False}


# --------------------------------------------------------------------------
# Subgraph blueprints
# --------------------------------------------------------------------------

def test_global_subgraphs(srv):
    folder = str(srv.base / "packs")
    expected = {}
    for name in ("Upscale Twice", "second"):
        path = f"{folder}/blueprint_pack/subgraphs/{name}.json"
        entry_id = hashlib.sha256(("custom_node" + path).encode()).hexdigest()
        expected[entry_id] = {"source": "custom_node", "name": name,
                              "info": {"node_pack": "custom_nodes.blueprint_pack"}}
    for prefix in ("", "/api"):
        assert srv.get_json(prefix + "/global_subgraphs") == expected
    for entry_id, entry in expected.items():
        detail = srv.get_json(f"/api/global_subgraphs/{entry_id}")
        text = (srv.base / "packs" / "blueprint_pack" / "subgraphs" / (entry["name"] + ".json")).read_text()
        assert detail == dict(entry, data=text)
    r = srv.get("/global_subgraphs/" + "0" * 64)
    assert r.status_code == 200 and r.json() is None and r.text == "null"
