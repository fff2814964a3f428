// A node class as the native side sees it: a snapshot of what INPUT_TYPES() and the class
// attributes said (spec §6.10), taken by the Python runtime. Immutable once built; shared freely.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/json.h"

namespace comfy {

struct InputSpec {
  std::string name;
  std::string category;  // "required", "optional" or "hidden"
  Json type;             // type string, a combo option list, or the hidden marker string
  Json options = Json::object();  // second tuple element, {} when absent
  bool lazy = false;
  bool raw_link = false;
  bool custom_type = false;  // the type object overrides comparison: ask ValidationHooks
  Json config() const { return Json::array({type, options}); }
};

struct NodeDef {
  std::string class_type;
  std::vector<InputSpec> inputs;  // required, optional, hidden, each in declared order
  std::vector<Json> return_types;
  std::vector<bool> return_custom;  // per output: type object overrides comparison
  bool output_node = false;         // OUTPUT_NODE is True
  bool input_is_list = false;
  std::vector<bool> output_is_list;
  bool has_validate = false;
  std::vector<std::string> validate_params;  // parameter names of VALIDATE_INPUTS (incl. cls)
  bool validate_kwargs = false;
  bool has_is_changed = false;
  bool not_idempotent = false;
  bool has_unique_id = false;  // declares a hidden UNIQUE_ID
  bool has_check_lazy = false;  // instances have check_lazy_status
  bool is_async = false;        // FUNCTION is a coroutine function (scheduled first, like outputs)

  const InputSpec* find_input(const std::string& name) const {
    for (const auto& i : inputs)
      if (i.name == name) return &i;
    return nullptr;
  }
  bool validate_takes(const std::string& name) const {
    for (const auto& p : validate_params)
      if (p == name) return true;
    return false;
  }
};

// A Python-style exception surfaced to the native side (type is module-qualified like ComfyUI's
// full_type_name; builtins unqualified).
struct PyError : std::runtime_error {
  std::string type;
  Json traceback = Json::array();
  PyError(std::string t, const std::string& msg, Json tb = Json::array())
      : std::runtime_error(msg), type(std::move(t)), traceback(std::move(tb)) {}
};

class NodeDefSource {
 public:
  virtual ~NodeDefSource() = default;
  // nullptr for unknown classes. May throw PyError when INPUT_TYPES() raises.
  virtual std::shared_ptr<const NodeDef> get(const std::string& class_type) = 0;
  // Sources that keep definitions forget them: called before each validation and each prompt,
  // which see INPUT_TYPES as it answers then (ComfyUI calls it every time).
  virtual void reset_defs() {}
};

}  // namespace comfy
