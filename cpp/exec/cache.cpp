#include "exec/cache.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

#include "common/util.h"

namespace comfy {

void OutputCache::begin_prompt(const std::unordered_set<std::string>& keys) {
  ++generation_;
  if (mode_ == CacheMode::None) {
    entries_.clear();
  } else if (mode_ == CacheMode::Classic) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = keys.count(it->first) ? std::next(it) : entries_.erase(it);
  }
}

const CacheEntry* OutputCache::get(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  it->second.used = generation_;
  return &it->second.entry;
}

void OutputCache::set(const std::string& key, CacheEntry e) { entries_[key] = Slot{std::move(e), generation_}; }

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

static bool link_of(const Json& v, const std::function<const Json&(const std::string&)>& node_of, std::string& src,
                    int64_t& slot) {
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number()) return false;
  src = v[0].get<std::string>();
  slot = v[1].get<int64_t>();
  return !node_of(src).empty();
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

void compute_cache_keys_for(const std::vector<std::string>& ids, const std::function<const Json&(const std::string&)>& node_of,
                            const std::unordered_map<std::string, KeyInput>& info,
                            std::unordered_map<std::string, std::string>& keys) {
  // 1 visiting, 2 done; a node already in `keys` (earlier prompts' nodes for an expansion) is done.
  std::unordered_map<std::string, int> state;
  std::vector<std::pair<const std::string*, const Json*>> sorted;
  std::string buf, scratch;
  auto done = [&](const std::string& id) { return keys.count(id) > 0 || state[id] == 2; };
  for (const auto& root : ids) {
    if (done(root)) continue;
    std::vector<std::pair<std::string, bool>> stack{{root, false}};
    while (!stack.empty()) {
      auto [id, expanded] = stack.back();
      stack.pop_back();
      if (done(id)) continue;
      const Json& node = node_of(id);
      static const Json no_inputs = Json::object();  // (a temporary here would copy every node's inputs)
      const Json& inputs = node.is_object() && node.contains("inputs") ? node["inputs"] : no_inputs;
      if (!expanded) {
        if (state[id] == 1) {  // reached again while on the stack: a cycle
          keys[id] = "unique:" + uuid4();
          state[id] = 2;
          continue;
        }
        state[id] = 1;
        stack.emplace_back(id, true);
        for (const auto& v : inputs) {
          std::string src;
          int64_t slot;
          if (link_of(v, node_of, src, slot) && !done(src)) stack.emplace_back(src, false);
        }
        continue;
      }
      auto inf = info.find(id);
      if (inf == info.end() || json_has_nan(inf->second.is_changed)) {
        keys[id] = "unique:" + uuid4();
        state[id] = 2;
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
      field(buf, inf->second.class_type);
      scratch.clear();
      py_dumps_to(scratch, inf->second.is_changed);
      field(buf, scratch);
      if (inf->second.include_id) field(buf, "id:" + id);
      for (const auto& [name, value] : sorted) {
        field(buf, *name);
        std::string src;
        int64_t slot;
        if (link_of(*value, node_of, src, slot)) {
          auto k = keys.find(src);
          if (k == keys.end() || k->second.rfind("unique:", 0) == 0) unique = true;
          buf += 'L';
          field(buf, k == keys.end() ? std::string() : k->second);
          field(buf, std::to_string(slot));
        } else {
          if (has_py_ref(*value)) unique = true;
          buf += 'V';
          scratch.clear();
          py_dumps_to(scratch, *value);
          field(buf, scratch);
        }
      }
      keys[id] = unique ? "unique:" + uuid4() : sha256_hex(buf);
      state[id] = 2;
    }
  }
}

std::unordered_map<std::string, std::string> compute_cache_keys(
    const Json& prompt, const std::unordered_map<std::string, KeyInput>& info) {
  std::unordered_map<std::string, std::string> keys;
  std::vector<std::string> ids;
  for (auto it = prompt.begin(); it != prompt.end(); ++it) ids.push_back(it.key());
  static const Json empty = Json::object();
  compute_cache_keys_for(
      ids, [&](const std::string& id) -> const Json& { return prompt.contains(id) ? prompt[id] : empty; }, info, keys);
  return keys;
}

}  // namespace comfy
