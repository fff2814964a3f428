#include "graph/validate.h"

#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace comfy {
namespace {

Json make_error(const std::string& type, const std::string& message, const std::string& details, Json extra) {
  return Json{{"type", type}, {"message", message}, {"details", details}, {"extra_info", std::move(extra)}};
}

std::set<std::string> split_types(const std::string& s) {
  std::set<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t c = s.find(',', i);
    if (c == std::string::npos) c = s.size();
    std::string t = s.substr(i, c - i);
    size_t b = t.find_first_not_of(" \t\n\r"), e = t.find_last_not_of(" \t\n\r");
    out.insert(b == std::string::npos ? "" : t.substr(b, e - b + 1));
    i = c + 1;
  }
  return out;
}

bool is_link(const Json& v) { return v.is_array() && v.size() == 2 && v[0].is_string() && v[1].is_number(); }

// Python int()/float()/str()/bool() conversion of a JSON constant; throws PyError like Python.
Json convert(const Json& v, const std::string& t) {
  auto tname = [](const Json& x) -> std::string {
    switch (x.type()) {
      case Json::value_t::null: return "NoneType";
      case Json::value_t::array: return "list";
      case Json::value_t::object: return "dict";
      default: return "object";
    }
  };
  if (t == "INT") {
    if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
    if (v.is_number_integer() || v.is_number_unsigned()) return v;
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::isnan(d)) throw PyError("ValueError", "cannot convert float NaN to integer");
      if (std::isinf(d)) throw PyError("OverflowError", "cannot convert float infinity to integer");
      return static_cast<int64_t>(std::trunc(d));
    }
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
      std::string core = b == std::string::npos ? "" : s.substr(b, e - b + 1);
      std::string digits;
      for (char c : core) if (c != '_') digits += c;
      size_t pos = 0;
      bool ok = !digits.empty();
      int64_t n = 0;
      try {
        n = std::stoll(digits, &pos, 10);
      } catch (...) {
        ok = false;
      }
      if (!ok || pos != digits.size() || core.find("__") != std::string::npos || core.front() == '_' || core.back() == '_')
        throw PyError("ValueError", "invalid literal for int() with base 10: " + py_repr(v));
      return n;
    }
    throw PyError("TypeError", "int() argument must be a string, a bytes-like object or a real number, not '" + tname(v) + "'");
  }
  if (t == "FLOAT") {
    if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
      std::string core = b == std::string::npos ? "" : s.substr(b, e - b + 1);
      std::string lc;
      for (char c : core) lc += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lc == "nan" || lc == "+nan" || lc == "-nan") return std::numeric_limits<double>::quiet_NaN();
      if (lc == "inf" || lc == "+inf" || lc == "infinity" || lc == "+infinity") return std::numeric_limits<double>::infinity();
      if (lc == "-inf" || lc == "-infinity") return -std::numeric_limits<double>::infinity();
      size_t pos = 0;
      double d = 0;
      bool ok = !core.empty() && lc.find('x') == std::string::npos;
      try {
        d = std::stod(core, &pos);
      } catch (...) {
        ok = false;
      }
      if (!ok || pos != core.size()) throw PyError("ValueError", "could not convert string to float: " + py_repr(v));
      return d;
    }
    throw PyError("TypeError", "float() argument must be a string or a real number, not '" + tname(v) + "'");
  }
  if (t == "STRING") return py_str(v);
  if (t == "BOOLEAN") {
    switch (v.type()) {
      case Json::value_t::null: return false;
      case Json::value_t::boolean: return v;
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float: return v.get<double>() != 0.0;
      case Json::value_t::string:
      case Json::value_t::array:
      case Json::value_t::object: return !v.empty();
      default: return true;
    }
  }
  return v;
}

