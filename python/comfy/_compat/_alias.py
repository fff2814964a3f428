"""Compat packages live under comfy._compat but custom nodes import them by their public ComfyUI
names (`comfy_api`, `comfy_execution`). publish() registers the public name and makes
`comfy._compat.<pkg>.<sub>` resolve to the very same module objects as `<public>.<sub>`, so a class
never exists twice under two module names."""
import importlib
import importlib.abc
import importlib.util
import sys


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, private, public):
        self.private, self.public = private + ".", public + "."

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.private):
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(self.public + fullname[len(self.private):]))


def publish(private_name, public_name):
    """Called from the private package's __init__ (a no-op when imported under the public name)."""
    if private_name == public_name:
        return
    sys.modules.setdefault(public_name, sys.modules[private_name])
    if not any(isinstance(f, _AliasFinder) and f.private == private_name + "." for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(private_name, public_name))
