// comfy._core: the private native module under the pure-Python `comfy` package.
#include <malloc.h>
#include <pybind11/pybind11.h>

namespace comfy::py {
void bind_server(pybind11::module_& m);
void bind_media(pybind11::module_& m);
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native server, queue and executor of comfy-native";
  // Large response bodies (/object_info is ~2 MB, /history several) are built and copied a few
  // times per request. glibc serves such blocks with fresh mmaps and trims the heap eagerly, so
  // every copy paid a page fault per 4 KiB (a warm /object_info spent 8 ms, most of it faulting
  // pages in). Up to 32 MiB they now come from the heap, which keeps up to 128 MiB of free top
  // before returning it to the system: 8 -> 3 ms for that request.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  comfy::py::bind_server(m);
  comfy::py::bind_media(m);
}
