#include "exec/execution_list.h"

#include <algorithm>
#include <bit>

namespace comfy {

ExecutionList::ExecutionList(const std::vector<int>& outputs, Sources uncached_sources, Flag is_output, Flag is_async)
    : sources_(std::move(uncached_sources)), is_output_(std::move(is_output)), is_async_(std::move(is_async)) {
  order_.reserve(outputs.size());
  for (int out : outputs) add_node(out);
}

void ExecutionList::set_ready(int p, bool on) {
  size_t w = static_cast<size_t>(p) >> 6;
  uint64_t bit = uint64_t{1} << (p & 63);
  if (on) {
    if (w >= ready_.size()) ready_.resize(w + 1, 0);
    if (ready_[w] & bit) return;
    ready_[w] |= bit;
    ++ready_count_;
    lo_ = std::min(lo_, w);
  } else {
    if (w >= ready_.size() || !(ready_[w] & bit)) return;
    ready_[w] &= ~bit;
    --ready_count_;
  }
}

// The first ready position (in listing order) whose node satisfies `pred`, or -1.
template <class F>
int ExecutionList::first_ready(F pred) const {
  if (ready_count_ == 0) return -1;
  while (lo_ < ready_.size() && ready_[lo_] == 0) ++lo_;
  for (size_t w = lo_; w < ready_.size(); ++w)
    for (uint64_t bits = ready_[w]; bits; bits &= bits - 1) {
      int p = static_cast<int>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
      if (pred(p)) return p;
    }
  return -1;
}

void ExecutionList::block(int to, int src) {
  auto& deps = dependents_[src];
  if (std::find(deps.begin(), deps.end(), to) != deps.end()) return;  // one block per distinct source
  deps.push_back(to);
  if (blocks_[to]++ == 0) set_ready(to, false);
}

int ExecutionList::insert(int root) {
  // Iterative preorder: a node is listed before its sources. Frames hold ranges of `srcs`.
  auto& stack = stack_;
  auto& srcs = srcs_;
  stack.clear();
  srcs.clear();
  auto add_one = [&](int node) {
    int p = static_cast<int>(order_.size());
    if (static_cast<size_t>(node) >= pos_.size()) pos_.resize(static_cast<size_t>(node) + 1, -1);
    pos_[node] = p;
    order_.push_back(node);
    blocks_.push_back(0);
    dependents_.emplace_back();
    bool out = is_output_(node);
    output_.push_back(out);
    first_.push_back(out || (is_async_ && is_async_(node)));
    done_.push_back(false);
    set_ready(p, true);
    ++remaining_;
    // ComfyUI walks a LIFO stack, so the last input's source is listed first.
    size_t begin = srcs.size();
    sources_(node, srcs);
    std::reverse(srcs.begin() + static_cast<std::ptrdiff_t>(begin), srcs.end());
    stack.push_back(Frame{p, begin, srcs.size()});
    return p;
  };
  int root_pos = add_one(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.end) {
      stack.pop_back();
      continue;
    }
    int src = srcs[f.next++];
    int to = f.pos;
    int sp = pos_of(src);
    if (sp >= 0) {
      block(to, sp);
      continue;
    }
    sp = add_one(src);  // may reallocate `stack`: do not touch `f` after this
    block(to, sp);
  }
  return root_pos;
}

void ExecutionList::add_node(int node) {
  if (pos_of(node) < 0) insert(node);
}

void ExecutionList::add_strong_link(int src, int to) {
  int tp = pos_of(to);
  if (tp < 0) return;
  int sp = pos_of(src);
  if (sp < 0) sp = insert(src);
  if (done_[sp]) return;
  block(tp, sp);
}

int ExecutionList::pick() const {
  int p = first_ready([&](int q) { return first_[q] != 0; });
  if (p < 0)
    p = first_ready([&](int q) {
      for (int d : dependents_[q])
        if (output_[d]) return true;
      return false;
    });
  if (p < 0)
    p = first_ready([&](int q) {
      for (int d : dependents_[q])
        for (int d2 : dependents_[d])
          if (output_[d2]) return true;
      return false;
    });
  if (p < 0) p = first_ready([](int) { return true; });
  return p < 0 ? -1 : order_[p];
}

void ExecutionList::complete(int node) {
  int p = pos_of(node);
  if (p < 0 || done_[p]) return;
  done_[p] = true;
  set_ready(p, false);
  --remaining_;
  for (int d : dependents_[p])
    if (--blocks_[d] == 0 && !done_[d]) set_ready(d, true);
}

void ExecutionList::block_external(int node) {
  int p = pos_of(node);
  if (p < 0) return;
  ++blocks_[p];
  set_ready(p, false);
  ++external_;
}

void ExecutionList::unblock_external(int node) {
  int p = pos_of(node);
  if (p < 0 || external_ == 0) return;
  --external_;
  if (--blocks_[p] == 0 && !done_[p]) set_ready(p, true);
}

int ExecutionList::first_remaining() const {
  for (size_t i = 0; i < order_.size(); ++i)
    if (!done_[i]) return order_[i];
  return -1;
}

std::vector<int> ExecutionList::remaining() const {
  std::vector<int> out;
  for (size_t i = 0; i < order_.size(); ++i)
    if (!done_[i]) out.push_back(order_[i]);
  return out;
}

}  // namespace comfy
