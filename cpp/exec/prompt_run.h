// Per-prompt state of the executor: the dynamic prompt (the queued nodes plus nodes added by
// expansion, each with its parent and display id), node definitions, cache keys, the progress
// registry and the message helpers of spec §3.3. Owned by the executor thread; progress may also
// be reported from other threads (progress_mu).
#pragma once
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/json.h"
#include "common/util.h"
#include "exec/cache.h"
#include "exec/runtime.h"
#include "queue/prompt_queue.h"
#include "ws/hub.h"

namespace comfy {

struct PromptRun {
  PromptRun(ws::Hub& h, const QueueItem& i) : hub(h), item(i) {}
  ws::Hub& hub;
  const QueueItem& item;  // shared with /queue readers: read only
  std::optional<std::string> client;
  Json messages = Json::array();

  // Nodes by dense index: the queued ones in prompt order, then the ones expansions added, in
  // the order they were added. Everything per node lives in vectors; only ids from messages,
  // links and node code are looked up by string. The queued nodes' id index and keys are shared
  // with the executor's memo (a re-queued equal prompt reuses them, see Executor::KeyMemo);
  // expansions' nodes have their own. Appended to on the executor thread under progress_mu
  // (progress may be reported from other threads).
  struct Node {
    std::string id;
    const Json* json;    // the node: {"class_type", "inputs", ...}; queued ones point into item.prompt
    const Json* inputs;  // its "inputs" object, or an empty object
    std::shared_ptr<const NodeDef> def;  // null: a class the runtime does not know
    int progress = -1;                   // its entry in `progress`, -1 before it has one
  };
  using Index = std::unordered_map<std::string, int>;
  using Keys = std::vector<std::string>;
  std::vector<Node> nodes;
  size_t queued = 0;
  std::shared_ptr<const Index> queued_index;
  std::shared_ptr<const Keys> queued_keys;  // cache key per queued node
  std::shared_ptr<const NodeRuntime::ObjectList> objects;  // (id, class) of the queued nodes
  Index added_index;
  Keys added_keys;                          // "" until computed
  std::deque<Json> dyn;  // storage of the nodes expansions added (stable addresses)
  // Cache entries of the queued nodes found when the prompt started, null for misses. They stay
  // valid for the whole run: the cache erases entries only between prompts.
  std::vector<const CacheEntry*> hits;
  std::unordered_map<std::string, std::string> parent, display;  // of nodes expansions added
  std::unordered_set<std::string> pending_expansion;      // re-entered to resolve their results
  std::unordered_map<std::string, std::vector<std::pair<std::string, int>>> expansion_links;
  std::unordered_map<std::string, Json> expansion_ui;     // UI an expanding node produced
  std::unordered_set<std::string> pending_async;           // async nodes whose tasks still run
  std::vector<std::string> executed;

  struct Progress {
    std::string id;
    Json value, max;
    const char* state;
  };
  std::recursive_mutex progress_mu;
  std::vector<Progress> progress;  // first-touch order, like ComfyUI's registry dict
  std::unordered_map<std::string, size_t> progress_index;  // ids that are not nodes of the run

