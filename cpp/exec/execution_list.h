// The set of nodes one prompt still has to run, and ComfyUI's choice of the next one
// (comfy_execution/graph.py ExecutionList, ux_friendly_pick_node). Starts from the requested
// outputs plus, in preorder (last input first, like ComfyUI's stack), every non-lazy linked ancestor that is not cached;
// lazy inputs and expansions add nodes and links later. Picking and completing are
// O(ready + dependents), so long chains stay linear. Not thread-safe.
#pragma once
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace comfy {

class ExecutionList {
 public:
  // The uncached, non-lazy linked sources of a node, in input order.
  using Sources = std::function<std::vector<std::string>(const std::string&)>;
  using IsOutput = std::function<bool(const std::string&)>;
  // `is_async`: async nodes are staged as early as output nodes (first rule only).
  ExecutionList(const std::vector<std::string>& outputs, Sources uncached_sources, IsOutput is_output,
                IsOutput is_async = nullptr);
  bool empty() const { return remaining_ == 0; }
  // Next node: an output node, else one that blocks an output, else one two hops from an output,
  // else the first ready one. nullopt when nodes remain but none is ready (a cycle).
  std::optional<std::string> pick() const;
  void complete(const std::string& id);
  // Adds `src` (with its own uncached sources) if it is not listed yet, and makes `to` wait for it.
  void add_strong_link(const std::string& src, const std::string& to);
  // Adds a node (an output created by expansion, say) if it is not listed yet.
  void add_node(const std::string& id);
  bool contains(const std::string& id) const { return index_.count(id) > 0; }
  // An async node left pending (its tasks still run) is not ready until unblocked
  // (ComfyUI's add_external_block).
  void block_external(const std::string& id);
  void unblock_external(const std::string& id);
  bool has_external_blocks() const { return external_ > 0; }
  std::string first_remaining() const;
  // Nodes still waiting, in insertion order (for cycle reports).
  std::vector<std::string> remaining() const;

 private:
  size_t insert(const std::string& id);  // adds one node and, recursively, its sources
  void block(size_t to, size_t src);

  Sources sources_;
  IsOutput is_output_, is_async_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<int> blocks_;
  std::vector<std::vector<size_t>> dependents_;
  std::vector<bool> output_, first_, done_;
  std::set<size_t> ready_;
  size_t remaining_ = 0;
  size_t external_ = 0;
};

}  // namespace comfy
