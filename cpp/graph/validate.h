// Prompt validation, spec §5, with the newer `missing_node_type` and `dependency_cycle` errors
// (decisions.md). Mutates the prompt: coerced constants are written back. Runs wherever the
// caller is; it calls Python only through ValidationHooks (custom type comparison,
// VALIDATE_INPUTS), so the caller must run it where that is allowed (the Python thread).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "graph/node_def.h"

namespace comfy {

class ValidationHooks {
 public:
  virtual ~ValidationHooks() = default;
  // validate_node_input(received, expected) evaluated with Python's != on the real type objects.
  virtual bool types_match(const NodeDef& src, size_t slot, const NodeDef& dst, const InputSpec& in) = 0;
  // Calls the class's VALIDATE_INPUTS through the list-mapping rules; one result per call: true,
  // false, or a message. Linked inputs are passed as None. Throws PyError.
  virtual std::vector<Json> call_validate(const NodeDef& def, const std::string& node_id, const Json& inputs,
                                          const Json& received_types) = 0;
};

struct ValidationResult {
  bool ok = false;
  Json error;  // null on success
  std::vector<std::string> outputs;
  Json node_errors = Json::object();
};

// Plain-string form of validate_node_input (no custom type objects).
bool types_compatible(const Json& received, const Json& expected);

ValidationResult validate_prompt(Json& prompt, const std::optional<std::vector<std::string>>& partial_targets,
                                 NodeDefSource& defs, ValidationHooks* hooks);

}  // namespace comfy
