#include "exec/executor.h"

#include <signal.h>

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
  if (run_ && run_->client && *run_->client == sid && last_node_) return last_node_;
  return std::nullopt;
}
std::optional<std::string> Executor::current_prompt_id() const {
  std::lock_guard lk(state_mu_);
  return run_ ? std::optional<std::string>(run_->pid()) : std::nullopt;
}
std::optional<std::string> Executor::current_client_id() const {
  std::lock_guard lk(state_mu_);
  return run_ ? run_->client : std::nullopt;
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
  bool modern = run.client && hub_.feature_on(*run.client, "supports_preview_metadata");
  if (preview_format && modern) {
    Json meta;
    {
      std::lock_guard plk(run.progress_mu);  // expansions add to the display and parent maps
      meta = {{"node_id", node}, {"prompt_id", run.pid()}, {"display_node_id", run.display_of(node)},
              {"parent_node_id", run.parent_of(node)}, {"real_node_id", run.real_of(node)},
              {"image_type", preview_format == 2 ? "image/png" : "image/jpeg"}};
    }
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
    run_prompt(*item, task_id);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "Prompt executed in %.2f seconds\n", secs);
  }
  runtime_.thread_stopping();
}

// An ExecutionBlocker with a message: ComfyUI reports it as an execution_error (without a
// timestamp, not in the history) and goes on.
void Executor::ex_block_message(Run& run, int n, const std::string& msg, const Json& executed) {
  hub_.send_json("execution_error",
                 {{"prompt_id", run.pid()}, {"node_id", run.id(n)}, {"node_type", run.def(n)->class_type},
                  {"executed", executed}, {"exception_message", "Execution Blocked: " + msg},
                  {"exception_type", "ExecutionBlocked"}, {"traceback", Json::array()},
                  {"current_inputs", Json::array()}, {"current_outputs", Json::array()}},
                 run.client);
}

const CacheEntry* Executor::cached(Run& run, int n) {
  size_t i = static_cast<size_t>(n);
  if (i < run.hits.size() && run.hits[i]) return run.hits[i];
  return cache_.get(run.key(n));
}

NodeCall Executor::build_call(Run& run, int n) {
  const auto& def = run.def(n);
  NodeCall call{run.id(n), run.display_of(run.id(n)), def->class_type, def, {}};
  const Json& inputs = run.inputs(n);
  call.inputs.reserve(inputs.size());
  for (auto in = inputs.begin(); in != inputs.end(); ++in) {
    int slot = 0;
    const InputSpec* spec = def->find_input(in.key());
    int src = run.link(in.value(), slot);
    if (src >= 0 && !(spec && spec->raw_link)) {
      const CacheEntry* e = cached(run, src);
      call.inputs.emplace_back(in.key(), InputArg{nullptr, e ? e->outputs : nullptr, slot, e == nullptr});
    } else {
      call.inputs.emplace_back(in.key(), InputArg{&in.value(), nullptr, 0, false});
    }
  }
  return call;
}

namespace {
// Key computation over the run's nodes; `infos` holds the KeyInput of the nodes being keyed.
// `queued_out`: the queued nodes' keys being computed (else they are the run's, final).
struct RunGraph : KeyGraph {
  PromptRun& run;
  PromptRun::Keys* queued_out;
  std::vector<const KeyInput*> infos;
  RunGraph(PromptRun& r, PromptRun::Keys* out) : run(r), queued_out(out), infos(r.nodes.size(), nullptr) {}
  size_t size() const override { return run.nodes.size(); }
  const std::string& id(int n) const override { return run.id(n); }
  const Json& inputs(int n) const override { return run.inputs(n); }
  const KeyInput* info(int n) const override { return infos[static_cast<size_t>(n)]; }
  int link(const Json& v, int64_t& slot) const override {
    int s = 0;
    int src = run.link(v, s);
    slot = s;
    return src;
  }
  const std::string& key(int n) const override {
    size_t i = static_cast<size_t>(n);
    return queued_out && i < run.queued ? (*queued_out)[i] : run.key(n);
  }
  void set_key(int n, std::string k) override {
    size_t i = static_cast<size_t>(n);
    if (i >= run.queued) run.added_keys[i - run.queued] = std::move(k);
    else if (queued_out) (*queued_out)[i] = std::move(k);
  }
};
}  // namespace

