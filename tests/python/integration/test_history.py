"""GET /history paging and POST /history delete / clear.

Spec: comfyui-api.md §2.3 (GET /history, POST /history), §15 fact 13.
Semantics (PromptQueue.get_history): offset absent -> -1; offset < 0 with
max_items -> offset = len - max_items (newest N); entries before `offset` are
skipped and iteration stops after max_items; dict in insertion (run) order.
"""

import pytest

from comfy_harness import queue_and_collect, string_graph, unique_str, wait_idle


def _fresh_four_runs(server):
    wait_idle(server)
    r = server.post("/history", json={"clear": True})
    assert r.status_code == 200 and r.content == b""
    assert server.get_json("/history") == {}
    ids = []
    for i in range(4):
        run = queue_and_collect(server, string_graph(unique_str(f"h{i}_")))
        assert run.one("execution_success")
        ids.append(run.prompt_id)
    return ids


@pytest.fixture
def four_runs(server):
    """Clear history, then run four prompts one after another; return their ids oldest first."""
    return _fresh_four_runs(server)


@pytest.fixture(scope="module")
def paged(server):
    """Like four_runs, but shared by the read-only paging tests."""
    return _fresh_four_runs(server)


def _keys(server, query):
    return list(server.get_json("/history" + query).keys())


def test_full_history_in_run_order(server, four_runs):
    h = server.get_json("/history")
    assert list(h.keys()) == four_runs
    for pid in four_runs:
        entry = h[pid]
        assert list(entry.keys()) == ["prompt", "outputs", "status", "meta"]
        assert entry["prompt"][1] == pid
        assert entry == server.get_json(f"/history/{pid}")[pid]


@pytest.mark.parametrize("query,expected", [
    ("", [0, 1, 2, 3]),
    ("?max_items=1", [3]),
    ("?max_items=2", [2, 3]),
    ("?max_items=4", [0, 1, 2, 3]),
    ("?max_items=10", [0, 1, 2, 3]),
    ("?max_items=0", []),
    ("?offset=0", [0, 1, 2, 3]),
    ("?offset=2", [2, 3]),
    ("?offset=3", [3]),
    ("?offset=4", []),
    ("?offset=100", []),
    ("?offset=-1", [0, 1, 2, 3]),
    ("?max_items=2&offset=0", [0, 1]),
    ("?offset=0&max_items=2", [0, 1]),
    ("?max_items=2&offset=1", [1, 2]),
    ("?max_items=2&offset=2", [2, 3]),
    ("?max_items=2&offset=3", [3]),
    ("?max_items=3&offset=2", [2, 3]),
    ("?max_items=2&offset=4", []),
    ("?max_items=1&offset=-1", [3]),
    ("?max_items=3&offset=-5", [1, 2, 3]),
])
def test_history_paging(server, paged, query, expected):
    assert _keys(server, query) == [paged[i] for i in expected]
    assert list(server.get_json("/api/history" + query).keys()) == [paged[i] for i in expected]


def test_history_paging_entries_are_full(server, paged):
    newest = server.get_json("/history?max_items=1")
    pid = paged[-1]
    assert newest == {pid: server.get_json(f"/history/{pid}")[pid]}


def test_history_delete(server, four_runs):
    r = server.post("/history", json={"delete": [four_runs[1], "unknown-id"]})
    assert r.status_code == 200 and r.content == b""
    assert _keys(server, "") == [four_runs[0], four_runs[2], four_runs[3]]
    assert server.get_json(f"/history/{four_runs[1]}") == {}
    # Paging applies to what is left.
    assert _keys(server, "?max_items=2") == [four_runs[2], four_runs[3]]
    assert _keys(server, "?offset=1") == [four_runs[2], four_runs[3]]

    r = server.post("/history", json={"delete": [four_runs[0], four_runs[3]]})
    assert r.status_code == 200
    assert _keys(server, "") == [four_runs[2]]


def test_history_clear(server, four_runs):
    r = server.post("/history", json={"clear": True})
    assert r.status_code == 200 and r.content == b""
    assert server.get_json("/history") == {}
    assert server.get_json(f"/history/{four_runs[0]}") == {}
    # New runs are recorded again after a clear.
    run = queue_and_collect(server, string_graph())
    assert _keys(server, "") == [run.prompt_id]


def test_history_clear_and_delete_together(server, four_runs):
    r = server.post("/history", json={"clear": True, "delete": [four_runs[0]]})
    assert r.status_code == 200
    assert server.get_json("/history") == {}


def test_history_does_not_affect_queue(server, four_runs):
    assert server.get_json("/queue") == {"queue_running": [], "queue_pending": []}
    server.post("/history", json={"clear": True})
    assert server.get_json("/prompt") == {"exec_info": {"queue_remaining": 0}}
