// LoadScenario / ParseScenario: the shipped NFL 2023 scenario's key facts, the
// overlay of a variant (defaults, then preset, then overrides), synthetic and
// mapped-CSV schedules, and the start/end defaults.
#include "engine/scenario/scenario.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchsim::scenario {
namespace {

const std::string kSourceDir = ORCHSIM_SOURCE_DIR;
const std::string kGoodDir = kSourceDir + "/tests/engine/scenario/good";

std::vector<std::string> UpstreamNames(const Scenario& s) {
  std::vector<std::string> names;
  for (const auto& u : s.upstreams) names.push_back(u.name);
  return names;
}

// ---------------------------------------------------------------- nfl-2023

class Nfl2023Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new Scenario(LoadScenario(kSourceDir + "/scenarios/nfl-2023.json"));
  }
  static void TearDownTestSuite() {
    delete scenario_;
    scenario_ = nullptr;
  }
  static const Variant& Get(const std::string& name) {
    const Variant* v = scenario_->FindVariant(name);
    EXPECT_NE(v, nullptr) << name;
    return *v;
  }
  static Scenario* scenario_;
};
Scenario* Nfl2023Test::scenario_ = nullptr;

TEST_F(Nfl2023Test, SeasonAndWindow) {
  const Scenario& s = *scenario_;
  EXPECT_EQ(s.name, "nfl-2023");
  EXPECT_EQ(s.seed, 2023u);
  EXPECT_EQ(s.drain, Minutes(1));
  ASSERT_EQ(s.games.size(), 285u);
  EXPECT_EQ(s.games.front().id, "2023_01_DET_KC");
  EXPECT_EQ(FormatInstant(s.games.front().kickoff), "2023-09-08T00:20:00Z");  // 20:20 EDT
  EXPECT_EQ(s.games.back().id, "2023_22_SF_KC");
  EXPECT_EQ(FormatInstant(s.games.back().kickoff), "2024-02-11T23:30:00Z");  // 18:30 EST
  EXPECT_EQ(s.games.front().league, "NFL");
  // No start/end in the file: one day around the season.
  EXPECT_EQ(FormatInstant(s.start), "2023-09-07T00:20:00Z");
  EXPECT_EQ(FormatInstant(s.end), "2024-02-12T23:30:00Z");
  EXPECT_TRUE(s.expect.contains("tuned"));  // the CI gate's bounds (check_test.cc)
}

TEST_F(Nfl2023Test, Upstreams) {
  const Scenario& s = *scenario_;
  ASSERT_EQ(UpstreamNames(s), (std::vector<std::string>{"odds", "scores", "weather"}));
  const world::UpstreamModelConfig& odds = s.upstreams[0];
  EXPECT_TRUE(odds.quota.enabled);
  EXPECT_EQ(odds.quota.limit, 100000);
  EXPECT_EQ(odds.quota.period, world::QuotaPeriod::kCalendarMonthUtc);
  EXPECT_EQ(odds.quota.header_style, world::QuotaHeaderStyle::kOddsApi);
  EXPECT_EQ(odds.quota.credits_per_endpoint.at("odds"), 6);
  EXPECT_EQ(odds.latency.kind, world::LatencyKind::kLognormal);
  EXPECT_EQ(odds.latency.p99, Milliseconds(900));
  const world::UpstreamModelConfig& scores = s.upstreams[1];
  ASSERT_EQ(scores.outages.size(), 2u);
  EXPECT_EQ(FormatInstant(scores.outages[0].start), "2023-10-15T17:00:00Z");
  EXPECT_EQ(scores.outages[1].status, 502);
  EXPECT_TRUE(scores.health.enabled);
  const world::UpstreamModelConfig& weather = s.upstreams[2];
  EXPECT_TRUE(weather.batch.enabled);
  EXPECT_EQ(weather.batch.max_keys, 10);
  EXPECT_EQ(weather.rate_limit.max_calls, 60);
  EXPECT_EQ(weather.rate_limit.window, Minutes(1));
  EXPECT_EQ(s.demand.size(), 11u);
}