// Definitions, IS_CHANGED and cache keys for `ns` (the whole prompt, or nodes an expansion
// added). For the whole prompt, returns whether the memo holds the keys (and their set).
bool Executor::prepare_nodes(Run& run, const std::vector<int>& ns, bool whole_prompt) {
  static const std::string kIsChanged = "is_changed";
  static const Json kUnchanged = false;
  // A re-queue of the memo's prompt compares each node's key inputs with the memo's as it goes
  // and builds its own only from the first difference on.
  bool same_prompt = whole_prompt && key_memo_ && key_memo_->index == run.queued_index;
  bool reuse = same_prompt && key_memo_->keys && key_memo_->inputs.size() == ns.size();
  std::vector<KeyInput> kin(reuse ? 0 : ns.size());  // an empty class_type: unknown class
  const std::string* last_class = nullptr;
  std::shared_ptr<const NodeDef> last_def;
  static const Json kUnknown;  // the key input of a class the runtime does not know
  Json computed;
  for (size_t i = 0; i < ns.size(); ++i) {
    int n = ns[i];
    const std::string& ct = run.class_of(n);
    if (!last_class || *last_class != ct) {  // prompts repeat classes: one runtime lookup per run of them
      last_def = runtime_.get(ct);
      last_class = &ct;
    }
    const Json* changed = &kUnknown;
    bool include_id = false;
    if (last_def) {
      run.nodes[static_cast<size_t>(n)].def = last_def;
      include_id = last_def->not_idempotent || last_def->has_unique_id;
      const Json& node = run.node(n);
      if (auto ic = node.find(kIsChanged); ic != node.end()) {
        changed = &*ic;
      } else if (last_def->has_is_changed) {
        NodeCall c{run.id(n), run.display_of(run.id(n)), ct, last_def, {}};
        const Json& inputs = run.inputs(n);
        for (auto in = inputs.begin(); in != inputs.end(); ++in)
          c.inputs.emplace_back(in.key(), InputArg{&in.value(), nullptr, 0, false});
        // Like ComfyUI, the executing prompt records the result (PROMPT hidden inputs see it);
        // history keeps the copy taken when the prompt started.
        computed = runtime_.is_changed(c, whole_prompt);
        changed = &computed;
      } else {
        changed = &kUnchanged;
      }
    }
    static const std::string kNone;
    const std::string& cls = last_def ? ct : kNone;
    if (reuse) {
      const KeyInput& m = key_memo_->inputs[i];
      if (m.include_id == include_id && m.class_type == cls && json_identical(m.is_changed, *changed)) continue;
      reuse = false;  // the first difference: the key inputs so far are the memo's
      kin.assign(key_memo_->inputs.begin(), key_memo_->inputs.begin() + static_cast<std::ptrdiff_t>(i));
      kin.resize(ns.size());
    }
    kin[i] = KeyInput{cls, *changed, include_id};
  }
  if (reuse) {  // (only ever for the whole prompt)
    run.queued_keys = key_memo_->keys;
    return true;
  }
  // The whole prompt's keys go to a new vector; an expansion's to the run's own.
  std::shared_ptr<PromptRun::Keys> keys;
  if (whole_prompt) keys = std::make_shared<PromptRun::Keys>(run.queued);
  RunGraph graph(run, keys.get());
  for (size_t i = 0; i < ns.size(); ++i)
    if (!kin[i].class_type.empty()) graph.infos[static_cast<size_t>(ns[i])] = &kin[i];
  compute_cache_keys_for(ns, graph);
  if (!whole_prompt) return false;
  run.queued_keys = keys;
  if (!same_prompt) key_memo_ = KeyMemo{run.item.prompt, run.queued_index, run.objects, {}, nullptr, {}, 0};
  key_memo_->inputs = std::move(kin);
  key_memo_->keys.reset();
  key_memo_->keyset.clear();
  key_memo_->version = ++key_versions_;
  // "unique:" keys (NaN IS_CHANGED, cycles, Python objects in inputs) must never repeat.
  for (const auto& key : *keys)
    if (key.rfind("unique:", 0) == 0) return false;
  key_memo_->keys = keys;
  key_memo_->keyset.insert(keys->begin(), keys->end());
  return true;
}

