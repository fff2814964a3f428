#include "exec/executor.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_set>

#include "common/util.h"
#include "exec/execution_list.h"
#include "exec/prompt_run.h"

namespace comfy {
namespace {
NodeResult error_result(const std::string& type, const std::string& msg, Json current_inputs = Json::object()) {
  NodeResult r;
  r.kind = NodeResult::Error;
  r.error = {{"exception_message", msg + "\n"}, {"exception_type", type}, {"traceback", Json::array()},
             {"current_inputs", std::move(current_inputs)}};
  return r;
}
}  // namespace

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
                        const std::string& preview_bytes, bool send_progress_message) {
  std::lock_guard lk(state_mu_);
  if (!run_) return;
  Run& run = *run_;
  std::string node = node_id.empty() ? last_node_.value_or("") : node_id;
  run.update_progress(node, value, max);
  bool modern = false;
  if (run.client)
    if (auto f = hub_.feature_flags(*run.client)) modern = f->value("supports_preview_metadata", Json(false)) == Json(true);
  if (preview_format && modern) {
    Json meta = {{"node_id", node}, {"prompt_id", run.pid()}, {"display_node_id", run.display_of(node)},
                 {"parent_node_id", run.parent_of(node)}, {"real_node_id", run.real_of(node)},
                 {"image_type", preview_format == 2 ? "image/png" : "image/jpeg"}};
    std::string m = py_dumps(meta);
    hub_.send_binary(be32(4) + be32(static_cast<uint32_t>(m.size())) + m + preview_bytes, run.client, true);
  }
  if (!send_progress_message) return;  // V3 set_progress: registry and type-4 previews only
  hub_.send_json("progress", {{"value", value}, {"max", max}, {"prompt_id", run.pid()}, {"node", node}}, run.client);
  if (preview_format && !modern)
    hub_.send_binary(be32(1) + be32(static_cast<uint32_t>(preview_format)) + preview_bytes, run.client, true);
}