TEST_F(Nfl2023Test, VariantsAndBaseline) {
  const Scenario& s = *scenario_;
  ASSERT_EQ(s.variants.size(), 3u);
  EXPECT_EQ(s.variants[0].name, "naive");
  EXPECT_EQ(s.variants[1].name, "seed-plan");
  EXPECT_EQ(s.variants[2].name, "tuned");
  EXPECT_EQ(s.baseline, "naive");
  EXPECT_EQ(s.FindVariant("nope"), nullptr);
}

TEST_F(Nfl2023Test, NaiveHasEveryMechanismOff) {
  const OrchestratorConfig& p = Get("naive").policy;
  EXPECT_FALSE(p.defaults.bucket.enabled);
  EXPECT_FALSE(p.defaults.quota.enabled);
  EXPECT_TRUE(p.apis.empty());
  EXPECT_FALSE(p.defaults.coalescer.enabled);
  EXPECT_FALSE(p.defaults.batcher.enabled);
  EXPECT_FALSE(p.defaults.cache.enabled);
  EXPECT_FALSE(p.prefetch.enabled);
  EXPECT_FALSE(p.defaults.breaker.enabled);
  EXPECT_FALSE(p.defaults.retry.enabled);
  EXPECT_FALSE(p.defaults.retry_budget.enabled);
  EXPECT_FALSE(p.defaults.concurrency.enabled);
  EXPECT_FALSE(p.defaults.timeouts.enabled);
  EXPECT_FALSE(p.health.enabled);
}

TEST_F(Nfl2023Test, SeedPlanIsTheTeamsFirstPlan) {
  const OrchestratorConfig& p = Get("seed-plan").policy;
  EXPECT_TRUE(p.defaults.bucket.enabled);
  EXPECT_EQ(p.defaults.bucket.rate_per_s, 5);
  EXPECT_TRUE(p.defaults.breaker.enabled);
  EXPECT_EQ(p.defaults.breaker.trigger, BreakerTrigger::kConsecutiveFailures);
  EXPECT_EQ(p.defaults.breaker.failure_threshold, 5);
  EXPECT_EQ(p.defaults.breaker.open_wait, Seconds(60));
  EXPECT_TRUE(p.defaults.retry.enabled);
  EXPECT_EQ(p.defaults.retry.max_attempts, 3);
  EXPECT_EQ(p.defaults.retry.backoff, BackoffKind::kExponential);
  EXPECT_TRUE(p.defaults.cache.enabled);
  EXPECT_EQ(p.defaults.cache.default_ttl, Minutes(1));
  EXPECT_FALSE(p.prefetch.enabled);
}