// Registers the nodes an expansion returned (spec §6.6) and the links the expanding node waits for.
Executor::Outcome Executor::expand(Run& run, ExecutionList& list, int n, NodeResult& r, NodeResult& failure) {
  const std::string id = run.id(n);
  std::vector<int> added;
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
    {
      std::lock_guard lk(run.progress_mu);  // progress from other threads reads these maps
      run.parent[it.key()] = id;
      run.display[it.key()] = info.contains("override_display_id") && info["override_display_id"].is_string()
                                  ? info["override_display_id"].get<std::string>()
                                  : id;
    }
    added.push_back(run.add_ephemeral(it.key(), {{"class_type", ct}, {"inputs", info.value("inputs", Json::object())}}));
  }
  prepare_nodes(run, added, false);
  for (int a : added)
    if (run.def(a) && run.def(a)->output_node) list.add_node(a);
  for (const auto& [src, slot] : r.expand_links) {
    int s = run.find(src);
    if (s >= 0 && !cached(run, s)) list.add_strong_link(s, n);
  }
  run.expansion_links[id] = r.expand_links;
  if (r.ui.is_object() && !r.ui.empty()) run.expansion_ui[id] = {{"meta", run.meta(id)}, {"output", r.ui}};
  run.pending_expansion.insert(id);
  return Outcome::Pending;
}

// Lazy inputs (spec §6.3 step 6): asks check_lazy_status which unevaluated inputs it needs and
// links them; Pending when it asked for any.
Executor::Outcome Executor::check_lazy(Run& run, ExecutionList& list, int n, const NodeCall& call,
                                       NodeResult& failure) {
  LazyCheck lc = runtime_.check_lazy(call);
  if (lc.kind != NodeResult::Ok) {
    failure.kind = lc.kind;
    failure.error = lc.error;
    return Outcome::Failure;
  }
  if (lc.needed.empty()) return Outcome::Success;
  const std::string& id = call.node_id;
  const Json& inputs = run.inputs(n);
  for (const auto& name : lc.needed) {
    auto in = inputs.find(name);
    if (in == inputs.end()) {
      failure = error_result("comfy_execution.graph.NodeInputError",
                             "Node " + id + " says it needs input " + name + ", but there is no input to that node at all");
      return Outcome::Failure;
    }
    int slot = 0;
    int src = run.link(*in, slot);
    if (src < 0) {
      failure = error_result("comfy_execution.graph.NodeInputError",
                             "Node " + id + " says it needs input " + name + ", but that value is a constant");
      return Outcome::Failure;
    }
    if (!cached(run, src)) list.add_strong_link(src, n);
  }
  return Outcome::Pending;
}

