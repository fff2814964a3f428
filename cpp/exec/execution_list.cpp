#include "exec/execution_list.h"

#include <unordered_set>

namespace comfy {

ExecutionList::ExecutionList(const std::vector<std::string>& outputs, const Sources& uncached_sources,
                             const std::function<bool(const std::string&)>& is_output) {
  std::vector<std::vector<std::string>> srcs;
  for (const auto& out : outputs) {
    std::vector<std::string> stack{out};
    while (!stack.empty()) {
      std::string id = std::move(stack.back());
      stack.pop_back();
      if (index_.count(id)) continue;
      index_[id] = order_.size();
      order_.push_back(id);
      srcs.push_back(uncached_sources(id));
      for (auto r = srcs.back().rbegin(); r != srcs.back().rend(); ++r) stack.push_back(*r);
    }
  }
  size_t n = order_.size();
  blocks_.assign(n, 0);
  dependents_.assign(n, {});
  done_.assign(n, false);
  output_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    output_[i] = is_output(order_[i]);
    std::unordered_set<std::string> seen;
    for (const auto& s : srcs[i]) {
      if (!seen.insert(s).second) continue;
      auto it = index_.find(s);
      if (it == index_.end()) continue;
      dependents_[it->second].push_back(i);
      ++blocks_[i];
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (blocks_[i] == 0) ready_.insert(i);
  remaining_ = n;
}

std::optional<std::string> ExecutionList::pick() const {
  if (ready_.empty()) return std::nullopt;
  for (size_t i : ready_)
    if (output_[i]) return order_[i];
  for (size_t i : ready_)
    for (size_t d : dependents_[i])
      if (output_[d]) return order_[i];
  for (size_t i : ready_)
    for (size_t d : dependents_[i])
      for (size_t d2 : dependents_[d])
        if (output_[d2]) return order_[i];
  return order_[*ready_.begin()];
}

void ExecutionList::complete(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end() || done_[it->second]) return;
  size_t i = it->second;
  done_[i] = true;
  ready_.erase(i);
  --remaining_;
  for (size_t d : dependents_[i])
    if (--blocks_[d] == 0 && !done_[d]) ready_.insert(d);
}

std::string ExecutionList::first_remaining() const {
  for (size_t i = 0; i < order_.size(); ++i)
    if (!done_[i]) return order_[i];
  return {};
}

}  // namespace comfy
