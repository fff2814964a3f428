"""Newer ComfyUI's jobs API and subgraph blueprints (spec comfyui-api.md section 14), as aiohttp
handlers on `PromptServer.routes`.

`register(prompt_server)` runs from `PromptServer.add_routes`, before the table is mirrored under
`/api`. The jobs paths already start with `/api` (as upstream registers them), so the mirror also
serves them at `/api/api/jobs...`; `/global_subgraphs` gets the usual `/api/global_subgraphs` twin.

Routes:
  GET  /api/jobs                   list (status, workflow_id, sort_by, sort_order, limit, offset)
  GET  /api/jobs/{job_id}          one job with outputs, execution_status and workflow; 404 if unknown
  POST /api/jobs/{job_id}/cancel   {"cancelled": bool}: pending -> dequeued, running -> interrupted
  POST /api/jobs/cancel            {"job_ids": [uuid, ...]} -> {"cancelled": bool}
  GET  /global_subgraphs           {id: {source, name, info: {node_pack}}} from custom_nodes/*/subgraphs/*.json
  GET  /global_subgraphs/{id}      the entry plus "data" (the file's text), or null

Jobs are views of what the server already keeps: pending and in-progress jobs come from the queue,
finished ones from the history (success -> completed; error -> cancelled when the run recorded an
`execution_interrupted` message, else failed). Sensitive extra_data keys (Comfy.org tokens) are
never shown; other None values are left out, as upstream does.

`create_time`: newer ComfyUI stamps `extra_data["create_time"]` (ms) when POST /prompt enqueues;
the native queue keeps ComfyUI 0.3.64's extra_data, which has none. Every job still needs one: the
frontend's jobs schema (comfyui-frontend-package 1.58) requires a number, and one job without it
fails the whole queue fetch (the queue panel then shows nothing running). So a job's create_time is
the client's number in extra_data when it sent one; else the time (ms) this module first saw the
job in the queue (the frontend lists jobs on the `status` message that follows every enqueue, so
that is the enqueue time within a poll); else, for a finished job never seen queued, the timestamp
of its `execution_start` message.
"""
import collections
import glob
import hashlib
import logging
import os
import threading
import time
import uuid

from aiohttp import web

log = logging.getLogger(__name__)

PENDING = "pending"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
ALL_STATUSES = [PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELLED]
HISTORY_STATUSES = {COMPLETED, FAILED, CANCELLED}

SORT_FIELDS = ("created_at", "execution_duration")
SENSITIVE_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")

PREVIEWABLE_MEDIA = frozenset({"images", "video", "audio", "3d", "text"})
MODEL_3D_EXTS = (".obj", ".fbx", ".gltf", ".glb", ".usdz")
TEXT_FILE_EXTS = (".txt", ".md", ".json")
TEXT_PREVIEW_LIMIT = 1024
END_EVENTS = ("execution_success", "execution_error", "execution_interrupted")


# --------------------------------------------------------------------------
# Job objects
# --------------------------------------------------------------------------

class FirstSeen:
    """prompt id -> the time (ms) a queued job without a client create_time was first listed.
    Bounded: the oldest ids are forgotten first (the history keeps at most 10,000 prompts)."""

    LIMIT = 20000

    def __init__(self, clock=None):
        self._times = collections.OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock or (lambda: int(time.time() * 1000))

    def mark(self, prompt_id):
        with self._lock:
            t = self._times.get(prompt_id)
            if t is None:
                t = self._times[prompt_id] = self._clock()
                while len(self._times) > self.LIMIT:
                    self._times.popitem(last=False)
            return t

    def get(self, prompt_id):
        with self._lock:
            return self._times.get(prompt_id)


def _without_none(d):
    return {k: v for k, v in d.items() if v is not None}


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _public_extra_data(extra_data):
    if not isinstance(extra_data, dict):
        return extra_data
    return {k: v for k, v in extra_data.items() if k not in SENSITIVE_KEYS}


def _metadata(extra_data):
    """(create_time, workflow_id) as the client put them in extra_data."""
    if not isinstance(extra_data, dict):
        return None, None
    create_time = extra_data.get("create_time")
    if not _is_number(create_time):
        create_time = None
    workflow_id = None
    pnginfo = extra_data.get("extra_pnginfo")
    if isinstance(pnginfo, dict) and isinstance(pnginfo.get("workflow"), dict):
        workflow_id = pnginfo["workflow"].get("id")
    return create_time, workflow_id


def _ends_with(name, exts):
    return isinstance(name, str) and name.lower().endswith(exts)


def _as_output_item(item):
    """A dict output item as is; a 3D file name as a file dict; anything else None."""
    if isinstance(item, dict):
        return item
    if _ends_with(item, MODEL_3D_EXTS):
        return {"filename": item, "type": "output", "subfolder": "", "mediaType": "3d"}
    return None


