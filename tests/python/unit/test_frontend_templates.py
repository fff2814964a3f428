"""comfy._frontend.templates_layout: which workflow-templates layout is served, decided by the
installed comfyui-workflow-templates version as ComfyUI does (before 0.3.0: one folder, a native
static mount; from 0.3.0: the manifest's files through the Python /templates route). The HTTP side
is covered black-box in tests/python/integration/test_frontend.py."""
import importlib.metadata

import pytest

from comfy import _frontend


@pytest.fixture
def layout(monkeypatch, tmp_path):
    """Fake an installed templates version (None: not installed) and a legacy folder."""
    folder = tmp_path / "templates"
    folder.mkdir()
    real_folder = _frontend._package_folder

    def use(version, legacy_folder=True):
        def fake_version(name):
            if name == "comfyui-workflow-templates":
                if version is None:
                    raise importlib.metadata.PackageNotFoundError(name)
                return version
            return importlib.metadata.version(name)

        def fake_folder(module, sub):
            if module == "comfyui_workflow_templates":
                return str(folder) if legacy_folder else None
            return real_folder(module, sub)

        monkeypatch.setattr(_frontend.importlib.metadata, "version", fake_version)
        monkeypatch.setattr(_frontend, "_package_folder", fake_folder)
        _frontend.templates_layout.cache_clear()
        return _frontend.templates_layout()

    yield use, str(folder)
    _frontend.templates_layout.cache_clear()


def test_legacy_versions_are_a_static_folder(layout):
    use, folder = layout
    for version in ("0.1.95", "0.2.9"):
        assert use(version) == ("legacy", folder)
        assert _frontend.static_mounts()[0] == ["/templates", folder]


def test_unparsable_or_missing_version_means_legacy(layout):
    use, folder = layout
    assert use("1.0.0rc1") == ("legacy", folder)  # ComfyUI keeps the legacy route then too
    assert use(None) == ("legacy", folder)
    assert use(None, legacy_folder=False) == (None, None)
    assert all(prefix != "/templates" for prefix, _ in _frontend.static_mounts())


def test_split_packages_are_the_manifest(layout):
    use, _ = layout
    from comfyui_workflow_templates import get_asset_path, iter_templates
    kind, assets = use("0.3.0")
    assert kind == "manifest"
    assert assets == {a.filename: get_asset_path(e.template_id, a.filename)
                      for e in iter_templates() for a in e.assets}
    assert "index.json" in assets and any(name.startswith("logo/") for name in assets)
    assert all(prefix != "/templates" for prefix, _ in _frontend.static_mounts())