void Executor::process_flags() {
  Json flags = queue_.take_flags();
  if (flags.contains("free_memory") && !flags["free_memory"].is_null() && flags["free_memory"] != Json(false)) {
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

// An ExecutionBlocker with a message: ComfyUI reports it as an execution_error (without a
// timestamp, not in the history) and goes on.
void Executor::ex_block_message(Run& run, const std::string& id, const std::string& msg, const Json& executed) {
  hub_.send_json("execution_error",
                 {{"prompt_id", run.pid()}, {"node_id", id}, {"node_type", run.defs[id]->class_type}, {"executed", executed},
                  {"exception_message", "Execution Blocked: " + msg}, {"exception_type", "ExecutionBlocked"},
                  {"traceback", Json::array()}, {"current_inputs", Json::array()}, {"current_outputs", Json::array()}},
                 run.client);
}

NodeCall Executor::build_call(Run& run, const std::string& id) {
  NodeCall call{id, run.display_of(id), run.defs[id]->class_type, run.defs[id], {}};
  const Json& inputs = run.inputs(id);
  for (auto in = inputs.begin(); in != inputs.end(); ++in) {
    std::string src;
    int slot;
    const InputSpec* spec = call.def->find_input(in.key());
    if (run.link_source(in.value(), src, slot) && !(spec && spec->raw_link)) {
      const CacheEntry* e = cache_.get(run.keys[src]);
      call.inputs.emplace_back(in.key(), InputArg{nullptr, e ? e->outputs : nullptr, slot, e == nullptr});
    } else {
      call.inputs.emplace_back(in.key(), InputArg{&in.value(), nullptr, 0, false});
    }
  }
  return call;
}

// Definitions, IS_CHANGED and cache keys for `ids` (the prompt, or nodes an expansion added).
void Executor::prepare_nodes(Run& run, const std::vector<std::string>& ids, bool record_is_changed) {
  std::unordered_map<std::string, KeyInput> kin;
  for (const auto& id : ids) {
    const Json& n = run.node(id);
    std::string ct = n.value("class_type", "");
    auto def = runtime_.get(ct);
    if (!def) continue;
    run.defs[id] = def;
    KeyInput k{ct, false, def->not_idempotent || def->has_unique_id};
    if (n.contains("is_changed")) {
      k.is_changed = n["is_changed"];
    } else if (def->has_is_changed) {
      NodeCall c{id, run.display_of(id), ct, def, {}};
      const Json& inputs = run.inputs(id);
      for (auto in = inputs.begin(); in != inputs.end(); ++in) c.inputs.emplace_back(in.key(), InputArg{&in.value()});
      // Like ComfyUI, the executing prompt records the result (PROMPT hidden inputs see it);
      // history keeps the copy taken when the prompt started.
      k.is_changed = runtime_.is_changed(c, record_is_changed);
    }
    kin[id] = std::move(k);
  }
  if (!record_is_changed) {  // nodes an expansion added
    compute_cache_keys_for(ids, [&run](const std::string& id) -> const Json& { return run.node(id); }, kin, run.keys);
    return;
  }
  auto same_inputs = [&](const std::unordered_map<std::string, KeyInput>& a) {
    if (a.size() != kin.size()) return false;
    for (const auto& [id, k] : kin) {
      auto it = a.find(id);
      if (it == a.end() || it->second.class_type != k.class_type || it->second.include_id != k.include_id ||
          it->second.is_changed != k.is_changed)
        return false;
    }
    return true;
  };
  if (key_memo_ && key_memo_->prompt == run.item.prompt && same_inputs(key_memo_->inputs)) {
    run.keys = key_memo_->keys;
    return;
  }
  compute_cache_keys_for(ids, [&run](const std::string& id) -> const Json& { return run.node(id); }, kin, run.keys);
  // "unique:" keys (NaN IS_CHANGED, cycles, Python objects in inputs) must never repeat: no memo.
  for (const auto& [_, key] : run.keys)
    if (key.rfind("unique:", 0) == 0) {
      key_memo_.reset();
      return;
    }
  key_memo_ = KeyMemo{run.item.prompt, std::move(kin), run.keys};
}

// Registers the nodes an expansion returned (spec §6.6) and the links the expanding node waits for.
Executor::Outcome Executor::expand(Run& run, ExecutionList& list, const std::string& id, NodeResult& r,
                                   NodeResult& failure) {
  std::vector<std::string> added;
  for (auto it = r.new_nodes.begin(); it != r.new_nodes.end(); ++it) {
    if (run.has(it.key())) {
      failure = error_result("comfy_execution.graph.DuplicateNodeError",
                             "Attempt to add duplicate node " + it.key() +
                                 ". Ensure node ids are unique and deterministic or use graph_utils.GraphBuilder.");
      return Outcome::Failure;
    }
    const Json& info = it.value();
    std::string ct = info.value("class_type", "");
    if (!runtime_.get(ct)) {
      failure = error_result("KeyError", "'" + ct + "'");
      return Outcome::Failure;
    }
    run.add_ephemeral(it.key(), {{"class_type", ct}, {"inputs", info.value("inputs", Json::object())}});
    run.parent[it.key()] = id;
    run.display[it.key()] = info.contains("override_display_id") && info["override_display_id"].is_string()
                                ? info["override_display_id"].get<std::string>()
                                : id;
    added.push_back(it.key());
  }
  prepare_nodes(run, added, false);
  for (const auto& n : added)
    if (run.defs.count(n) && run.defs[n]->output_node) list.add_node(n);
  for (const auto& [src, slot] : r.expand_links)
    if (run.has(src) && !cache_.get(run.keys[src])) list.add_strong_link(src, id);
  run.expansion_links[id] = r.expand_links;
  if (r.ui.is_object() && !r.ui.empty()) run.expansion_ui[id] = {{"meta", run.meta(id)}, {"output", r.ui}};
  run.pending_expansion.insert(id);
  return Outcome::Pending;
}

// Lazy inputs (spec §6.3 step 6): asks check_lazy_status which unevaluated inputs it needs and
// links them; Pending when it asked for any.
Executor::Outcome Executor::check_lazy(Run& run, ExecutionList& list, const NodeCall& call, NodeResult& failure) {
  LazyCheck lc = runtime_.check_lazy(call);
  if (lc.kind != NodeResult::Ok) {
    failure.kind = lc.kind;
    failure.error = lc.error;
    return Outcome::Failure;
  }
  if (lc.needed.empty()) return Outcome::Success;
  const std::string& id = call.node_id;
  const Json& inputs = run.inputs(id);
  for (const auto& name : lc.needed) {
    std::string src;
    int slot;
    if (!inputs.contains(name)) {
      failure = error_result("comfy_execution.graph.NodeInputError",
                             "Node " + id + " says it needs input " + name + ", but there is no input to that node at all");
      return Outcome::Failure;
    }
    if (!run.link_source(inputs[name], src, slot)) {
      failure = error_result("comfy_execution.graph.NodeInputError",
                             "Node " + id + " says it needs input " + name + ", but that value is a constant");
      return Outcome::Failure;
    }
    if (!cache_.get(run.keys[src])) list.add_strong_link(src, id);
  }
  return Outcome::Pending;
}

// One staged node (spec §6.3): a cache hit re-emits `executed`; an expanded node resolves its
// results; otherwise progress, `executing`, the lazy check, the call, UI, expansion or cache.
Executor::Outcome Executor::run_node(Run& run, ExecutionList& list, const std::string& id, NodeResult& failure) {
  const std::string& key = run.keys[id];
  if (const CacheEntry* hit = cache_.get(key)) {
    if (run.client) {  // messages are built only when someone receives them
      Json out = hit->ui.is_null() ? Json(nullptr) : hit->ui["output"];
      run.to_client("executed",
                    {{"node", id}, {"display_node", run.display_of(id)}, {"output", out}, {"prompt_id", run.pid()}});
    }
    run.finish_progress(id);
    return Outcome::Success;
  }
  std::string display = run.display_of(id);
  NodeResult r;
  NodeCall call = build_call(run, id);
  if (run.pending_expansion.count(id)) {
    std::unordered_map<std::string, std::shared_ptr<OutputHandle>> sources;
    for (const auto& [src, slot] : run.expansion_links[id])
      if (const CacheEntry* e = cache_.get(run.keys[src])) sources[src] = e->outputs;
    r = runtime_.resolve_expansion(call, sources);
    run.pending_expansion.erase(id);
    if (r.kind != NodeResult::Ok) {
      failure = std::move(r);
      return Outcome::Failure;
    }
    auto ui = run.expansion_ui.find(id);
    cache_.set(key, CacheEntry{r.outputs, ui == run.expansion_ui.end() ? Json(nullptr) : ui->second});
    run.finish_progress(id);
    run.executed.push_back(id);
    return Outcome::Success;
  }
  if (run.pending_async.erase(id)) {
    r = runtime_.execute(call);  // an async node resumed: its finished tasks' results (§6.3 step 2)
  } else {
    run.start_progress(id);
    {
      std::lock_guard lk(state_mu_);
      last_node_ = display;
    }
    if (run.client) run.to_client("executing", {{"node", id}, {"display_node", display}, {"prompt_id", run.pid()}});
    if (call.def->has_check_lazy) {
      Outcome o = check_lazy(run, list, call, failure);
      if (o != Outcome::Success) return o;
    }
    if (take_interrupt()) r.kind = NodeResult::Interrupted;
    else r = runtime_.execute(call);
  }
  if (!r.block_messages.empty()) {
    Json executed = Json::array();
    for (const auto& e : run.executed) executed.push_back(e);
    for (const auto& msg : r.block_messages) ex_block_message(run, id, msg, executed);
  }
  if (r.kind == NodeResult::Pending) {  // its tasks run while other nodes do
    run.pending_async.insert(id);
    list.block_external(id);
    return Outcome::Pending;
  }
  if (r.kind != NodeResult::Ok) {
    failure = std::move(r);
    return Outcome::Failure;
  }
  Json ui_entry = nullptr;
  if (r.ui.is_object() && !r.ui.empty()) {
    ui_entry = {{"meta", run.meta(id)}, {"output", r.ui}};
    if (run.client)
      run.to_client("executed", {{"node", id}, {"display_node", display}, {"output", r.ui}, {"prompt_id", run.pid()}});
  }
  if (r.expand) return expand(run, list, id, r, failure);
  cache_.set(key, CacheEntry{r.outputs, ui_entry});
  run.finish_progress(id);
  run.executed.push_back(id);
  return Outcome::Success;
}

// Runs the execution list to the end or the first failure; returns the failing node and result.
std::optional<std::pair<std::string, NodeResult>> Executor::execute_list(Run& run) {
  auto sources = [&](const std::string& id) {
    std::vector<std::string> srcs;
    if (!run.defs.count(id)) return srcs;
    const auto& def = run.defs[id];
    const Json& inputs = run.inputs(id);
    for (auto in = inputs.begin(); in != inputs.end(); ++in) {
      std::string src;
      int slot;
      const InputSpec* spec = def->find_input(in.key());
      if (spec && spec->lazy) continue;  // lazy inputs join only when check_lazy_status asks
      if (run.link_source(in.value(), src, slot) && !cache_.get(run.keys[src])) srcs.push_back(src);
    }
    return srcs;
  };
  ExecutionList list(
      run.item.outputs, sources,
      [&](const std::string& id) {
        auto d = run.defs.find(id);
        return d != run.defs.end() && d->second->output_node;
      },
      [&](const std::string& id) {
        auto d = run.defs.find(id);
        return d != run.defs.end() && d->second->is_async;
      });
  while (!list.empty()) {
    auto pick = list.pick();
    if (!pick && list.has_external_blocks()) {
      // Only async nodes are left to wait for. Unlike ComfyUI, an interrupt does not wait for
      // them: it is checked every 50 ms, and the pending tasks are cancelled at the prompt's end.
      if (take_interrupt()) {
        NodeResult r;
        r.kind = NodeResult::Interrupted;
        return std::make_pair(run.real_of(*run.pending_async.begin()), std::move(r));
      }
      for (const auto& id : runtime_.wait_async(0.05)) list.unblock_external(id);
      continue;
    }
    if (!pick) {  // nothing runnable: a cycle (static ones are caught by validation)
      auto remaining = list.remaining();
      std::string at = remaining.front();
      for (const auto& n : remaining)
        if (run.parent.count(n)) {
          at = run.display_of(n);
          break;
        }
      return std::make_pair(at, error_result("graph.DependencyCycleError", "Dependency cycle detected", Json::array()));
    }
    NodeResult r;
    Outcome o = run_node(run, list, *pick, r);
    if (o == Outcome::Failure) return std::make_pair(run.real_of(*pick), std::move(r));
    if (o == Outcome::Success) list.complete(*pick);
  }
  return std::nullopt;
}

void Executor::report_end(Run& run, const std::optional<std::pair<std::string, NodeResult>>& failure) {
  if (!failure) return run.add_message("execution_success", {{"prompt_id", run.pid()}}, false);
  const auto& [node, r] = *failure;
  Json executed = Json::array();
  for (const auto& e : run.executed) executed.push_back(e);
  Json node_type = run.node(node).value("class_type", Json(nullptr));
  if (r.kind == NodeResult::Interrupted)
    return run.add_message("execution_interrupted",
                           {{"prompt_id", run.pid()}, {"node_id", node}, {"node_type", node_type}, {"executed", executed}},
                           true);
  Json current = Json::array();
  for (auto it = run.item.prompt.begin(); it != run.item.prompt.end(); ++it) current.push_back(it.key());
  for (const auto& id : run.dyn_order) current.push_back(id);
  run.add_message("execution_error",
                  {{"prompt_id", run.pid()}, {"node_id", node}, {"node_type", node_type}, {"executed", executed},
                   {"exception_message", r.error["exception_message"]}, {"exception_type", r.error["exception_type"]},
                   {"traceback", r.error["traceback"]}, {"current_inputs", r.error["current_inputs"]},
                   {"current_outputs", current}},
                  false);
}

void Executor::run_prompt(QueueItem& item, int64_t task_id) {
  interrupt_ = false;
  Run run{hub_, item, std::nullopt};
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
  run.build_index();
  run.add_message("execution_start", {{"prompt_id", item.prompt_id}}, false);
  runtime_.begin_prompt(item);

  std::optional<std::pair<std::string, NodeResult>> failure;
  try {
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, std::string>> objects;
    for (auto it = prompt.begin(); it != prompt.end(); ++it) {
      ids.push_back(it.key());
      objects.emplace_back(it.key(), it.value().value("class_type", ""));
    }
    prepare_nodes(run, ids, true);
    std::unordered_set<std::string> keyset;
    for (auto& [_, k] : run.keys) keyset.insert(k);
    cache_.begin_prompt(keyset);
    runtime_.retain_objects(objects);

    Json cached = Json::array();
    for (const auto& id : ids) {
      auto k = run.keys.find(id);
      if (k != run.keys.end() && cache_.get(k->second)) cached.push_back(id);
    }
    Json data = Json::object();
    data["nodes"] = std::move(cached);
    data["prompt_id"] = item.prompt_id;
    run.add_message("execution_cached", std::move(data), false);
    failure = execute_list(run);
  } catch (const std::exception& e) {
    std::string node = item.outputs.empty() ? std::string() : item.outputs.front();
    failure.emplace(node, error_result("RuntimeError", e.what()));
  }
  report_end(run, failure);

  // Ids are unique: appended (see json_members).
  Json outputs = Json::object(), meta = Json::object();
  auto& out_items = json_members(outputs);
  auto& meta_items = json_members(meta);
  out_items.reserve(run.index.size());
  meta_items.reserve(run.index.size());
  auto collect = [&](const std::string& id) {
    auto k = run.keys.find(id);
    if (k == run.keys.end()) return;
    const CacheEntry* e = cache_.get(k->second);
    const Json* ui = e && e->ui.is_object() ? &e->ui : nullptr;
    auto pending = run.expansion_ui.find(id);
    if (!ui && pending != run.expansion_ui.end()) ui = &pending->second;  // UI before a failure
    if (!ui) return;
    out_items.emplace_back(id, (*ui)["output"]);
    meta_items.emplace_back(id, (*ui)["meta"]);
  };
  for (auto it = prompt.begin(); it != prompt.end(); ++it) collect(it.key());
  for (const auto& id : run.dyn_order) collect(id);
  runtime_.end_prompt();
  cache_.end_prompt();
  {
    std::lock_guard lk(state_mu_);
    last_node_.reset();
  }
  bool success = !failure.has_value();
  queue_.task_done(task_id, std::move(outputs), std::move(meta),
                   HistoryStatus{success ? "success" : "error", success, std::move(run.messages)});
  run.to_client("executing", {{"node", nullptr}, {"prompt_id", item.prompt_id}});
  {
    std::lock_guard lk(state_mu_);
    client_id_.reset();
    prompt_id_.reset();
    run_ = nullptr;
  }
}

}  // namespace comfy