def _previewable(media_type, item):
    if media_type in PREVIEWABLE_MEDIA:
        return True
    fmt = item.get("format")
    if isinstance(fmt, str) and fmt.startswith(("video/", "audio/")):
        return True
    name = item.get("filename")
    return _ends_with(name, MODEL_3D_EXTS) or _ends_with(name, TEXT_FILE_EXTS)


def _is_text(media_type, item):
    return media_type == "text" or _ends_with(item.get("filename"), TEXT_FILE_EXTS)


def _output_lists(outputs):
    """(node_id, media_type, items) for every list of output items."""
    if not isinstance(outputs, dict):
        return
    for node_id, per_node in outputs.items():
        if not isinstance(per_node, dict):
            continue
        for media_type, items in per_node.items():
            if media_type != "animated" and isinstance(items, list):
                yield node_id, media_type, items


def summarize_outputs(outputs):
    """(outputs_count, previewable_outputs_count, preview_output).

    Every file item counts (3D file names given as strings too); raw text values do not, but can
    serve as the preview of last resort. The preview is the first saved (type "output") visual
    item, else the first other visual item, else the first text file, else the first raw text."""
    count = previewable = 0
    saved = other = text_file = raw_text = None
    for node_id, media_type, items in _output_lists(outputs):
        for raw in items:
            item = _as_output_item(raw)
            if item is None:
                if raw is not None and media_type == "text" and raw_text is None:
                    value = (raw[0] if raw else "") if isinstance(raw, (list, tuple)) else raw
                    value = value if isinstance(value, str) else str(value)
                    raw_text = {"content": value[:TEXT_PREVIEW_LIMIT]}
                    if len(value) > TEXT_PREVIEW_LIMIT:
                        raw_text["truncated"] = True
                    raw_text.update({"nodeId": node_id, "mediaType": media_type})
                continue
            count += 1
            if not _previewable(media_type, item):
                continue
            previewable += 1
            enriched = dict(item)
            enriched["nodeId"] = node_id
            enriched.setdefault("mediaType", media_type)
            if _is_text(media_type, item):
                text_file = text_file or enriched
            elif item.get("type") == "output":
                saved = saved or enriched
            else:
                other = other or enriched
    return count, previewable, saved or other or text_file or raw_text


def normalize_outputs(outputs):
    """History outputs for the detail view: None items dropped, 3D file names as file dicts."""
    if not isinstance(outputs, dict):
        return outputs
    out = {}
    for node_id, per_node in outputs.items():
        if not isinstance(per_node, dict):
            out[node_id] = per_node
            continue
        node_out = {}
        for media_type, items in per_node.items():
            if media_type == "animated" or not isinstance(items, list):
                node_out[media_type] = items
                continue
            node_out[media_type] = [_as_output_item(x) or x for x in items if x is not None]
        out[node_id] = node_out
    return out


def queue_job(item, status, detail=False, seen=None):
    number, prompt_id, prompt, extra_data = item[0], item[1], item[2], item[3]
    create_time, workflow_id = _metadata(extra_data)
    if create_time is None and seen is not None:
        create_time = seen.mark(prompt_id)
    job = _without_none({
        "id": prompt_id,
        "status": status,
        "priority": number,
        "create_time": create_time,
        "outputs_count": 0,
        "previewable_outputs_count": 0,
        "workflow_id": workflow_id,
    })
    if detail:
        job["workflow"] = {"prompt": prompt, "extra_data": _public_extra_data(extra_data)}
    return job


def history_job(prompt_id, entry, detail=False, seen=None):
    number, _, prompt, extra_data = entry["prompt"][:4]
    create_time, workflow_id = _metadata(extra_data)
    status_info = entry.get("status")
    outputs = entry.get("outputs") or {}
    start = end = error = None
    interrupted = False
    status_str = None
    if isinstance(status_info, dict):
        status_str = status_info.get("status_str")
        for message in status_info.get("messages") or []:
            if not isinstance(message, (list, tuple)) or len(message) < 2 or not isinstance(message[1], dict):
                continue
            event, data = message[0], message[1]
            if event == "execution_start":
                start = data.get("timestamp")
            elif event in END_EVENTS:
                end = data.get("timestamp")
                if event == "execution_error":
                    error = data
                elif event == "execution_interrupted":
                    interrupted = True
    if status_str == "error":
        status = CANCELLED if interrupted else FAILED
    else:
        status = COMPLETED
    if create_time is None and seen is not None:
        create_time = seen.get(prompt_id)
    if create_time is None and _is_number(start):
        create_time = start
    count, previewable, preview = summarize_outputs(outputs)
    job = _without_none({
        "id": prompt_id,
        "status": status,
        "priority": number,
        "create_time": create_time,
        "execution_start_time": start,
        "execution_end_time": end,
        "execution_error": error,
        "outputs_count": count,
        "previewable_outputs_count": previewable,
        "preview_output": preview,
        "workflow_id": workflow_id,
    })
    if detail:
        job["outputs"] = normalize_outputs(outputs)
        job["execution_status"] = status_info
        job["workflow"] = {"prompt": prompt, "extra_data": _public_extra_data(extra_data)}
    return job


