// Output cache (spec §6.5) and structural cache keys. Keys are Merkle-style: a node's key hashes
// its class, IS_CHANGED value, sorted constants (and its id for NOT_IDEMPOTENT / UNIQUE_ID
// classes) and, for each link, the source's key and slot. Two nodes with equal class, constants
// and upstream structure share an entry, as in ComfyUI, and computing every key is linear in the
// prompt size (ComfyUI's ancestor lists are quadratic for long chains). Not thread-safe: owned by
// the executor thread.
#pragma once
#include <cstdint>
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
  // `keys_version` (non-zero) names the key set: when it is the previous prompt's and nothing was
  // stored since, every entry is already in it and the trim is skipped.
  void begin_prompt(const std::unordered_set<std::string>& keys, uint64_t keys_version = 0);
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
  uint64_t trimmed_to_ = 0;  // keys_version of the last trim, 0 once anything was stored
  std::unordered_map<std::string, Slot> entries_;
};

struct KeyInput {
  std::string class_type;
  Json is_changed;  // JSON form of IS_CHANGED, false when the class has none
  bool include_id = false;
};

// What key computation sees of a graph of nodes numbered 0..size()-1: a node's id, inputs and
// KeyInput (null: unknown class, its key never hits), links (the source node of an input value,
// -1 when the value is not a link to a node of the graph), and the keys ("" until computed).
struct KeyGraph {
  virtual ~KeyGraph() = default;
  virtual size_t size() const = 0;
  virtual const std::string& id(int node) const = 0;
  virtual const Json& inputs(int node) const = 0;
  virtual const KeyInput* info(int node) const = 0;
  virtual int link(const Json& value, int64_t& slot) const = 0;
  virtual const std::string& key(int node) const = 0;
  virtual void set_key(int node, std::string key) = 0;
};

// Computes the key of each node of `nodes` and of their ancestors whose key is still empty
// (iteratively, no recursion). Nodes on a
// cycle, and nodes whose key would depend on a never-hitting one, get a unique key ("unique:").
// IS_CHANGED values containing NaN make the key unique (NaN != NaN in ComfyUI's comparison);
// inputs holding Python objects ({"__py_ref__": n}) cannot be compared, so such nodes never hit.
void compute_cache_keys_for(const std::vector<int>& nodes, KeyGraph& graph);

// The same over a whole prompt by id (tests and tools).
std::unordered_map<std::string, std::string> compute_cache_keys(
    const Json& prompt, const std::unordered_map<std::string, KeyInput>& info);

bool json_has_nan(const Json& v);

}  // namespace comfy
