#include "bindings/pyconv.h"

namespace comfy::py {

pyb::object to_py(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return pyb::none();
    case Json::value_t::boolean: return pyb::bool_(v.get<bool>());
    case Json::value_t::number_integer: return pyb::int_(v.get<int64_t>());
    case Json::value_t::number_unsigned: return pyb::int_(v.get<uint64_t>());
    case Json::value_t::number_float: return pyb::float_(v.get<double>());
    case Json::value_t::string: return pyb::str(v.get_ref<const std::string&>());
    case Json::value_t::array: {
      pyb::list l(v.size());
      size_t i = 0;
      for (const auto& e : v) l[i++] = to_py(e);
      return std::move(l);
    }
    case Json::value_t::object: {
      pyb::dict d;
      for (auto it = v.begin(); it != v.end(); ++it) d[pyb::str(it.key())] = to_py(it.value());
      return std::move(d);
    }
    default: return pyb::none();
  }
}

Json to_json(const pyb::handle& o) {
  if (o.is_none()) return nullptr;
  if (PyBool_Check(o.ptr())) return o.ptr() == Py_True;
  if (PyLong_Check(o.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o.ptr(), &overflow);
    if (!overflow) return static_cast<int64_t>(v);
    if (overflow > 0) {  // up to 2**64-1 (KSampler's seed range) as an unsigned integer
      unsigned long long u = PyLong_AsUnsignedLongLong(o.ptr());
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) return static_cast<uint64_t>(u);
      PyErr_Clear();
    }
    return PyFloat_AsDouble(o.ptr());  // beyond 64 bits: the nearest double
  }
  if (PyFloat_Check(o.ptr())) return PyFloat_AsDouble(o.ptr());
  if (PyUnicode_Check(o.ptr())) return pyb::cast<std::string>(o);
  if (PyDict_Check(o.ptr())) {
    Json out = Json::object();
    for (auto item : pyb::reinterpret_borrow<pyb::dict>(o)) {
      std::string k = PyUnicode_Check(item.first.ptr()) ? pyb::cast<std::string>(item.first)
                                                        : pyb::cast<std::string>(pyb::str(item.first));
      out[k] = to_json(item.second);
    }
    return out;
  }
  if (PyList_Check(o.ptr()) || PyTuple_Check(o.ptr())) {
    Json out = Json::array();
    for (auto e : o) out.push_back(to_json(e));
    return out;
  }
  if (PyBytes_Check(o.ptr())) return pyb::cast<std::string>(o);
  return pyb::cast<std::string>(pyb::str(o));
}

}  // namespace comfy::py
