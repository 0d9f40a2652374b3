#include "policies/response_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <map>
#include <string>
#include <vector>

namespace orchsim {
namespace {

const Instant kT0 = Instant::FromUnixMicros(1694390400000000);  // 2023-09-11T00:00:00Z
const Instant kKickoff = kT0 + Days(1);
const Duration kUs = Microseconds(1);

// 6h far out, 30m inside 3h, 5m inside 1h, 30s live (game length 3h30m).
TtlRule OddsRule() {
  return TtlRule{"odds", Hours(6), {{Hours(1), Minutes(5)}, {Hours(3), Minutes(30)}}, Seconds(30)};
}

CacheConfig OddsConfig() {
  CacheConfig config;
  config.rules = {OddsRule(), TtlRule{"scores*", Minutes(10), {}, std::nullopt}};
  return config;
}

using ::testing::ElementsAre;

// The TTL rules and the store's bounds of one test cache.
struct StoreConfig : CacheConfig {
  StoreConfig(const CacheConfig& rules) : CacheConfig(rules) {}  // NOLINT: implicit on purpose
  size_t max_entries = 10000;
  size_t max_bytes = size_t{1} << 30;
};

// A ResponseCache under one CachePolicy, addressed by key text: each key is
// RequestKey("api", endpoint, text) with the endpoint its last Put named
// ("weather" before any), so the tests read like the data they store.
class Store {
 public:
  explicit Store(const StoreConfig& config)
      : policy_(config), cache_(CacheStoreConfig{config.max_entries, config.max_bytes}) {}
  void Put(const std::string& key, const std::string& endpoint, std::optional<Instant> game_start,
           uint64_t version, Instant fetched_at, Instant now, BodyPtr body = nullptr) {
    endpoint_of_[key] = endpoint;
    cache_.Put(KeyOf(key), policy_, game_start, version, std::move(body), fetched_at, now);
  }
  std::pair<CacheLookup, const CacheEntry*> Get(const std::string& key, Instant now) {
    return cache_.Get(KeyOf(key), policy_, now);
  }
  const CacheEntry* GetStale(const std::string& key, Instant now) {
    return cache_.GetStale(KeyOf(key), policy_, now);
  }
  std::vector<std::string> KeysByRecency() const {
    std::vector<std::string> keys;
    for (const RequestKey& key : cache_.KeysByRecency()) keys.emplace_back(key.key());
    return keys;
  }
  size_t size() const { return cache_.size(); }
  size_t bytes() const { return cache_.bytes(); }
  uint64_t evictions() const { return cache_.evictions(); }
  uint64_t oversized() const { return cache_.oversized(); }
  uint64_t hits() const { return cache_.hits(); }
  uint64_t misses() const { return cache_.misses(); }
  uint64_t stale_hits() const { return cache_.stale_hits(); }
  Instant ExpiryFor(const std::string& endpoint, std::optional<Instant> game_start,
                    Instant fetched_at) const {
    return policy_.ExpiryFor(endpoint, game_start, fetched_at);
  }

 private:
  RequestKey KeyOf(const std::string& key) const {
    auto it = endpoint_of_.find(key);
    return RequestKey("api", it == endpoint_of_.end() ? "weather" : it->second, key);
  }
  CachePolicy policy_;
  ResponseCache cache_;
  std::map<std::string, std::string> endpoint_of_;
};

TEST(ResponseCacheTest, ExpiresExactlyAtFetchedAtPlusTtl) {
  Store cache(OddsConfig());
  cache.Put("odds|odds|g1", "odds", std::nullopt, 42, kT0, kT0 + Milliseconds(250));
  auto [fresh, entry] = cache.Get("odds|odds|g1", kT0 + Hours(6) - kUs);
  EXPECT_EQ(fresh, CacheLookup::kFresh);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->payload_version, 42u);
  EXPECT_EQ(entry->fetched_at, kT0);
  EXPECT_EQ(entry->expires_at, kT0 + Hours(6));
  // At expires_at it is no longer fresh; 6h old is past the 1h stale window.
  EXPECT_EQ(cache.Get("odds|odds|g1", kT0 + Hours(6)).first, CacheLookup::kMiss);
  EXPECT_EQ(cache.size(), 0u);  // dropped: it can never be served again
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(ResponseCacheTest, ExpiryIsCutWhenATighterRegimeBegins) {
  Store cache(OddsConfig());
  // Fetched 3h01m out under the 6h rule: expires when its age reaches 30m
  // after the "<3h" step starts, i.e. fetched_at + 30m.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Hours(3) - Minutes(1)),
            kKickoff - Hours(2) - Minutes(31));
  // Fetched 61m out under the 30m step: the "<1h" 5m step begins at
  // kickoff - 1h + 1us, when its age is already 1m: expires 5m after fetch.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Minutes(61)), kKickoff - Minutes(56));
  // Fetched 65m out: already older than 5m when the 5m step begins, so it
  // expires the first instant that step applies.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Minutes(65)), kKickoff - Hours(1) + kUs);
  // Fetched 2m out under the 5m step: live (30s) begins at kickoff.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Minutes(2)), kKickoff);
  // Fetched 10s out: its age reaches 30s at kickoff + 20s.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Seconds(10)), kKickoff + Seconds(20));