  const std::string& pid() const { return item.prompt_id; }
  int add_node(const std::string& id, const Json& n) {
    static const Json no_inputs = Json::object();
    static const std::string kInputs = "inputs";
    auto in = n.is_object() ? n.find(kInputs) : n.end();
    int i = static_cast<int>(nodes.size());
    nodes.push_back(Node{id, &n, in != n.end() && in->is_object() ? &*in : &no_inputs, nullptr});
    return i;
  }
  // The queued nodes, and their id index: `reuse` (the memo's, for an equal prompt) or a new one.
  void add_queued(std::shared_ptr<const Index> reuse) {
    nodes.reserve(item.prompt.size());
    for (auto it = item.prompt.begin(); it != item.prompt.end(); ++it) add_node(it.key(), it.value());
    queued = nodes.size();
    if (!reuse) {
      auto index = std::make_shared<Index>();
      index->reserve(queued);
      for (size_t i = 0; i < queued; ++i) index->emplace(nodes[i].id, static_cast<int>(i));
      reuse = std::move(index);
    }
    queued_index = std::move(reuse);
    progress.reserve(queued);
  }
  std::shared_ptr<const NodeRuntime::ObjectList> object_list() const {
    auto list = std::make_shared<NodeRuntime::ObjectList>();
    list->reserve(queued);
    for (size_t i = 0; i < queued; ++i) list->emplace_back(nodes[i].id, class_of(static_cast<int>(i)));
    return list;
  }
  int add_ephemeral(const std::string& id, Json node) {
    std::lock_guard lk(progress_mu);
    int n = add_node(id, dyn.emplace_back(std::move(node)));
    added_index.emplace(id, n);
    added_keys.emplace_back();
    return n;
  }
  int find(const std::string& id) const {
    if (auto it = queued_index->find(id); it != queued_index->end()) return it->second;
    if (added_index.empty()) return -1;
    auto it = added_index.find(id);
    return it == added_index.end() ? -1 : it->second;
  }
  bool has(const std::string& id) const { return find(id) >= 0; }
  const std::string& id(int n) const { return nodes[static_cast<size_t>(n)].id; }
  const Json& node(int n) const { return *nodes[static_cast<size_t>(n)].json; }
  const Json& inputs(int n) const { return *nodes[static_cast<size_t>(n)].inputs; }
  const std::shared_ptr<const NodeDef>& def(int n) const { return nodes[static_cast<size_t>(n)].def; }
  const std::string& key(int n) const {
    size_t i = static_cast<size_t>(n);
    return i < queued ? (*queued_keys)[i] : added_keys[i - queued];
  }
  const std::string& class_of(int n) const {
    static const std::string none, kClassType = "class_type";
    const Json& j = node(n);
    auto ct = j.is_object() ? j.find(kClassType) : j.end();
    return ct != j.end() && ct->is_string() ? ct->get_ref<const std::string&>() : none;
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
  // A link [id, slot] to a node of this run: the node, or -1.
  int link(const Json& v, int& slot) const {
    if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number()) return -1;
    int n = find(v[0].get_ref<const std::string&>());
    if (n >= 0) slot = v[1].get<int>();
    return n;
  }

  void add_message(const std::string& event, Json data, bool broadcast) {
    if (auto ts = data.find("timestamp"); ts != data.end()) *ts = now_ms();
    else json_append(data, "timestamp", now_ms());
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
  // A node's registry entry, by index or by id (ids that are not nodes of the run get one too,
  // which a node added later under that id adopts: one entry per id).
  Progress& entry(int n) {
    int& p = nodes[static_cast<size_t>(n)].progress;
    if (p < 0) {
      auto early = progress_index.empty() ? progress_index.end() : progress_index.find(id(n));
      if (early != progress_index.end()) {
        p = static_cast<int>(early->second);
      } else {
        p = static_cast<int>(progress.size());
        progress.push_back(Progress{id(n), 0, 1, "pending"});
      }
    }
    return progress[static_cast<size_t>(p)];
  }
  Progress& entry(const std::string& id) {
    if (int n = find(id); n >= 0) return entry(n);
    auto [it, fresh] = progress_index.try_emplace(id, progress.size());
    if (fresh) progress.push_back(Progress{id, 0, 1, "pending"});
    return progress[it->second];
  }
  template <class K>
  void start_progress(const K& n) {
    std::lock_guard lk(progress_mu);
    auto& e = entry(n);
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
  template <class K>
  void finish_progress(const K& n) {
    std::lock_guard lk(progress_mu);
    auto& e = entry(n);
    e.state = "finished";
    e.value = e.max;
    send_progress_state();
  }
};

}  // namespace comfy
