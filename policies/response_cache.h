// response_cache.h — one bounded store for the answers of every upstream,
// with LRU eviction by entries and by bytes.
//
// What it stores: for each RequestKey, the payload version and the body an
// upstream answered (shared, immutable: a hit hands out the same bytes, never
// a copy), when that data left the upstream (fetched_at) and until when it is
// fresh (expires_at, from the entry's CachePolicy at Put).
//
// Lookups take the CachePolicy in force for the key's endpoint (TTLs and
// stale-if-error are per API and endpoint, the store is shared):
//   - fresh while now < expires_at (fresh at expires_at-1us, not at
//     expires_at);
//   - stale-servable when expired and policy.ServableStale(fetched_at, now);
//   - a disabled policy neither serves nor stores.
// Get and GetStale move the entry to the front of the LRU order; Put inserts
// at the front and evicts least recently used entries until both bounds hold.
// Get/Put/GetStale are O(1) on average (hash map + intrusive LRU list).
//
// Bytes: an entry counts the size of its key's encoding, its body's bytes
// and content type (no bookkeeping overhead: the bound is on data).
// A single entry larger than max_bytes is not stored (counted in
// oversized()).
//
// Pointers returned by Get/GetStale stay valid until the next non-const call.
// Not thread-safe: one thread (the host's event loop), like every component.
#ifndef ORCHSIM_POLICIES_RESPONSE_CACHE_H_
#define ORCHSIM_POLICIES_RESPONSE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policies/cache_policy.h"
#include "policies/request.h"
#include "policies/request_key.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

struct CacheStoreConfig {
  size_t max_entries = 10000;            // >= 1
  size_t max_bytes = size_t{256} << 20;  // >= 1; keys + bodies
  // Errors name the field, e.g. "cache.max_entries: 0 must be >= 1".
  Status validate() const;
};

struct CacheEntry {
  uint64_t payload_version = 0;
  BodyPtr body;        // nullptr when the upstream sent none
  Instant fetched_at;  // when the data left the upstream
  Instant expires_at;  // fresh while now < expires_at
};

enum class CacheLookup { kFresh, kStale, kMiss };

class ResponseCache {
 public:
  // REQUIRES: config.validate().ok().
  explicit ResponseCache(const CacheStoreConfig& config);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // kFresh + entry when now < expires_at (counts a hit).
  // kStale + entry when expired but GetStale would serve it (counts a miss).
  // kMiss + nullptr otherwise (counts a miss); an expired entry that can no
  // longer be served stale is dropped. Fresh and stale entries are touched.
  // Disabled policy: always kMiss.
  std::pair<CacheLookup, const CacheEntry*> Get(const RequestKey& key, const CachePolicy& policy,
                                                Instant now);

  // The fallback when the upstream failed: the entry if it is fresh, or if
  // it is expired and policy.ServableStale; nullptr otherwise. Touches the
  // entry; counts stale_hits(). Disabled policy: nullptr.
  const CacheEntry* GetStale(const RequestKey& key, const CachePolicy& policy, Instant now);

  // Stores (or replaces) the entry for `key` with expires_at =
  // policy.ExpiryFor(key.endpoint(), game_start, fetched_at). A fetched_at
  // later than now is treated as now. An existing entry fetched strictly
  // later is kept (a slow answer must not overwrite newer data). Evicts least
  // recently used entries while either bound would be exceeded. Disabled
  // policy: no-op.
  void Put(const RequestKey& key, const CachePolicy& policy, std::optional<Instant> game_start,
           uint64_t payload_version, BodyPtr body, Instant fetched_at, Instant now);

  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t evictions() const { return evictions_; }    // capacity evictions only
  uint64_t oversized() const { return oversized_; }    // entries too large to store
  uint64_t hits() const { return hits_; }              // Get -> kFresh
  uint64_t misses() const { return misses_; }          // Get -> kStale or kMiss
  uint64_t stale_hits() const { return stale_hits_; }  // GetStale -> entry
  // Keys from most to least recently used (for tests and debugging; O(n)).
  std::vector<RequestKey> KeysByRecency() const;

 private:
  struct Node {
    CacheEntry entry;
    size_t bytes = 0;
    const RequestKey* key = nullptr;  // the map's own key (stable address)
    Node* prev = nullptr;             // towards the most recently used
    Node* next = nullptr;             // towards the least recently used
  };
  using Map = std::unordered_map<RequestKey, Node, RequestKeyHash>;

  void Unlink(Node* node);
  void PushFront(Node* node);
  void Erase(Map::iterator it);
  void EvictFor(size_t incoming_bytes);

  CacheStoreConfig config_;
  Map entries_;
  Node* head_ = nullptr;  // most recently used
  Node* tail_ = nullptr;  // least recently used
  size_t bytes_ = 0;
  uint64_t evictions_ = 0;
  uint64_t oversized_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t stale_hits_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_RESPONSE_CACHE_H_