// One staged node (spec §6.3): a cache hit re-emits `executed`; an expanded node resolves its
// results; otherwise progress, `executing`, the lazy check, the call, UI, expansion or cache.
Executor::Outcome Executor::run_node(Run& run, ExecutionList& list, int n, NodeResult& failure) {
  if (const CacheEntry* hit = cached(run, n)) {
    if (run.client) {  // messages are built only when someone receives them
      const std::string& id = run.id(n);
      Json out = hit->ui.is_null() ? Json(nullptr) : hit->ui["output"];
      run.to_client("executed",
                    {{"node", id}, {"display_node", run.display_of(id)}, {"output", out}, {"prompt_id", run.pid()}});
    }
    run.finish_progress(n);
    return Outcome::Success;
  }
  // The call owns copies of the id and display id, and the key is copied: an expansion below adds
  // nodes, which may move the run's node and key storage.
  NodeCall call = build_call(run, n);
  const std::string& id = call.node_id;
  const std::string& display = call.display_id;
  const std::string key = run.key(n);
  NodeResult r;
  if (run.pending_expansion.count(id)) {
    std::unordered_map<std::string, std::shared_ptr<OutputHandle>> sources;
    for (const auto& [src, slot] : run.expansion_links[id]) {
      int s = run.find(src);
      if (s < 0) continue;
      if (const CacheEntry* e = cached(run, s)) sources[src] = e->outputs;
    }
    r = runtime_.resolve_expansion(call, sources);
    run.pending_expansion.erase(id);
    if (r.kind != NodeResult::Ok) {
      failure = std::move(r);
      return Outcome::Failure;
    }
    auto ui = run.expansion_ui.find(id);
    cache_.set(key, CacheEntry{r.outputs, ui == run.expansion_ui.end() ? Json(nullptr) : ui->second});
    run.finish_progress(n);
    run.executed.push_back(id);
    return Outcome::Success;
  }
  if (run.pending_async.erase(id)) {
    r = runtime_.execute(call);  // an async node resumed: its finished tasks' results (§6.3 step 2)
  } else {
    run.start_progress(n);
    {
      std::lock_guard lk(state_mu_);
      last_node_ = display;
    }
    if (run.client) run.to_client("executing", {{"node", id}, {"display_node", display}, {"prompt_id", run.pid()}});
    if (call.def->has_check_lazy) {
      Outcome o = check_lazy(run, list, n, call, failure);
      if (o != Outcome::Success) return o;
    }
    if (take_interrupt()) r.kind = NodeResult::Interrupted;
    else r = runtime_.execute(call);
  }
  if (!r.block_messages.empty()) {
    Json executed = Json::array();
    for (const auto& e : run.executed) executed.push_back(e);
    for (const auto& msg : r.block_messages) ex_block_message(run, n, msg, executed);
  }
  if (r.kind == NodeResult::Pending) {  // its tasks run while other nodes do
    run.pending_async.insert(id);
    list.block_external(n);
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
  if (r.expand) return expand(run, list, n, r, failure);
  cache_.set(key, CacheEntry{r.outputs, ui_entry});
  run.finish_progress(n);
  run.executed.push_back(id);
  return Outcome::Success;
}

// Runs the execution list to the end or the first failure; returns the failing node and result.
std::optional<std::pair<std::string, NodeResult>> Executor::execute_list(Run& run) {
  auto sources = [&](int n, std::vector<int>& out) {
    const auto& def = run.def(n);
    if (!def) return;
    const Json& inputs = run.inputs(n);
    for (auto in = inputs.begin(); in != inputs.end(); ++in) {
      int slot = 0;
      int src = run.link(in.value(), slot);
      if (src < 0) continue;
      const InputSpec* spec = def->find_input(in.key());
      if (spec && spec->lazy) continue;  // lazy inputs join only when check_lazy_status asks
      if (!cached(run, src)) out.push_back(src);
    }
  };
  std::vector<int> outputs;
  outputs.reserve(run.item.outputs.size());
  for (const auto& o : run.item.outputs)
    if (int n = run.find(o); n >= 0) outputs.push_back(n);
  ExecutionList list(
      outputs, sources, [&](int n) { return run.def(n) && run.def(n)->output_node; },
      [&](int n) { return run.def(n) && run.def(n)->is_async; });
  NodeResult r;  // a failure's result (one object: constructing one per node costs)
  while (!list.empty()) {
    int pick = list.pick();
    if (pick < 0 && list.has_external_blocks()) {
      // Only async nodes are left to wait for. Unlike ComfyUI, an interrupt does not wait for
      // them: it is checked every 50 ms, and the pending tasks are cancelled at the prompt's end.
      if (take_interrupt()) {
        r.kind = NodeResult::Interrupted;
        return std::make_pair(run.real_of(*run.pending_async.begin()), std::move(r));
      }
      for (const auto& id : runtime_.wait_async(0.05))
        if (int n = run.find(id); n >= 0) list.unblock_external(n);
      continue;
    }
    if (pick < 0) {  // nothing runnable: a cycle (static ones are caught by validation)
      auto remaining = list.remaining();
      std::string at = run.id(remaining.front());
      for (int r : remaining)
        if (run.parent.count(run.id(r))) {
          at = run.display_of(run.id(r));
          break;
        }
      return std::make_pair(at, error_result("graph.DependencyCycleError", "Dependency cycle detected", Json::array()));
    }
    Outcome o = run_node(run, list, pick, r);
    if (o == Outcome::Failure) return std::make_pair(run.real_of(run.id(pick)), std::move(r));
    if (o == Outcome::Success) list.complete(pick);
  }
  return std::nullopt;
}

void Executor::report_end(Run& run, const std::optional<std::pair<std::string, NodeResult>>& failure) {
  if (!failure) return run.add_message("execution_success", {{"prompt_id", run.pid()}}, false);
  const auto& [node, r] = *failure;
  Json executed = Json::array();
  for (const auto& e : run.executed) executed.push_back(e);
  int fn = run.find(node);
  Json node_type = fn >= 0 ? run.node(fn).value("class_type", Json(nullptr)) : Json(nullptr);
  if (r.kind == NodeResult::Interrupted)
    return run.add_message("execution_interrupted",
                           {{"prompt_id", run.pid()}, {"node_id", node}, {"node_type", node_type}, {"executed", executed}},
                           true);
  Json current = Json::array();
  for (const auto& n : run.nodes) current.push_back(n.id);
  run.add_message("execution_error",
                  {{"prompt_id", run.pid()}, {"node_id", node}, {"node_type", node_type}, {"executed", executed},
                   {"exception_message", r.error["exception_message"]}, {"exception_type", r.error["exception_type"]},
                   {"traceback", r.error["traceback"]}, {"current_inputs", r.error["current_inputs"]},
                   {"current_outputs", current}},
                  false);
}

void Executor::run_prompt(const QueueItem& item, int64_t task_id) {
  interrupt_ = false;
  Run run(hub_, item);
  const Json& extra = item.extra_data;  // shared with /queue readers: read only
  if (extra.is_object())
    if (auto c = extra.find("client_id"); c != extra.end() && c->is_string()) run.client = c->get<std::string>();
  bool same_prompt = key_memo_ && json_identical(key_memo_->prompt, item.prompt);
  run.add_queued(same_prompt ? key_memo_->index : nullptr);
  run.objects = same_prompt ? key_memo_->objects : run.object_list();
  {
    std::lock_guard lk(state_mu_);
    last_node_.reset();
    run_ = &run;
  }
  run.add_message("execution_start", {{"prompt_id", item.prompt_id}}, false);
  runtime_.begin_prompt(item);

  std::optional<std::pair<std::string, NodeResult>> failure;
  try {
    std::vector<int> all(run.queued);
    for (size_t i = 0; i < run.queued; ++i) all[i] = static_cast<int>(i);
    if (prepare_nodes(run, all, true)) {
      cache_.begin_prompt(key_memo_->keyset, key_memo_->version);
    } else {
      std::unordered_set<std::string> keyset(run.queued_keys->begin(), run.queued_keys->end());
      cache_.begin_prompt(keyset);
    }
    runtime_.retain_objects(run.objects);

    Json hit_ids = Json::array();
    auto& ids = hit_ids.get_ref<Json::array_t&>();
    run.hits.resize(run.queued);
    for (int n : all)
      if ((run.hits[static_cast<size_t>(n)] = cache_.get(run.key(n)))) ids.emplace_back(run.id(n));
    Json data = Json::object();
    json_members(data).reserve(3);  // with the timestamp: no growth, which would copy `nodes`
    json_append(data, "nodes", std::move(hit_ids));
    json_append(data, "prompt_id", item.prompt_id);
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
  for (size_t i = 0; i < run.nodes.size(); ++i) {  // the prompt's nodes, then expansions', in order
    if (i < run.queued && !run.queued_keys) break;  // failed before the keys were computed
    const std::string& key = run.key(static_cast<int>(i));
    if (key.empty()) continue;
    const std::string& id = run.nodes[i].id;
    const CacheEntry* e = cached(run, static_cast<int>(i));
    const Json* ui = e && e->ui.is_object() ? &e->ui : nullptr;
    if (!ui && !run.expansion_ui.empty())
      if (auto pending = run.expansion_ui.find(id); pending != run.expansion_ui.end())
        ui = &pending->second;  // UI before a failure
    if (!ui) continue;
    out_items.emplace_back(id, (*ui)["output"]);
    meta_items.emplace_back(id, (*ui)["meta"]);
  }
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
    run_ = nullptr;
  }
}

}  // namespace comfy