  // Put stores the same regime-aware expiry; fresh 1us before, not at it.
  cache.Put("k", "odds", kKickoff, 7, kKickoff - Minutes(61), kKickoff - Minutes(61));
  EXPECT_EQ(cache.Get("k", kKickoff - Minutes(56) - kUs).first, CacheLookup::kFresh);
  EXPECT_EQ(cache.Get("k", kKickoff - Minutes(56)).first, CacheLookup::kStale);
}

TEST(ResponseCacheTest, FetchedAtAfterNowIsTreatedAsNow) {
  Store cache(OddsConfig());
  cache.Put("k", "weather", std::nullopt, 1, kT0 + Seconds(5), kT0);
  const CacheEntry* entry = cache.Get("k", kT0).second;
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->fetched_at, kT0);
  EXPECT_EQ(entry->expires_at, kT0 + Minutes(5));
}

TEST(ResponseCacheTest, OlderAnswerDoesNotOverwriteNewerData) {
  Store cache(OddsConfig());
  cache.Put("k", "weather", std::nullopt, 9, kT0 + Seconds(10), kT0 + Seconds(10));
  cache.Put("k", "weather", std::nullopt, 8, kT0 + Seconds(2), kT0 + Seconds(11));  // slow answer
  EXPECT_EQ(cache.Get("k", kT0 + Seconds(11)).second->payload_version, 9u);
  cache.Put("k", "weather", std::nullopt, 10, kT0 + Seconds(10),
            kT0 + Seconds(12));  // same instant
  const CacheEntry* entry = cache.Get("k", kT0 + Seconds(12)).second;
  EXPECT_EQ(entry->payload_version, 10u);
  EXPECT_EQ(entry->expires_at, kT0 + Seconds(10) + Minutes(5));
}

TEST(ResponseCacheTest, StaleWindowIsMeasuredFromFetchedAtInclusive) {
  Store cache(OddsConfig());  // weather: default 5m; stale_max_age 1h
  cache.Put("k", "weather", std::nullopt, 3, kT0, kT0);
  EXPECT_EQ(cache.GetStale("k", kT0 + Minutes(1))->payload_version, 3u);  // fresh is fine too
  auto [lookup, entry] = cache.Get("k", kT0 + Minutes(5));
  EXPECT_EQ(lookup, CacheLookup::kStale);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->payload_version, 3u);
  ASSERT_NE(cache.GetStale("k", kT0 + Hours(1)), nullptr);
  EXPECT_EQ(cache.GetStale("k", kT0 + Hours(1) + kUs), nullptr);
  EXPECT_EQ(cache.size(), 1u);  // GetStale never drops
  EXPECT_EQ(cache.stale_hits(), 2u);
  EXPECT_EQ(cache.Get("k", kT0 + Hours(1)).first, CacheLookup::kStale);
  EXPECT_EQ(cache.Get("k", kT0 + Hours(1) + kUs).first, CacheLookup::kMiss);
  EXPECT_EQ(cache.size(), 0u);  // Get drops what can never be served
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 3u);
}

TEST(ResponseCacheTest, StaleIfErrorOffServesNothingExpired) {
  StoreConfig config = OddsConfig();
  config.stale_if_error = false;
  Store cache(config);
  cache.Put("k", "weather", std::nullopt, 3, kT0, kT0);
  EXPECT_NE(cache.GetStale("k", kT0 + Minutes(5) - kUs), nullptr);  // still fresh
  EXPECT_EQ(cache.GetStale("k", kT0 + Minutes(5)), nullptr);
  EXPECT_EQ(cache.Get("k", kT0 + Minutes(5)).first, CacheLookup::kMiss);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ResponseCacheTest, EvictsLeastRecentlyUsedFirst) {
  StoreConfig config = OddsConfig();
  config.max_entries = 3;
  Store cache(config);
  auto put = [&](const std::string& key, uint64_t version) {
    cache.Put(key, "weather", std::nullopt, version, kT0, kT0);
  };
  put("a", 1);
  put("b", 2);
  put("c", 3);
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("c", "b", "a"));
  EXPECT_EQ(cache.Get("a", kT0).first, CacheLookup::kFresh);  // a becomes most recent
  put("d", 4);                                                // evicts b
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("d", "a", "c"));
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.Get("b", kT0).first, CacheLookup::kMiss);
  ASSERT_NE(cache.GetStale("c", kT0), nullptr);  // GetStale touches too
  put("a", 5);                                   // replacing: touches, no eviction
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("a", "c", "d"));
  EXPECT_EQ(cache.evictions(), 1u);
  put("e", 6);  // evicts d
  put("f", 7);  // evicts c
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("f", "e", "a"));
  EXPECT_EQ(cache.evictions(), 3u);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Get("a", kT0).second->payload_version, 5u);
}

