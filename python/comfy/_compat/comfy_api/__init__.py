"""The `comfy_api` package custom nodes import (`comfy_api.latest`, `comfy_api.v0_0_2`, ...).

The app registers this package as sys.modules['comfy_api']; its submodules are then found
through __path__ under the public names. Importing it also registers that name (and the sibling
`comfy_execution` package it uses) and makes `comfy._compat.comfy_api.<sub>` resolve to the very
same module objects as `comfy_api.<sub>`, so a class never exists twice under two module names."""

import importlib
import sys

from comfy._compat._alias import publish

publish(__name__, "comfy_api")

if __name__ != "comfy_api" and "comfy_execution" not in sys.modules:
    # The sibling compat package registers its public name when imported.
    importlib.import_module(__name__.rpartition(".")[0] + ".comfy_execution")
