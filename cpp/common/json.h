// JSON type used throughout: insertion-ordered objects, because ComfyUI's responses are Python dicts
// whose key order clients see (history is insertion-ordered, node_info fields have a fixed order).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace comfy {
using Json = nlohmann::ordered_json;

// An ordered_json object is a vector of (key, value) pairs, and operator[] / emplace search it
// linearly. Where keys are known to be unique, append to that vector instead (reserve first:
// growing it copies every member, since the const key makes the pair's move constructor throwing).
using JsonMembers = std::vector<std::pair<const std::string, Json>>;
inline JsonMembers& json_members(Json& object) {
  return static_cast<JsonMembers&>(object.get_ref<Json::object_t&>());
}
// Appends a member whose key is known to be new; when the vector is full it grows by moving the
// values (the vector's own growth would deep-copy them).
inline void json_append(Json& object, std::string key, Json value) {
  auto& m = json_members(object);
  if (m.size() == m.capacity()) {
    JsonMembers grown;
    grown.reserve(m.size() * 2 + 2);
    for (auto& [k, v] : m) grown.emplace_back(k, std::move(v));
    m.swap(grown);
  }
  m.emplace_back(std::move(key), std::move(value));
}

// Equality that also requires equal types (1 and 1.0 differ: they serialise differently) and,
// unlike nlohmann's operator==, costs little per member. NaN is not equal to itself.
inline bool json_identical(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::object: {
      const auto& x = a.get_ref<const Json::object_t&>();
      const auto& y = b.get_ref<const Json::object_t&>();
      if (x.size() != y.size()) return false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
        if (i->first != j->first || !json_identical(i->second, j->second)) return false;
      return true;
    }
    case Json::value_t::array: {
      const auto& x = a.get_ref<const Json::array_t&>();
      const auto& y = b.get_ref<const Json::array_t&>();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!json_identical(x[i], y[i])) return false;
      return true;
    }
    case Json::value_t::string: return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case Json::value_t::boolean: return a.get<bool>() == b.get<bool>();
    case Json::value_t::number_integer: return a.get<int64_t>() == b.get<int64_t>();
    case Json::value_t::number_unsigned: return a.get<uint64_t>() == b.get<uint64_t>();
    case Json::value_t::number_float: return a.get<double>() == b.get<double>();
    case Json::value_t::null: return true;
    default: return a == b;
  }
}

// Serialises like Python's json.dumps(obj) with default arguments: ", " and ": " separators,
// ensure_ascii (\uXXXX escapes, surrogate pairs above the BMP), floats as Python's repr, and
// NaN/Infinity/-Infinity written as those bare words. Thread-safe (pure function).
std::string py_dumps(const Json& value);
void py_dumps_to(std::string& out, const Json& value);

// Python's repr() of a float (shortest round-trip digits, exponent past 1e16 or below 1e-4).
std::string py_float_repr(double v);

// Parses a request body; returns false (and leaves `out` untouched) on malformed JSON.
bool parse_json(const std::string& text, Json& out, std::string* error = nullptr);
}  // namespace comfy

namespace comfy {
// Python's repr()/str() of a JSON-shaped value (dicts, lists, str, int, float, bool, None), used
// where ComfyUI formats values into error messages.
std::string py_repr(const Json& v);
std::string py_str(const Json& v);
}  // namespace comfy
