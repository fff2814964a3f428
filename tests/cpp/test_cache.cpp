#include <gtest/gtest.h>

#include <cmath>

#include "exec/cache.h"

using namespace comfy;

static std::unordered_map<std::string, KeyInput> infos(const Json& p) {
  std::unordered_map<std::string, KeyInput> m;
  for (auto it = p.begin(); it != p.end(); ++it) m[it.key()] = KeyInput{it.value()["class_type"], false, false};
  return m;
}

TEST(CacheKeys, StructuralNotIdBased) {
  Json a = Json::parse(R"({"1": {"class_type": "A", "inputs": {"v": 1}}, "2": {"class_type": "B", "inputs": {"x": ["1", 0]}}})");
  Json b = Json::parse(R"({"9": {"class_type": "A", "inputs": {"v": 1}}, "7": {"class_type": "B", "inputs": {"x": ["9", 0]}}})");
  auto ka = compute_cache_keys(a, infos(a));
  auto kb = compute_cache_keys(b, infos(b));
  EXPECT_EQ(ka["1"], kb["9"]);
  EXPECT_EQ(ka["2"], kb["7"]);
  Json c = a;
  c["1"]["inputs"]["v"] = 2;  // an upstream constant changes the downstream key
  auto kc = compute_cache_keys(c, infos(c));
  EXPECT_NE(ka["2"], kc["2"]);
  auto ids = infos(b);
  ids["7"].include_id = true;  // NOT_IDEMPOTENT / UNIQUE_ID
  EXPECT_NE(compute_cache_keys(b, ids)["7"], kb["7"]);
}

TEST(CacheKeys, NanIsChangedNeverHitsAndPropagates) {
  Json a = Json::parse(R"({"1": {"class_type": "A", "inputs": {}}, "2": {"class_type": "B", "inputs": {"x": ["1", 0]}}})");
  auto in = infos(a);
  in["1"].is_changed = Json::array({std::nan("")});
  auto k1 = compute_cache_keys(a, in), k2 = compute_cache_keys(a, in);
  EXPECT_NE(k1["1"], k2["1"]);
  EXPECT_NE(k1["2"], k2["2"]);
}

TEST(CacheKeys, FiveThousandChainIsIterative) {
  Json p = Json::object();
  p["0"] = {{"class_type", "A"}, {"inputs", Json::object()}};
  for (int i = 1; i < 5000; ++i)
    p[std::to_string(i)] = {{"class_type", "A"}, {"inputs", {{"x", Json::array({std::to_string(i - 1), 0})}}}};
  auto k = compute_cache_keys(p, infos(p));
  EXPECT_EQ(k.size(), 5000u);
  EXPECT_NE(k["4999"], k["4998"]);
}

TEST(OutputCache, ClassicLruAndNone) {
  OutputCache classic(CacheMode::Classic, 0);
  classic.begin_prompt({"a", "b"});
  classic.set("a", {});
  classic.set("b", {});
  classic.begin_prompt({"a"});
  EXPECT_NE(classic.get("a"), nullptr);
  EXPECT_EQ(classic.get("b"), nullptr);

  OutputCache lru(CacheMode::Lru, 2);
  lru.begin_prompt({});
  lru.set("a", {});
  lru.end_prompt();
  lru.begin_prompt({});
  lru.set("b", {});
  lru.set("c", {});
  lru.end_prompt();
  EXPECT_EQ(lru.get("a"), nullptr);  // least recently used went first
  EXPECT_NE(lru.get("b"), nullptr);
  EXPECT_EQ(lru.size(), 2u);

  OutputCache none(CacheMode::None, 0);
  none.set("a", {});
  none.begin_prompt({"a"});
  EXPECT_EQ(none.get("a"), nullptr);
}
