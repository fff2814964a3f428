#include "exec/executor.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_set>

#include "common/util.h"

namespace comfy {
namespace {
bool link_source(const Json& v, const Json& prompt, std::string& src, int& slot) {
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number()) return false;
  src = v[0].get<std::string>();
  slot = v[1].get<int>();
  return prompt.contains(src);
}
}  // namespace

// Per-prompt state and message helpers (spec §3.3, §6.1, §6.3).
struct Executor::Run {
  Executor& ex;
  QueueItem& item;
  std::optional<std::string> client;
  Json messages = Json::array();
  Json progress = Json::object();  // node id -> state entry, in first-touch order
  std::unordered_map<std::string, std::shared_ptr<const NodeDef>> defs;
  std::unordered_map<std::string, std::string> keys;
  std::vector<std::string> executed;

  const std::string& pid() const { return item.prompt_id; }

  void add_message(const std::string& event, Json data, bool broadcast) {
    data["timestamp"] = now_ms();
    messages.push_back(Json::array({event, data}));
    if (client || broadcast) ex.hub_.send_json(event, data, client);
  }
  void to_client(const std::string& event, const Json& data) {
    if (client) ex.hub_.send_json(event, data, client);
  }
  void send_progress_state() {
    // ComfyUI resends every non-pending node each time (quadratic in the prompt size); build it
    // only when someone will receive it.
    if (!ex.hub_.has_targets(client)) return;
    Json nodes = Json::object();
    for (auto it = progress.begin(); it != progress.end(); ++it) {
      Json e = it.value();
      e["node_id"] = it.key();
      e["prompt_id"] = pid();
      e["display_node_id"] = it.key();
      e["parent_node_id"] = nullptr;
      e["real_node_id"] = it.key();
      nodes[it.key()] = std::move(e);
    }
    ex.hub_.send_json("progress_state", Json{{"prompt_id", pid()}, {"nodes", std::move(nodes)}}, client);
  }
  void start_progress(const std::string& id) {
    progress[id] = Json{{"value", 0.0}, {"max", 1.0}, {"state", "running"}};
    send_progress_state();
  }
  void finish_progress(const std::string& id) {
    if (!progress.contains(id)) progress[id] = Json{{"value", 0}, {"max", 1}, {"state", "pending"}};
    progress[id]["state"] = "finished";
    progress[id]["value"] = progress[id]["max"];
    send_progress_state();
  }
};

Executor::Executor(PromptQueue& queue, ws::Hub& hub, NodeRuntime& runtime, CacheMode mode, size_t lru_max)
    : queue_(queue), hub_(hub), runtime_(runtime), cache_(mode, lru_max) {}

Executor::~Executor() { stop(); }