// Python's `a < b` for the numeric comparisons of min/max; raises TypeError for mixed kinds.
bool py_less(const Json& a, const Json& b, const char* op) {
  auto numeric = [](const Json& x) { return x.is_number() || x.is_boolean(); };
  auto num = [](const Json& x) { return x.is_boolean() ? (x.get<bool>() ? 1.0 : 0.0) : x.get<double>(); };
  if (numeric(a) && numeric(b)) return num(a) < num(b);
  if (a.is_string() && b.is_string()) return a.get<std::string>() < b.get<std::string>();
  auto tn = [](const Json& x) -> std::string {
    if (x.is_string()) return "str";
    if (x.is_null()) return "NoneType";
    if (x.is_array()) return "list";
    if (x.is_object()) return "dict";
    if (x.is_number_float()) return "float";
    return "int";
  };
  throw PyError("TypeError", std::string("'") + op + "' not supported between instances of '" + tn(a) + "' and '" + tn(b) + "'");
}

struct Memo {
  bool ok;
  Json errors;
};

class Validator {
 public:
  // ordered_json objects look keys up linearly; nodes are looked up through a hash index.
  Validator(Json& prompt, NodeDefSource& defs, ValidationHooks* hooks) : defs_(defs), hooks_(hooks) {
    for (auto it = prompt.begin(); it != prompt.end(); ++it) index_.emplace(it.key(), &it.value());
  }
  Json* node_ptr(const std::string& id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : it->second;
  }

  void remember(const std::string& id, bool ok, Json errors) {
    if (!memo_.count(id)) order_.push_back(id);
    memo_[id] = Memo{ok, std::move(errors)};
  }
  const std::vector<std::string>& order() const { return order_; }
  const Memo& memo(const std::string& id) const { return memo_.at(id); }
  bool has(const std::string& id) const { return memo_.count(id) > 0; }

  std::shared_ptr<const NodeDef> def_of(const std::string& id) {
    const Json* found = node_ptr(id);
    if (!found) throw PyError("KeyError", py_repr(Json(id)));
    const Json& node = *found;
    if (!node.is_object() || !node.contains("class_type")) throw PyError("KeyError", "'class_type'");
    const Json& ct = node["class_type"];
    auto d = ct.is_string() ? defs_.get(ct.get<std::string>()) : nullptr;
    if (!d) throw PyError("KeyError", py_repr(ct));
    return d;
  }

  // Returns ok; the memo holds the errors. Throws PyError for problems ComfyUI raises on.
  bool validate(const std::string& id);

 private:
  bool check_constant(const NodeDef& def, const InputSpec& spec, Json& inputs, Json& errors);
  void custom_validation(const NodeDef& def, const std::string& id, const Json& inputs, const Json& received, Json& errors);

  NodeDefSource& defs_;
  ValidationHooks* hooks_;
  std::unordered_map<std::string, Memo> memo_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, Json*> index_;
};

