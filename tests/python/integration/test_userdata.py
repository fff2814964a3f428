"""User, settings and userdata routes, /i18n, /workflow_templates and the /internal sub-app.

Spec: comfyui-api.md §1.2 (the /api mirror; /internal is not mirrored), §2.6, §2.7, §2.8, §13;
ecosystem.md §1.3 (what the frontend calls at start-up). ComfyUI's statuses and shapes; where
ComfyUI answers 500 by accident (unknown user on /userdata, malformed JSON) a clear 4xx. Hostile
paths run against a watcher that fingerprints the whole base directory before and after.
"""

import json
import json as _json
import os
import re
import time
import urllib.parse
from pathlib import Path

import pytest

from comfy_harness import WsClient, assert_python_json, raw_http

ROUTE_PREFIXES = ["", "/api"]
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def raw(port, method, target, body=b"", headers=None):
    return raw_http(port, method, target, body, headers)


class EofSession:
    """Stands in for ComfyServer.session: requests-style calls made with `raw`."""

    def request(self, method, url, params=None, data=None, json=None, headers=None, timeout=None):
        parts = urllib.parse.urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        if params:
            target += ("&" if "?" in target else "?") + urllib.parse.urlencode(params)
        hdrs = dict(headers or {})
        body = data if data is not None else b""
        if json is not None:
            body = _json.dumps(json)
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        return raw(parts.port, method.upper(), target, body, hdrs)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def close(self):
        pass


def eof(srv):
    srv.session = EofSession()
    return srv


@pytest.fixture(scope="module", autouse=True)
def _server_without_race(server):
    eof(server)


class Watcher:
    """Fingerprints of everything under `base` (the server log aside)."""

    def __init__(self, base: Path):
        self.base = base
        self.before = self.snapshot()

    def snapshot(self):
        seen = {}
        for dirpath, dirnames, filenames in os.walk(self.base, followlinks=False):
            d = Path(dirpath)
            for n in dirnames:
                p = d / n
                seen[str(p)] = "link:" + os.readlink(p) if p.is_symlink() else "dir"
            for n in filenames:
                p = d / n
                if p == self.base / "server.log":
                    continue
                if p.is_symlink():
                    seen[str(p)] = "link:" + os.readlink(p)
                    continue
                st = p.stat()
                seen[str(p)] = (st.st_size, st.st_mtime_ns, p.read_bytes())
        return seen

    def assert_unchanged(self):
        after = self.snapshot()
        assert after == self.before, {k: (self.before.get(k), after.get(k))
                                      for k in set(after) | set(self.before) if after.get(k) != self.before.get(k)}


def user_root(server, user="default") -> Path:
    return server.base / "user" / user


def put(server, name, data, prefix="", **params):
    return server.post(f"{prefix}/userdata/{name}", data=data, params=params)


FRONTEND_SETTINGS = {
    "Comfy.UseNewMenu": "Top",
    "Comfy.Workflow.WorkflowTabsPosition": "Topbar",
    "Comfy.TutorialCompleted": True,
    "Comfy.Locale": "en",
    "Comfy.NodeBadge.NodeIdBadgeMode": "Show all",
    "Comfy.Keybinding.NewBindings": [{"commandId": "Comfy.QueuePrompt", "combo": {"key": "Enter", "ctrl": True}}],
    "Comfy.Validation.Workflows": True,
}


# --------------------------------------------------------------------------
# Users (single-user mode) and start-up
# --------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ROUTE_PREFIXES)
def test_users_single_user(server, prefix):
    r = server.get(prefix + "/users")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.json() == {"storage": "server", "migrated": True}
    assert_python_json(r.text)
    assert user_root(server).is_dir()  # created at start-up


def test_frontend_startup_calls(server):
    """ecosystem.md §1.3, steps 2-5 with the frontend's empty Comfy-User header."""
    h = {"Comfy-User": ""}
    assert server.get("/api/users", headers=h).json() == {"storage": "server", "migrated": True}
    assert server.get("/api/i18n", headers=h).json() == {}
    assert server.get("/api/settings", headers=h).status_code == 200
    r = server.get("/api/userdata?dir=workflows&recurse=true&split=false&full_info=true", headers=h)
    assert (r.status_code, r.text) == (404, "Directory not found")  # the frontend reads 404 as []
    r = server.get("/api/userdata?dir=subgraphs&recurse=true&split=false&full_info=true", headers=h)
    assert r.status_code == 404


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------

def test_settings_round_trip(server):
    root = user_root(server)
    assert server.get_json("/settings") == {}
    assert server.get_json("/api/settings/Comfy.Locale") is None

    r = server.post("/api/settings", json=FRONTEND_SETTINGS)
    assert (r.status_code, r.content) == (200, b"")
    assert server.get_json("/settings") == FRONTEND_SETTINGS
    assert server.get_json("/api/settings") == FRONTEND_SETTINGS
    on_disk = (root / "comfy.settings.json").read_text()
    assert on_disk == json.dumps(FRONTEND_SETTINGS, indent=4)

    # POST /settings merges shallowly: new keys added, existing replaced, others kept.
    r = server.post("/settings", json={"Comfy.Locale": "fr", "Comfy.ColorPalette": "dark"})
    assert r.status_code == 200
    expected = dict(FRONTEND_SETTINGS, **{"Comfy.Locale": "fr", "Comfy.ColorPalette": "dark"})
    assert server.get_json("/settings") == expected
    assert list(server.get_json("/settings")) == list(expected)

    # One key at a time; any JSON value.
    for key, value in (("Comfy.LinkRenderMode", 2), ("Comfy.Sidebar.Location", "right"),
                       ("Comfy.Workflow.Persist", False), ("Comfy.Something.Null", None),
                       ("Comfy.Obj", {"a": [1, 2, {"b": "c"}]}), ("Comfy.ColorPalette", "light")):
        for prefix in ROUTE_PREFIXES:
            r = server.post(f"{prefix}/settings/{key}", data=json.dumps(value))
            assert (r.status_code, r.content) == (200, b"")
            assert server.get_json(f"{prefix}/settings/{key}") == value
            expected[key] = value
    assert server.get_json("/settings") == expected
    assert server.get_json("/settings/Comfy.Missing") is None
    r = server.get("/settings/Comfy.Missing")
    assert r.text == "null"

    # Comfy-User is ignored without --multi-user: everyone is "default".
    assert server.get_json("/settings", headers={"Comfy-User": "bob"}) == expected


