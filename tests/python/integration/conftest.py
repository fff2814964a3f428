"""Pytest fixtures for the black-box integration suite (helpers: comfy_harness.py).

Fixtures:
  server          fresh classic-cache server per test module
  cache_server    fresh server per test module for each cache mode
                  (classic, --cache-lru 10, --cache-none)
  server_factory  start extra servers that live until the end of the module
"""

import contextlib

import pytest

from comfy_harness import CACHE_MODES, ComfyServer, running_server


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server_factory(tmp_path_factory):
    """Factory: ``server_factory(extra_args, name)`` starts a server that lives
    until the end of the module."""
    stack = contextlib.ExitStack()

    def start(extra_args=(), name: str = "srv", cache_mode: str = "classic") -> ComfyServer:
        srv = stack.enter_context(
            running_server(tmp_path_factory.mktemp(name), extra_args, cache_mode))
        return srv

    with stack:
        yield start


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh classic-cache server per test module."""
    with running_server(tmp_path_factory.mktemp("classic"), [], "classic") as srv:
        yield srv


@pytest.fixture(scope="module", params=list(CACHE_MODES), ids=[f"cache-{k}" for k in CACHE_MODES])
def cache_server(request, tmp_path_factory):
    """A fresh server per test module for each cache mode (classic, LRU 10, none)."""
    mode = request.param
    with running_server(tmp_path_factory.mktemp(f"cache_{mode}"), CACHE_MODES[mode], mode) as srv:
        yield srv


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.when in ("call", "setup"):
        for name in ("server", "cache_server"):
            srv = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(srv, ComfyServer):
                rep.sections.append((f"server log tail ({name}, :{srv.port})", srv.log_tail(60)))


