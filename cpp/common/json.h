// JSON type used throughout: insertion-ordered objects, because ComfyUI's responses are Python dicts
// whose key order clients see (history is insertion-ordered, node_info fields have a fixed order).
#pragma once
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
