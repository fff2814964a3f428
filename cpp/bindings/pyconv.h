// JSON <-> Python conversion. Call with the GIL held.
#pragma once
#include <pybind11/pybind11.h>

#include "common/json.h"

namespace comfy::py {
namespace pyb = pybind11;
pyb::object to_py(const Json& v);
// dict/list/tuple/str/int/float/bool/None (and str subclasses as str); other objects as str(obj).
Json to_json(const pyb::handle& o);
}  // namespace comfy::py