TEST(ResponseCacheTest, SizeOneCacheEvictsOnEveryNewKey) {
  StoreConfig config = OddsConfig();
  config.max_entries = 1;
  Store cache(config);
  cache.Put("a", "weather", std::nullopt, 1, kT0, kT0);
  cache.Put("b", "weather", std::nullopt, 2, kT0, kT0);
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("b"));
  EXPECT_EQ(cache.evictions(), 1u);
}

// Bytes: an entry counts its key's encoding ("3:api7:weather" + key) and its
// body (bytes + content type); the least recently used go first.
TEST(ResponseCacheTest, TheByteBoundEvictsLeastRecentlyUsedAndRefusesTheOversized) {
  StoreConfig config = OddsConfig();
  const size_t key_bytes = RequestKey("api", "weather", "a").encoded().size();  // 15
  const auto body = [](size_t n) { return MakeBody("t", std::string(n, 'x')); };
  config.max_bytes = 3 * (key_bytes + 1 + 9);  // three entries with 9-byte bodies
  Store cache(config);
  cache.Put("a", "weather", std::nullopt, 1, kT0, kT0, body(9));
  cache.Put("b", "weather", std::nullopt, 1, kT0, kT0, body(9));
  cache.Put("c", "weather", std::nullopt, 1, kT0, kT0, body(9));
  EXPECT_EQ(cache.bytes(), config.max_bytes);
  EXPECT_EQ(cache.Get("a", kT0).first, CacheLookup::kFresh);       // a is most recent
  cache.Put("d", "weather", std::nullopt, 1, kT0, kT0, body(19));  // needs two slots' bytes
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("d", "a"));
  EXPECT_EQ(cache.evictions(), 2u);
  EXPECT_EQ(cache.bytes(), 2 * key_bytes + 2 + 19 + 9);
  // Replacing an entry re-counts its bytes; it is never evicted to make room
  // for itself.
  cache.Put("a", "weather", std::nullopt, 2, kT0 + kUs, kT0 + kUs, body(9 + 10));
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("a", "d"));
  EXPECT_EQ(cache.bytes(), 2 * (key_bytes + 1 + 19));
  // An entry larger than the whole bound is not stored; an older entry for
  // its key goes (it is older than what was refused).
  cache.Put("d", "weather", std::nullopt, 2, kT0 + kUs, kT0 + kUs, body(config.max_bytes));
  EXPECT_EQ(cache.oversized(), 1u);
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("a"));
  EXPECT_EQ(cache.bytes(), key_bytes + 1 + 19);
}

// Randomized: the intrusive list agrees with a straightforward std::list
// model over many operations (fixed seed; no expiry involved).
TEST(ResponseCacheTest, LruMatchesReferenceModelRandomized) {
  StoreConfig config = OddsConfig();
  config.max_entries = 8;
  Store cache(config);
  std::list<std::string> model;  // most recent first
  uint64_t model_evictions = 0;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&]() {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int step = 0; step < 20000; ++step) {
    std::string key = "k";  // (not "k" + ...: GCC 12 -Wrestrict false positive)
    key += std::to_string(next() % 20);
    auto found = std::find(model.begin(), model.end(), key);
    if (next() % 2 == 0) {
      const bool hit = cache.Get(key, kT0).first == CacheLookup::kFresh;
      ASSERT_EQ(hit, found != model.end()) << "step " << step;
      if (hit) model.splice(model.begin(), model, found);
    } else {
      cache.Put(key, "weather", std::nullopt, step, kT0, kT0);
      if (found != model.end()) {
        model.splice(model.begin(), model, found);
      } else {
        if (model.size() == 8) {
          model.pop_back();
          ++model_evictions;
        }
        model.push_front(key);
      }
    }
    ASSERT_EQ(cache.KeysByRecency(), std::vector<std::string>(model.begin(), model.end()))
        << "step " << step;
  }
  EXPECT_EQ(cache.evictions(), model_evictions);
  EXPECT_GT(model_evictions, 1000u);
}

TEST(ResponseCacheTest, DisabledStoresNothingAndAlwaysMisses) {
  StoreConfig config = OddsConfig();
  config.enabled = false;
  Store cache(config);
  cache.Put("k", "odds", std::nullopt, 1, kT0, kT0);
  EXPECT_EQ(cache.size(), 0u);
  auto [lookup, entry] = cache.Get("k", kT0);
  EXPECT_EQ(lookup, CacheLookup::kMiss);
  EXPECT_EQ(entry, nullptr);
  EXPECT_EQ(cache.GetStale("k", kT0), nullptr);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 1u);
}

}  // namespace
}  // namespace orchsim
