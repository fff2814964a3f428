#include "exec/cache.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "common/util.h"

namespace comfy {

void OutputCache::begin_prompt(const std::unordered_set<std::string>& keys, uint64_t keys_version) {
  ++generation_;
  if (mode_ == CacheMode::None) {
    entries_.clear();
  } else if (mode_ == CacheMode::Classic) {
    if (keys_version && keys_version == trimmed_to_) return;  // erasing since keeps the entries a subset
    for (auto it = entries_.begin(); it != entries_.end();)
      it = keys.count(it->first) ? std::next(it) : entries_.erase(it);
    trimmed_to_ = keys_version;
  }
}

const CacheEntry* OutputCache::get(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  it->second.used = generation_;
  return &it->second.entry;
}

void OutputCache::set(const std::string& key, CacheEntry e) {
  trimmed_to_ = 0;
  entries_[key] = Slot{std::move(e), generation_};
}

void OutputCache::end_prompt() {
  if (mode_ != CacheMode::Lru || entries_.size() <= lru_max_) return;
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [k, s] : entries_) order.emplace_back(s.used, k);
  std::sort(order.begin(), order.end());
  size_t drop = entries_.size() - lru_max_;
  for (size_t i = 0; i < drop; ++i) {
    if (order[i].first == generation_) break;  // never evict what this prompt just used
    entries_.erase(order[i].second);
  }
}

void OutputCache::clear() { entries_.clear(); }

bool json_has_nan(const Json& v) {
  if (v.is_number_float()) return std::isnan(v.get<double>());
  if (v.is_array() || v.is_object())
    for (const auto& e : v)
      if (json_has_nan(e)) return true;
  return false;
}

// Appends a length-prefixed field, so that field boundaries cannot be confused.
static void field(std::string& buf, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  buf.append(reinterpret_cast<const char*>(&n), sizeof n);
  buf.append(s);
}

static bool has_py_ref(const Json& v) {
  if (v.is_object()) {
    if (v.contains("__py_ref__")) return true;
    for (const auto& e : v)
      if (has_py_ref(e)) return true;
  } else if (v.is_array()) {
    for (const auto& e : v)
      if (has_py_ref(e)) return true;
  }
  return false;
}

void compute_cache_keys_for(const std::vector<int>& nodes, KeyGraph& g) {
  // 1 visiting, 2 done; a node that already has a key (earlier nodes, for an expansion) is done.
  std::vector<uint8_t> state(g.size(), 0);
  std::vector<std::pair<const std::string*, const Json*>> sorted;
  std::string buf, scratch;
  auto done = [&](int n) { return state[static_cast<size_t>(n)] == 2 || !g.key(n).empty(); };
  std::vector<std::pair<int, bool>> stack;
  for (int root : nodes) {
    if (done(root)) continue;
    stack.assign(1, {root, false});
    while (!stack.empty()) {
      auto [n, expanded] = stack.back();
      stack.pop_back();
      if (done(n)) continue;
      auto& st = state[static_cast<size_t>(n)];
      const Json& inputs = g.inputs(n);
      if (!expanded) {
        if (st == 1) {  // reached again while on the stack: a cycle
          g.set_key(n, "unique:" + uuid4());
          st = 2;
          continue;
        }
        st = 1;
        stack.emplace_back(n, true);
        for (const auto& v : inputs) {
          int64_t slot;
          int src = g.link(v, slot);
          if (src >= 0 && !done(src)) stack.emplace_back(src, false);
        }
        continue;
      }
      const KeyInput* inf = g.info(n);
      if (!inf || json_has_nan(inf->is_changed)) {
        g.set_key(n, "unique:" + uuid4());
        st = 2;
        continue;
      }
      // The signature (class, IS_CHANGED, id when it matters, then the inputs sorted by name, each
      // a constant or the source's key and slot) is hashed from a length-prefixed byte string:
      // equal strings exactly when the signatures are equal, without building JSON per node.
      sorted.clear();
      for (auto in = inputs.begin(); in != inputs.end(); ++in) sorted.emplace_back(&in.key(), &in.value());
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
      bool unique = false;
      buf.clear();
      field(buf, inf->class_type);
      scratch.clear();
      py_dumps_to(scratch, inf->is_changed);
      field(buf, scratch);
      if (inf->include_id) field(buf, "id:" + g.id(n));
      for (const auto& [name, value] : sorted) {
        field(buf, *name);
        int64_t slot;
        int src = g.link(*value, slot);
        if (src >= 0) {
          const std::string& k = g.key(src);
          if (k.empty() || k.rfind("unique:", 0) == 0) unique = true;
          buf += 'L';
          field(buf, k);
          field(buf, std::to_string(slot));
        } else {
          if (has_py_ref(*value)) unique = true;
          buf += 'V';
          scratch.clear();
          py_dumps_to(scratch, *value);
          field(buf, scratch);
        }
      }
      g.set_key(n, unique ? "unique:" + uuid4() : sha256_hex(buf));
      st = 2;
    }
  }
}

std::unordered_map<std::string, std::string> compute_cache_keys(
    const Json& prompt, const std::unordered_map<std::string, KeyInput>& info) {
  struct PromptGraph : KeyGraph {
    std::vector<std::string> ids;
    std::vector<const Json*> inputs_of;
    std::vector<const KeyInput*> infos;
    std::unordered_map<std::string, int> index;
    std::vector<std::string> keys;
    size_t size() const override { return ids.size(); }
    const std::string& key(int n) const override { return keys[static_cast<size_t>(n)]; }
    void set_key(int n, std::string k) override { keys[static_cast<size_t>(n)] = std::move(k); }
    const std::string& id(int n) const override { return ids[static_cast<size_t>(n)]; }
    const Json& inputs(int n) const override { return *inputs_of[static_cast<size_t>(n)]; }
    const KeyInput* info(int n) const override { return infos[static_cast<size_t>(n)]; }
    int link(const Json& v, int64_t& slot) const override {
      if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number()) return -1;
      auto it = index.find(v[0].get_ref<const std::string&>());
      if (it == index.end()) return -1;
      slot = v[1].get<int64_t>();
      return it->second;
    }
  } g;
  static const Json no_inputs = Json::object();
  std::vector<int> all;
  for (auto it = prompt.begin(); it != prompt.end(); ++it) {
    int n = static_cast<int>(g.ids.size());
    g.index[it.key()] = n;
    g.ids.push_back(it.key());
    const Json& node = it.value();
    g.inputs_of.push_back(node.is_object() && node.contains("inputs") ? &node["inputs"] : &no_inputs);
    auto inf = info.find(it.key());
    g.infos.push_back(inf == info.end() ? nullptr : &inf->second);
    all.push_back(n);
  }
  g.keys.resize(all.size());
  compute_cache_keys_for(all, g);
  std::unordered_map<std::string, std::string> out;
  for (int n : all) out[g.ids[static_cast<size_t>(n)]] = std::move(g.keys[static_cast<size_t>(n)]);
  return out;
}

}  // namespace comfy
