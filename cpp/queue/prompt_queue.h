// The prompt queue, the running set and the history (spec §4). Owns its mutex and condition
// variable; every method is thread-safe. Items are ordered like ComfyUI's heap, by (number,
// prompt_id); GET /queue lists pending items in that order (ComfyUI shows raw heap order, which
// clients re-sort anyway). The listener runs after every change, outside the lock (it broadcasts
// the `status` message).
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.h"

namespace comfy {

struct QueueItem {
  Json number;  // int or float exactly as it will be shown
  std::string prompt_id;
  Json prompt;
  Json extra_data = Json::object();
  std::vector<std::string> outputs;

  double order() const { return number.get<double>(); }
  Json to_json() const;    // [number, prompt_id, prompt, extra_data, outputs_to_execute]
  void dump_to(std::string& out) const;  // py_dumps of to_json(), without copying the prompt
  Json into_json() &&;     // the same, moving the prompt in instead of copying it
};

struct HistoryStatus {
  std::string status_str;
  bool completed = false;
  Json messages = Json::array();
};

class PromptQueue {
 public:
  explicit PromptQueue(size_t max_history = 10000) : max_history_(max_history) {}
  void set_listener(std::function<void()> f);

  int64_t take_number();  // server.number: returns the counter and increments it
  int64_t peek_number() const;
  void put(QueueItem item);
  // Waits for an item; nullopt after the timeout, a flag or stop(). The item moves to running,
  // shared with the caller (the executor reads it without copying; nothing writes it until
  // task_done moves its prompt into the history).
  std::optional<std::pair<std::shared_ptr<QueueItem>, int64_t>> get(std::chrono::milliseconds timeout);
  void task_done(int64_t task_id, Json outputs, Json meta, HistoryStatus status);

  Json queue_json() const;
  std::string queue_dump() const;  // py_dumps(queue_json()), written straight from the items
  size_t remaining() const;  // pending + running
  bool delete_pending(const std::string& prompt_id);
  void wipe();

  Json history_json(std::optional<int64_t> max_items, std::optional<int64_t> offset) const;
  // The same, serialised like json.dumps straight from the stored entries (no copy of each entry;
  // GET /history with 10,000 entries is megabytes).
  std::string history_dump(std::optional<int64_t> max_items, std::optional<int64_t> offset) const;
  Json history_entry(const std::string& prompt_id) const;  // {} when unknown
  void delete_history(const std::string& prompt_id);
  void wipe_history();
  size_t history_size() const;

  void set_flag(const std::string& name, const Json& value);
  Json take_flags();
  void stop();

 private:
  void notify();
  // Held from a state change through its listener call, so `status` messages leave in the
  // order the queue changed (taken before mu_).
  std::mutex notify_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<QueueItem> pending_;  // kept sorted by (number, prompt_id)
  std::unordered_map<int64_t, std::shared_ptr<QueueItem>> running_;
  int64_t task_counter_ = 0;
  int64_t number_ = 0;
  std::list<std::pair<std::string, Json>> history_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Json>>::iterator> history_index_;
  size_t max_history_;
  Json flags_ = Json::object();
  bool stopped_ = false;
  std::function<void()> listener_;
};

}  // namespace comfy
