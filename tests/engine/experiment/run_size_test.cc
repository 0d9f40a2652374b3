// Issue 19, defect 3: accepted input asked for unbounded memory, disk or time
// (a burst of 2^31 requests, polling every microsecond, data that changes
// 10^12 times an hour, a 2000-year season, 10^9 seeds). The size of a run is
// estimated before it starts and refused beyond documented limits.
#include "engine/experiment/run_size.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "engine/experiment/runner.h"

namespace orchsim::experiment {
namespace {

const std::string kScenarios = std::string(ORCHSIM_SOURCE_DIR) + "/scenarios";

// A small valid scenario; `demand` and `data` replace its demand generator
// and its upstream's data-change settings.
std::string Text(const std::string& demand, const std::string& data = "{}") {
  return R"({
  "name": "size", "seed": 1,
  "schedule": {"synthetic": [{"name": "L", "teams": 20, "games_per_day": 10, "season_days": 30,
                              "season_start": "2024-01-01T00:00:00Z", "time_zone": "UTC",
                              "kickoff_times": ["18h"]}]},
  "upstreams": {"api": {"latency": {"kind": "constant", "constant": "50ms"}, "data": )" +
         data + R"(}},
  "demand": [)" +
         demand + R"(],
  "variants": [{"name": "plain"}]
})";
}

scenario::Scenario Parse(const std::string& text) {
  return scenario::ParseScenario(text, "size.json", kScenarios);
}

std::string Refusal(const scenario::Scenario& s, const RunLimits& limits = {}) {
  try {
    CheckRunSize(EstimateRunSize(s), limits, "size.json");
  } catch (const LimitError& e) {
    return e.what();
  }
  return "";
}

TEST(RunSizeTest, EstimatesAreCloseToWhatRunsMake) {
  for (const char* name : {"kickoff-surge", "quota-crunch-month", "breaker-outage-day"}) {
    const scenario::Scenario s = scenario::LoadScenario(kScenarios + "/" + name + ".json");
    const RunSize size = EstimateRunSize(s);
    const VariantRun run = RunVariant(s, s.variants.front(), s.seed);
    const double actual = static_cast<double>(run.metrics.submitted);
    EXPECT_NEAR(size.requests, actual, 0.05 * actual) << name;
    EXPECT_GT(size.events(), size.requests) << name;
  }
}

TEST(RunSizeTest, TheShippedScenariosAreWithinTheDefaultLimits) {
  for (const auto& entry : std::filesystem::directory_iterator(kScenarios)) {
    if (entry.path().extension() != ".json") continue;
    const scenario::Scenario s = scenario::LoadScenario(entry.path().string());
    EXPECT_EQ(Refusal(s), "") << entry.path();
  }
  const scenario::Scenario scale =
      scenario::LoadScenario(kScenarios + "/scale/scale-10-seasons-5-leagues.json");
  EXPECT_EQ(Refusal(scale), "");
  EXPECT_NEAR(EstimateRunSize(scale).requests, 23.58e6, 0.01e6);  // README "Reliability checks"
}

TEST(RunSizeTest, ABurstOfTwoToTheThirtyOneIsRefused) {
  const scenario::Scenario s = Parse(Text(
      R"({"name": "b", "request": {"api": "api", "endpoint": "e", "key": "k{n}"},
          "burst": {"count": 2147483647, "at": "2024-01-05T00:00:00Z"}})"));
  EXPECT_EQ(Refusal(s),
            "size.json: too large to run: about 2,147,483,647 requests per variant run (demand "
            "\"b\": 2,147,483,647), beyond the limit of 100,000,000 (README \"Limits\"); to run "
            "it anyway: --limit requests=4300000000");
  RunLimits raised;
  raised.requests = 3e9;
  EXPECT_EQ(Refusal(s, raised),
            "size.json: too large to run: about 2,147,483,647 requests arriving within one "
            "second (most from demand \"b\"), beyond the limit of 100,000 (README \"Limits\"); "
            "to run it anyway: --limit burst=4300000000");
}

TEST(RunSizeTest, PollingEveryMicrosecondIsRefused) {
  const scenario::Scenario s = Parse(Text(
      R"({"name": "poll", "request": {"api": "api", "endpoint": "e"},
          "live_polling": {"interval": "1us", "game_length": "3h"}})"));
  const RunSize size = EstimateRunSize(s);
  EXPECT_DOUBLE_EQ(size.requests, 300 * 3 * 3.6e9);  // 300 games x 3 h of microseconds
  EXPECT_NE(Refusal(s).find("requests per variant run (demand \"poll\""), std::string::npos);
}

TEST(RunSizeTest, DataThatChangesTenToTheTwelveTimesAnHourIsRefused) {
  const scenario::Scenario s =
      Parse(Text(R"({"name": "odds", "request": {"api": "api", "endpoint": "e", "key": "{game}"},
               "offsets": {"offsets": ["-1h"]}})",
                 R"({"live_per_hour": 1e12})"));
  EXPECT_NEAR(EstimateRunSize(s).requests, 300, 1e-9);
  EXPECT_NE(Refusal(s).find("simulation events per variant run (mostly data changes of upstream "
                            "\"api\"), beyond the limit of 1,000,000,000"),
            std::string::npos)
      << Refusal(s);
}

TEST(RunSizeTest, AnHourlySeriesOverNinetyYearsIsRefused) {
  std::string text =
      Text(R"({"name": "daily", "request": {"api": "api", "endpoint": "e", "key": "x"},
                              "cron": {"time_zone": "UTC"}})");
  text.replace(text.find("\"seed\": 1,"), 10,
               R"("seed": 1, "start": "2000-01-01", "end": "2090-12-31", )");
  const std::string one = R"([{"name": "plain"}])";
  text.replace(text.find(one), one.size(), R"([{"name": "a"}, {"name": "b"}, {"name": "c"}])");
  const scenario::Scenario s = Parse(text);
  EXPECT_NEAR(EstimateRunSize(s, {"a"}).rows * 3, EstimateRunSize(s).rows, 1.0);
  EXPECT_NE(Refusal(s).find("CSV rows in the result folder"), std::string::npos) << Refusal(s);
}

TEST(RunSizeTest, SweepsAreBoundedByPointsTimesSeeds) {
  RunLimits limits;
  EXPECT_NO_THROW(CheckSweepRuns(1e5, limits, "s.json"));
  try {
    CheckSweepRuns(1e9, limits, "s.json");
    FAIL();
  } catch (const LimitError& e) {
    EXPECT_EQ(std::string(e.what()),
              "s.json: too large to run: about 1,000,000,000 runs (points x seeds), beyond the "
              "limit of 100,000 (README \"Limits\"); to run it anyway: --limit runs=2000000000");
  }
}

TEST(RunSizeTest, LimitsAreSetByName) {
  RunLimits limits;
  limits.Set("requests=2e8");
  limits.Set("burst=1000");
  limits.Set("events=5000000000");
  limits.Set("rows=1");
  limits.Set("runs=7");
  EXPECT_EQ(limits.requests, 2e8);
  EXPECT_EQ(limits.burst, 1000);
  EXPECT_EQ(limits.events, 5e9);
  EXPECT_EQ(limits.rows, 1);
  EXPECT_EQ(limits.runs, 7);
  for (const char* bad : {"requests", "requests=", "requests=-1", "requests=0", "requests=1x",
                          "requests=inf", "memory=1", "=5"}) {
    EXPECT_THROW(limits.Set(bad), LimitError) << bad;
  }
}

}  // namespace
}  // namespace orchsim::experiment