def test_settings_bad_bodies_and_corrupt_file(server):
    before = server.get_json("/settings")
    for route in ("/settings", "/settings/Comfy.X", "/api/settings"):
        r = server.post(route, data=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400, route
    for body in ([1, 2], "text", 5, None):
        r = server.post("/settings", data=json.dumps(body))
        assert r.status_code == 400, body
    assert server.get_json("/settings") == before

    path = user_root(server) / "comfy.settings.json"
    saved = path.read_bytes()
    try:
        path.write_text("{corrupt")
        assert server.get_json("/settings") == {}
        assert server.get_json("/settings/Comfy.Locale") is None
        path.write_text("[1, 2]")  # valid JSON, not an object
        assert server.get_json("/settings") == {}
    finally:
        path.write_bytes(saved)
    assert server.get_json("/settings") == before


# --------------------------------------------------------------------------
# /userdata listing, read, write
# --------------------------------------------------------------------------

def test_userdata_listing_errors_and_empty(server):
    root = user_root(server)
    for prefix in ROUTE_PREFIXES:
        r = server.get(prefix + "/userdata")
        assert (r.status_code, r.text) == (400, "Directory not provided")
        r = server.get(prefix + "/userdata?dir=")
        assert (r.status_code, r.text) == (400, "Directory not provided")
        r = server.get(prefix + "/userdata?dir=nothing_here")
        assert (r.status_code, r.text) == (404, "Directory not found")
    (root / "empty_dir" / "inner").mkdir(parents=True)
    for query in ("", "&recurse=true", "&full_info=true", "&split=true", "&recurse=true&full_info=true&split=true"):
        assert server.get_json("/userdata?dir=empty_dir" + query) == []
    # A file named as the directory lists nothing (ComfyUI globs inside it).
    (root / "plain.txt").write_text("x")
    assert server.get_json("/userdata?dir=plain.txt") == []


def test_userdata_write_list_read(server):
    root = user_root(server)
    files = {
        "lib/b.json": b'{"b": 1}',
        "lib/A.json": b'{"a": 1}',
        "lib/sub/c.json": b"c" * 10,
        "lib/sub/deeper/d.bin": bytes(range(256)),
        "lib/.hidden.json": b"h",
        "lib/.hiddendir/e.json": b"e",
    }
    for prefix in ROUTE_PREFIXES:
        for name, data in files.items():
            r = put(server, name.replace("/", "%2F"), data, prefix)
            assert r.status_code == 200, (name, r.text)
            assert r.json() == name
            assert_python_json(r.text)
            assert (root / name).read_bytes() == data
            r = server.get(f"{prefix}/userdata/{name.replace('/', '%2F')}")
            assert r.status_code == 200 and r.content == data

    # Files only, hidden names skipped, relative to `dir`, forward slashes (glob's order: each
    # folder's files, then its sub-folders, depth first).
    assert server.get_json("/userdata?dir=lib") == ["A.json", "b.json"]
    assert server.get_json("/api/userdata?dir=lib&recurse=true") == [
        "A.json", "b.json", "sub/c.json", "sub/deeper/d.bin"]
    assert server.get_json("/userdata?dir=lib&recurse=TRUE&split=true") == [
        ["A.json", "A.json"], ["b.json", "b.json"], ["sub/c.json", "sub", "c.json"],
        ["sub/deeper/d.bin", "sub", "deeper", "d.bin"]]
    assert server.get_json("/userdata?dir=lib&split=true") == [["A.json", "A.json"], ["b.json", "b.json"]]
    assert server.get_json("/userdata?dir=lib%2Fsub&recurse=true") == ["c.json", "deeper/d.bin"]
    assert server.get_json("/userdata?dir=lib/sub") == ["c.json"]
    assert server.get_json("/userdata?dir=lib&recurse=yes") == ["A.json", "b.json"]  # only "true" counts

    info = server.get_json("/userdata?dir=lib&recurse=true&full_info=true&split=true")  # full_info wins
    assert [i["path"] for i in info] == ["A.json", "b.json", "sub/c.json", "sub/deeper/d.bin"]
    for item in info:
        assert list(item) == ["path", "size", "modified", "created"]
        st = os.stat(root / "lib" / item["path"])
        assert item["size"] == st.st_size == len(files["lib/" + item["path"]])
        assert item["modified"] == st.st_mtime and item["created"] == st.st_ctime
        assert isinstance(item["modified"], float)


def test_userdata_get_headers_and_errors(server):
    root = user_root(server)
    (root / "page.html").write_text("<script>alert(1)</script>")
    (root / "user.css").write_text("body{}")
    (root / "wf.json").write_text("{}")
    (root / "folder").mkdir(exist_ok=True)
    for prefix in ROUTE_PREFIXES:
        r = server.get(prefix + "/userdata/wf.json")
        assert r.status_code == 200 and r.text == "{}"
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Disposition"] == "attachment"
        r = server.get(prefix + "/userdata/page.html")
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Content-Disposition"] == "attachment"
        r = server.get(prefix + "/userdata/user.css")
        assert r.headers["Content-Type"].startswith("text/css") and r.headers["Content-Disposition"] == "inline"
        assert server.get(prefix + "/userdata/missing.json").status_code == 404
        assert server.get(prefix + "/userdata/nodir%2Fmissing.json").status_code == 404
        assert server.get(prefix + "/userdata/folder").status_code == 404
    assert not (root / "nodir").exists()  # reads create nothing


def test_userdata_post_overwrite_and_full_info(server):
    root = user_root(server)
    r = put(server, "ow.json", b"one", overwrite="false")
    assert (r.status_code, r.json()) == (200, "ow.json")
    r = put(server, "ow.json", b"two", overwrite="false")
    assert (r.status_code, r.text) == (409, "File already exists")
    assert (root / "ow.json").read_bytes() == b"one"
    r = server.post("/api/userdata/ow.json?overwrite=false", data=b"two")
    assert r.status_code == 409
    for value in ("true", "False", "0", "no", ""):  # anything but the string "false" overwrites
        r = put(server, "ow.json", value.encode() + b"!", overwrite=value)
        assert r.status_code == 200, value
        assert (root / "ow.json").read_bytes() == value.encode() + b"!"
    r = put(server, "ow.json", b"three")  # default: overwrite
    assert r.status_code == 200 and (root / "ow.json").read_bytes() == b"three"

    r = put(server, "sub%2Fdir%2Ffi.json", b"12345", full_info="true")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["path", "size", "modified", "created"]
    st = os.stat(root / "sub" / "dir" / "fi.json")
    assert body == {"path": "sub/dir/fi.json", "size": 5, "modified": st.st_mtime, "created": st.st_ctime}
    r = put(server, "sub%2Fdir%2Ffi.json", b"1", full_info="TRUE", overwrite="true")
    assert r.json()["size"] == 1
    r = put(server, "sub%2Fdir%2Ffi.json", b"1", full_info="yes")
    assert r.json() == "sub/dir/fi.json"

    # Empty and binary bodies are stored as sent; the body is not JSON-parsed.
    assert put(server, "empty.json", b"").status_code == 200 and (root / "empty.json").read_bytes() == b""
    assert put(server, "bin.dat", b"\x00\xff{").status_code == 200
    assert (root / "bin.dat").read_bytes() == b"\x00\xff{"
    # Writing onto a directory fails as ComfyUI's invalid-filename 400; nothing is left behind.
    (root / "adir").mkdir(exist_ok=True)
    r = put(server, "adir", b"x")
    assert r.status_code == 400 and "Invalid filename" in r.reason
    assert list((root / "adir").iterdir()) == []
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_userdata_delete(server):
    root = user_root(server)
    for prefix in ROUTE_PREFIXES:
        assert put(server, "del%2Fme.json", b"x").status_code == 200
        r = server.session.delete(server.url(prefix + "/userdata/del%2Fme.json"), timeout=10)
        assert (r.status_code, r.content) == (204, b"")
        assert not (root / "del" / "me.json").exists()
        assert server.session.delete(server.url(prefix + "/userdata/del%2Fme.json"), timeout=10).status_code == 404
        assert server.get(prefix + "/userdata/del%2Fme.json").status_code == 404
    (root / "keepdir").mkdir(exist_ok=True)
    assert server.session.delete(server.url("/userdata/keepdir"), timeout=10).status_code == 400
    assert (root / "keepdir").is_dir()


def test_userdata_move(server):
    root = user_root(server)
    assert put(server, "mv%2Fsrc.json", b"source").status_code == 200
    r = server.post("/userdata/mv%2Fsrc.json/move/mv%2Fdst.json")
    assert (r.status_code, r.json()) == (200, "mv/dst.json")
    assert (root / "mv" / "dst.json").read_bytes() == b"source" and not (root / "mv" / "src.json").exists()

    # Missing source: 404, whatever the destination.
    assert server.post("/userdata/mv%2Fsrc.json/move/mv%2Fx.json").status_code == 404
    assert server.post("/api/userdata/mv%2Fsrc.json/move/mv%2Fdst.json?overwrite=false").status_code == 404

    # Existing destination: 409 with overwrite=false (both kept), replaced otherwise.
    assert put(server, "mv%2Fother.json", b"other").status_code == 200
    r = server.post("/api/userdata/mv%2Fother.json/move/mv%2Fdst.json?overwrite=false")
    assert (r.status_code, r.text) == (409, "File already exists")
    assert (root / "mv" / "dst.json").read_bytes() == b"source"
    assert (root / "mv" / "other.json").read_bytes() == b"other"
    r = server.post("/userdata/mv%2Fother.json/move/mv%2Fdst.json?overwrite=true&full_info=true")
    st = os.stat(root / "mv" / "dst.json")
    assert r.json() == {"path": "mv/dst.json", "size": 5, "modified": st.st_mtime, "created": st.st_ctime}
    assert (root / "mv" / "dst.json").read_bytes() == b"other" and not (root / "mv" / "other.json").exists()

    # Into a folder that does not exist yet (created), and a workflow rename as the frontend does it.
    r = server.post("/userdata/mv%2Fdst.json/move/mv%2Fnew%2Fdeep%2Fz.json")
    assert r.json() == "mv/new/deep/z.json"
    assert (root / "mv" / "new" / "deep" / "z.json").read_bytes() == b"other"
    assert put(server, "workflows%2FMy%20Flow.json", b"{}").json() == "workflows/My Flow.json"
    r = server.post("/api/userdata/workflows%2FMy%20Flow.json/move/workflows%2FRenamed.json?overwrite=false&full_info=true")
    assert r.status_code == 200 and r.json()["path"] == "workflows/Renamed.json"
    assert sorted(p.name for p in (root / "workflows").iterdir()) == ["Renamed.json"]

    # A destination that is an existing folder is refused rather than moved into.
    (root / "mv" / "afolder").mkdir()
    r = server.post("/userdata/mv%2Fnew%2Fdeep%2Fz.json/move/mv%2Fafolder")
    assert r.status_code == 400
    assert (root / "mv" / "new" / "deep" / "z.json").exists() and list((root / "mv" / "afolder").iterdir()) == []


def test_v2_userdata(server_factory):
    srv = eof(server_factory(name="v2"))
    root = user_root(srv)
    assert srv.get_json("/v2/userdata") == []
    for name in ("workflows/b.json", "workflows/A.json", "workflows/sub/c.json", "Zeta.txt", "alpha.txt",
                 ".hidden", "Beta/x.json"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(name.encode())
    (root / "emptydir").mkdir()

    def st(name):
        s = os.stat(root / name)
        return {"size": s.st_size, "modified": s.st_mtime}

    expected = [
        {"name": "Beta", "path": "Beta", "type": "directory"},
        {"name": "emptydir", "path": "emptydir", "type": "directory"},
        {"name": "sub", "path": "workflows/sub", "type": "directory"},
        {"name": "workflows", "path": "workflows", "type": "directory"},
        {"name": ".hidden", "path": ".hidden", "type": "file", **st(".hidden")},
        {"name": "A.json", "path": "workflows/A.json", "type": "file", **st("workflows/A.json")},
        {"name": "alpha.txt", "path": "alpha.txt", "type": "file", **st("alpha.txt")},
        {"name": "b.json", "path": "workflows/b.json", "type": "file", **st("workflows/b.json")},
        {"name": "c.json", "path": "workflows/sub/c.json", "type": "file", **st("workflows/sub/c.json")},
        {"name": "x.json", "path": "Beta/x.json", "type": "file", **st("Beta/x.json")},
        {"name": "Zeta.txt", "path": "Zeta.txt", "type": "file", **st("Zeta.txt")},
    ]
    for prefix in ROUTE_PREFIXES:
        r = srv.get(prefix + "/v2/userdata")
        assert r.status_code == 200
        assert r.json() == expected
        assert_python_json(r.text)
        assert srv.get_json(prefix + "/v2/userdata?path=") == expected
    # `path` narrows the walk; entries stay relative to the user root.
    assert srv.get_json("/v2/userdata?path=workflows") == [
        {"name": "sub", "path": "workflows/sub", "type": "directory"},
        {"name": "A.json", "path": "workflows/A.json", "type": "file", **st("workflows/A.json")},
        {"name": "b.json", "path": "workflows/b.json", "type": "file", **st("workflows/b.json")},
        {"name": "c.json", "path": "workflows/sub/c.json", "type": "file", **st("workflows/sub/c.json")},
    ]
    assert srv.get_json("/v2/userdata?path=workflows%252Fsub") == [  # decoded once more, as ComfyUI does
        {"name": "c.json", "path": "workflows/sub/c.json", "type": "file", **st("workflows/sub/c.json")}]
    assert srv.get_json("/v2/userdata?path=emptydir") == []
    r = srv.get("/v2/userdata?path=nope")
    assert (r.status_code, r.text) == (404, "Requested path not found")
    r = srv.get("/v2/userdata?path=alpha.txt")
    assert (r.status_code, r.text) == (400, "Requested path is not a directory")


# --------------------------------------------------------------------------
# /i18n, /workflow_templates
# --------------------------------------------------------------------------

def test_i18n_and_templates_empty(server):
    for prefix in ROUTE_PREFIXES:
        r = server.get(prefix + "/i18n")
        assert (r.status_code, r.json()) == (200, {})
        r = server.get(prefix + "/workflow_templates")
        assert (r.status_code, r.json()) == (200, {})


@pytest.fixture(scope="module")
def pack_server(server_factory, tmp_path_factory):
    """A server with an extra custom_nodes folder holding packs with locales and example workflows."""
    packs = tmp_path_factory.mktemp("i18n_packs")

    def write(rel, value):
        p = packs / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(value if isinstance(value, str) else json.dumps(value))

    for pack in ("aa_pack", "bb_pack", "cc_pack"):
        write(f"{pack}/__init__.py", "NODE_CLASS_MAPPINGS = {}\n")
    write("aa_pack/locales/en/main.json", {"title": "A", "shared": {"x": 1, "list": [1]}})
    write("aa_pack/locales/en/nodeDefs.json", {"ANode": {"display_name": "A node"}})
    write("aa_pack/locales/en/commands.json", {})  # empty: not added
    write("aa_pack/locales/fr/main.json", {"title": "A-fr"})
    write("bb_pack/locales/en/main.json", {"title": "B", "shared": {"y": 2, "list": [2]}})
    write("bb_pack/locales/en/settings.json", {"BB.Setting": {"name": "B setting"}})
    write("bb_pack/locales/en/nodeDefs.json", {"BNode": {"display_name": "B node"}})
    write("bb_pack/locales/zh/main.json", "{broken")
    write("aa_pack/example_workflows/demo.json", {"nodes": []})
    write("aa_pack/example_workflows/second.json", {"nodes": [1]})
    write("aa_pack/example_workflows/notes.txt", "not a workflow")
    write("aa_pack/workflows/legacy.json", {})
    write("bb_pack/examples/ex.json", {"ex": True})
    write("cc_pack/misc/x.json", {})
    yaml = packs / "extra.yaml"
    yaml.write_text(f"extra:\n    custom_nodes: {packs}\n")
    return eof(server_factory(["--extra-model-paths-config", str(yaml)], name="packs"))


def test_i18n_merges_pack_locales(pack_server):
    expected = {
        "en": {"title": "B", "shared": {"x": 1, "list": [1, 2], "y": 2},
               "nodeDefs": {"ANode": {"display_name": "A node"}, "BNode": {"display_name": "B node"}},
               "settings": {"BB.Setting": {"name": "B setting"}}},
        "fr": {"title": "A-fr"},
        "zh": {},
    }
    for prefix in ROUTE_PREFIXES:
        r = pack_server.get(prefix + "/i18n")
        assert r.status_code == 200
        assert r.json() == expected
        assert_python_json(r.text)


def test_workflow_templates(pack_server):
    for prefix in ROUTE_PREFIXES:
        got = pack_server.get_json(prefix + "/workflow_templates")
        assert got == {"aa_pack": ["demo", "second", "legacy"], "bb_pack": ["ex"]}
    r = pack_server.get("/api/workflow_templates/aa_pack/demo.json")
    assert r.status_code == 200 and r.json() == {"nodes": []}
    assert pack_server.get_json("/api/workflow_templates/bb_pack/ex.json") == {"ex": True}
    assert pack_server.get("/api/workflow_templates/aa_pack/missing.json").status_code == 404
    assert pack_server.get("/workflow_templates/aa_pack/demo.json").status_code == 404  # /api only
    r = raw(pack_server.port, "GET", "/api/workflow_templates/aa_pack/..%2F__init__.py")
    assert r.status_code in (403, 404) and b"NODE_CLASS_MAPPINGS" not in r.content


# --------------------------------------------------------------------------
# /internal
# --------------------------------------------------------------------------

def test_internal_routes_not_mirrored(server):
    assert isinstance(server.get_json("/internal/logs"), str)
    for path in ("/api/internal/logs", "/api/internal/logs/raw", "/api/internal/folder_paths",
                 "/api/internal/files/output"):
        assert server.get(path).status_code == 404, path


def test_internal_folder_paths_and_files(server):
    fp = server.get_json("/internal/folder_paths")
    assert fp["checkpoints"] == [str(server.base / "models" / "checkpoints")]
    assert fp["custom_nodes"][-1] == str(server.base / "packs")
    assert all(isinstance(v, list) for v in fp.values())

    now = time.time()
    for i, name in enumerate(("old.png", "mid.png", "new.png")):
        p = server.output_dir / name
        p.write_bytes(b"x")
        os.utime(p, (now - 100 + i * 10, now - 100 + i * 10))
    (server.output_dir / "subdir").mkdir(exist_ok=True)
    got = server.get_json("/internal/files/output")
    assert [n for n in got if n.endswith(".png")] == ["new.png", "mid.png", "old.png"]
    assert "subdir" not in got
    assert isinstance(server.get_json("/internal/files/input"), list)
    assert server.get_json("/internal/files/temp") == []
    for bad in ("user", "models", "Output", "bogus"):
        r = server.get("/internal/files/" + bad)
        assert (r.status_code, r.json()) == (400, {"error": "Invalid directory type"})


def test_internal_logs_and_subscription(server):
    text = server.get_json("/internal/logs")
    assert "To see the GUI go to: http://127.0.0.1:" in text
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+ - ", text)
    raw_logs = server.get_json("/internal/logs/raw")
    assert list(raw_logs) == ["entries", "size"]
    assert raw_logs["entries"] and all(list(e) == ["t", "m"] for e in raw_logs["entries"])
    assert text == "".join(e["t"] + " - " + e["m"] for e in raw_logs["entries"])
    size = raw_logs["size"]
    assert list(size) == ["cols", "rows"] and isinstance(size["cols"], int) and isinstance(size["rows"], int)

    assert put(server, "logmv%2Fa.json", b"x").status_code == 200
    with WsClient(server, "logsub") as ws:
        r = server.session.patch(server.url("/internal/logs/subscribe"), json={"clientId": "logsub", "enabled": True},
                           timeout=10)
        assert (r.status_code, r.content) == (200, b"")
        assert server.post("/userdata/logmv%2Fa.json/move/logmv%2Fb.json").status_code == 200  # logs at INFO
        msg = ws.recv_until(lambda m: m.type == "logs", timeout=10)[-1]
        assert set(msg.data) == {"entries", "size"}
        assert any("moving" in e["m"] and "b.json" in e["m"] for e in msg.data["entries"])
        r = server.session.patch(server.url("/internal/logs/subscribe"), json={"clientId": "logsub", "enabled": False},
                           timeout=10)
        assert r.status_code == 200
        assert server.post("/userdata/logmv%2Fb.json/move/logmv%2Fc.json").status_code == 200
        assert not [m for m in ws.drain(0.5) if m.type == "logs"]
    assert any("logmv/c.json" in e["m"] for e in server.get_json("/internal/logs/raw")["entries"])
    for body in (b"{bad", b"{}", b'{"clientId": "x"}'):
        r = server.session.patch(server.url("/internal/logs/subscribe"), data=body, timeout=10)
        assert r.status_code == 400, body


# --------------------------------------------------------------------------
# Hostile paths
# --------------------------------------------------------------------------

LONG = "a" * 300
HOSTILE = [  # (method, route after the prefix, expected status)
    # GET /userdata/{file}
    ("GET", "/userdata/..%2Fsecret.txt", 403),
    ("GET", "/userdata/..%2F..%2Foutside%2Fsecret.txt", 403),
    ("GET", "/userdata/%2e%2e%2fsecret.txt", 403),
    ("GET", "/userdata/%252e%252e%252fsecret.txt", 403),  # decoded twice, as ComfyUI does
    ("GET", "/userdata/%2Fetc%2Fpasswd", 403),
    ("GET", "/userdata/..", 403),
    ("GET", "/userdata/%2E", 403),
    ("GET", "/userdata/..%5Csecret.txt", 403),
    ("GET", "/userdata/a%5Cb.json", 403),
    ("GET", "/userdata/legit.json%00.txt", 403),
    ("GET", "/userdata/legit%0D%0A.json", 403),
    ("GET", "/userdata/leak.json", 403),  # symlink to a file outside
    ("GET", "/userdata/leakdir%2Fsecret.txt", 403),  # symlinked folder pointing outside
    ("GET", "/userdata/..%2Fother%2Fprivate.json", 403),  # another user's root
    ("GET", "/userdata/..%2Fusers.json", 403),
    ("GET", "/userdata/workflows%2F..%2F..%2Fsecret.txt", 403),
    ("GET", "/userdata/..%2Fdefault2%2Fx.json", 403),  # shares a prefix with the root's name
    ("GET", "/userdata/" + LONG, 404),
    # POST /userdata/{file}
    ("POST", "/userdata/..%2Fevil.json", 403),
    ("POST", "/userdata/..%2F..%2Foutside%2Fevil.json", 403),
    ("POST", "/userdata/%2e%2e%2F%2e%2e%2Fevil.json", 403),
    ("POST", "/userdata/%252e%252e%252fevil.json", 403),
    ("POST", "/userdata/%2Ftmp%2Fevil.json", 403),
    ("POST", "/userdata/..%5Cevil.json", 403),
    ("POST", "/userdata/evil%00.json", 403),
    ("POST", "/userdata/evil%0A.json", 403),
    ("POST", "/userdata/leak.json", 403),  # would overwrite the secret through the link
    ("POST", "/userdata/leak.json?overwrite=false", 403),
    ("POST", "/userdata/dangling.json", 403),  # would create the link's target outside
    ("POST", "/userdata/leakdir%2Fevil.json", 403),
    ("POST", "/userdata/..%2Fother%2Fprivate.json", 403),
    ("POST", "/userdata/..%2Fusers.json", 403),
    ("POST", "/userdata/..", 403),
    ("POST", "/userdata/%2E", 403),
    ("POST", "/userdata/" + LONG + ".json", 400),
    ("POST", "/userdata/" + LONG + "%2Fb.json", 400),
    # DELETE /userdata/{file}
    ("DELETE", "/userdata/..%2Fsecret.txt", 403),
    ("DELETE", "/userdata/leak.json", 403),
    ("DELETE", "/userdata/leakdir%2Fsecret.txt", 403),
    ("DELETE", "/userdata/..%2Fother%2Fprivate.json", 403),
    ("DELETE", "/userdata/%2Ftmp", 403),
    ("DELETE", "/userdata/..", 403),
    ("DELETE", "/userdata/" + LONG, 404),
    # POST /userdata/{file}/move/{dest}
    ("POST", "/userdata/legit.json/move/..%2Fevil.json", 403),
    ("POST", "/userdata/legit.json/move/%2Ftmp%2Fevil.json", 403),
    ("POST", "/userdata/legit.json/move/leakdir%2Fevil.json", 403),
    ("POST", "/userdata/legit.json/move/leak.json", 403),
    ("POST", "/userdata/legit.json/move/dangling.json", 403),
    ("POST", "/userdata/legit.json/move/..%2Fother%2Fprivate.json", 403),
    ("POST", "/userdata/legit.json/move/a%5Cb.json", 403),
    ("POST", "/userdata/legit.json/move/x%00.json", 403),
    ("POST", "/userdata/legit.json/move/%2E", 403),
    ("POST", "/userdata/legit.json/move/" + LONG + ".json", 400),
    ("POST", "/userdata/..%2Fsecret.txt/move/stolen.json", 403),
    ("POST", "/userdata/leak.json/move/stolen.json", 403),
    ("POST", "/userdata/leakdir%2Fsecret.txt/move/stolen.json", 403),
    ("POST", "/userdata/..%2Fother%2Fprivate.json/move/stolen.json", 403),
    # GET /userdata?dir=
    ("GET", "/userdata?dir=..", 403),
    ("GET", "/userdata?dir=..%2Foutside", 403),
    ("GET", "/userdata?dir=%2Fetc&recurse=true", 403),
    ("GET", "/userdata?dir=leakdir", 403),
    ("GET", "/userdata?dir=..%2Fother", 403),
    ("GET", "/userdata?dir=%252e%252e", 403),
    ("GET", "/userdata?dir=a%5Cb", 403),
    ("GET", "/userdata?dir=x%00", 403),
    ("GET", "/userdata?dir=" + LONG, 404),
    # GET /v2/userdata?path=
    ("GET", "/v2/userdata?path=..", 400),
    ("GET", "/v2/userdata?path=..%2Foutside", 400),
    ("GET", "/v2/userdata?path=%2Fetc", 400),
    ("GET", "/v2/userdata?path=leakdir", 400),
    ("GET", "/v2/userdata?path=..%2Fother", 400),
    ("GET", "/v2/userdata?path=%252e%252e", 400),
    ("GET", "/v2/userdata?path=a%5Cb", 400),
    ("GET", "/v2/userdata?path=x%00", 400),
    ("GET", "/v2/userdata?path=" + LONG, 404),
]

HOSTILE_INTERNAL = [  # not mirrored under /api
    ("GET", "/internal/files/..", 400),
    ("GET", "/internal/files/%2e%2e", 400),
    ("GET", "/internal/files/..%2Fuser", 400),
    ("GET", "/internal/files/output%2F..", 400),
    ("GET", "/internal/files/output%2F..%2F..%2Foutside", 400),
    ("GET", "/internal/files/%2Fetc", 400),
    ("GET", "/internal/files/input%00", 400),
    ("GET", "/internal/files/user", 400),
    ("GET", "/internal/files/..%5Coutput", 400),
]


@pytest.fixture(scope="module")
def hostile_env(server_factory):
    srv = eof(server_factory(name="hostile"))
    base = srv.base
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"top secret")
    (base / "user" / "secret.txt").write_bytes(b"top secret too")
    (base / "user" / "users.json").write_text('{"default": "default"}')
    (base / "user" / "other").mkdir()
    (base / "user" / "other" / "private.json").write_bytes(b"top secret other")
    (base / "user" / "default2").mkdir()
    root = user_root(srv)
    (root / "legit.json").write_bytes(b"{}")
    (root / "workflows").mkdir()
    (root / "leak.json").symlink_to(outside / "secret.txt")
    (root / "leakdir").symlink_to(outside)
    (root / "dangling.json").symlink_to(outside / "created.json")
    (srv.output_dir / "out_leak.png").symlink_to(outside / "secret.txt")
    (srv.output_dir / "fine.png").write_bytes(b"png")
    return srv


def test_hostile_paths(hostile_env):
    srv = hostile_env
    watcher = Watcher(srv.base)
    cases = [(m, p + r, s) for p in ROUTE_PREFIXES for m, r, s in HOSTILE] + HOSTILE_INTERNAL
    assert len(cases) >= 20
    failures = []
    for method, target, status in cases:
        r = raw(srv.port, method, target, b"pwned" if method == "POST" else b"")
        if r.status_code != status:
            failures.append((method, target, r.status_code, status, r.content[:200]))
        assert b"top secret" not in r.content, (method, target)
    assert not failures, failures
    watcher.assert_unchanged()
    assert (srv.base / "outside" / "secret.txt").read_bytes() == b"top secret"
    assert not (srv.base / "outside" / "created.json").exists()
    assert srv.alive()


def test_listings_leave_out_links_that_leave_the_root(hostile_env):
    srv = hostile_env
    for prefix in ROUTE_PREFIXES:
        assert srv.get_json(prefix + "/userdata?dir=.&recurse=true") == ["legit.json"]
        names = [e["name"] for e in srv.get_json(prefix + "/v2/userdata")]
        assert names == ["workflows", "legit.json"]
    files = srv.get_json("/internal/files/output")
    assert "fine.png" in files and "out_leak.png" not in files


# --------------------------------------------------------------------------
# --multi-user
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def multi(server_factory, tmp_path_factory):
    users_dir = tmp_path_factory.mktemp("mu") / "user"
    users_dir.mkdir()
    (users_dir / "users.json").write_text(json.dumps({"alice_1": "Alice", "bob_2": "Bob", "../escape": "Evil"}))
    (users_dir.parent / "escape").mkdir()
    (users_dir.parent / "escape" / "loot.json").write_bytes(b"top secret escape")
    srv = eof(server_factory(["--multi-user", "--user-directory", str(users_dir)], name="multi"))
    srv.users_dir = users_dir
    return srv


def as_user(user):
    return {"Comfy-User": user}


def test_multi_user_users_listing(multi):
    for prefix in ROUTE_PREFIXES:
        r = multi.get(prefix + "/users")
        assert r.json() == {"storage": "server", "users": {"alice_1": "Alice", "bob_2": "Bob", "../escape": "Evil"}}
    assert not (multi.users_dir / "default").exists()  # no default user in multi-user mode


def test_multi_user_unknown_or_missing_user(multi):
    watcher = Watcher(multi.users_dir.parent)
    for headers in ({}, as_user("nobody"), as_user(""), as_user("default"), as_user("Alice")):
        for prefix in ROUTE_PREFIXES:
            assert multi.get(prefix + "/settings", headers=headers).status_code == 401
            assert multi.get(prefix + "/settings/Comfy.Locale", headers=headers).status_code == 401
            assert multi.post(prefix + "/settings", json={"a": 1}, headers=headers).status_code == 401
            r = multi.get(prefix + "/v2/userdata", headers=headers)
            assert (r.status_code, r.text) == (403, "Invalid user specified in request")
            assert multi.get(prefix + "/userdata?dir=workflows", headers=headers).status_code == 403
            assert multi.get(prefix + "/userdata/a.json", headers=headers).status_code == 403
            assert multi.post(prefix + "/userdata/a.json", data=b"x", headers=headers).status_code == 403
    watcher.assert_unchanged()


def test_multi_user_id_escaping_the_user_directory(multi):
    watcher = Watcher(multi.users_dir.parent)
    h = as_user("../escape")
    for prefix in ROUTE_PREFIXES:
        assert multi.get(prefix + "/settings", headers=h).status_code == 403
        assert multi.post(prefix + "/settings", json={"a": 1}, headers=h).status_code == 403
        assert multi.get(prefix + "/v2/userdata", headers=h).status_code == 400
        assert multi.get(prefix + "/userdata?dir=.", headers=h).status_code == 403
        for method, route in (("GET", "/userdata/loot.json"), ("POST", "/userdata/evil.json"),
                              ("DELETE", "/userdata/loot.json"), ("POST", "/userdata/loot.json/move/x.json")):
            r = raw(multi.port, method, prefix + route, b"pwned", headers=h)
            assert r.status_code == 403 and b"top secret" not in r.content, (method, route)
    watcher.assert_unchanged()


def test_multi_user_isolation(multi):
    alice, bob = as_user("alice_1"), as_user("bob_2")
    assert multi.get_json("/v2/userdata", headers=bob) == []  # no root yet
    assert multi.post("/api/settings", json={"Comfy.Locale": "fr"}, headers=alice).status_code == 200
    assert multi.get_json("/settings", headers=alice) == {"Comfy.Locale": "fr"}
    assert multi.get_json("/settings", headers=bob) == {}
    assert multi.get_json("/settings/Comfy.Locale", headers=bob) is None
    r = multi.post("/userdata/workflows%2Fprivate.json", data=b"alice only", headers=alice)
    assert r.json() == "workflows/private.json"
    assert (multi.users_dir / "alice_1" / "workflows" / "private.json").read_bytes() == b"alice only"
    assert multi.get("/userdata/workflows%2Fprivate.json", headers=alice).content == b"alice only"

    watcher = Watcher(multi.users_dir / "alice_1")
    assert multi.get("/userdata/workflows%2Fprivate.json", headers=bob).status_code == 404
    assert multi.get("/userdata?dir=workflows", headers=bob).status_code == 404
    for method, route, status in (
            ("GET", "/userdata/..%2Falice_1%2Fworkflows%2Fprivate.json", 403),
            ("POST", "/userdata/..%2Falice_1%2Fworkflows%2Fprivate.json", 403),
            ("DELETE", "/userdata/..%2Falice_1%2Fworkflows%2Fprivate.json", 403),
            ("POST", "/userdata/..%2Falice_1%2Fworkflows%2Fprivate.json/move/mine.json", 403),
            ("GET", "/userdata?dir=..%2Falice_1&recurse=true", 403),
            ("GET", "/v2/userdata?path=..%2Falice_1", 400),
            ("GET", "/userdata/..%2Fusers.json", 403)):
        r = raw(multi.port, method, route, b"pwned", headers=bob)
        assert r.status_code == status and b"alice only" not in r.content, (method, route, r.status_code)
    watcher.assert_unchanged()

    # Bob's own files live in his root only.
    assert multi.post("/userdata/workflows%2Fprivate.json", data=b"bob", headers=bob).status_code == 200
    assert multi.get("/userdata/workflows%2Fprivate.json", headers=alice).content == b"alice only"
    assert multi.get("/userdata/workflows%2Fprivate.json", headers=bob).content == b"bob"
    assert [e["path"] for e in multi.get_json("/v2/userdata", headers=bob)] == ["workflows", "workflows/private.json"]


def test_multi_user_create_users(multi):
    r = multi.post("/users", json={"username": "Carol Q. Public"})
    assert r.status_code == 200
    user_id = r.json()
    assert re.fullmatch("Carol-Q-Public_" + UUID, user_id)
    assert_python_json(r.text)
    on_disk = json.loads((multi.users_dir / "users.json").read_text())
    assert on_disk[user_id] == "Carol Q. Public" and on_disk["alice_1"] == "Alice"
    assert multi.get_json("/api/users")["users"][user_id] == "Carol Q. Public"
    # The new user is usable straight away.
    assert multi.post("/settings/Comfy.Locale", json="de", headers=as_user(user_id)).status_code == 200
    assert multi.get_json("/settings", headers=as_user(user_id)) == {"Comfy.Locale": "de"}

    r = multi.post("/api/users", json={"username": "Carol Q. Public"})
    assert (r.status_code, r.json()) == (400, {"error": "Duplicate username."})
    r = multi.post("/users", json={"username": "Alice"})
    assert (r.status_code, r.json()) == (400, {"error": "Duplicate username."})
    for body in ({"username": "   "}, {"username": ""}):
        r = multi.post("/users", json=body)
        assert (r.status_code, r.json()) == (400, {"error": "username not provided"})
    for body in ({}, {"username": 5}, [1]):
        assert multi.post("/users", json=body).status_code == 400
    assert multi.post("/users", data=b"{oops").status_code == 400
    r = multi.post("/users", json={"username": "../../x y"})
    assert re.fullmatch("-x-y_" + UUID, r.json())
    assert len(multi.get_json("/users")["users"]) == 5
