// Per-prompt state of the executor: the dynamic prompt (the queued nodes plus nodes added by
// expansion, each with its parent and display id), node definitions, cache keys, the progress
// registry and the message helpers of spec §3.3. Owned by the executor thread; progress may also
// be reported from other threads (progress_mu).
#pragma once
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/json.h"
#include "common/util.h"
#include "exec/runtime.h"
#include "queue/prompt_queue.h"
#include "ws/hub.h"

namespace comfy {

struct PromptRun {
  ws::Hub& hub;
  QueueItem& item;
  std::optional<std::string> client;
  Json messages = Json::array();

  // Node lookup: ordered_json objects search linearly, so both the queued nodes and the
  // ephemeral ones (from expansions) are indexed by id. Pointers into item.prompt stay valid:
  // nodes are only modified in place, never added or removed.
  std::unordered_map<std::string, Json*> index;
  std::unordered_map<std::string, Json> dyn;
  std::vector<std::string> dyn_order;
  std::unordered_map<std::string, std::string> parent, display;
  std::unordered_set<std::string> pending_expansion;      // re-entered to resolve their results
  std::unordered_map<std::string, std::vector<std::pair<std::string, int>>> expansion_links;
  std::unordered_map<std::string, Json> expansion_ui;     // UI an expanding node produced
  std::unordered_set<std::string> pending_async;           // async nodes whose tasks still run

  std::unordered_map<std::string, std::shared_ptr<const NodeDef>> defs;
  std::unordered_map<std::string, std::string> keys;
  std::vector<std::string> executed;

  struct Progress {
    std::string id;
    Json value, max;
    const char* state;
  };
  std::recursive_mutex progress_mu;
  std::vector<Progress> progress;  // first-touch order, like ComfyUI's registry dict
  std::unordered_map<std::string, size_t> progress_index;

  const std::string& pid() const { return item.prompt_id; }
  void build_index() {
    for (auto it = item.prompt.begin(); it != item.prompt.end(); ++it) index[it.key()] = &it.value();
  }
  void add_ephemeral(const std::string& id, Json node) {
    dyn_order.push_back(id);
    index[id] = &(dyn[id] = std::move(node));
  }
  bool has(const std::string& id) const { return index.count(id) > 0; }
  const Json& node(const std::string& id) const {
    static const Json empty = Json::object();
    auto it = index.find(id);
    return it == index.end() ? empty : *it->second;
  }

  const Json& inputs(const std::string& id) const {
    static const Json empty = Json::object();
    const Json& n = node(id);
    return n.contains("inputs") && n["inputs"].is_object() ? n["inputs"] : empty;
  }
  // Follows display ids to the end, as DynamicPrompt.get_display_node_id does (a node of a nested
  // expansion shows as the outermost expanding node unless an override says otherwise).
  std::string display_of(std::string id) const {
    for (auto it = display.find(id); it != display.end() && it->second != id; it = display.find(id)) id = it->second;
    return id;
  }
  Json parent_of(const std::string& id) const {
    auto it = parent.find(id);
    return it == parent.end() ? Json(nullptr) : Json(it->second);
  }
  std::string real_of(std::string id) const {
    for (auto it = parent.find(id); it != parent.end(); it = parent.find(id)) id = it->second;
    return id;
  }
  // A link [id, slot] to a node of this run.
  bool link_source(const Json& v, std::string& src, int& slot) const {
    if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number()) return false;
    src = v[0].get<std::string>();
    slot = v[1].get<int>();
    return has(src);
  }

  void add_message(const std::string& event, Json data, bool broadcast) {
    data["timestamp"] = now_ms();
    if (client || broadcast) hub.send_json(event, data, client);
    Json msg = Json::array();  // moved in: an initializer list would copy `data`
    auto& m = msg.get_ref<Json::array_t&>();
    m.reserve(2);
    m.emplace_back(event);
    m.push_back(std::move(data));
    messages.push_back(std::move(msg));
  }
  void to_client(const std::string& event, const Json& data) {
    if (client) hub.send_json(event, data, client);
  }
  Json meta(const std::string& id) const {
    return {{"node_id", id}, {"display_node", display_of(id)}, {"parent_node", parent_of(id)}, {"real_node_id", real_of(id)}};
  }

  void send_progress_state() {
    // ComfyUI resends every non-pending node each time (quadratic in the prompt size); build it
    // only when someone will receive it.
    if (!hub.has_targets(client)) return;
    // Ids in the registry are unique: appended (operator[] made every message quadratic).
    Json nodes = Json::object();
    auto& items = json_members(nodes);
    items.reserve(progress.size());
    for (const auto& p : progress)
      items.emplace_back(p.id, Json{{"value", p.value}, {"max", p.max}, {"state", p.state}, {"node_id", p.id},
                                    {"prompt_id", pid()}, {"display_node_id", display_of(p.id)},
                                    {"parent_node_id", parent_of(p.id)}, {"real_node_id", real_of(p.id)}});
    hub.send_json("progress_state", Json{{"prompt_id", pid()}, {"nodes", std::move(nodes)}}, client);
  }
  Progress& entry(const std::string& id) {
    auto [it, fresh] = progress_index.try_emplace(id, progress.size());
    if (fresh) progress.push_back(Progress{id, 0, 1, "pending"});
    return progress[it->second];
  }
  void start_progress(const std::string& id) {
    std::lock_guard lk(progress_mu);
    auto& e = entry(id);
    e.value = 0.0;
    e.max = 1.0;
    e.state = "running";
    send_progress_state();
  }
  void update_progress(const std::string& id, const Json& value, const Json& max) {
    std::lock_guard lk(progress_mu);
    auto& e = entry(id);
    e.state = "running";
    e.value = value;
    e.max = max;
    send_progress_state();
  }
  void finish_progress(const std::string& id) {
    std::lock_guard lk(progress_mu);
    auto& e = entry(id);
    e.state = "finished";
    e.value = e.max;
    send_progress_state();
  }
};

}  // namespace comfy
