// comfy._core: the private native module under the pure-Python `comfy` package.
#include <pybind11/pybind11.h>

namespace comfy::py {
void bind_server(pybind11::module_& m);
void bind_media(pybind11::module_& m);
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native server, queue and executor of comfy-native";
  comfy::py::bind_server(m);
  comfy::py::bind_media(m);
}
