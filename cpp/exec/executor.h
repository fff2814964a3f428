// The prompt worker (spec §4, §6): one native thread that takes prompts from the queue and runs
// them, sending ComfyUI's messages through the hub. It reaches node code only via NodeRuntime.
// Interrupts and /free flags may be set from any thread.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "exec/cache.h"
#include "exec/execution_list.h"
#include "exec/runtime.h"
#include "queue/prompt_queue.h"
#include "ws/hub.h"

namespace comfy {

struct PromptRun;

class Executor {
 public:
  Executor(PromptQueue& queue, ws::Hub& hub, NodeRuntime& runtime, CacheMode mode, size_t lru_max);
  ~Executor();
  void start();  // with all signals blocked on the new thread
  void stop();   // joins

  // Global interrupt flag (comfy.model_management's): set by /interrupt, cleared at prompt start
  // and by whoever consumes it.
  void set_interrupt(bool v) { interrupt_.store(v); }
  bool interrupt_requested() const { return interrupt_.load(); }
  bool take_interrupt() { return interrupt_.exchange(false); }

  // For the on-connect replay: the display id of the executing node when `sid` is the client of
  // the running prompt.
  std::optional<std::string> executing_node_for(const std::string& sid) const;
  std::optional<std::string> current_prompt_id() const;
  std::optional<std::string> current_client_id() const;
  std::optional<std::string> last_node_id() const;

  // The global progress hook (spec §6.9): updates the node's progress_state entry and sends
  // progress_state, a type-4 preview (clients that announced supports_preview_metadata), `progress`,
  // then a type-1 preview (other clients), to the prompt's client or to everyone without one.
  // `node_id` empty means the executing node. Thread-safe. preview_format: 1 JPEG, 2 PNG, 0 none.
  // send_progress_message=false: the V3 API's set_progress (registry only, no `progress`).
  void progress(const std::string& node_id, const Json& value, const Json& max, int preview_format,
                const std::string& preview_bytes, bool send_progress_message = true);

 private:
  using Run = PromptRun;
  void loop();
  void run_prompt(const QueueItem& item, int64_t task_id);
  enum class Outcome { Success, Pending, Failure };
  std::optional<std::pair<std::string, NodeResult>> execute_list(Run& run);
  // Nodes are the run's dense indices (PromptRun::nodes).
  Outcome run_node(Run& run, ExecutionList& list, int n, NodeResult& failure);
  Outcome check_lazy(Run& run, ExecutionList& list, int n, const NodeCall& call, NodeResult& failure);
  Outcome expand(Run& run, ExecutionList& list, int n, NodeResult& r, NodeResult& failure);
  bool prepare_nodes(Run& run, const std::vector<int>& ns, bool whole_prompt);
  void report_end(Run& run, const std::optional<std::pair<std::string, NodeResult>>& failure);
  NodeCall build_call(Run& run, int n);
  const CacheEntry* cached(Run& run, int n);  // the node's cache entry, null when not cached
  void ex_block_message(Run& run, int n, const std::string& msg, const Json& executed);
  void process_flags();

  PromptQueue& queue_;
  ws::Hub& hub_;
  NodeRuntime& runtime_;
  OutputCache cache_;
  // The last queued prompt, its id index and (id, class) list, and its key inputs (class,
  // IS_CHANGED, id rule) and keys by node: a re-queued equal prompt reuses the index and list,
  // and with the same IS_CHANGED results the keys and the set the cache is trimmed to, instead
  // of recomputing them. `keys` is null when a key is unique (never to be reused); `version`
  // changes with the key set. Executor thread only.
  struct KeyMemo {
    Json prompt;
    std::shared_ptr<const std::unordered_map<std::string, int>> index;
    std::shared_ptr<const NodeRuntime::ObjectList> objects;
    std::vector<KeyInput> inputs;
    std::shared_ptr<const std::vector<std::string>> keys;
    std::unordered_set<std::string> keyset;
    uint64_t version = 0;
  };
  uint64_t key_versions_ = 0;
  std::optional<KeyMemo> key_memo_;
  std::atomic<bool> interrupt_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex state_mu_;
  std::optional<std::string> last_node_;
  Run* run_ = nullptr;  // the prompt being executed (its id and client), guarded by state_mu_
};

}  // namespace comfy
