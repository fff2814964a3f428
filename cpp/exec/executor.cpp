#include "exec/executor.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_set>

#include "common/util.h"
#include "exec/execution_list.h"

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
  struct Progress {
    std::string id;
    Json value, max;
    const char* state;
  };
  std::recursive_mutex progress_mu;  // progress may be reported from other threads
  std::vector<Progress> progress;    // first-touch order, like ComfyUI's registry dict
  std::unordered_map<std::string, size_t> progress_index;
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
    for (const auto& p : progress) {
      nodes[p.id] = {{"value", p.value}, {"max", p.max}, {"state", p.state}, {"node_id", p.id}, {"prompt_id", pid()},
                     {"display_node_id", p.id}, {"parent_node_id", nullptr}, {"real_node_id", p.id}};
    }
    ex.hub_.send_json("progress_state", Json{{"prompt_id", pid()}, {"nodes", std::move(nodes)}}, client);
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

void Executor::progress(const std::string& node_id, const Json& value, const Json& max, int preview_format,
                        const std::string& preview_bytes) {
  std::lock_guard lk(state_mu_);
  if (!run_) return;
  Run& run = *run_;
  std::string node = node_id.empty() ? last_node_.value_or("") : node_id;
  run.update_progress(node, value, max);
  bool modern = false;
  if (run.client)
    if (auto f = hub_.feature_flags(*run.client)) modern = f->value("supports_preview_metadata", Json(false)) == Json(true);
  auto frame = [&](uint32_t type, const std::string& body) {
    std::string p(4, '\0');
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((type >> (24 - 8 * i)) & 0xFF);
    return p + body;
  };
  auto be32 = [](uint32_t v) {
    std::string p(4, '\0');
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
    return p;
  };
  if (preview_format && modern) {
    Json meta = {{"node_id", node}, {"prompt_id", run.pid()}, {"display_node_id", node}, {"parent_node_id", nullptr},
                 {"real_node_id", node}, {"image_type", preview_format == 2 ? "image/png" : "image/jpeg"}};
    std::string m = py_dumps(meta);
    hub_.send_binary(frame(4, be32(static_cast<uint32_t>(m.size())) + m + preview_bytes), run.client, true);
  }
  hub_.send_json("progress", {{"value", value}, {"max", max}, {"prompt_id", run.pid()}, {"node", node}}, run.client);
  if (preview_format && !modern)
    hub_.send_binary(frame(1, be32(static_cast<uint32_t>(preview_format)) + preview_bytes), run.client, true);
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
  runtime_.thread_started();
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
  runtime_.thread_stopping();
}

// One staged node (spec §6.3): a cache hit re-emits `executed`; otherwise progress, `executing`,
// the call, UI and cache. Returns the failure, if any.
std::optional<NodeResult> Executor::run_node(Run& run, const std::string& id) {
  const Json& prompt = run.item.prompt;
  const std::string& key = run.keys[id];
  if (const CacheEntry* hit = cache_.get(key)) {
    Json out = hit->ui.is_null() ? Json(nullptr) : hit->ui["output"];
    run.to_client("executed", {{"node", id}, {"display_node", id}, {"output", out}, {"prompt_id", run.pid()}});
    run.finish_progress(id);
    return std::nullopt;
  }
  run.start_progress(id);
  {
    std::lock_guard lk(state_mu_);
    last_node_ = id;
  }
  run.to_client("executing", {{"node", id}, {"display_node", id}, {"prompt_id", run.pid()}});
  NodeCall call{id, id, run.defs[id]->class_type, run.defs[id], {}};
  const Json& inputs = prompt[id]["inputs"];
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
  if (r.kind != NodeResult::Ok) return r;
  Json ui_entry = nullptr;
  if (r.ui.is_object() && !r.ui.empty()) {
    ui_entry = {{"meta", {{"node_id", id}, {"display_node", id}, {"parent_node", nullptr}, {"real_node_id", id}}},
                {"output", r.ui}};
    run.to_client("executed", {{"node", id}, {"display_node", id}, {"output", r.ui}, {"prompt_id", run.pid()}});
  }
  cache_.set(key, CacheEntry{r.outputs, ui_entry});
  run.finish_progress(id);
  run.executed.push_back(id);
  return std::nullopt;
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
    run_ = &run;
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

    ExecutionList list(
        item.outputs,
        [&](const std::string& id) {
          std::vector<std::string> srcs;
          if (!prompt.contains(id)) return srcs;
          for (const auto& v : prompt[id]["inputs"]) {
            std::string src;
            int slot;
            if (link_source(v, prompt, src, slot) && !is_cached.count(src)) srcs.push_back(src);
          }
          return srcs;
        },
        [&](const std::string& id) { return run.defs.count(id) && run.defs[id]->output_node; });
    while (!list.empty()) {
      auto pick = list.pick();
      if (!pick) {  // nothing runnable: a cycle the validator did not see
        NodeResult r;
        r.kind = NodeResult::Error;
        r.error = {{"exception_message", "Dependency cycle detected"}, {"exception_type", "graph.DependencyCycleError"},
                   {"traceback", Json::array()}, {"current_inputs", Json::array()}};
        failure.emplace(list.first_remaining(), std::move(r));
        break;
      }
      if (auto r = run_node(run, *pick)) {
        failure.emplace(*pick, std::move(*r));
        break;
      }
      list.complete(*pick);
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
    run_ = nullptr;
  }
}

}  // namespace comfy
