"""The `comfy_execution` package custom nodes import (graph_utils, graph, validation, utils).

The app registers this package as sys.modules['comfy_execution']; its submodules are then found
through __path__ under the public names. Importing it also registers that name and makes
`comfy._compat.comfy_execution.<sub>` resolve to the very same module objects as
`comfy_execution.<sub>`, so a class never exists twice under two module names."""
import importlib
import importlib.abc
import importlib.util
import sys

_PUBLIC = "comfy_execution"


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
