// The set of nodes one prompt still has to run, and ComfyUI's choice of the next one
// (comfy_execution/graph.py ExecutionList, ux_friendly_pick_node). Starts from the requested
// outputs plus, in preorder (last input first, like ComfyUI's stack), every non-lazy linked ancestor that is not cached;
// lazy inputs and expansions add nodes and links later. Nodes are the run's dense indices (no
// strings, no per-node allocation beyond a node's dependents); picking and completing are
// O(ready + dependents), so long chains stay linear. Not thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace comfy {

class ExecutionList {
 public:
  // Appends the uncached, non-lazy linked sources of a node, in input order.
  using Sources = std::function<void(int, std::vector<int>&)>;
  using Flag = std::function<bool(int)>;
  // `is_async`: async nodes are staged as early as output nodes (first rule only).
  ExecutionList(const std::vector<int>& outputs, Sources uncached_sources, Flag is_output, Flag is_async = nullptr);
  bool empty() const { return remaining_ == 0; }
  // Next node: an output node, else one that blocks an output, else one two hops from an output,
  // else the first ready one (in listing order). -1 when nodes remain but none is ready (a cycle).
  int pick() const;
  void complete(int node);
  // Adds `src` (with its own uncached sources) if it is not listed yet, and makes `to` wait for it.
  void add_strong_link(int src, int to);
  // Adds a node (an output created by expansion, say) if it is not listed yet.
  void add_node(int node);
  // An async node left pending (its tasks still run) is not ready until unblocked
  // (ComfyUI's add_external_block).
  void block_external(int node);
  void unblock_external(int node);
  bool has_external_blocks() const { return external_ > 0; }
  int first_remaining() const;
  // Nodes still waiting, in listing order (for cycle reports).
  std::vector<int> remaining() const;

 private:
  int pos_of(int node) const { return node >= 0 && static_cast<size_t>(node) < pos_.size() ? pos_[node] : -1; }
  int insert(int node);  // lists one node and, iteratively, its sources; returns its position
  void block(int to, int src);
  void set_ready(int p, bool on);
  template <class F>
  int first_ready(F pred) const;

  Sources sources_;
  Flag is_output_, is_async_;
  std::vector<int> pos_;    // node -> listing position, -1 when not listed
  std::vector<int> order_;  // listing position -> node
  std::vector<int> blocks_;
  std::vector<std::vector<int>> dependents_;  // by position
  std::vector<uint8_t> output_, first_, done_;
  // Ready positions as a bitset; words below lo_ are empty.
  std::vector<uint64_t> ready_;
  mutable size_t lo_ = 0;
  size_t ready_count_ = 0;
  size_t remaining_ = 0;
  size_t external_ = 0;
  struct Frame {
    int pos;
    size_t next, end;
  };
  std::vector<Frame> stack_;  // insert()'s work lists, kept to reuse their storage
  std::vector<int> srcs_;
};

}  // namespace comfy