void Executor::start() {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { loop(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Executor::stop() {
  stop_ = true;
  queue_.stop();
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> Executor::executing_node_for(const std::string& sid) const {
  std::lock_guard lk(state_mu_);
  if (client_id_ && *client_id_ == sid && last_node_) return last_node_;
  return std::nullopt;
}
std::optional<std::string> Executor::current_prompt_id() const {
  std::lock_guard lk(state_mu_);
  return prompt_id_;
}
std::optional<std::string> Executor::current_client_id() const {
  std::lock_guard lk(state_mu_);
  return client_id_;
}
std::optional<std::string> Executor::last_node_id() const {
  std::lock_guard lk(state_mu_);
  return last_node_;
}

void Executor::process_flags() {
  Json flags = queue_.take_flags();
  if (flags.value("free_memory", Json(false)) == Json(true) ||
      (flags.contains("free_memory") && !flags["free_memory"].is_boolean() && !flags["free_memory"].is_null())) {
    cache_.clear();
    runtime_.clear_objects();
  }
}

void Executor::loop() {
  while (!stop_) {
    auto got = queue_.get(std::chrono::milliseconds(1000));
    process_flags();
    if (!got) continue;
    auto& [item, task_id] = *got;
    auto t0 = std::chrono::steady_clock::now();
    run_prompt(item, task_id);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "Prompt executed in %.2f seconds\n", secs);
  }
}

void Executor::run_prompt(QueueItem& item, int64_t task_id) {
  interrupt_ = false;
  Run run{*this, item, std::nullopt};
  if (item.extra_data.is_object() && item.extra_data.contains("client_id") && item.extra_data["client_id"].is_string())
    run.client = item.extra_data["client_id"].get<std::string>();
  {
    std::lock_guard lk(state_mu_);
    client_id_ = run.client;
    prompt_id_ = item.prompt_id;
    last_node_.reset();
  }
  const Json& prompt = item.prompt;
  run.add_message("execution_start", {{"prompt_id", item.prompt_id}}, false);
  runtime_.begin_prompt(item);

  bool success = true;
  std::optional<std::pair<std::string, NodeResult>> failure;
  try {
    // Cache keys for every node of the prompt (IS_CHANGED evaluated here, like set_prompt).
    std::unordered_map<std::string, KeyInput> kin;
    std::vector<std::pair<std::string, std::string>> objects;
    for (auto it = prompt.begin(); it != prompt.end(); ++it) {
      const std::string& id = it.key();
      std::string ct = it.value().value("class_type", "");
      auto def = runtime_.get(ct);
      if (!def) continue;
      run.defs[id] = def;
      objects.emplace_back(id, ct);
      KeyInput k{ct, false, def->not_idempotent || def->has_unique_id};
      if (it.value().contains("is_changed")) {
        k.is_changed = it.value()["is_changed"];
      } else if (def->has_is_changed) {
        NodeCall c{id, id, ct, def, {}};
        for (auto in = it.value()["inputs"].begin(); in != it.value()["inputs"].end(); ++in)
          c.inputs.emplace_back(in.key(), InputArg{&in.value(), nullptr, 0});
        k.is_changed = runtime_.is_changed(c);
        // Like ComfyUI, the executing prompt records the result (PROMPT hidden inputs see it);
        // history keeps the copy taken when the prompt started.
        item.prompt[id]["is_changed"] = k.is_changed;
      }
      kin[id] = std::move(k);
    }
    runtime_.begin_prompt(item);  // again: the prompt now carries the is_changed values
    run.keys = compute_cache_keys(prompt, kin);
    std::unordered_set<std::string> keyset;
    for (auto& [_, k] : run.keys) keyset.insert(k);
    cache_.begin_prompt(keyset);
    runtime_.retain_objects(objects);

    Json cached = Json::array();
    std::unordered_set<std::string> is_cached;
    for (auto it = prompt.begin(); it != prompt.end(); ++it)
      if (run.keys.count(it.key()) && cache_.get(run.keys[it.key()])) {
        cached.push_back(it.key());
        is_cached.insert(it.key());
      }
    run.add_message("execution_cached", {{"nodes", cached}, {"prompt_id", item.prompt_id}}, false);

    // The execution list: outputs, plus (preorder, input order) every uncached linked ancestor.
    std::vector<std::string> pending;
    std::unordered_set<std::string> in_list;
    std::unordered_map<std::string, std::unordered_set<std::string>> blockers;
    std::unordered_map<std::string, std::vector<std::string>> blocking;
    for (const auto& out : item.outputs) {
      std::vector<std::string> stack{out};
      while (!stack.empty()) {
        std::string id = stack.back();
        stack.pop_back();
        if (in_list.count(id) || !prompt.contains(id)) continue;
        in_list.insert(id);
        pending.push_back(id);
        std::vector<std::string> srcs;
        const Json& inputs = prompt[id]["inputs"];
        for (auto in = inputs.begin(); in != inputs.end(); ++in) {
          std::string src;
          int slot;
          if (!link_source(in.value(), prompt, src, slot) || is_cached.count(src)) continue;
          if (blockers[id].insert(src).second) blocking[src].push_back(id);
          srcs.push_back(src);
        }
        for (auto r = srcs.rbegin(); r != srcs.rend(); ++r) stack.push_back(*r);
      }
    }
    auto is_output = [&](const std::string& id) { return run.defs.count(id) && run.defs[id]->output_node; };

    while (!pending.empty()) {
      std::vector<std::string> ready;
      for (const auto& id : pending)
        if (blockers[id].empty()) ready.push_back(id);
      if (ready.empty()) {  // nothing runnable: a cycle the validator did not see
        NodeResult r;
        r.kind = NodeResult::Error;
        r.error = {{"exception_message", "Dependency cycle detected"}, {"exception_type", "graph.DependencyCycleError"},
                   {"traceback", Json::array()}, {"current_inputs", Json::array()}};
        failure.emplace(pending.front(), std::move(r));
        break;
      }
      std::string pick;
      for (const auto& id : ready)
        if (pick.empty() && is_output(id)) pick = id;
      for (const auto& id : ready)
        for (const auto& b : blocking[id])
          if (pick.empty() && is_output(b)) pick = id;
      for (const auto& id : ready)
        for (const auto& b : blocking[id])
          for (const auto& b2 : blocking[b])
            if (pick.empty() && is_output(b2)) pick = id;
      if (pick.empty()) pick = ready.front();

      const std::string& key = run.keys[pick];
      if (const CacheEntry* hit = cache_.get(key)) {
        Json out = hit->ui.is_null() ? Json(nullptr) : hit->ui["output"];
        run.to_client("executed", {{"node", pick}, {"display_node", pick}, {"output", out}, {"prompt_id", item.prompt_id}});
        run.finish_progress(pick);
      } else {
        run.start_progress(pick);
        {
          std::lock_guard lk(state_mu_);
          last_node_ = pick;
        }
        run.to_client("executing", {{"node", pick}, {"display_node", pick}, {"prompt_id", item.prompt_id}});
        NodeCall call{pick, pick, run.defs[pick]->class_type, run.defs[pick], {}};
        const Json& inputs = prompt[pick]["inputs"];
        for (auto in = inputs.begin(); in != inputs.end(); ++in) {
          std::string src;
          int slot;
          const InputSpec* spec = call.def->find_input(in.key());
          if (link_source(in.value(), prompt, src, slot) && !(spec && spec->raw_link)) {
            const CacheEntry* e = cache_.get(run.keys[src]);
            call.inputs.emplace_back(in.key(), InputArg{nullptr, e ? e->outputs : nullptr, slot});
          } else {
            call.inputs.emplace_back(in.key(), InputArg{&in.value(), nullptr, 0});
          }
        }
        NodeResult r;
        if (take_interrupt()) r.kind = NodeResult::Interrupted;
        else r = runtime_.execute(call);
        if (r.kind != NodeResult::Ok) {
          failure.emplace(pick, std::move(r));
          break;
        }
        Json ui_entry = nullptr;
        if (r.ui.is_object() && !r.ui.empty()) {
          ui_entry = {{"meta", {{"node_id", pick}, {"display_node", pick}, {"parent_node", nullptr}, {"real_node_id", pick}}},
                      {"output", r.ui}};
          run.to_client("executed", {{"node", pick}, {"display_node", pick}, {"output", r.ui}, {"prompt_id", item.prompt_id}});
        }
        cache_.set(key, CacheEntry{r.outputs, ui_entry});
        run.finish_progress(pick);
        run.executed.push_back(pick);
      }
      pending.erase(std::find(pending.begin(), pending.end(), pick));
      for (const auto& d : blocking[pick]) blockers[d].erase(pick);
    }
  } catch (const std::exception& e) {
    NodeResult r;
    r.kind = NodeResult::Error;
    r.error = {{"exception_message", std::string(e.what()) + "\n"}, {"exception_type", "RuntimeError"},
               {"traceback", Json::array()}, {"current_inputs", Json::object()}};
    std::string node = item.outputs.empty() ? std::string() : item.outputs.front();
    failure.emplace(node, std::move(r));
  }

  if (failure) {
    success = false;
    const auto& [node, r] = *failure;
    Json executed = Json::array();
    for (const auto& e : run.executed) executed.push_back(e);
    Json node_type = prompt.contains(node) ? prompt[node].value("class_type", Json(nullptr)) : Json(nullptr);
    if (r.kind == NodeResult::Interrupted) {
      run.add_message("execution_interrupted",
                      {{"prompt_id", item.prompt_id}, {"node_id", node}, {"node_type", node_type}, {"executed", executed}}, true);
    } else {
      Json current = Json::array();
      for (auto it = prompt.begin(); it != prompt.end(); ++it) current.push_back(it.key());
      run.add_message("execution_error",
                      {{"prompt_id", item.prompt_id}, {"node_id", node}, {"node_type", node_type}, {"executed", executed},
                       {"exception_message", r.error["exception_message"]}, {"exception_type", r.error["exception_type"]},
                       {"traceback", r.error["traceback"]}, {"current_inputs", r.error["current_inputs"]},
                       {"current_outputs", current}},
                      false);
    }
  } else {
    run.add_message("execution_success", {{"prompt_id", item.prompt_id}}, false);
  }

  Json outputs = Json::object(), meta = Json::object();
  for (auto it = prompt.begin(); it != prompt.end(); ++it) {
    auto k = run.keys.find(it.key());
    if (k == run.keys.end()) continue;
    const CacheEntry* e = cache_.get(k->second);
    if (e && e->ui.is_object()) {
      outputs[it.key()] = e->ui["output"];
      meta[it.key()] = e->ui["meta"];
    }
  }
  runtime_.end_prompt();
  cache_.end_prompt();
  {
    std::lock_guard lk(state_mu_);
    last_node_.reset();
  }
  queue_.task_done(task_id, outputs, meta, HistoryStatus{success ? "success" : "error", success, run.messages});
  run.to_client("executing", {{"node", nullptr}, {"prompt_id", item.prompt_id}});
  {
    std::lock_guard lk(state_mu_);
    client_id_.reset();
    prompt_id_.reset();
  }
}

}  // namespace comfy
