#include "policies/response_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <list>

namespace orchsim {
namespace {

using ::testing::ElementsAre;

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

// --- validate -------------------------------------------------------------

TEST(CacheConfigTest, DefaultsAndExampleAreValid) {
  EXPECT_TRUE(CacheConfig{}.validate().ok());
  EXPECT_TRUE(OddsConfig().validate().ok());
}

TEST(CacheConfigTest, ErrorsNameFieldValueAndConstraint) {
  auto message = [](auto mutate) {
    CacheConfig c = OddsConfig();
    mutate(c);
    return c.validate().message();
  };
  EXPECT_EQ(message([](CacheConfig& c) { c.rules[1].endpoint_pattern = ""; }),
            "cache.rules[1].endpoint_pattern: \"\" must not be empty");
  EXPECT_EQ(message([](CacheConfig& c) { c.rules[0].ttl = Duration::Zero(); }),
            "cache.rules[0].ttl: \"0s\" must be > 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.rules[0].near_game[1].before_start = -Minutes(1); }),
            "cache.rules[0].near_game[1].before_start: \"-1m\" must be > 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.rules[0].near_game[0].ttl = Duration::Zero(); }),
            "cache.rules[0].near_game[0].ttl: \"0s\" must be > 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.rules[0].near_game[1].before_start = Hours(1); }),
            "cache.rules[0].near_game[1].before_start: \"1h\" must differ from "
            "cache.rules[0].near_game[0].before_start");
  EXPECT_EQ(message([](CacheConfig& c) { c.rules[0].live_ttl = Duration::Zero(); }),
            "cache.rules[0].live_ttl: \"0s\" must be > 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.default_ttl = Duration::Zero(); }),
            "cache.default_ttl: \"0s\" must be > 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.game_length = Duration::Zero(); }),
            "cache.game_length: \"0s\" must be > 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.stale_max_age = -Seconds(1); }),
            "cache.stale_max_age: \"-1s\" must be >= 0");
  EXPECT_EQ(message([](CacheConfig& c) { c.max_entries = 0; }),
            "cache.max_entries: 0 must be >= 1");
}

// --- rule selection -------------------------------------------------------

TEST(GlobMatchTest, StarMatchesAnyRunIncludingEmpty) {
  EXPECT_TRUE(GlobMatch("odds", "odds"));
  EXPECT_FALSE(GlobMatch("odds", "odds2"));
  EXPECT_FALSE(GlobMatch("odds", "odd"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("scores*", "scores"));
  EXPECT_TRUE(GlobMatch("scores*", "scores/live"));
  EXPECT_FALSE(GlobMatch("scores*", "score"));
  EXPECT_TRUE(GlobMatch("*/live", "scores/live"));
  EXPECT_FALSE(GlobMatch("*/live", "scores/live2"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(GlobMatch("a**c", "ac"));
  EXPECT_FALSE(GlobMatch("", "a"));
  EXPECT_TRUE(GlobMatch("", ""));
}

TEST(ResponseCacheTest, ExactRuleBeatsGlobThenFirstGlobInOrderThenDefault) {
  CacheConfig config;
  config.default_ttl = Minutes(7);
  config.rules = {TtlRule{"*", Minutes(1), {}, std::nullopt},
                  TtlRule{"odds*", Minutes(2), {}, std::nullopt},
                  TtlRule{"odds", Minutes(3), {}, std::nullopt}};
  ResponseCache cache(config);
  EXPECT_EQ(cache.TtlFor("odds", std::nullopt, kT0), Minutes(3));        // exact, listed last
  EXPECT_EQ(cache.TtlFor("odds/props", std::nullopt, kT0), Minutes(1));  // "*" listed first
  config.rules.erase(config.rules.begin());
  ResponseCache narrower(config);
  EXPECT_EQ(narrower.TtlFor("odds/props", std::nullopt, kT0), Minutes(2));
  EXPECT_EQ(narrower.TtlFor("weather", std::nullopt, kT0), Minutes(7));  // default
}

// --- TTL by time to kickoff ----------------------------------------------

TEST(ResponseCacheTest, TtlStepsShrinkTowardKickoffWithStrictBoundaries) {
  ResponseCache cache(OddsConfig());
  auto ttl = [&](Instant now) { return cache.TtlFor("odds", kKickoff, now); };
  EXPECT_EQ(cache.TtlFor("odds", std::nullopt, kKickoff), Hours(6));  // no game
  EXPECT_EQ(ttl(kKickoff - Days(1)), Hours(6));
  EXPECT_EQ(ttl(kKickoff - Hours(3)), Hours(6));  // time-to-kickoff == 3h is not < 3h
  EXPECT_EQ(ttl(kKickoff - Hours(3) + kUs), Minutes(30));
  EXPECT_EQ(ttl(kKickoff - Hours(1)), Minutes(30));
  EXPECT_EQ(ttl(kKickoff - Hours(1) + kUs), Minutes(5));  // smallest matching step wins
  EXPECT_EQ(ttl(kKickoff - kUs), Minutes(5));
  EXPECT_EQ(ttl(kKickoff), Seconds(30));  // live
  EXPECT_EQ(ttl(kKickoff + Hours(3) + Minutes(30) - kUs), Seconds(30));
  EXPECT_EQ(ttl(kKickoff + Hours(3) + Minutes(30)), Hours(6));  // game over
  EXPECT_EQ(ttl(kKickoff + Days(3)), Hours(6));
}

TEST(ResponseCacheTest, LiveWithoutLiveTtlUsesInnermostStepElseRuleTtl) {
  CacheConfig config;
  config.rules = {TtlRule{"a", Hours(6), {{Hours(2), Minutes(20)}, {Hours(1), Minutes(5)}}, {}},
                  TtlRule{"b", Hours(6), {}, std::nullopt}};
  ResponseCache cache(config);
  EXPECT_EQ(cache.TtlFor("a", kKickoff, kKickoff + Hours(1)), Minutes(5));
  EXPECT_EQ(cache.TtlFor("a", kKickoff, kKickoff + Hours(3) + Minutes(30)), Hours(6));
  EXPECT_EQ(cache.TtlFor("b", kKickoff, kKickoff + Hours(1)), Hours(6));
  EXPECT_EQ(cache.TtlFor("b", kKickoff, kKickoff - Minutes(1)), Hours(6));
}

// --- expiry ---------------------------------------------------------------

TEST(ResponseCacheTest, ExpiresExactlyAtFetchedAtPlusTtl) {
  ResponseCache cache(OddsConfig());
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

TEST(ResponseCacheTest, ExpiryWithinOneRegimeIsFetchedAtPlusTtl) {
  ResponseCache cache(OddsConfig());
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Minutes(50)), kKickoff - Minutes(45));
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff + Hours(1)),
            kKickoff + Hours(1) + Seconds(30));
  EXPECT_EQ(cache.ExpiryFor("scores/live", kKickoff, kKickoff), kKickoff + Minutes(10));
  EXPECT_EQ(cache.ExpiryFor("weather", kKickoff, kKickoff), kKickoff + Minutes(5));  // default
}

TEST(ResponseCacheTest, ExpiryIsCutWhenATighterRegimeBegins) {
  ResponseCache cache(OddsConfig());
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

TEST(ResponseCacheTest, ExpiryRelaxesWhenTheGameEndsBeforeTheLiveTtlRunsOut) {
  ResponseCache cache(OddsConfig());
  const Instant end = kKickoff + Hours(3) + Minutes(30);
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, end - Seconds(31)), end - Seconds(1));
  // Age reaches 30s exactly as the game ends, when the 6h TTL takes over.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, end - Seconds(30)), end - Seconds(30) + Hours(6));
  // Age 10s at the end of the game: the 6h post-game TTL applies from there.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, end - Seconds(10)), end - Seconds(10) + Hours(6));
}

TEST(ResponseCacheTest, FetchedAtAfterNowIsTreatedAsNow) {
  ResponseCache cache(OddsConfig());
  cache.Put("k", "weather", std::nullopt, 1, kT0 + Seconds(5), kT0);
  const CacheEntry* entry = cache.Get("k", kT0).second;
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->fetched_at, kT0);
  EXPECT_EQ(entry->expires_at, kT0 + Minutes(5));
}