// tuned is the preset nfl-2023-tuned (the recommended.json of the
// scenario's sweep, issue 21): every layer of a preset, flattened.
TEST_F(Nfl2023Test, TunedIsItsSweepsRecommendedPreset) {
  const OrchestratorConfig& p = Get("tuned").policy;
  ASSERT_EQ(p.apis.size(), 3u);
  const ApiPolicy& odds = p.apis.at("odds");
  EXPECT_EQ(odds.bucket.rate_per_s, 0.25);
  EXPECT_EQ(odds.bucket.burst, 10);
  EXPECT_EQ(odds.expected_credits_per_call, 6);
  EXPECT_EQ(odds.quota.mode, QuotaMode::kOff);  // the sweep's choice over pace
  EXPECT_EQ(odds.quota.critical_floor, 600);
  ASSERT_TRUE(odds.quota.assumed_period_start.has_value());
  EXPECT_EQ(FormatInstant(*odds.quota.assumed_period_start), "2023-09-01T00:00:00Z");
  // The entry started from the preset's default_api: its reserves carry over.
  EXPECT_EQ(odds.bucket.reserves.size(), 2u);
  // The swept live-odds TTL is an endpoint layer.
  ASSERT_EQ(odds.endpoints.count("live-odds"), 1u);
  EXPECT_EQ(odds.endpoints.at("live-odds").cache.default_ttl, Minutes(3));
  EXPECT_FALSE(p.apis.at("scores").quota.enabled);
  EXPECT_EQ(p.apis.at("scores").bucket.rate_per_s, 5);  // the preset's default_api
  EXPECT_EQ(p.apis.at("weather").bucket.rate_per_s, 0.9);
  ASSERT_EQ(p.defaults.cache.rules.size(), 4u);
  EXPECT_EQ(p.defaults.cache.rules[0].endpoint_pattern, "odds");
  EXPECT_EQ(p.defaults.cache.rules[0].near_game.size(), 3u);
  EXPECT_EQ(p.defaults.cache.rules[0].live_ttl, Minutes(2));
  EXPECT_FALSE(p.defaults.cache.rules[2].live_ttl.has_value());
  EXPECT_EQ(p.defaults.cache.default_ttl, Minutes(5));
  EXPECT_TRUE(p.prefetch.enabled);
  EXPECT_EQ(p.prefetch.offsets, (std::vector<Duration>{Hours(2), Hours(1), Minutes(30)}));
  ASSERT_EQ(p.prefetch.targets.size(), 1u);
  EXPECT_EQ(p.prefetch.targets[0].key_template, "{game}");
  EXPECT_TRUE(p.health.enabled);
  EXPECT_EQ(p.health.min_samples, 5);
  EXPECT_TRUE(p.health.active_probes);
  EXPECT_EQ(p.defaults.breaker.trigger, BreakerTrigger::kFailureRate);
  EXPECT_EQ(p.defaults.retry.backoff, BackoffKind::kDecorrelatedJitter);
  EXPECT_EQ(p.defaults.retry.max_attempts, 3);
}

// ---------------------------------------------------------------- overlay

// A one-variant scenario with a small synthetic schedule; `variant` is the
// variant's JSON object.
std::string WithVariant(const std::string& variant) {
  return R"({
    "name": "overlay",
    "schedule": {"synthetic": [{"name": "L", "teams": 2, "season_days": 1,
                                "season_start": "2024-01-01T00:00:00Z"}]},
    "upstreams": {"feed": {}, "odds": {}},
    "demand": [{"name": "d", "request": {"api": "feed", "endpoint": "odds"},
                "offsets": {"offsets": ["-1h"]}}],
    "variants": [)" +
         variant + "]}";
}

OrchestratorConfig PolicyOf(const std::string& variant) {
  const Scenario s = ParseScenario(WithVariant(variant), "inline.json", kGoodDir);
  EXPECT_EQ(s.variants.size(), 1u);
  return s.variants.at(0).policy;
}

TEST(OverlayTest, NoPresetNoOverridesIsTheDefaultConfig) {
  const OrchestratorConfig p = PolicyOf(R"({"name": "v"})");
  const ApiPolicy defaults;
  EXPECT_EQ(p.defaults.retry.max_attempts, defaults.retry.max_attempts);
  EXPECT_EQ(p.defaults.retry.base, defaults.retry.base);
  EXPECT_EQ(p.defaults.cache.enabled, defaults.cache.enabled);
  EXPECT_EQ(p.defaults.cache.rules.size(), defaults.cache.rules.size());
  EXPECT_EQ(p.defaults.breaker.enabled, defaults.breaker.enabled);
  EXPECT_TRUE(p.apis.empty());
}

TEST(OverlayTest, PresetThenOverridesFieldByField) {
  const OrchestratorConfig p =
      PolicyOf(R"({"name": "v", "preset": "base", "overrides": {"retry": {"max_attempts": 2}}})");
  EXPECT_EQ(p.defaults.retry.max_attempts, 2);          // override
  EXPECT_EQ(p.defaults.retry.base, Milliseconds(100));  // preset
  EXPECT_EQ(p.defaults.retry.cap, Seconds(2));          // preset
  EXPECT_EQ(p.defaults.retry.backoff, BackoffKind::kExponential);
  EXPECT_EQ(p.defaults.retry.honour_retry_after, ApiPolicy{}.retry.honour_retry_after);  // default
  EXPECT_EQ(p.defaults.cache.default_ttl, Minutes(2));
}

