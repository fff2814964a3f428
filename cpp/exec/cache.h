// Output cache (spec §6.5) and structural cache keys. Keys are Merkle-style: a node's key hashes
// its class, IS_CHANGED value, sorted constants (and its id for NOT_IDEMPOTENT / UNIQUE_ID
// classes) and, for each link, the source's key and slot. Two nodes with equal class, constants
// and upstream structure share an entry, as in ComfyUI, and computing every key is linear in the
// prompt size (ComfyUI's ancestor lists are quadratic for long chains). Not thread-safe: owned by
// the executor thread.
#pragma once
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/json.h"
#include "exec/runtime.h"

namespace comfy {

enum class CacheMode { Classic, Lru, None };

struct CacheEntry {
  std::shared_ptr<OutputHandle> outputs;
  Json ui;  // {"meta": {...}, "output": {...}} or null
};

class OutputCache {
 public:
  OutputCache(CacheMode mode, size_t lru_max) : mode_(mode), lru_max_(lru_max) {}
  // Classic keeps only entries whose key is in this prompt; None clears; LRU keeps all.
  void begin_prompt(const std::unordered_set<std::string>& keys);
  const CacheEntry* get(const std::string& key);
  void set(const std::string& key, CacheEntry e);
  void end_prompt();  // LRU: evict least recently used entries beyond the limit
  void clear();
  size_t size() const { return entries_.size(); }
  CacheMode mode() const { return mode_; }

 private:
  struct Slot {
    CacheEntry entry;
    uint64_t used = 0;
  };
  CacheMode mode_;
  size_t lru_max_;
  uint64_t generation_ = 0;
  std::unordered_map<std::string, Slot> entries_;
};

struct KeyInput {
  std::string class_type;
  Json is_changed;  // JSON form of IS_CHANGED, false when the class has none
  bool include_id = false;
};

// Computes keys for every node of `prompt` (iteratively, no recursion). Nodes on a cycle or
// linked to missing nodes get a unique key that never hits. `nan_unique`: IS_CHANGED values
// containing NaN make the key unique (NaN != NaN in ComfyUI's comparison).
std::unordered_map<std::string, std::string> compute_cache_keys(
    const Json& prompt, const std::unordered_map<std::string, KeyInput>& info);

// The same for `ids` (nodes added by an expansion) whose links may point at nodes already in
// `keys`; `node_of` returns a node's JSON ({} when unknown). Adds the new keys to `keys`. Inputs
// holding Python objects ({"__py_ref__": n}) cannot be compared: such nodes never hit.
void compute_cache_keys_for(const std::vector<std::string>& ids, const std::function<const Json&(const std::string&)>& node_of,
                            const std::unordered_map<std::string, KeyInput>& info,
                            std::unordered_map<std::string, std::string>& keys);

bool json_has_nan(const Json& v);

}  // namespace comfy