TEST(ResponseCacheTest, OlderAnswerDoesNotOverwriteNewerData) {
  ResponseCache cache(OddsConfig());
  cache.Put("k", "weather", std::nullopt, 9, kT0 + Seconds(10), kT0 + Seconds(10));
  cache.Put("k", "weather", std::nullopt, 8, kT0 + Seconds(2), kT0 + Seconds(11));  // slow answer
  EXPECT_EQ(cache.Get("k", kT0 + Seconds(11)).second->payload_version, 9u);
  cache.Put("k", "weather", std::nullopt, 10, kT0 + Seconds(10),
            kT0 + Seconds(12));  // same instant
  const CacheEntry* entry = cache.Get("k", kT0 + Seconds(12)).second;
  EXPECT_EQ(entry->payload_version, 10u);
  EXPECT_EQ(entry->expires_at, kT0 + Seconds(10) + Minutes(5));
}

// --- stale-if-error -------------------------------------------------------

TEST(ResponseCacheTest, StaleWindowIsMeasuredFromFetchedAtInclusive) {
  ResponseCache cache(OddsConfig());  // weather: default 5m; stale_max_age 1h
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
  CacheConfig config = OddsConfig();
  config.stale_if_error = false;
  ResponseCache cache(config);
  cache.Put("k", "weather", std::nullopt, 3, kT0, kT0);
  EXPECT_NE(cache.GetStale("k", kT0 + Minutes(5) - kUs), nullptr);  // still fresh
  EXPECT_EQ(cache.GetStale("k", kT0 + Minutes(5)), nullptr);
  EXPECT_EQ(cache.Get("k", kT0 + Minutes(5)).first, CacheLookup::kMiss);
  EXPECT_EQ(cache.size(), 0u);
}

// --- LRU ------------------------------------------------------------------

TEST(ResponseCacheTest, EvictsLeastRecentlyUsedFirst) {
  CacheConfig config = OddsConfig();
  config.max_entries = 3;
  ResponseCache cache(config);
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
  CacheConfig config = OddsConfig();
  config.max_entries = 1;
  ResponseCache cache(config);
  cache.Put("a", "weather", std::nullopt, 1, kT0, kT0);
  cache.Put("b", "weather", std::nullopt, 2, kT0, kT0);
  EXPECT_THAT(cache.KeysByRecency(), ElementsAre("b"));
  EXPECT_EQ(cache.evictions(), 1u);
}

// Randomized: the intrusive list agrees with a straightforward std::list
// model over many operations (fixed seed; no expiry involved).
TEST(ResponseCacheTest, LruMatchesReferenceModelRandomized) {
  CacheConfig config = OddsConfig();
  config.max_entries = 8;
  ResponseCache cache(config);
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

// --- disabled -------------------------------------------------------------

TEST(ResponseCacheTest, DisabledStoresNothingAndAlwaysMisses) {
  CacheConfig config = OddsConfig();
  config.enabled = false;
  ResponseCache cache(config);
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
