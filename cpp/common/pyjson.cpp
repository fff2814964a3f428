#include "common/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace comfy {
namespace {

void append_u16(std::string& out, unsigned cp) {
  static const char* hex = "0123456789abcdef";
  out += "\\u";
  out += hex[(cp >> 12) & 0xF];
  out += hex[(cp >> 8) & 0xF];
  out += hex[(cp >> 4) & 0xF];
  out += hex[cp & 0xF];
}

// Decodes one UTF-8 sequence starting at s[i]; returns U+FFFD for invalid input (Python would have
// refused to hold such a string; this keeps us from ever emitting invalid JSON).
unsigned decode_utf8(const std::string& s, size_t& i) {
  unsigned char c = s[i];
  int extra = c >= 0xF0 && c < 0xF8 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (c < 0x80) { ++i; return c; }
  if (extra < 0) { ++i; return 0xFFFD; }
  unsigned cp = c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if (i + k >= s.size()) { ++i; return 0xFFFD; }
    unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) { ++i; return 0xFFFD; }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += extra + 1;
  return cp;
}

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  const char* d = s.data();
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    size_t run = i;  // printable ASCII that needs no escape goes out in one append
    while (run < n) {
      unsigned char c = static_cast<unsigned char>(d[run]);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(d + i, run - i);
      i = run;
      if (i >= n) break;
    }
    unsigned char c = static_cast<unsigned char>(d[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    unsigned cp = decode_utf8(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_u16(out, 0xD800 + (cp >> 10));
      append_u16(out, 0xDC00 + (cp & 0x3FF));
    } else {
      append_u16(out, cp);
    }
  }
  out += '"';
}

// Python's repr() of a float: the shortest digits that round-trip (std::to_chars gives them), in
// exponent form when the exponent is below -4 or at least 16, else positional with ".0" if whole.
void append_float(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[64];
  char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
  const char* p = buf;
  if (*p == '-') {
    out += '-';
    ++p;
  }
  char digits[32];
  int nd = 0;
  for (; p < end && *p != 'e'; ++p)
    if (*p != '.') digits[nd++] = *p;
  int exp = 0;
  std::from_chars(p + 1 + (p[1] == '+'), end, exp);
  while (nd > 1 && digits[nd - 1] == '0') --nd;
  if (exp < -4 || exp >= 16) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out.append(digits + 1, static_cast<size_t>(nd - 1));
    }
    char eb[8];
    int len = std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out.append(eb, static_cast<size_t>(len));
  } else if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out.append(digits, static_cast<size_t>(nd));
  } else if (nd <= exp + 1) {
    out.append(digits, static_cast<size_t>(nd));
    out.append(static_cast<size_t>(exp + 1 - nd), '0');
    out += ".0";
  } else {
    out.append(digits, static_cast<size_t>(exp + 1));
    out += '.';
    out.append(digits + exp + 1, static_cast<size_t>(nd - exp - 1));
  }
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
}  // namespace

std::string py_float_repr(double v) {
  std::string out;
  append_float(out, v);
  return out;
}

void py_dumps_to(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: out += "null"; return;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case Json::value_t::number_integer: append_int(out, v.get<int64_t>()); return;
    case Json::value_t::number_unsigned: append_int(out, v.get<uint64_t>()); return;
    case Json::value_t::number_float: append_float(out, v.get<double>()); return;
    case Json::value_t::string: dump_string(out, v.get_ref<const std::string&>()); return;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        py_dumps_to(out, e);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        dump_string(out, it.key());
        out += ": ";
        py_dumps_to(out, it.value());
      }
      out += '}';
      return;
    }
    default: out += "null"; return;  // binary/discarded never reach the wire
  }
}

std::string py_dumps(const Json& value) {
  std::string out;
  out.reserve(64);
  py_dumps_to(out, value);
  return out;
}

