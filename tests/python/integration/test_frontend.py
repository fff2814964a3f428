"""The web UI's static files (spec §11): index.html with ComfyUI's no-cache headers at / and /api/,
assets with their MIME types, traversal refused, core extensions listed first in /extensions; the
workflow templates (split-package layout: exactly the manifest's files) at /templates and the node
docs at /docs; ComfyUI's cache_control headers on what the Python app serves too."""
import importlib.metadata
import importlib.resources
import os
import re
from pathlib import Path

import pytest
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
    assert core and all(x.startswith("/extensions/core/") for x in core)
    # Every core script comes before every pack script.
    assert listing == core + [x for x in listing if x.startswith("/extensions/testing_pack/")]
    assert "/extensions/testing_pack/ext.js" in listing
    assert requests.get(server.url(core[0]), timeout=10).status_code == 200


def _manifest_assets():
    from comfyui_workflow_templates import get_asset_path, iter_templates
    return {a.filename: get_asset_path(e.template_id, a.filename) for e in iter_templates() for a in e.assets}


split_templates = pytest.mark.skipif(
    tuple(int(x) for x in importlib.metadata.version("comfyui-workflow-templates").split(".")) < (0, 3, 0),
    reason="the legacy one-folder templates package is installed")


@split_templates
def test_templates_are_the_manifest_files(server):
    assets = _manifest_assets()
    index = server.get("/templates/index.json")
    assert index.status_code == 200 and index.content == Path(assets["index.json"]).read_bytes()
    assert index.headers["Content-Type"] == "application/json"
    assert index.headers["Cache-Control"] == "no-cache"  # an index*.json entry point
    assert isinstance(index.json(), list) and index.json()
    # The first file of every bundle folder (logo/ folders give names with a folder), and
    # index_logo.json, which frontend 1.58 asks for on every load.
    picks = {}
    for name, path in sorted(assets.items()):
        picks.setdefault(os.path.dirname(path), name)
    names = sorted(set(picks.values()) | {"index_logo.json"})
    assert any(n.startswith("logo/") for n in names) and len(names) >= 8, names
    for name in names:
        r = server.get("/templates/" + name)
        assert r.status_code == 200, name
        assert r.content == Path(assets[name]).read_bytes(), name
        if name.endswith(".webp"):
            assert r.headers["Content-Type"] == "image/webp"
            assert r.headers["Cache-Control"] == "public, max-age=86400"


@split_templates
def test_templates_outside_the_manifest_are_404(server):
    assets = _manifest_assets()
    folders = {os.path.dirname(p) for p in assets.values()}
    # Bundle folders hold files the manifest does not list: ComfyUI does not serve them.
    stray = sorted(f for d in folders for f in os.listdir(d)
                   if f not in assets and os.path.isfile(os.path.join(d, f)))
    assert stray
    for path in ("/templates/" + stray[0], "/templates/nope.json", "/templates/", "/templates/logo",
                 "/api/templates/index.json"):
        r = server.get(path)
        assert r.status_code == 404 and r.text == "404: Not Found", path
    img = server.get("/templates/missing-1.webp")
    assert img.status_code == 404 and img.headers["Cache-Control"] == "public, max-age=3600"


def test_docs_served(server):
    docs = Path(str(importlib.resources.files("comfyui_embedded_docs") / "docs"))
    r = server.get("/docs/KSampler/en.md")
    assert r.status_code == 200 and r.content == (docs / "KSampler" / "en.md").read_bytes()
    assert server.get("/docs/NoSuchNode/en.md").status_code == 404


def test_python_app_responses_get_cache_control(server):
    """The cache_control rules hold for what the Python app answers (pack statics here) as for
    the native routes: scripts and styles no-cache, images a day."""
    r = server.get("/extensions/testing_pack/ext.js")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    r = server.get("/extensions/testing_pack/missing.png")
    assert r.status_code == 404 and r.headers["Cache-Control"] == "public, max-age=3600"
