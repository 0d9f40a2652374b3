// Issue 19, defect 4: durations near the int64 range, added to simulated
// time, overflowed (UBSan: signed overflow in policies/time.h) for nine
// fields and silently switched a rate limit off. Each field is now bounded
// at parse time (kMaxDuration, 36500d) and instant arithmetic saturates.
// For every field: one microsecond more than the maximum is bad input naming
// the field, and the maximum itself loads and runs (this suite runs in the
// UBSan pass, which aborts on an overflow) with sane results.
#include <gtest/gtest.h>

#include <string>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {
namespace {

// One game on 2024-01-01 18:00Z; five uncacheable requests before it; a
// mock upstream answering in 100 ms that allows one call per window.
std::string Scenario(const std::string& field, const std::string& value) {
  auto v = [&](const std::string& name, const std::string& fallback) {
    return "\"" + (name == field ? value : fallback) + "\"";
  };
  return R"({
  "name": "duration-limit", "seed": 7,
  "start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z", "drain": )" +
         v("drain", "1m") + R"(,
  "schedule": {"synthetic": [{"name": "L", "teams": 2, "season_days": 1,
                              "season_start": "2024-01-01T00:00:00Z", "time_zone": "UTC",
                              "kickoff_times": ["18h"]}]},
  "upstreams": {"api": {
    "latency": {"kind": "lognormal", "median": "100ms", "p99": )" +
         v("latency.p99", "200ms") + R"(},
    "failures": {"enabled": true, "timeout": 0.5, "timeout_latency": )" +
         v("failures.timeout_latency", "30s") + R"(},
    "rate_limit": {"enabled": true, "max_calls": 1, "window": )" +
         v("rate_limit.window", "1h") + R"(},
    "data": {"enabled": true, "game_duration": )" +
         v("data.game_duration", "3h") + R"(}}},
  "demand": [
    {"name": "pregame", "request": {"api": "api", "endpoint": "odds", "key": "{game}-{n}",
                                    "cacheable": false, "deadline": )" +
         v("request.deadline", "10m") + R"(},
     "offsets": {"offsets": ["-5h", "-4h", "-3h", "-2h", )" +
         v("offsets", "-1h") + R"(]}},
    {"name": "views", "request": {"api": "api", "endpoint": "odds", "key": "{game}"},
     "kickoff_poisson": {"steps": [{"from": "-1h", "per_minute": 0}], "until": )" +
         v("kickoff_poisson.until", "1h") + R"(}},
    {"name": "burst", "request": {"api": "api", "endpoint": "odds", "key": "{game}"},
     "burst": {"count": 1, "kickoff_offset": )" +
         v("burst.kickoff_offset", "30h") + R"(}}],
  "presets": "policies",
  "variants": [{"name": "naive", "preset": "naive"}]
})";
}

scenario::Scenario Load(const std::string& field, const std::string& value) {
  return scenario::ParseScenario(Scenario(field, value), "limit.json",
                                 std::string(ORCHSIM_SOURCE_DIR) + "/scenarios");
}

struct Field {
  const char* name;     // as Scenario() knows it
  const char* path;     // the JSON path the error names
  const char* over;     // just beyond the maximum
  const char* maximum;  // the maximum (or its negative), which must run
};

const Field kFields[] = {
    {"rate_limit.window", "/upstreams/api/rate_limit/window", "36500d1us", "36500d"},
    {"latency.p99", "/upstreams/api/latency/p99", "36501d", "36500d"},
    {"failures.timeout_latency", "/upstreams/api/failures/timeout_latency", "36500d1ms", "36500d"},
    {"drain", "/drain", "876001h", "36500d"},
    {"request.deadline", "/demand/0/request/deadline", "36500d1s", "36500d"},
    {"kickoff_poisson.until", "/demand/1/kickoff_poisson/until", "36501d", "36500d"},
    {"data.game_duration", "/upstreams/api/data/game_duration", "36501d", "36500d"},
    {"offsets", "/demand/0/offsets/offsets/4", "-36501d", "-36500d"},
    {"burst.kickoff_offset", "/demand/2/burst/kickoff_offset", "-36500d1us", "-36500d"},
};

TEST(DurationLimitTest, BeyondTheMaximumIsBadInputNamingTheField) {
  for (const Field& f : kFields) {
    try {
      Load(f.name, f.over);
      ADD_FAILURE() << f.name << " = " << f.over << " was accepted";
    } catch (const config::ConfigError& e) {
      EXPECT_EQ(e.path(), f.path) << f.name;
      EXPECT_NE(e.message().find("longer than the longest duration allowed, 36500d (100 years)"),
                std::string::npos)
          << f.name << ": " << e.message();
    }
  }
}

TEST(DurationLimitTest, TheMaximumRunsWithoutOverflow) {
  for (const Field& f : kFields) {
    SCOPED_TRACE(f.name);
    const scenario::Scenario s = Load(f.name, f.maximum);
    const VariantRun run = RunVariant(s, s.variants.front(), s.seed);
    // Every request ends exactly once, whatever the field did.
    uint64_t ended = 0;
    for (uint64_t n : run.metrics.outcomes) ended += n;
    EXPECT_EQ(ended, run.metrics.submitted);
    EXPECT_GE(run.metrics.submitted, 4u);
  }
}

// What the overflow broke: a window of 100 years still limits. Five
// distinct requests, one call allowed per window: the other four calls are
// answered 429 (with the wrapped window all five went through).
TEST(DurationLimitTest, AMaximalRateLimitWindowStillLimits) {
  const scenario::Scenario s = Load("rate_limit.window", "36500d");
  const VariantRun run = RunVariant(s, s.variants.front(), s.seed);
  EXPECT_EQ(run.upstreams.at("api").calls, 5u);
  EXPECT_EQ(run.upstreams.at("api").rate_limited, 4u);
}

TEST(DurationLimitTest, ATimeSpanBeyondOneHundredYearsIsBadInput) {
  std::string text = Scenario("", "");
  const std::string end = R"("end": "2024-01-02T00:00:00Z")";
  text.replace(text.find(end), end.size(), R"("end": "2124-01-02T00:00:00Z")");
  try {
    scenario::ParseScenario(text, "limit.json", std::string(ORCHSIM_SOURCE_DIR) + "/scenarios");
    FAIL() << "a span of 100 years and a day was accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.path(), "/end");
    EXPECT_EQ(e.message(),
              "expected an instant at most 100 years after the start; the run would span "
              "36525d, longer than the longest time span allowed, 36500d (100 years)");
  }
}

}  // namespace
}  // namespace orchsim::experiment