def _sort_key(sort_by):
    if sort_by == "execution_duration":
        def key(job):
            start, end = job.get("execution_start_time"), job.get("execution_end_time")
            return end - start if _is_number(start) and _is_number(end) and start and end else 0
    else:
        def key(job):
            value = job.get("create_time")
            return value if _is_number(value) else 0
    return key


def list_jobs(running, pending, history, statuses=None, workflow_id=None, sort_by="created_at",
              sort_order="desc", limit=None, offset=0, seen=None):
    """-> (page of jobs, total matching)."""
    wanted = ALL_STATUSES if statuses is None else statuses
    jobs = []
    if IN_PROGRESS in wanted:
        jobs += [queue_job(item, IN_PROGRESS, seen=seen) for item in running]
    if PENDING in wanted:
        jobs += [queue_job(item, PENDING, seen=seen) for item in pending]
    if HISTORY_STATUSES.intersection(wanted):
        for prompt_id, entry in history.items():
            job = history_job(prompt_id, entry, seen=seen)
            if job["status"] in wanted:
                jobs.append(job)
    if workflow_id:
        jobs = [j for j in jobs if j.get("workflow_id") == workflow_id]
    jobs.sort(key=_sort_key(sort_by), reverse=(sort_order == "desc"))
    total = len(jobs)
    jobs = jobs[offset:]
    if limit is not None:
        jobs = jobs[:limit]
    return jobs, total


def find_job(job_id, running, pending, history, seen=None):
    if job_id in history:
        return history_job(job_id, history[job_id], detail=True, seen=seen)
    for item in running:
        if item[1] == job_id:
            return queue_job(item, IN_PROGRESS, detail=True, seen=seen)
    for item in pending:
        if item[1] == job_id:
            return queue_job(item, PENDING, detail=True, seen=seen)
    return None


def is_canonical_uuid(value):
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def parse_list_query(query):
    """-> (kwargs for list_jobs, None) or (None, error message)."""
    statuses = None
    status_param = query.get("status")
    if status_param:
        statuses = [s.strip().lower() for s in status_param.split(",") if s.strip()]
        bad = [s for s in statuses if s not in ALL_STATUSES]
        if bad:
            return None, "Invalid status value(s): {}. Valid values: {}".format(", ".join(bad), ", ".join(ALL_STATUSES))
    sort_by = query.get("sort_by", "created_at").lower()
    if sort_by not in SORT_FIELDS:
        return None, "sort_by must be 'created_at' or 'execution_duration'"
    sort_order = query.get("sort_order", "desc").lower()
    if sort_order not in ("asc", "desc"):
        return None, "sort_order must be 'asc' or 'desc'"
    limit = None
    if "limit" in query:
        try:
            limit = int(query.get("limit"))
        except (TypeError, ValueError):
            return None, "limit must be an integer"
        if limit <= 0:
            return None, "limit must be a positive integer"
    offset = 0
    if "offset" in query:
        try:
            offset = int(query.get("offset"))
        except (TypeError, ValueError):
            return None, "offset must be an integer"
        offset = max(offset, 0)  # upstream clamps a negative offset rather than refusing it
    return {"statuses": statuses, "workflow_id": query.get("workflow_id"), "sort_by": sort_by,
            "sort_order": sort_order, "limit": limit, "offset": offset}, None


# --------------------------------------------------------------------------
# Subgraph blueprints
# --------------------------------------------------------------------------