bool Validator::check_constant(const NodeDef& def, const InputSpec& spec, Json& inputs, Json& errors) {
  const std::string& x = spec.name;
  Json val = inputs[x];
  Json info = spec.config();
  try {
    if (val.is_object() && val.contains("__value__")) {
      val = val["__value__"];
      inputs[x] = val;
    }
    if (spec.type.is_string()) {
      const auto& t = spec.type.get_ref<const std::string&>();
      if (t == "INT" || t == "FLOAT" || t == "STRING" || t == "BOOLEAN") {
        val = convert(val, t);
        inputs[x] = val;
      }
    }
  } catch (const PyError& ex) {
    errors.push_back(make_error("invalid_input_type", "Failed to convert an input value to a " + py_str(spec.type) + " value",
                                x + ", " + py_str(val) + ", " + ex.what(),
                                {{"input_name", x}, {"input_config", info}, {"received_value", val}, {"exception_message", ex.what()}}));
    return false;
  }
  if (def.validate_takes(x) || def.validate_kwargs) return true;
  const Json& opts = spec.options;
  if (opts.is_object() && opts.contains("min") && py_less(val, opts["min"], "<")) {
    errors.push_back(make_error("value_smaller_than_min", "Value " + py_str(val) + " smaller than min of " + py_str(opts["min"]), x,
                                {{"input_name", x}, {"input_config", info}, {"received_value", val}}));
    return false;
  }
  if (opts.is_object() && opts.contains("max") && py_less(opts["max"], val, ">")) {
    errors.push_back(make_error("value_bigger_than_max", "Value " + py_str(val) + " bigger than max of " + py_str(opts["max"]), x,
                                {{"input_name", x}, {"input_config", info}, {"received_value", val}}));
    return false;
  }
  if (spec.type.is_array()) {
    bool found = false;
    for (const auto& o : spec.type) {
      if (o == val || (o.is_number() && val.is_number() && o.get<double>() == val.get<double>())) {
        found = true;
        break;
      }
    }
    if (!found) {
      Json cfg = info;
      std::string list_info;
      if (spec.type.size() > 20) {
        list_info = "(list of length " + std::to_string(spec.type.size()) + ")";
        cfg = nullptr;
      } else {
        list_info = py_str(spec.type);
      }
      errors.push_back(make_error("value_not_in_list", "Value not in list", x + ": '" + py_str(val) + "' not in " + list_info,
                                  {{"input_name", x}, {"input_config", cfg}, {"received_value", val}}));
      return false;
    }
  }
  return true;
}

void Validator::custom_validation(const NodeDef& def, const std::string& id, const Json& inputs, const Json& received,
                                  Json& errors) {
  if (!hooks_) return;
  auto results = hooks_->call_validate(def, id, inputs, received);
  // Names passed to the function, in ComfyUI's order: prompt inputs, then hidden ones.
  std::vector<std::string> passed;
  for (auto it = inputs.begin(); it != inputs.end(); ++it) {
    const auto* spec = def.find_input(it.key());
    bool declared = spec != nullptr;
    if (!declared && !is_link(it.value())) continue;  // undeclared constants are dropped
    if (def.validate_takes(it.key()) || def.validate_kwargs) passed.push_back(it.key());
  }
  for (const auto& spec : def.inputs)
    if (spec.category == "hidden" && (def.validate_takes(spec.name) || def.validate_kwargs)) passed.push_back(spec.name);
  if (def.validate_takes("input_types")) passed.push_back("input_types");
  for (const auto& x : passed) {
    for (const auto& r : results) {
      if (r.is_boolean() && r.get<bool>()) continue;
      std::string details = x;
      if (!(r.is_boolean() && !r.get<bool>())) details += " - " + py_str(r);
      errors.push_back(make_error("custom_validation_failed", "Custom validation failed for node", details, {{"input_name", x}}));
    }
  }
}

