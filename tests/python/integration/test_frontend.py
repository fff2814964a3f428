"""The web UI's static files (spec §11): index.html with ComfyUI's no-cache headers at / and /api/,
assets with their MIME types, traversal refused, core extensions listed first in /extensions."""
import importlib.resources
import re
from pathlib import Path

import requests

WEB = Path(str(importlib.resources.files("comfyui_frontend_package") / "static"))


def test_index_served_with_no_cache_headers(server):
    for path in ("/", "/api/"):
        r = requests.get(server.url(path), timeout=10)
        assert r.status_code == 200
        assert r.content == (WEB / "index.html").read_bytes()
        assert r.headers["Content-Type"].startswith("text/html")
        assert (r.headers["Cache-Control"], r.headers["Pragma"], r.headers["Expires"]) == ("no-cache", "no-cache", "0")


def test_assets_types_and_bytes(server):
    index = (WEB / "index.html").read_text()
    js = re.search(r'(assets/index-[^"]+\.js)', index).group(1)
    r = requests.get(server.url("/" + js), timeout=30)
    assert r.status_code == 200 and r.content == (WEB / js).read_bytes()
    assert r.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"  # cache_control middleware for .js
    css = requests.get(server.url("/materialdesignicons.min.css"), timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_traversal_and_missing_files(server):
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd", "/nope.js"):
        r = requests.get(server.url(path), timeout=10)
        assert r.status_code == 404, path
        assert b"root:" not in r.content


def test_extensions_lists_core_first(server):
    listing = server.get_json("/extensions")
    core = [x for x in listing if not x.startswith("/extensions/testing_pack/")]
    assert core and all(x.startswith("/extensions/core/") or x.startswith("/extensions/") for x in core)
    assert listing.index("/extensions/testing_pack/ext.js") > listing.index(core[0])
    assert requests.get(server.url(core[0]), timeout=10).status_code == 200
