// Written upstream models read back as the same configs; the layout; a
// scenario naming its upstreams file.
#include "engine/scenario/upstream_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/scenario/scenario.h"
#include "engine/scenario/upstream_reader.h"

namespace orchsim::scenario {
namespace {

namespace fs = std::filesystem;

Instant At(const char* text) { return *ParseInstant(text); }

world::UpstreamModelConfig Read(const std::string& name, const std::string& text) {
  const Json j = Json::parse(text);
  ObjectReader r(j, "", "written.json");
  world::UpstreamModelConfig c = ReadUpstream(r, name);
  r.Finish();
  return c;
}

void ExpectSame(const world::UpstreamModelConfig& a, const world::UpstreamModelConfig& b) {
  // The latency fields of the model's kind (the writer leaves the others out).
  EXPECT_EQ(a.latency.kind, b.latency.kind);
  switch (a.latency.kind) {
    case world::LatencyKind::kConstant:
      EXPECT_EQ(a.latency.constant, b.latency.constant);
      break;
    case world::LatencyKind::kUniform:
      EXPECT_EQ(a.latency.min, b.latency.min);
      EXPECT_EQ(a.latency.max, b.latency.max);
      break;
    case world::LatencyKind::kExponential:
      EXPECT_EQ(a.latency.mean, b.latency.mean);
      break;
    case world::LatencyKind::kLognormal:
      EXPECT_EQ(a.latency.median, b.latency.median);
      EXPECT_EQ(a.latency.p99, b.latency.p99);
      break;
    case world::LatencyKind::kEmpirical:
      ASSERT_EQ(a.latency.table.size(), b.latency.table.size());
      for (size_t i = 0; i < a.latency.table.size(); ++i) {
        EXPECT_EQ(a.latency.table[i].latency, b.latency.table[i].latency);
        EXPECT_EQ(a.latency.table[i].weight, b.latency.table[i].weight);
      }
      EXPECT_EQ(a.latency.empirical_interpolate, b.latency.empirical_interpolate);
      break;
  }
  EXPECT_EQ(a.latency.degraded_factor, b.latency.degraded_factor);
  EXPECT_EQ(a.failures.enabled, b.failures.enabled);
  EXPECT_EQ(a.failures.rates.status_500, b.failures.rates.status_500);
  EXPECT_EQ(a.failures.rates.status_502, b.failures.rates.status_502);
  EXPECT_EQ(a.failures.rates.status_503, b.failures.rates.status_503);
  EXPECT_EQ(a.failures.rates.timeout, b.failures.rates.timeout);
  EXPECT_EQ(a.failures.timeout_latency, b.failures.timeout_latency);
  EXPECT_EQ(a.failures.degraded_error_factor, b.failures.degraded_error_factor);
  EXPECT_EQ(a.health.enabled, b.health.enabled);
  EXPECT_EQ(a.health.mean_healthy, b.health.mean_healthy);
  EXPECT_EQ(a.health.mean_degraded, b.health.mean_degraded);
  EXPECT_EQ(a.health.mean_down, b.health.mean_down);
  EXPECT_EQ(a.health.healthy_to_down, b.health.healthy_to_down);
  EXPECT_EQ(a.health.degraded_to_down, b.health.degraded_to_down);
  EXPECT_EQ(a.health.down_to_degraded, b.health.down_to_degraded);
  EXPECT_EQ(a.health.down_status, b.health.down_status);
  ASSERT_EQ(a.outages.size(), b.outages.size());
  for (size_t i = 0; i < a.outages.size(); ++i) {
    EXPECT_EQ(a.outages[i].start, b.outages[i].start);
    EXPECT_EQ(a.outages[i].end, b.outages[i].end);
    EXPECT_EQ(a.outages[i].status, b.outages[i].status);
  }
  ASSERT_EQ(a.health_windows.size(), b.health_windows.size());
  for (size_t i = 0; i < a.health_windows.size(); ++i) {
    EXPECT_EQ(a.health_windows[i].start, b.health_windows[i].start);
    EXPECT_EQ(a.health_windows[i].end, b.health_windows[i].end);
    EXPECT_EQ(a.health_windows[i].state, b.health_windows[i].state);
  }
  EXPECT_EQ(a.rate_limit.enabled, b.rate_limit.enabled);
  EXPECT_EQ(a.rate_limit.max_calls, b.rate_limit.max_calls);
  EXPECT_EQ(a.rate_limit.window, b.rate_limit.window);
  EXPECT_EQ(a.rate_limit.kind, b.rate_limit.kind);
  EXPECT_EQ(a.quota.enabled, b.quota.enabled);
  EXPECT_EQ(a.quota.limit, b.quota.limit);
  EXPECT_EQ(a.quota.period, b.quota.period);
  EXPECT_EQ(a.quota.rolling_window, b.quota.rolling_window);
  EXPECT_EQ(a.quota.default_credits, b.quota.default_credits);
  EXPECT_EQ(a.quota.credits_per_endpoint, b.quota.credits_per_endpoint);
  EXPECT_EQ(a.quota.charge_per_key, b.quota.charge_per_key);
  EXPECT_EQ(a.quota.header_style, b.quota.header_style);
  EXPECT_EQ(a.quota.exhausted_status, b.quota.exhausted_status);
  EXPECT_EQ(a.batch.enabled, b.batch.enabled);
  EXPECT_EQ(a.batch.max_keys, b.batch.max_keys);
  EXPECT_EQ(a.data.enabled, b.data.enabled);
  EXPECT_EQ(a.data.base_per_hour, b.data.base_per_hour);
  EXPECT_EQ(a.data.pregame_per_hour, b.data.pregame_per_hour);
  EXPECT_EQ(a.data.pregame_window, b.data.pregame_window);
  EXPECT_EQ(a.data.live_per_hour, b.data.live_per_hour);
  EXPECT_EQ(a.data.game_duration, b.data.game_duration);
}

world::UpstreamModelConfig Everything() {
  world::UpstreamModelConfig c;
  c.name = "odds";
  c.latency.kind = world::LatencyKind::kEmpirical;
  c.latency.table = {{Microseconds(871), 0.0},
                     {Milliseconds(57) + Microseconds(599), 0.5},
                     {Seconds(3) + Microseconds(1), 1.0}};
  c.latency.empirical_interpolate = true;
  c.latency.degraded_factor = 4.29364;
  c.failures.enabled = true;
  c.failures.rates = {0.0094179, 0.001, 0.0095, 0.0015886};
  c.failures.timeout_latency = Seconds(20);
  c.failures.degraded_error_factor = 19.684;
  c.health.enabled = true;
  c.health.mean_healthy = Hours(4);
  c.health.healthy_to_down = 0.2;
  c.outages = {{At("2023-10-15T17:59:59.786449Z"), At("2023-10-15T18:44:59.577416Z"), 503}};
  c.health_windows = {
      {At("2023-10-15T21:14:50Z"), At("2023-10-15T21:34:40Z"), world::UpstreamHealth::kDegraded},
      {At("2023-10-16T01:00:00Z"), At("2023-10-16T01:00:00.5Z"), world::UpstreamHealth::kDown}};
  c.rate_limit = {true, 5, Seconds(1), world::RateLimitWindow::kFixed};
  c.quota.enabled = true;
  c.quota.limit = 21000.5;
  c.quota.period = world::QuotaPeriod::kRollingWindow;
  c.quota.rolling_window = Days(30) + Seconds(1);
  c.quota.default_credits = 6;
  c.quota.credits_per_endpoint = {{"scores", 1.5}, {"odds/v4", 12}};
  c.quota.charge_per_key = true;
  c.quota.header_style = world::QuotaHeaderStyle::kIetf;
  c.quota.exhausted_status = 403;
  c.batch = {true, 25};
  c.data.base_per_hour = 0.2;
  c.data.game_duration = Hours(3) + Minutes(30);
  EXPECT_TRUE(c.validate().ok()) << c.validate().message();
  return c;
}

TEST(UpstreamWriterTest, EveryFieldReadsBackTheSame) {
  const world::UpstreamModelConfig c = Everything();
  ExpectSame(c, Read("odds", UpstreamJson(c).dump()));
  // Each latency kind, and disabled parts.
  for (world::LatencyKind kind :
       {world::LatencyKind::kConstant, world::LatencyKind::kUniform,
        world::LatencyKind::kExponential, world::LatencyKind::kLognormal}) {
    world::UpstreamModelConfig plain;
    plain.name = "plain";
    plain.latency.kind = kind;
    plain.latency.min = Milliseconds(3);
    plain.latency.max = Milliseconds(7);
    plain.data.enabled = false;
    ExpectSame(plain, Read("plain", UpstreamJson(plain).dump()));
  }
}

TEST(UpstreamWriterTest, LayoutIsCompactWhereItFitsAndDeterministic) {
  world::UpstreamModelConfig c;
  c.name = "scores";
  c.latency.kind = world::LatencyKind::kLognormal;
  c.latency.median = Milliseconds(55) + Microseconds(807);
  c.latency.p99 = Milliseconds(360);
  c.outages = {{At("2023-10-15T18:00:00Z"), At("2023-10-15T18:45:00Z"), 503}};
  c.data.enabled = false;
  EXPECT_EQ(FormatUpstreams({c}), R"({
  "scores": {
    "latency": {
      "kind": "lognormal",
      "median": "55ms807us",
      "p99": "360ms",
      "degraded_factor": 3.0
    },
    "failures": {"enabled": false},
    "health": {"enabled": false},
    "outages": [
      {"start": "2023-10-15T18:00:00Z", "end": "2023-10-15T18:45:00Z", "status": 503}
    ],
    "health_windows": [],
    "rate_limit": {"enabled": false},
    "quota": {"enabled": false},
    "batch": {"enabled": false},
    "data": {"enabled": false}
  }
}
)");
}

TEST(UpstreamWriterTest, AScenarioNamesItsUpstreamsFile) {
  const fs::path dir =
      fs::temp_directory_path() / ("orchsim_upstream_writer_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "calibrated");
  std::ofstream(dir / "calibrated/upstreams.json") << FormatUpstreams({Everything()});
  const std::string scenario = R"({"name": "replay",
    "schedule": {"synthetic": [{"name": "L", "teams": 2, "season_days": 1,
                                "season_start": "2024-01-01T00:00:00Z"}]},
    "upstreams": "calibrated/upstreams.json",
    "demand": [{"name": "d", "request": {"api": "odds", "endpoint": "odds"},
                "offsets": {"offsets": ["-1h"]}}],
    "variants": [{"name": "v"}]})";
  const Scenario s = ParseScenario(scenario, "replay.json", dir.string());
  ASSERT_EQ(s.upstreams.size(), 1u);
  ExpectSame(Everything(), s.upstreams[0]);
  // A problem inside the file names the file and the place.
  std::ofstream(dir / "calibrated/upstreams.json") << R"({"odds": {"latency": {"kind": "x"}}})";
  try {
    ParseScenario(scenario, "replay.json", dir.string());
    ADD_FAILURE() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), (dir / "calibrated/upstreams.json").string());
    EXPECT_EQ(e.path(), "/odds/latency/kind");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace orchsim::scenario