TEST(OverlayTest, PresetAloneAndTheVariantRemembersIt) {
  const Scenario s =
      ParseScenario(WithVariant(R"({"name": "v", "preset": "base"})"), "inline.json", kGoodDir);
  EXPECT_EQ(s.variants[0].preset, "base");
  EXPECT_EQ(s.variants[0].policy.defaults.retry.max_attempts, 4);
}

TEST(OverlayTest, ArraysReplaceInsteadOfAppending) {
  const OrchestratorConfig p = PolicyOf(R"({"name": "v", "preset": "base", "overrides": {
      "cache": {"rules": [{"endpoint": "injuries", "ttl": "3h"}]},
      "retry": {"retryable_statuses": [502, 504]}}})");
  ASSERT_EQ(p.defaults.cache.rules.size(), 1u);
  EXPECT_EQ(p.defaults.cache.rules[0].endpoint_pattern, "injuries");
  EXPECT_EQ(p.defaults.cache.rules[0].ttl, Hours(3));
  EXPECT_EQ(p.defaults.retry.retryable_statuses, (std::vector<int>{502, 504}));
  EXPECT_TRUE(p.defaults.cache.enabled);  // the rest of the cache object stays
  EXPECT_EQ(p.defaults.cache.default_ttl, Minutes(2));

  const OrchestratorConfig emptied =
      PolicyOf(R"({"name": "v", "preset": "base", "overrides": {"cache": {"rules": []}}})");
  EXPECT_TRUE(emptied.defaults.cache.rules.empty());
  EXPECT_EQ(PolicyOf(R"({"name": "v", "preset": "base"})").defaults.cache.rules.size(), 2u);
}

TEST(OverlayTest, NewApisEntryStartsFromDefaultApi) {
  const OrchestratorConfig p = PolicyOf(R"({"name": "v", "preset": "base", "overrides": {
      "apis": {"odds": {"bucket": {"rate_per_s": 2}}}}})");
  const ApiPolicy& odds = p.apis.at("odds");
  EXPECT_EQ(odds.bucket.rate_per_s, 2);
  EXPECT_EQ(odds.bucket.burst, 10);  // preset default_api
  EXPECT_TRUE(odds.bucket.enabled);
  ASSERT_EQ(odds.bucket.reserves.size(), 1u);
  EXPECT_EQ(odds.bucket.reserves[0].tokens, 2);
  // The preset's own entry is untouched.
  EXPECT_EQ(p.apis.at("feed").bucket.burst, 3);
  EXPECT_EQ(p.apis.at("feed").bucket.rate_per_s, 5);
}

TEST(OverlayTest, DefaultApiOverrideReachesEveryEntryThatDoesNotSetTheField) {
  const OrchestratorConfig p = PolicyOf(R"({"name": "v", "preset": "base", "overrides": {
      "apis": {"odds": {"bucket": {"rate_per_s": 1}}},
      "default_api": {"bucket": {"burst": 50}}}})");
  EXPECT_EQ(p.defaults.bucket.burst, 50);
  // default_api is applied before apis whatever the key order in the file.
  EXPECT_EQ(p.apis.at("odds").bucket.burst, 50);
  EXPECT_EQ(p.apis.at("odds").bucket.rate_per_s, 1);
  // The preset's entry sets its own burst, which stays.
  EXPECT_EQ(p.apis.at("feed").bucket.burst, 3);
}

TEST(OverlayTest, ExistingApisEntryIsOverlaidNotReset) {
  const OrchestratorConfig p = PolicyOf(R"({"name": "v", "preset": "base", "overrides": {
      "apis": {"feed": {"bucket": {"rate_per_s": 7}}}}})");
  EXPECT_EQ(p.apis.at("feed").bucket.rate_per_s, 7);
  EXPECT_EQ(p.apis.at("feed").bucket.burst, 3);
}

