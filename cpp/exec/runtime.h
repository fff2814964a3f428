// The executor's only way to reach node code (architecture §4). Implemented once for Python
// nodes (bindings/py_runtime) and, later, once per native node. The executor thread calls these;
// implementations take whatever locks (the GIL) they need and release them before returning.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/json.h"
#include "graph/node_def.h"

namespace comfy {

struct QueueItem;

// Opaque outputs of one node: one list per output slot, one entry per list-mapped call.
struct OutputHandle {
  virtual ~OutputHandle() = default;
};

struct InputArg {
  const Json* constant = nullptr;          // a widget value from the prompt, or
  std::shared_ptr<OutputHandle> source;    // the linked node's outputs and the slot to take
  int slot = 0;
  bool missing = false;                    // a link whose source has not run (a lazy input): None
};

struct NodeCall {
  std::string node_id;
  std::string display_id;
  std::string class_type;
  std::shared_ptr<const NodeDef> def;
  std::vector<std::pair<std::string, InputArg>> inputs;  // prompt input order
};

struct NodeResult {
  // Pending: an async node whose tasks are still running; execute() is called again (without
  // new inputs being evaluated) once wait_async() reports the node, and then collects them.
  enum Kind { Ok, Error, Interrupted, Pending } kind = Ok;
  std::shared_ptr<OutputHandle> outputs;
  Json ui;     // the node's UI dict, null when it has none
  Json error;  // Error: {exception_message, exception_type, traceback, current_inputs}
  std::vector<std::string> block_messages;  // ExecutionBlocker messages met while mapping calls
  // Expansion (spec §6.6): the node returned new nodes; its outputs come after they ran.
  bool expand = false;
  Json new_nodes;                                          // id -> {class_type, inputs, override_display_id?}
  std::vector<std::pair<std::string, int>> expand_links;  // links in the results, resolved on re-entry
};

struct LazyCheck {
  NodeResult::Kind kind = NodeResult::Ok;
  std::vector<std::string> needed;  // unevaluated inputs check_lazy_status asked for
  Json error;
};

class NodeRuntime : public NodeDefSource {
 public:
  virtual void begin_prompt(const QueueItem& item) = 0;
  virtual void end_prompt() = 0;
  // IS_CHANGED on the class with constant inputs (links as None). Returns the JSON form of the
  // list of results; any exception yields NaN (ComfyUI: always re-execute). With `record`, the
  // result is also written into the prompt nodes see as PROMPT, as ComfyUI does.
  virtual Json is_changed(const NodeCall& call, bool record) = 0;
  virtual NodeResult execute(const NodeCall& call) = 0;
  // Runs pending async nodes (on the prompt's event loop) until one of them has finished or
  // `timeout_s` passed; returns the ids of the nodes whose tasks have all finished.
  virtual std::vector<std::string> wait_async(double timeout_s) = 0;
  // check_lazy_status on the node instance (list-mapped) with unevaluated lazy inputs as None.
  virtual LazyCheck check_lazy(const NodeCall& call) = 0;
  // Re-entry of an expanded node: its stored results with links replaced by the outputs of
  // `sources` (the link targets), merged like ordinary results.
  virtual NodeResult resolve_expansion(const NodeCall& call,
                                       const std::unordered_map<std::string, std::shared_ptr<OutputHandle>>& sources) = 0;
  // Node instances persist per (node id, class) while they stay in the prompt; drop the rest.
  // A re-queued equal prompt passes the same list again (the same pointer).
  using ObjectList = std::vector<std::pair<std::string, std::string>>;
  virtual void retain_objects(const std::shared_ptr<const ObjectList>& keep) = 0;
  virtual void clear_objects() = 0;
  // Called on the executor thread when it starts and before it ends (a Python runtime keeps one
  // thread state for the thread's life: creating one per GIL acquisition costs tens of µs).
  virtual void thread_started() {}
  virtual void thread_stopping() {}
};

}  // namespace comfy