class SubgraphIndex:
    """Blueprints shipped by custom-node packs in `<custom_nodes dir>/<pack>/subgraphs/*.json`.
    Scanned on first use and kept, as upstream does; the file text is read on each detail request."""

    SOURCE = "custom_node"

    def __init__(self):
        self._entries = None

    def entries(self):
        if self._entries is None:
            try:
                import folder_paths
            except ImportError:  # imported outside the app
                from comfy._compat import folder_paths
            found = {}
            for folder in folder_paths.get_folder_paths("custom_nodes"):
                for path in sorted(glob.glob(os.path.join(folder, "*", "subgraphs", "*.json"))):
                    path = path.replace("\\", "/")
                    entry_id = hashlib.sha256((self.SOURCE + path).encode()).hexdigest()
                    found[entry_id] = {"source": self.SOURCE,
                                       "name": os.path.splitext(os.path.basename(path))[0],
                                       "path": path,
                                       "info": {"node_pack": "custom_nodes." + path.split("/")[-3]}}
            self._entries = found
        return self._entries

    @staticmethod
    def public(entry):
        return {k: v for k, v in entry.items() if k != "path"}

    def listing(self):
        return {k: self.public(v) for k, v in self.entries().items()}

    def detail(self, entry_id):
        entry = self.entries().get(entry_id)
        if entry is None:
            return None
        try:
            with open(entry["path"], "r", encoding="utf-8") as f:
                data = f.read()
        except (OSError, UnicodeDecodeError) as e:
            log.warning("global_subgraphs: cannot read %s: %s", entry["path"], e)
            return None
        out = self.public(entry)
        out["data"] = data
        return out


# --------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------

def _error(message, status=400, **extra):
    body = {"error": message}
    body.update(extra)
    return web.json_response(body, status=status)


def register(prompt_server):
    routes = prompt_server.routes
    queue = prompt_server.prompt_queue
    subgraphs = SubgraphIndex()
    seen = FirstSeen()

    def current_queue():
        running, pending = queue.get_current_queue()
        return list(running), list(pending)

    def interrupt_if_running(job_id):
        native = getattr(prompt_server, "_native", None)
        if native is None or native.current_prompt_id != job_id:
            return False
        from comfy import _core
        log.info("Cancelling running prompt %s", job_id)
        _core.set_interrupt(True)
        return True

    def dequeue(job_id):
        log.info("Cancelling pending prompt %s", job_id)
        return bool(queue.delete_queue_item(lambda item: item[1] == job_id))

    def cancel(job_id):
        """True when a pending job was dequeued or a running one interrupted; finished and unknown
        ids are no-ops (False)."""
        native = getattr(prompt_server, "_native", None)
        if native is not None:  # by id, without converting the queue to Python
            if native.current_prompt_id == job_id:
                return interrupt_if_running(job_id)
            if native.queue_delete(str(job_id)):
                log.info("Cancelling pending prompt %s", job_id)
                return True
            return interrupt_if_running(job_id)  # it may have started since
        running, pending = current_queue()
        if any(item[1] == job_id for item in running):
            return interrupt_if_running(job_id)
        if any(item[1] == job_id for item in pending):
            # It may have started between the snapshot and the delete: then interrupt it.
            return dequeue(job_id) or interrupt_if_running(job_id)
        return False

    @routes.get("/api/jobs")
    async def get_jobs(request):
        params, problem = parse_list_query(request.rel_url.query)
        if problem is not None:
            return _error(problem)
        running, pending = current_queue()
        history = queue.get_history()
        jobs, total = list_jobs(running, pending, history, seen=seen, **params)
        offset, limit = params["offset"], params["limit"]
        return web.json_response({"jobs": jobs, "pagination": {
            "offset": offset, "limit": limit, "total": total, "has_more": offset + len(jobs) < total}})

    @routes.get("/api/jobs/{job_id}")
    async def get_job(request):
        job_id = request.match_info.get("job_id")
        if not job_id:
            return _error("job_id is required")
        running, pending = current_queue()
        job = find_job(job_id, running, pending, queue.get_history(prompt_id=job_id), seen=seen)
        if job is None:
            return _error("Job not found", status=404)
        return web.json_response(job)

    @routes.post("/api/jobs/{job_id}/cancel")
    async def cancel_job(request):
        job_id = request.match_info.get("job_id")
        if not job_id:
            return _error("job_id is required")
        return web.json_response({"cancelled": cancel(job_id)})

    @routes.post("/api/jobs/cancel")
    async def cancel_jobs(request):
        try:
            body = await request.json()
        except ValueError:
            return _error("Request body must be valid JSON")
        job_ids = body.get("job_ids") if isinstance(body, dict) else None
        if not isinstance(job_ids, list):
            return _error("job_ids must be a list")
        invalid = [j if isinstance(j, str) else repr(j) for j in job_ids if not is_canonical_uuid(j)]
        if invalid:
            return _error("job_ids contains invalid id(s)", invalid_ids=invalid)
        cancelled = False
        for job_id in job_ids:
            cancelled = cancel(job_id) or cancelled
        return web.json_response({"cancelled": cancelled})

    @routes.get("/global_subgraphs")
    async def get_global_subgraphs(request):
        return web.json_response(subgraphs.listing())

    @routes.get("/global_subgraphs/{id}")
    async def get_global_subgraph(request):
        return web.json_response(subgraphs.detail(request.match_info.get("id")))

    return subgraphs
