// The set of nodes one prompt still has to run, and ComfyUI's choice of the next one
// (comfy_execution/graph.py ExecutionList, ux_friendly_pick_node). Built from the requested
// outputs plus, in preorder and input order, every linked ancestor that is not cached. Picking
// and completing are O(ready + dependents), so long chains stay linear. Not thread-safe.
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
  using Sources = std::function<std::vector<std::string>(const std::string&)>;
  ExecutionList(const std::vector<std::string>& outputs, const Sources& uncached_sources,
                const std::function<bool(const std::string&)>& is_output);
  bool empty() const { return remaining_ == 0; }
  // Next node: an output node, else one that blocks an output, else one two hops from an output,
  // else the first ready one. nullopt when nodes remain but none is ready (a cycle).
  std::optional<std::string> pick() const;
  void complete(const std::string& id);
  std::string first_remaining() const;

 private:
  std::vector<std::string> order_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<int> blocks_;
  std::vector<std::vector<size_t>> dependents_;
  std::vector<bool> output_, done_;
  std::set<size_t> ready_;
  size_t remaining_ = 0;
};

}  // namespace comfy