// ---------------------------------------------------------------- schedules

TEST(ScheduleTest, SyntheticLeaguesAndDefaultWindow) {
  const std::string text = R"({
    "name": "synthetic", "seed": 7,
    "schedule": {"synthetic": [
      {"name": "A", "teams": 4, "games_per_day": 2, "season_days": 3,
       "kickoff_times": ["19h"], "season_start": "2024-02-28T00:00:00Z"},
      {"name": "B", "teams": 2, "season_days": 1, "kickoff_times": ["13h"],
       "time_zone": "America/New_York", "season_start": "2024-03-10T12:00:00Z"}]},
    "upstreams": {"feed": {}},
    "demand": [{"name": "d", "league": "B", "request": {"api": "feed", "endpoint": "e"},
                "offsets": {"offsets": ["-1h"]}}],
    "variants": [{"name": "v"}]
  })";
  const Scenario s = ParseScenario(text, "inline.json", kGoodDir);
  ASSERT_EQ(s.games.size(), 7u);  // 3 days x 2 + 1
  EXPECT_EQ(FormatInstant(s.games[0].kickoff), "2024-02-28T19:00:00Z");
  EXPECT_EQ(FormatInstant(s.games[4].kickoff), "2024-03-01T19:00:00Z");
  EXPECT_EQ(FormatInstant(s.games[2].kickoff), "2024-02-29T19:00:00Z");  // 2024 has Feb 29
  EXPECT_EQ(s.games[0].league, "A");
  // B's 13:00 on the day New York springs forward is 13:00 EDT = 17:00 UTC.
  EXPECT_EQ(s.games[6].league, "B");
  EXPECT_EQ(FormatInstant(s.games[6].kickoff), "2024-03-10T17:00:00Z");
  EXPECT_EQ(s.games[6].id, "B_2024-03-10_" + s.games[6].away + "_" + s.games[6].home);
  EXPECT_EQ(FormatInstant(s.start), "2024-02-27T19:00:00Z");
  EXPECT_EQ(FormatInstant(s.end), "2024-03-11T17:00:00Z");
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.drain, Minutes(1));  // default
  EXPECT_EQ(s.baseline, "");

  // The same file gives the same games.
  const Scenario again = ParseScenario(text, "inline.json", kGoodDir);
  for (size_t i = 0; i < s.games.size(); ++i) {
    EXPECT_EQ(again.games[i].id, s.games[i].id);
    EXPECT_EQ(again.games[i].kickoff, s.games[i].kickoff);
  }
}

TEST(ScheduleTest, ExplicitStartAndEndReplaceTheDefaults) {
  const std::string text = R"({
    "name": "window", "start": "2023-12-31T00:00:00Z", "end": "2024-01-01T06:00:00-05:00",
    "drain": "30s",
    "schedule": {"synthetic": [{"name": "L", "teams": 2, "season_days": 1,
                                "season_start": "2024-01-01T00:00:00Z"}]},
    "upstreams": {"feed": {}},
    "demand": [{"name": "d", "request": {"api": "feed", "endpoint": "e"},
                "offsets": {"offsets": ["-1h"]}}],
    "variants": [{"name": "v"}], "baseline": "v", "expect": {"calls_saved_min": 0.5}
  })";
  const Scenario s = ParseScenario(text, "inline.json", kGoodDir);
  EXPECT_EQ(FormatInstant(s.start), "2023-12-31T00:00:00Z");
  EXPECT_EQ(FormatInstant(s.end), "2024-01-01T11:00:00Z");
  EXPECT_EQ(s.drain, Seconds(30));
  EXPECT_EQ(s.baseline, "v");
  EXPECT_EQ(s.expect["calls_saved_min"].get<double>(), 0.5);
}