bool Validator::validate(const std::string& id) {
  if (has(id)) return memo(id).ok;
  auto def = def_of(id);
  Json& node = *node_ptr(id);
  if (!node.contains("inputs") || !node["inputs"].is_object()) node["inputs"] = Json::object();
  Json& inputs = node["inputs"];
  Json errors = Json::array();
  bool valid = true;
  Json received = Json::object();

  for (const auto& spec : def->inputs) {
    if (spec.category == "hidden") continue;
    const std::string& x = spec.name;
    if (!inputs.contains(x)) {
      if (spec.category == "required")
        errors.push_back(make_error("required_input_missing", "Required input is missing", x, {{"input_name", x}}));
      continue;
    }
    Json val = inputs[x];
    if (val.is_array()) {
      if (val.size() != 2) {
        errors.push_back(make_error("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", x,
                                    {{"input_name", x}, {"input_config", spec.config()}, {"received_value", val}}));
        continue;
      }
      std::string o_id = val[0].is_string() ? val[0].get<std::string>() : "";
      if (!val[0].is_string() || !node_ptr(o_id)) throw PyError("KeyError", py_repr(val[0]));
      auto src = def_of(o_id);
      if (!val[1].is_number_integer() && !val[1].is_number_unsigned())
        throw PyError("TypeError", std::string("tuple indices must be integers or slices, not ") +
                                       (val[1].is_number_float() ? "float" : val[1].is_string() ? "str" : "NoneType"));
      int64_t slot = val[1].get<int64_t>();
      int64_t n = static_cast<int64_t>(src->return_types.size());
      if (slot < 0) slot += n;
      if (slot < 0 || slot >= n) throw PyError("IndexError", "tuple index out of range");
      const Json& rtype = src->return_types[slot];
      received[x] = rtype;
      if (!def->validate_takes("input_types")) {
        bool ok = (spec.custom_type || src->return_custom[slot]) && hooks_
                      ? hooks_->types_match(*src, static_cast<size_t>(slot), *def, spec)
                      : types_compatible(rtype, spec.type);
        if (!ok) {
          errors.push_back(make_error("return_type_mismatch", "Return type mismatch between linked nodes",
                                      x + ", received_type(" + py_str(rtype) + ") mismatch input_type(" + py_str(spec.type) + ")",
                                      {{"input_name", x}, {"input_config", spec.config()}, {"received_type", rtype}, {"linked_node", val}}));
          continue;
        }
      }
      try {
        if (!validate(o_id)) valid = false;
      } catch (const PyError& ex) {
        valid = false;
        remember(o_id, false,
                 Json::array({make_error("exception_during_inner_validation", "Exception when validating inner node", ex.what(),
                                         {{"input_name", x}, {"input_config", spec.config()}, {"exception_message", ex.what()},
                                          {"exception_type", ex.type}, {"traceback", ex.traceback}, {"linked_node", val}})}));
      }
      continue;
    }
    check_constant(*def, spec, inputs, errors);
  }

  if (def->has_validate && (def->validate_params.size() > 0 || def->validate_kwargs))
    custom_validation(*def, id, inputs, received, errors);

  bool ok = errors.empty() && valid;
  remember(id, ok, errors);
  return ok;
}

// Marks every node on a dependency cycle with `dependency_cycle` (newer ComfyUI; 0.3.64 recursed
// until RecursionError). Iterative DFS: no recursion limit for long chains.
void mark_cycles(const Json& prompt, Validator& v) {
  std::unordered_map<std::string, int> color;  // 0 white, 1 on stack, 2 done
  for (auto it = prompt.begin(); it != prompt.end(); ++it) {
    if (color[it.key()] != 0) continue;
    struct Frame {
      std::string id;
      std::vector<std::string> next;
      size_t i = 0;
    };
    std::vector<Frame> stack;
    auto push = [&](const std::string& id) {
      Frame f{id, {}, 0};
      const Json& node = *v.node_ptr(id);
      if (node.is_object() && node.contains("inputs") && node["inputs"].is_object())
        for (const auto& val : node["inputs"])
          if (is_link(val) && v.node_ptr(val[0].get<std::string>())) f.next.push_back(val[0].get<std::string>());
      color[id] = 1;
      stack.push_back(std::move(f));
    };
    push(it.key());
    while (!stack.empty()) {
      auto& f = stack.back();
      if (f.i == f.next.size()) {
        color[f.id] = 2;
        stack.pop_back();
        continue;
      }
      std::string n = f.next[f.i++];
      int c = color[n];
      if (c == 0) {
        push(n);
      } else if (c == 1) {
        size_t start = stack.size() - 1;
        while (stack[start].id != n) --start;
        std::vector<std::string> cyc;
        for (size_t k = start; k < stack.size(); ++k) cyc.push_back(stack[k].id);
        std::string details;
        Json members = Json::array();
        for (const auto& id : cyc) {
          details += id + " (" + py_str(v.node_ptr(id)->value("class_type", Json(""))) + ") -> ";
          members.push_back(id);
        }
        details += n + " (" + py_str(v.node_ptr(n)->value("class_type", Json(""))) + ")";
        for (const auto& id : cyc)
          if (!v.has(id))
            v.remember(id, false, Json::array({make_error("dependency_cycle", "Dependency cycle detected", details,
                                                          {{"node_id", id}, {"cycle_nodes", members}})}));
      }
    }
  }
}
}  // namespace

