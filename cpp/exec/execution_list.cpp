#include "exec/execution_list.h"

#include <algorithm>

namespace comfy {

ExecutionList::ExecutionList(const std::vector<std::string>& outputs, Sources uncached_sources, IsOutput is_output,
                             IsOutput is_async)
    : sources_(std::move(uncached_sources)), is_output_(std::move(is_output)), is_async_(std::move(is_async)) {
  for (const auto& out : outputs) add_node(out);
}

void ExecutionList::block(size_t to, size_t src) {
  auto& deps = dependents_[src];
  if (std::find(deps.begin(), deps.end(), to) != deps.end()) return;  // one block per distinct source
  deps.push_back(to);
  if (blocks_[to]++ == 0) ready_.erase(to);
}

size_t ExecutionList::insert(const std::string& root) {
  // Iterative preorder: a node is listed before its sources.
  struct Frame {
    size_t idx;
    std::vector<std::string> srcs;
    size_t next = 0;
  };
  std::vector<Frame> stack;
  auto add_one = [&](const std::string& id) {
    size_t i = order_.size();
    index_[id] = i;
    order_.push_back(id);
    blocks_.push_back(0);
    dependents_.emplace_back();
    output_.push_back(is_output_(id));
    first_.push_back(output_.back() || (is_async_ && is_async_(id)));
    done_.push_back(false);
    ready_.insert(i);
    ++remaining_;
    // ComfyUI walks a LIFO stack, so the last input's source is listed first.
    auto srcs = sources_(id);
    std::reverse(srcs.begin(), srcs.end());
    stack.push_back(Frame{i, std::move(srcs)});
    return i;
  };
  size_t root_idx = add_one(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.srcs.size()) {
      stack.pop_back();
      continue;
    }
    const std::string src = f.srcs[f.next++];
    size_t to = f.idx;
    auto it = index_.find(src);
    if (it != index_.end()) {
      block(to, it->second);
      continue;
    }
    size_t s = add_one(src);  // may reallocate `stack`: do not touch `f` after this
    block(to, s);
  }
  return root_idx;
}

void ExecutionList::add_node(const std::string& id) {
  if (!index_.count(id)) insert(id);
}

void ExecutionList::add_strong_link(const std::string& src, const std::string& to) {
  auto t = index_.find(to);
  if (t == index_.end()) return;
  size_t to_idx = t->second;
  auto s = index_.find(src);
  size_t src_idx = s != index_.end() ? s->second : insert(src);
  if (done_[src_idx]) return;
  block(to_idx, src_idx);
}

std::optional<std::string> ExecutionList::pick() const {
  if (ready_.empty()) return std::nullopt;
  for (size_t i : ready_)
    if (first_[i]) return order_[i];
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

void ExecutionList::block_external(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  ++blocks_[it->second];
  ready_.erase(it->second);
  ++external_;
}

void ExecutionList::unblock_external(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end() || external_ == 0) return;
  size_t i = it->second;
  --external_;
  if (--blocks_[i] == 0 && !done_[i]) ready_.insert(i);
}

std::string ExecutionList::first_remaining() const {
  for (size_t i = 0; i < order_.size(); ++i)
    if (!done_[i]) return order_[i];
  return {};
}

std::vector<std::string> ExecutionList::remaining() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < order_.size(); ++i)
    if (!done_[i]) out.push_back(order_[i]);
  return out;
}

}  // namespace comfy
