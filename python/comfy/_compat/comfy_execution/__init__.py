"""The `comfy_execution` package custom nodes import (graph_utils, graph, validation, utils).

The app registers this package as sys.modules['comfy_execution']; its submodules are then found
through __path__ under the public names. Importing it also registers that name and makes
`comfy._compat.comfy_execution.<sub>` resolve to the very same module objects as
`comfy_execution.<sub>`, so a class never exists twice under two module names."""

from comfy._compat._alias import publish

publish(__name__, "comfy_execution")