TEST(ScheduleTest, CsvLoadsByColumnMappingAlone) {
  const std::string text = R"({
    "name": "mapped",
    "schedule": {"csv": "schedules/utc.csv",
                 "columns": {"game_id": "match", "utc_timestamp": "kickoff_utc",
                             "home": "home", "away": "away", "venue": "",
                             "league_column": "league"}},
    "upstreams": {"feed": {}},
    "demand": [{"name": "d", "request": {"api": "feed", "endpoint": "e"},
                "offsets": {"offsets": ["-1h"]}}],
    "variants": [{"name": "v"}]
  })";
  const Scenario s = ParseScenario(text, "inline.json", kGoodDir);
  ASSERT_EQ(s.games.size(), 2u);
  EXPECT_EQ(s.games[0].id, "m1");  // sorted by kickoff, not file order
  EXPECT_EQ(FormatInstant(s.games[0].kickoff), "2024-05-01T17:30:00Z");
  EXPECT_EQ(s.games[0].league, "Alpha League");
  EXPECT_EQ(s.games[0].venue, "");
  EXPECT_EQ(s.games[1].home, "Gamma");
  EXPECT_EQ(FormatInstant(s.start), "2024-04-30T17:30:00Z");
  EXPECT_EQ(FormatInstant(s.end), "2024-05-03T18:00:00Z");
}

// Issue 18, item 10: placeholder rows warn (naming file and line) and a
// "skip_rows" rule in the schedule leaves them out.
std::string PlaceholderScenario(const std::string& skip_rows) {
  return R"({
    "name": "cup",
    "schedule": {"csv": "schedules/placeholders.csv",
                 "columns": {"game_id": "match", "utc_timestamp": "kickoff_utc",
                             "home": "home", "away": "away", "venue": "",
                             "league_column": "league"})" +
         skip_rows + R"(},
    "upstreams": {"feed": {}},
    "demand": [{"name": "d", "request": {"api": "feed", "endpoint": "e"},
                "offsets": {"offsets": ["-1h"]}}],
    "variants": [{"name": "v"}]
  })";
}

TEST(ScheduleTest, PlaceholderRowsWarnAndSkipRowsLeavesThemOut) {
  const Scenario s = ParseScenario(PlaceholderScenario(""), "inline.json", kGoodDir);
  EXPECT_EQ(s.games.size(), 3u);
  ASSERT_EQ(s.warnings.size(), 2u);
  EXPECT_EQ(s.warnings[0].rfind(kGoodDir + "/schedules/placeholders.csv: line 3: ", 0), 0u);
  EXPECT_NE(s.warnings[0].find("\" ()\" looks like a placeholder"), std::string::npos);
  EXPECT_NE(s.warnings[1].find("line 4: column \"home\": \"TBD\""), std::string::npos);

  const Scenario skipped =
      ParseScenario(PlaceholderScenario(R"j(, "skip_rows": [{"column": "away", "equals": [" ()"]},
                                              {"column": "home", "matches": "TB[DA]"}])j"),
                    "inline.json", kGoodDir);
  ASSERT_EQ(skipped.games.size(), 1u);
  EXPECT_EQ(skipped.games[0].id, "m1");
  EXPECT_TRUE(skipped.warnings.empty());

  try {
    ParseScenario(PlaceholderScenario(R"(, "skip_rows": [{"column": "away"}])"), "inline.json",
                  kGoodDir);
    FAIL() << "a rule without equals or matches loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.path(), "/schedule/skip_rows/0");
  }
}

TEST(LoadScenarioTest, RelativePathsResolveAgainstTheScenarioFolder) {
  // LoadScenario of the shipped file from another working directory still
  // finds schedules/ and policies/ next to it (checked by Nfl2023Test with an
  // absolute path); a missing file names itself.
  try {
    LoadScenario(kGoodDir + "/no-such-scenario.json");
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), kGoodDir + "/no-such-scenario.json");
    EXPECT_EQ(e.message(), "cannot read the file: No such file or directory");
  }
}

}  // namespace
}  // namespace orchsim::scenario
