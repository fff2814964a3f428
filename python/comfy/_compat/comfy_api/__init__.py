"""The `comfy_api` package custom nodes import (`comfy_api.latest`, `comfy_api.v0_0_2`, ...).

The app registers this package as sys.modules['comfy_api']; its submodules are then found
through __path__ under the public names. Importing it also registers that name (and the sibling
`comfy_execution` package it uses) and makes `comfy._compat.comfy_api.<sub>` resolve to the very
same module objects as `comfy_api.<sub>`, so a class never exists twice under two module names."""
import importlib
import importlib.abc
import importlib.util
import sys

_PUBLIC = "comfy_api"


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
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(self.public + fullname[len(self.private):]))


if __name__ != _PUBLIC:
    sys.modules.setdefault(_PUBLIC, sys.modules[__name__])
    if not any(isinstance(f, _AliasFinder) and f.private == __name__ + "." for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(__name__, _PUBLIC))
    if "comfy_execution" not in sys.modules:
        # The sibling compat package registers its public name when imported.
        importlib.import_module(__name__.rpartition(".")[0] + ".comfy_execution")
