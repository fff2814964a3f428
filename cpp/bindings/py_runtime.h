// NodeRuntime and ValidationHooks for Python node classes (V1), backed by the helper module
// comfy._runtime. Every entry point takes the GIL itself, so it may be called from the executor
// thread or from the Python thread. Node definitions are described once per validation and once
// per prompt (reset_defs), so INPUT_TYPES that list folders (LoadImage) or read a pack's state are
// always current.
#pragma once
#include <pybind11/pybind11.h>

#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "exec/runtime.h"
#include "graph/validate.h"

namespace comfy::py {
namespace pyb = pybind11;

class PythonRuntime : public NodeRuntime, public ValidationHooks {
 public:
  explicit PythonRuntime(pyb::object helpers);
  ~PythonRuntime() override;

  void reset_defs() override;  // forget described classes (next get() asks INPUT_TYPES again)
  std::shared_ptr<const NodeDef> get(const std::string& class_type) override;

  void begin_prompt(const QueueItem& item) override;
  void end_prompt() override;
  Json is_changed(const NodeCall& call, bool record) override;
  NodeResult execute(const NodeCall& call) override;
  std::vector<std::string> wait_async(double timeout_s) override;
  LazyCheck check_lazy(const NodeCall& call) override;
  NodeResult resolve_expansion(const NodeCall& call,
                               const std::unordered_map<std::string, std::shared_ptr<OutputHandle>>& sources) override;
  void retain_objects(const std::shared_ptr<const ObjectList>& keep) override;
  void clear_objects() override;
  void thread_started() override;
  void thread_stopping() override;

  bool types_match(const NodeDef& src, size_t slot, const NodeDef& dst, const InputSpec& in) override;
  std::vector<Json> call_validate(const NodeDef& def, const std::string& node_id, const Json& inputs,
                                  const Json& received_types) override;

 private:
  pyb::dict build_inputs(const NodeCall& call, pyb::list* missing = nullptr);
  NodeResult parse_result(const pyb::tuple& res);
  // A plain V1 class (see comfy._runtime._fast_info), decided once per class definition: what
  // it depends on (class attributes, hidden inputs) is what describe compares, so the answer holds
  // while the class's NodeDef is the same object.
  struct FastClass {
    bool ok = false;
    pyb::object cls, function;
    size_t outputs = 0;
    std::shared_ptr<const NodeDef> def;  // the definition it was decided for
  };
  const FastClass& fast_class(const std::string& class_type, const std::shared_ptr<const NodeDef>& def);
  // The node called straight from C++ when every input is one plain value and a tuple comes back
  // (no Python frame of ours in between); nullopt when the general path must run the node.
  std::optional<NodeResult> fast_execute(const NodeCall& call);
  std::shared_ptr<NodeDef> describe(const std::string& class_type);
  // The last description object of each class and the definition built from it (under the GIL).
  std::unordered_map<std::string, std::pair<pyb::object, std::shared_ptr<NodeDef>>> described_;
  pyb::object helpers_;
  PyThreadState* thread_state_ = nullptr;  // the executor thread's, kept for its life
  PyGILState_STATE gil_state_{};
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const NodeDef>> defs_;
  std::unordered_map<std::string, FastClass> fast_;  // executor thread, under the GIL
  pyb::object objects_, executing_var_, prefix_var_;  // comfy._runtime state, fetched once
  std::shared_ptr<const ObjectList> last_kept_;  // the last retain_objects set
  std::unordered_set<std::string> kept_ids_;
  bool objects_changed_ = false;  // an instance outside last_kept_ may exist (an expansion node)
  void note_instance(const std::string& node_id) {
    if (!objects_changed_ && !kept_ids_.count(node_id)) objects_changed_ = true;
  }
};

}  // namespace comfy::py
