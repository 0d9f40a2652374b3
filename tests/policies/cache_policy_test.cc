#include "policies/cache_policy.h"

#include <gtest/gtest.h>

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
}

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
  CachePolicy cache(config);
  EXPECT_EQ(cache.TtlFor("odds", std::nullopt, kT0), Minutes(3));        // exact, listed last
  EXPECT_EQ(cache.TtlFor("odds/props", std::nullopt, kT0), Minutes(1));  // "*" listed first
  config.rules.erase(config.rules.begin());
  CachePolicy narrower(config);
  EXPECT_EQ(narrower.TtlFor("odds/props", std::nullopt, kT0), Minutes(2));
  EXPECT_EQ(narrower.TtlFor("weather", std::nullopt, kT0), Minutes(7));  // default
}

TEST(ResponseCacheTest, TtlStepsShrinkTowardKickoffWithStrictBoundaries) {
  CachePolicy cache(OddsConfig());
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
  CachePolicy cache(config);
  EXPECT_EQ(cache.TtlFor("a", kKickoff, kKickoff + Hours(1)), Minutes(5));
  EXPECT_EQ(cache.TtlFor("a", kKickoff, kKickoff + Hours(3) + Minutes(30)), Hours(6));
  EXPECT_EQ(cache.TtlFor("b", kKickoff, kKickoff + Hours(1)), Hours(6));
  EXPECT_EQ(cache.TtlFor("b", kKickoff, kKickoff - Minutes(1)), Hours(6));
}

TEST(ResponseCacheTest, ExpiryWithinOneRegimeIsFetchedAtPlusTtl) {
  CachePolicy cache(OddsConfig());
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff - Minutes(50)), kKickoff - Minutes(45));
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, kKickoff + Hours(1)),
            kKickoff + Hours(1) + Seconds(30));
  EXPECT_EQ(cache.ExpiryFor("scores/live", kKickoff, kKickoff), kKickoff + Minutes(10));
  EXPECT_EQ(cache.ExpiryFor("weather", kKickoff, kKickoff), kKickoff + Minutes(5));  // default
}

TEST(ResponseCacheTest, ExpiryRelaxesWhenTheGameEndsBeforeTheLiveTtlRunsOut) {
  CachePolicy cache(OddsConfig());
  const Instant end = kKickoff + Hours(3) + Minutes(30);
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, end - Seconds(31)), end - Seconds(1));
  // Age reaches 30s exactly as the game ends, when the 6h TTL takes over.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, end - Seconds(30)), end - Seconds(30) + Hours(6));
  // Age 10s at the end of the game: the 6h post-game TTL applies from there.
  EXPECT_EQ(cache.ExpiryFor("odds", kKickoff, end - Seconds(10)), end - Seconds(10) + Hours(6));
}

}  // namespace
}  // namespace orchsim