bool types_compatible(const Json& received, const Json& expected) {
  if (received == expected) return true;
  if (!received.is_string() || !expected.is_string()) return false;
  auto a = split_types(received.get<std::string>());
  auto b = split_types(expected.get<std::string>());
  for (const auto& t : a)
    if (b.count(t)) return true;
  return false;
}

ValidationResult validate_prompt(Json& prompt, const std::optional<std::vector<std::string>>& partial_targets,
                                 NodeDefSource& defs, ValidationHooks* hooks) {
  ValidationResult res;
  if (!prompt.is_object()) {
    res.error = make_error("invalid_prompt", "Cannot execute because the prompt is not a JSON object.", "", Json::object());
    return res;
  }
  std::vector<std::string> outputs;
  for (auto it = prompt.begin(); it != prompt.end(); ++it) {
    const std::string& x = it.key();
    const Json& node = it.value();
    if (!node.is_object() || !node.contains("class_type")) {
      res.error = make_error("missing_node_type", "Cannot execute because a node is missing the class_type property.",
                             "Node ID '#" + x + "'", {{"node_id", x}, {"class_type", nullptr}, {"node_title", nullptr}});
      return res;
    }
    const Json& ct = node["class_type"];
    auto def = ct.is_string() ? defs.get(ct.get<std::string>()) : nullptr;
    if (!def) {
      Json title = ct;
      if (node.contains("_meta") && node["_meta"].is_object() && node["_meta"].contains("title")) title = node["_meta"]["title"];
      res.error = make_error("missing_node_type", "Cannot execute because node " + py_str(ct) + " does not exist.",
                             "Node ID '#" + x + "'", {{"node_id", x}, {"class_type", ct}, {"node_title", title}});
      return res;
    }
    if (def->output_node) {
      bool targeted = !partial_targets;
      if (partial_targets)
        for (const auto& t : *partial_targets) targeted = targeted || t == x;
      if (targeted) outputs.push_back(x);
    }
  }
  if (outputs.empty()) {
    res.error = make_error("prompt_no_outputs", "Prompt has no outputs", "", Json::object());
    return res;
  }

  Validator v(prompt, defs, hooks);
  mark_cycles(prompt, v);
  std::vector<std::pair<std::string, Json>> failed;
  for (const auto& o : outputs) {
    bool ok = false;
    Json reasons = Json::array();
    try {
      ok = v.validate(o);
      reasons = v.memo(o).errors;
    } catch (const PyError& ex) {
      reasons = Json::array({make_error("exception_during_validation", "Exception when validating node", ex.what(),
                                        {{"exception_type", ex.type}, {"traceback", ex.traceback}})});
      v.remember(o, false, reasons);
    }
    if (ok) {
      res.outputs.push_back(o);
      continue;
    }
    if (!reasons.empty()) failed.emplace_back(o, reasons);
    for (const auto& id : v.order()) {
      const auto& m = v.memo(id);
      if (m.ok || m.errors.empty()) continue;
      if (!res.node_errors.contains(id))
        res.node_errors[id] = {{"errors", m.errors}, {"dependent_outputs", Json::array()}, {"class_type", (*v.node_ptr(id))["class_type"]}};
      res.node_errors[id]["dependent_outputs"].push_back(o);
    }
  }
  if (res.outputs.empty()) {
    std::string details;
    for (const auto& [o, errs] : failed)
      for (const auto& e : errs) {
        if (!details.empty()) details += "\n";
        details += e["message"].get<std::string>() + ": " + e["details"].get<std::string>();
      }
    res.error = make_error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details, Json::object());
    return res;
  }
  res.ok = true;
  return res;
}

}  // namespace comfy
