"""Scale: a 5,000-node chain validates and executes (no recursion limits anywhere: validation,
cache keys, scheduling). Posted without a client id so no per-node progress_state is built."""
import time

import requests

from comfy_harness import wait_history


def test_five_thousand_node_chain(server):
    n = 5000
    prompt = {"0": {"class_type": "SemValue", "inputs": {"value": 7, "tag": "chain"}}}
    for i in range(1, n):
        prompt[str(i)] = {"class_type": "SemAddOne", "inputs": {"value": [str(i - 1), 0]}}
    prompt["out"] = {"class_type": "SemShow", "inputs": {"value": [str(n - 1), 0], "key": "scale"}}
    t0 = time.monotonic()
    r = requests.post(server.url("/prompt"), json={"prompt": prompt}, timeout=120)
    assert r.status_code == 200, r.text[:500]
    entry = wait_history(server, r.json()["prompt_id"], timeout=300)
    assert entry["status"]["status_str"] == "success", entry["status"]
    assert entry["outputs"]["out"]["value"] == [7 + n - 1]
    print(f"5,000-node chain: {time.monotonic() - t0:.2f} s end to end")
