"""The pack-facing half of comfy._user_routes: PromptServer.instance.user_manager
(get_request_user_id, get_request_user_filepath) and its in-place upgrade at add_routes time.
The HTTP routes themselves are covered black-box in tests/python/integration/test_userdata.py."""
import os
import types

import pytest

from comfy import _user_routes


def request(user=None):
    return types.SimpleNamespace(headers={} if user is None else {"comfy-user": user})


def args(multi_user=False):
    return types.SimpleNamespace(multi_user=multi_user)


def test_single_user_paths(folder_paths):
    um = _user_routes.UserManager(args())
    root = os.path.join(folder_paths.get_user_directory(), "default")
    assert os.path.isdir(root)  # created up front
    assert um.get_request_user_id(request("bob")) == "default"  # the header is ignored
    assert um.get_request_user_filepath(request(), None) == root
    assert um.get_request_user_filepath(request(), "workflows%2Fa.json") == os.path.join(root, "workflows", "a.json")
    assert os.path.isdir(os.path.join(root, "workflows"))  # parent created, as in ComfyUI
    assert um.get_request_user_filepath(request(), "x/y.json", create_dir=False) == os.path.join(root, "x", "y.json")
    assert not os.path.exists(os.path.join(root, "x"))
    for bad in ("../users.json", "..%2Fusers.json", "/etc/passwd", "a\\b", "a\x00b", "a\nb", "%2e%2e/x"):
        assert um.get_request_user_filepath(request(), bad) is None, bad
    # One decoding step here (aiohttp did the other): "%252e" stays a literal name inside the root.
    assert um.get_request_user_filepath(request(), "%252e%252e", create_dir=False) == os.path.join(root, "%2e%2e")
    with pytest.raises(KeyError):
        um.get_request_user_filepath(request(), "x", type="models")


def test_symlinks_leaving_the_root(folder_paths, tmp_path):
    um = _user_routes.UserManager(args())
    root = um.get_request_user_filepath(request(), None)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, os.path.join(root, "out"))
    os.symlink(outside / "f.json", os.path.join(root, "dangling.json"))
    os.makedirs(os.path.join(root, "real"))
    os.symlink(os.path.join(root, "real"), os.path.join(root, "inside"))
    assert um.get_request_user_filepath(request(), "out/new.json") is None
    assert um.get_request_user_filepath(request(), "dangling.json") is None
    assert um.get_request_user_filepath(request(), "inside/ok.json") == os.path.join(root, "inside", "ok.json")
    assert list(outside.iterdir()) == []


def test_multi_user(folder_paths):
    users_file = os.path.join(folder_paths.get_user_directory(), "users.json")
    os.makedirs(folder_paths.get_user_directory(), exist_ok=True)
    with open(users_file, "w") as f:
        f.write('{"alice_1": "Alice", "../x": "Evil"}')
    um = _user_routes.UserManager(args(multi_user=True))
    assert um.users == {"alice_1": "Alice", "../x": "Evil"}
    assert not os.path.exists(os.path.join(folder_paths.get_user_directory(), "default"))
    for headers_user in (None, "", "bob", "default"):
        with pytest.raises(KeyError):
            um.get_request_user_id(request(headers_user))
    assert um.get_request_user_filepath(request("alice_1"), "a.json") == os.path.join(
        folder_paths.get_user_directory(), "alice_1", "a.json")
    assert um.get_request_user_filepath(request("../x"), "a.json") is None
    user_id = um.add_user("  Dana  ")
    assert user_id.startswith("Dana_") and um.users[user_id] == "Dana"
    with open(users_file) as f:
        assert user_id in f.read()
    with pytest.raises(ValueError):
        um.add_user("   ")


def test_placeholder_manager_upgraded_in_place(folder_paths):
    from comfy._compat import server

    class FakeServer:
        def __init__(self):
            from aiohttp import web
            self.routes = web.RouteTableDef()
            self.app = web.Application()
            self.user_manager = server._UserManager()
            self.sockets = {}

    srv = FakeServer()
    kept = srv.user_manager  # what a pack captured at import time
    _user_routes.register(srv, args())
    try:
        assert srv.user_manager is kept and isinstance(kept, _user_routes.UserManager)
        assert kept.get_request_user_filepath(request(), "s.json").endswith(os.path.join("default", "s.json"))
        paths = {(r.method, r.path) for r in srv.routes}
        for expected in (("GET", "/users"), ("POST", "/users"), ("GET", "/settings"), ("POST", "/settings"),
                         ("GET", "/settings/{id}"), ("POST", "/settings/{id}"), ("GET", "/userdata"),
                         ("GET", "/v2/userdata"), ("GET", "/userdata/{file}"), ("POST", "/userdata/{file}"),
                         ("DELETE", "/userdata/{file}"), ("POST", "/userdata/{file}/move/{dest}"),
                         ("GET", "/i18n"), ("GET", "/workflow_templates")):
            assert expected in paths, expected
        assert not [p for _, p in paths if p.startswith("/internal")]  # a sub-app, not in the table
    finally:
        import logging
        root = logging.getLogger()
        for h in list(root.handlers):
            if isinstance(h, _user_routes.LogBuffer):
                root.removeHandler(h)


def test_merge_json_recursive():
    merge = _user_routes.merge_json_recursive
    assert merge({"a": {"x": 1, "l": [1]}, "b": 1}, {"a": {"y": 2, "l": [2]}, "b": {"z": 0}}) == {
        "a": {"x": 1, "l": [1, 2], "y": 2}, "b": {"z": 0}}
    assert merge([1], [2]) == [1, 2] and merge({"a": 1}, 5) == 5
