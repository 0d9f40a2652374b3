// response_cache.h — a bounded response cache with game-aware TTLs and
// stale-if-error fallback.
//
// What it stores: for each canonical request key (Request::CanonicalKey()),
// the payload version an upstream answered, when that data left the upstream
// (fetched_at) and until when it may be served as fresh (expires_at). The
// cache holds no payload bytes: in simulation the payload version is the
// data; a production host would keep its bytes beside the entry.
//
// TTL rules (CacheConfig::rules), chosen by the endpoint string the caller
// passes (the orchestrator passes Request::endpoint):
//   - a rule whose pattern equals the endpoint wins; otherwise the first rule,
//     in config order, whose glob pattern ('*' = any run of characters,
//     possibly empty; no other wildcards) matches; otherwise default_ttl.
//   - with a game start k and time-to-kickoff d = k - t at instant t:
//       t <  k                    : the near_game step with the smallest
//                                   before_start such that d < before_start;
//                                   rule.ttl when none matches;
//       k <= t < k + game_length  : live_ttl; when unset, the step with the
//                                   smallest before_start; when no steps,
//                                   rule.ttl;
//       t >= k + game_length      : rule.ttl (the game is over).
//   - without a game start: rule.ttl.
//
// Expiry (regime-aware): an entry fetched at f expires at the first instant
// t >= f at which its age t - f reaches the TTL in force at t. Within one TTL
// regime that is exactly f + TtlFor(f); when a tighter regime begins before
// f + TtlFor(f), the entry expires when its age reaches that regime's TTL
// (never before the regime begins). So data fetched 61 minutes before
// kickoff under a 6h rule with a "<1h: 5m" step expires 56 minutes before
// kickoff, not 5 hours into the game.
//
// Lookups: an entry is fresh while now < expires_at (fresh at expires_at-1us,
// not at expires_at). Get and GetStale move the entry to the front of the
// LRU order; Put inserts at the front and, when the cache is full, evicts
// the least recently used entry first. Get/Put/GetStale are O(1) on average
// (unordered_map + intrusive doubly linked LRU list).
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

#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

// When time-to-kickoff < before_start, use ttl (the step with the smallest
// matching before_start wins). Both > 0.
struct TtlStep {
  Duration before_start;
  Duration ttl;
};

struct TtlRule {
  std::string endpoint_pattern;    // exact endpoint, or a glob with '*'
  Duration ttl;                    // far from any game, or without a game; > 0
  std::vector<TtlStep> near_game;  // before_start values distinct
  // From kickoff until kickoff + game_length; > 0 when set.
  std::optional<Duration> live_ttl;
};

struct CacheConfig {
  bool enabled = true;
  std::vector<TtlRule> rules;
  Duration default_ttl = Minutes(5);              // no rule matches; > 0
  Duration game_length = Hours(3) + Minutes(30);  // live window after kickoff; > 0
  bool stale_if_error = true;                     // allow GetStale
  Duration stale_max_age = Hours(1);              // GetStale: fetched_at >= now - this; >= 0
  size_t max_entries = 10000;                     // >= 1
  // Errors name the field, e.g. "cache.rules[1].near_game[0].ttl: "0s" must be > 0".
  Status validate() const;
};

struct CacheEntry {
  uint64_t payload_version = 0;
  Instant fetched_at;  // when the data left the upstream
  Instant expires_at;  // fresh while now < expires_at
};

enum class CacheLookup { kFresh, kStale, kMiss };

class ResponseCache {
 public:
  // REQUIRES: config.validate().ok().
  explicit ResponseCache(const CacheConfig& config);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // The TTL in force at `now` for data of `endpoint` (see the header rules).
  Duration TtlFor(const std::string& endpoint, std::optional<Instant> game_start,
                  Instant now) const;
  // The instant data fetched at `fetched_at` stops being fresh (regime-aware
  // expiry, see the header). What Put stores as expires_at.
  Instant ExpiryFor(const std::string& endpoint, std::optional<Instant> game_start,
                    Instant fetched_at) const;

  // kFresh + entry when now < expires_at (counts a hit).
  // kStale + entry when expired but GetStale would serve it (counts a miss).
  // kMiss + nullptr otherwise (counts a miss); an expired entry that can no
  // longer be served stale is dropped. Fresh and stale entries are touched.
  // Disabled: always kMiss.
  std::pair<CacheLookup, const CacheEntry*> Get(const std::string& key, Instant now);

  // The fallback when the upstream failed: the entry if it is fresh, or if
  // it is expired, stale_if_error is on and fetched_at >= now - stale_max_age;
  // nullptr otherwise. Touches the entry; counts stale_hits(). Disabled: nullptr.
  const CacheEntry* GetStale(const std::string& key, Instant now);

  // Stores (or replaces) the entry for `key` with expires_at =
  // ExpiryFor(endpoint, game_start, fetched_at). A fetched_at later than now
  // is treated as now. An existing entry fetched strictly later is kept (a
  // slow answer must not overwrite newer data). Evicts the least recently
  // used entry when a new key arrives at max_entries. Disabled: no-op.
  void Put(const std::string& key, const std::string& endpoint, std::optional<Instant> game_start,
           uint64_t payload_version, Instant fetched_at, Instant now);

  size_t size() const { return entries_.size(); }
  uint64_t evictions() const { return evictions_; }    // capacity evictions only
  uint64_t hits() const { return hits_; }              // Get -> kFresh
  uint64_t misses() const { return misses_; }          // Get -> kStale or kMiss
  uint64_t stale_hits() const { return stale_hits_; }  // GetStale -> entry
  // Keys from most to least recently used (for tests and debugging; O(n)).
  std::vector<std::string> KeysByRecency() const;

 private:
  struct Node {
    CacheEntry entry;
    const std::string* key = nullptr;  // the map's own key (stable address)
    Node* prev = nullptr;              // towards the most recently used
    Node* next = nullptr;              // towards the least recently used
  };

  const TtlRule* RuleFor(const std::string& endpoint) const;
  Duration TtlForRule(const TtlRule* rule, std::optional<Instant> game_start, Instant now) const;
  bool ServableStale(const CacheEntry& entry, Instant now) const;
  void Unlink(Node* node);
  void PushFront(Node* node);
  void Erase(std::unordered_map<std::string, Node>::iterator it);

  CacheConfig config_;
  std::unordered_map<std::string, size_t> exact_rules_;  // pattern -> index in config_.rules
  std::vector<size_t> glob_rules_;                       // indices, config order
  std::unordered_map<std::string, Node> entries_;
  Node* head_ = nullptr;  // most recently used
  Node* tail_ = nullptr;  // least recently used
  uint64_t evictions_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t stale_hits_ = 0;
};

// True when `text` matches `pattern`, where '*' matches any run of characters.
bool GlobMatch(const std::string& pattern, const std::string& text);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_RESPONSE_CACHE_H_