namespace {
// nlohmann's DOM parser inserts every key with ordered_map::operator[], a linear search, so a
// 1,000-node prompt costs ~500,000 string compares. This builder appends keys to the object's
// vector and, once an object has more than a few keys, looks duplicates up in a hash index
// (duplicate keys keep their first position and the last value, as json.loads' dict does).
class OrderedDomBuilder {
 public:
  explicit OrderedDomBuilder(Json& root) : root_(root) {}
  bool null() { put(nullptr); return true; }
  bool boolean(bool v) { put(v); return true; }
  bool number_integer(Json::number_integer_t v) { put(v); return true; }
  bool number_unsigned(Json::number_unsigned_t v) { put(v); return true; }
  bool number_float(Json::number_float_t v, const std::string&) { put(v); return true; }
  bool string(std::string& v) { put(std::move(v)); return true; }
  bool binary(Json::binary_t& v) { put(Json::binary(std::move(v))); return true; }
  bool start_object(std::size_t) { open(put(Json::object()), true); return true; }
  bool start_array(std::size_t) { open(put(Json::array()), false); return true; }
  bool end_object() {
    // Members were collected in a vector with movable keys; ordered_map's own vector has const
    // keys, so growing it would deep-copy every member: fill it once, reserved.
    Frame& f = stack_.back();
    auto& obj = json_members(*f.value);
    obj.reserve(f.members.size());
    for (auto& m : f.members) obj.emplace_back(std::move(m.first), std::move(m.second));
    stack_.pop_back();
    return true;
  }
  bool end_array() { stack_.pop_back(); return true; }
  bool key(std::string& k) {
    Frame& f = stack_.back();
    if (!f.index) {
      for (auto& m : f.members)
        if (m.first == k) return slot_ = &m.second, true;
      if (f.members.size() >= 8) {
        f.index = std::make_unique<std::unordered_map<std::string, size_t>>();
        for (size_t i = 0; i < f.members.size(); ++i) f.index->emplace(f.members[i].first, i);
      }
    } else if (auto it = f.index->find(k); it != f.index->end()) {
      return slot_ = &f.members[it->second].second, true;
    }
    if (f.index) f.index->emplace(k, f.members.size());
    f.members.emplace_back(std::move(k), Json());
    slot_ = &f.members.back().second;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    error_ = ex.what();
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    Json* value;
    bool object;
    std::vector<std::pair<std::string, Json>> members;  // an object's members until it closes
    std::unique_ptr<std::unordered_map<std::string, size_t>> index;
  };
  // A value goes to the root, the open array, or the slot of the open object's last key. A value
  // that is itself a container is only written through its own frame until it closes, and the
  // parent's storage does not grow meanwhile, so the frame's pointer stays valid.
  Json* put(Json v) {
    if (stack_.empty()) return &(root_ = std::move(v));
    Frame& top = stack_.back();
    if (!top.object) {
      auto& arr = top.value->get_ref<Json::array_t&>();
      arr.push_back(std::move(v));
      return &arr.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }
  void open(Json* v, bool object) { stack_.push_back(Frame{v, object, {}, nullptr}); }

  Json& root_;
  std::vector<Frame> stack_;
  Json* slot_ = nullptr;
  std::string error_;
};
}  // namespace

bool parse_json(const std::string& text, Json& out, std::string* error) {
  Json parsed;
  OrderedDomBuilder builder(parsed);
  if (!Json::sax_parse(text, &builder)) {
    if (error) *error = builder.error();
    return false;
  }
  out = std::move(parsed);
  return true;
}
}  // namespace comfy

namespace comfy {
static std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(q)) { out += '\\'; out += static_cast<char>(c); }
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else out += static_cast<char>(c);
  }
  out += q;
  return out;
}

std::string py_repr(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      return py_float_repr(d);
    }
    case Json::value_t::string: return repr_string(v.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        out += py_repr(e);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(it.key()) + ": " + py_repr(it.value());
      }
      return out + "}";
    }
    default: return py_dumps(v);
  }
}

std::string py_str(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return py_repr(v);
}
}  // namespace comfy
