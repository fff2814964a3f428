// The native executor's own overhead per node, without Python: a NodeRuntime whose nodes do
// nothing, driving the real Executor, PromptQueue and Hub (no WebSocket clients) through chains
// and wide prompts of 100 and 1,000 nodes, cold and fully cached. Prints one line per case:
//   <case> <microseconds per node or milliseconds per prompt>
// Used by bench/exec_rows.py (printed numbers only; nothing asserted).
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "exec/executor.h"

using namespace comfy;

namespace {
struct NoOutputs : OutputHandle {};

class NoopRuntime : public NodeRuntime {
 public:
  NoopRuntime() {
    auto i = std::make_shared<NodeDef>();
    i->class_type = "BenchInt";
    i->inputs = {InputSpec{"value", "required", "INT"}, InputSpec{"prev", "optional", "INT"}};
    i->return_types = {"INT"};
    i->return_custom = {false};
    i->output_is_list = {false};
    int_ = i;
    auto s = std::make_shared<NodeDef>(*i);
    s->class_type = "BenchNop";
    s->inputs = {InputSpec{"value", "required", "INT"}};
    s->return_types = {};
    s->return_custom = {};
    s->output_is_list = {};
    s->output_node = true;
    nop_ = s;
  }
  std::shared_ptr<const NodeDef> get(const std::string& c) override {
    return c == "BenchInt" ? int_ : c == "BenchNop" ? nop_ : nullptr;
  }
  void begin_prompt(const QueueItem&) override {}
  void end_prompt() override {}
  Json is_changed(const NodeCall&, bool) override { return false; }
  NodeResult execute(const NodeCall&) override {
    NodeResult r;
    r.outputs = out_;
    return r;
  }
  std::vector<std::string> wait_async(double) override { return {}; }
  LazyCheck check_lazy(const NodeCall&) override { return {}; }
  NodeResult resolve_expansion(const NodeCall&,
                               const std::unordered_map<std::string, std::shared_ptr<OutputHandle>>&) override {
    return {};
  }
  void retain_objects(const std::shared_ptr<const ObjectList>&) override {}
  void clear_objects() override {}

 private:
  std::shared_ptr<const NodeDef> int_, nop_;
  std::shared_ptr<OutputHandle> out_ = std::make_shared<NoOutputs>();
};

QueueItem make(bool wide, int n, int salt, int number) {
  QueueItem it;
  it.number = number;
  it.prompt_id = "p" + std::to_string(number);
  it.prompt = Json::object();
  if (wide) {
    for (int i = 0; i < n; ++i) {
      it.prompt[std::to_string(i)] = {{"class_type", "BenchNop"}, {"inputs", {{"value", salt * n + i}}}};
      it.outputs.push_back(std::to_string(i));
    }
  } else {
    it.prompt["0"] = {{"class_type", "BenchInt"}, {"inputs", {{"value", salt}}}};
    for (int i = 1; i < n; ++i)
      it.prompt[std::to_string(i)] = {{"class_type", "BenchInt"},
                                      {"inputs", {{"value", 1}, {"prev", Json::array({std::to_string(i - 1), 0})}}}};
    it.prompt["out"] = {{"class_type", "BenchNop"}, {"inputs", {{"value", Json::array({std::to_string(n - 1), 0})}}}};
    it.outputs.push_back("out");
  }
  return it;
}
}  // namespace

int main(int argc, char** argv) {
  // Optional: <chain|wide> <nodes> <reps> runs one case (for callgrind); default: every case.
  std::string only = argc > 1 ? argv[1] : "";
  int only_n = argc > 2 ? std::atoi(argv[2]) : 0;
  int reps = argc > 3 ? std::atoi(argv[3]) : 7;
  PromptQueue queue;
  ws::Hub hub;
  NoopRuntime runtime;
  Executor ex(queue, hub, runtime, CacheMode::Classic, 0);
  ex.start();
  int number = 0;
  auto run = [&](const QueueItem& item) {
    size_t before = queue.history_size();
    QueueItem copy = item;  // made before the clock starts: a server parses it from the request
    auto t0 = std::chrono::steady_clock::now();
    queue.put(std::move(copy));
    while (queue.history_size() == before) std::this_thread::yield();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (only == "cached") {  // one cold run, then `reps` fully cached re-queues (for profilers)
    QueueItem item = make(true, only_n, 1, number++);
    run(item);
    double total = 0;
    for (int rep = 0; rep < reps; ++rep) {
      item.number = number;
      item.prompt_id = "p" + std::to_string(number++);
      total += run(item);
    }
    std::printf("cached wide %d: %.3f ms per re-queue\n", only_n, total / reps * 1e3);
    only = "none";
  }
  for (bool wide : {false, true}) {
    for (int n : {100, 1000}) {
      if (!only.empty() && (only != (wide ? "wide" : "chain") || n != only_n)) continue;
      double cold = 1e9, cached = 1e9;
      for (int rep = 0; rep < reps; ++rep) {
        QueueItem item = make(wide, n, 1000 + number, number);
        ++number;
        cold = std::min(cold, run(item));
        item.number = number;
        item.prompt_id = "p" + std::to_string(number++);
        cached = std::min(cached, run(item));
      }
      int nodes = wide ? n : n + 1;
      std::printf("%s %d cold_us_per_node %.2f cached_ms %.3f\n", wide ? "wide" : "chain", n, cold / nodes * 1e6,
                  cached * 1e3);
    }
  }
  ex.stop();
  queue.stop();
  return 0;
}
