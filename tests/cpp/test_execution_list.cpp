#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "exec/execution_list.h"

using comfy::ExecutionList;

namespace {
// Named nodes for readability: ids are a node's position in `names`.
struct Graph {
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::string>> src;
  int id(const std::string& n) {
    auto it = std::find(names.begin(), names.end(), n);
    if (it != names.end()) return static_cast<int>(it - names.begin());
    names.push_back(n);
    return static_cast<int>(names.size()) - 1;
  }
  ExecutionList::Sources sources() {
    return [this](int node, std::vector<int>& out) {
      for (const auto& s : src[names[node]]) out.push_back(id(s));
    };
  }
  ExecutionList::Flag named(std::vector<std::string> outs) {
    return [this, outs](int node) { return std::find(outs.begin(), outs.end(), names[node]) != outs.end(); };
  }
  std::vector<std::string> drain(ExecutionList& l) {
    std::vector<std::string> order;
    while (!l.empty()) {
      int p = l.pick();
      if (p < 0) break;
      order.push_back(names[p]);
      l.complete(p);
    }
    return order;
  }
};
}  // namespace

TEST(ExecutionList, PrefersOutputsThenTheirBlockers) {
  // 1 -> 2 -> out3 ; 4 -> out5 ; 6 (loader) -> 7 -> out5
  Graph g;
  g.src = {{"3", {"2"}}, {"2", {"1"}}, {"5", {"4", "7"}}, {"7", {"6"}}, {"1", {}}, {"4", {}}, {"6", {}}};
  ExecutionList l({g.id("3"), g.id("5")}, g.sources(), g.named({"3", "5"}));
  // Ready at start, in insertion order: 1, 4, 6. 4 blocks output 5 directly; then 1 (two hops from
  // output 3, and listed before 6); then 2 blocks 3; then output 3; then 6, 7, 5.
  EXPECT_EQ(g.drain(l), (std::vector<std::string>{"4", "1", "2", "3", "6", "7", "5"}));
}

TEST(ExecutionList, CycleLeavesNothingReady) {
  Graph g;
  g.src = {{"o", {"a"}}, {"a", {"b"}}, {"b", {"a"}}};
  ExecutionList l({g.id("o")}, g.sources(), g.named({"o"}));
  EXPECT_EQ(l.pick(), -1);
  EXPECT_FALSE(l.empty());
  EXPECT_EQ(g.names[l.first_remaining()], "o");
  EXPECT_EQ(l.remaining().size(), 3u);
}

TEST(ExecutionList, LongChainIsLinear) {
  ExecutionList l({4999}, [](int i, std::vector<int>& out) { if (i > 0) out.push_back(i - 1); },
                  [](int i) { return i == 4999; });
  std::vector<int> order;
  while (!l.empty()) {
    int p = l.pick();
    ASSERT_GE(p, 0);
    order.push_back(p);
    l.complete(p);
  }
  ASSERT_EQ(order.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(order[static_cast<size_t>(i)], i);
}

TEST(ExecutionList, LazyLinkAddedLaterBlocksTheNode) {
  // out <- mix(lazy a, b): initially only b is a source.
  Graph g;
  g.src = {{"out", {"mix"}}, {"mix", {"b"}}, {"a", {}}, {"b", {}}};
  int a = g.id("a");  // a node id the list has not seen yet
  ExecutionList l({g.id("out")}, g.sources(), g.named({"out"}));
  EXPECT_EQ(g.names[l.pick()], "b");
  l.complete(g.id("b"));
  EXPECT_EQ(g.names[l.pick()], "mix");
  l.add_strong_link(a, g.id("mix"));  // check_lazy_status asked for `a`: mix waits again
  EXPECT_EQ(g.names[l.pick()], "a");
  l.complete(a);
  EXPECT_EQ(g.names[l.pick()], "mix");
  l.complete(g.id("mix"));
  EXPECT_EQ(g.names[l.pick()], "out");
}

TEST(ExecutionList, ExternalBlockHoldsANodeUntilUnblocked) {
  Graph g;
  g.src = {{"o1", {}}, {"o2", {}}};
  ExecutionList l({g.id("o1"), g.id("o2")}, g.sources(), g.named({"o1", "o2"}));
  EXPECT_EQ(g.names[l.pick()], "o1");
  l.block_external(g.id("o1"));  // an async node left pending
  EXPECT_TRUE(l.has_external_blocks());
  EXPECT_EQ(g.names[l.pick()], "o2");
  l.complete(g.id("o2"));
  EXPECT_EQ(l.pick(), -1);
  EXPECT_FALSE(l.empty());
  l.unblock_external(g.id("o1"));
  EXPECT_FALSE(l.has_external_blocks());
  EXPECT_EQ(g.names[l.pick()], "o1");
  l.complete(g.id("o1"));
  EXPECT_TRUE(l.empty());
}

TEST(ExecutionList, ReadySetSpansManyWords) {
  // 200 independent outputs listed in order; completing them from the back keeps the listing
  // order of picks for the rest (first ready wins).
  std::vector<int> outs;
  for (int i = 0; i < 200; ++i) outs.push_back(199 - i);  // listing position i holds node 199-i
  ExecutionList l(outs, [](int, std::vector<int>&) {}, [](int) { return true; });
  EXPECT_EQ(l.pick(), 199);
  l.complete(0);  // the last listed
  l.complete(199);
  EXPECT_EQ(l.pick(), 198);
  for (int n = 198; n >= 1; --n) {
    ASSERT_EQ(l.pick(), n);
    l.complete(n);
  }
  EXPECT_TRUE(l.empty());
}
