// Calibration from a trace: simulate an upstream whose model is known, record
// the run, calibrate from the trace and compare what was fitted with the
// truth (exact where the model is deterministic, within the reported 95%
// interval where it is random).
#include "engine/experiment/calibration.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/scenario/scenario.h"
#include "tests/engine/experiment/trace_test_util.h"

namespace orchsim::experiment {
namespace {

namespace fs = std::filesystem;

Instant At(const char* text) { return *ParseInstant(text); }

class CalibrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orchsim_calibration_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the scenario's "naive" variant, records it and calibrates from it.
  Calibration RecordAndCalibrate(const std::string& scenario_text,
                                 const CalibrationOptions& options = {}) {
    const scenario::Scenario s = scenario::ParseScenario(
        scenario_text, "calibration.json", (fs::path(ORCHSIM_SOURCE_DIR) / "scenarios").string());
    const std::string path = (dir_ / "trace.jsonl").string();
    RecordVariant(s, "naive", path);
    CalibrationResult result = Calibrate(path, options);
    EXPECT_FALSE(result.error.has_value()) << result.error->ToString();
    return *result.calibration;
  }

  fs::path dir_;
};

// One request every 2 s for a day (distinct keys), straight upstream.
std::string Scenario(const std::string& upstream) {
  std::string text = R"({"name": "calibration", "seed": 7,
    "schedule": {"synthetic": [{"name": "L", "teams": 2, "season_days": 1,
                                "season_start": "2024-01-01T00:00:00Z"}]},
    "start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z",
    "upstreams": {"api": )";
  text.append(upstream);
  text.append(R"(},
    "demand": [{"name": "poll", "request": {"api": "api", "endpoint": "odds", "key": "k{n}"},
                "burst": {"count": 43200, "span": "1d", "at": "2024-01-01T00:00:00Z"}}],
    "variants": [{"name": "naive", "preset": "naive"}]})");
  return text;
}

TEST(WilsonIntervalTest, KnownValues) {
  const RateEstimate none = WilsonInterval(0, 10);
  EXPECT_EQ(none.rate, 0.0);
  EXPECT_EQ(none.low, 0.0);
  EXPECT_NEAR(none.high, 0.27753, 1e-5);
  const RateEstimate half = WilsonInterval(5, 10);
  EXPECT_NEAR(half.low, 0.23659, 1e-5);
  EXPECT_NEAR(half.high, 0.76341, 1e-5);
  const RateEstimate all = WilsonInterval(20, 20);
  EXPECT_EQ(all.high, 1.0);
  EXPECT_NEAR(all.low, 0.83887, 1e-5);
  EXPECT_EQ(WilsonInterval(0, 0).trials, 0u);
}

TEST_F(CalibrationTest, OutagesDegradedSpellsErrorRatesAndLatency) {
  const Calibration c = RecordAndCalibrate(Scenario(R"({
      "latency": {"kind": "constant", "constant": "100ms", "degraded_factor": 2},
      "failures": {"enabled": true, "status_500": 0.04, "status_503": 0.01,
                   "degraded_error_factor": 8},
      "outages": [{"start": "2024-01-01T06:00:00Z", "end": "2024-01-01T06:30:00Z",
                   "status": 502}],
      "health_windows": [{"start": "2024-01-01T12:00:00Z", "end": "2024-01-01T14:00:00Z",
                          "state": "degraded"}],
      "data": {"enabled": false}})"));
  ASSERT_EQ(c.apis.size(), 1u);
  const ApiFit& f = c.apis[0];
  EXPECT_EQ(c.requests, 43200u);
  EXPECT_EQ(f.calls, 43200u);
  // The outage: calls every 2 s, so its edges are found within 1 s.
  ASSERT_EQ(f.outages.size(), 1u);
  EXPECT_EQ(f.outages[0].status, 502);
  EXPECT_EQ(f.outages[0].calls, 900u);
  EXPECT_EQ(f.outages[0].start, At("2024-01-01T05:59:59Z"));
  EXPECT_EQ(f.outages[0].end, At("2024-01-01T06:29:59Z"));
  // The degraded spell, on 10-second bins.
  ASSERT_EQ(f.degraded.size(), 1u);
  EXPECT_EQ(f.degraded[0].start, At("2024-01-01T12:00:00Z"));
  EXPECT_EQ(f.degraded[0].end, At("2024-01-01T14:00:00Z"));
  const world::UpstreamModelConfig& m = f.model;
  ASSERT_EQ(m.health_windows.size(), 1u);
  EXPECT_EQ(m.health_windows[0].state, world::UpstreamHealth::kDegraded);
  // Constant latency: every quantile is 100 ms, degraded exactly twice that.
  EXPECT_EQ(m.latency.kind, world::LatencyKind::kEmpirical);
  EXPECT_EQ(m.latency.table.size(), 104u);
  for (const world::LatencyRow& row : m.latency.table) EXPECT_EQ(row.latency, Milliseconds(100));
  EXPECT_EQ(m.latency.degraded_factor, 2.0);
  EXPECT_EQ(f.ks_empirical, 0.0);
  // Error rates: the truth lies in each 95% interval.
  EXPECT_EQ(f.status_500.trials, 43200u - 900u - 3600u);
  EXPECT_LE(f.status_500.low, 0.04);
  EXPECT_GE(f.status_500.high, 0.04);
  EXPECT_LE(f.status_503.low, 0.01);
  EXPECT_GE(f.status_503.high, 0.01);
  EXPECT_EQ(f.status_502.count, 0u);
  EXPECT_EQ(f.timeout.count, 0u);
  EXPECT_NEAR(m.failures.degraded_error_factor, 8.0, 1.0);
  EXPECT_TRUE(m.failures.enabled);
  EXPECT_FALSE(m.quota.enabled);
  EXPECT_FALSE(m.rate_limit.enabled);
  EXPECT_FALSE(m.health.enabled);
  EXPECT_FALSE(m.data.enabled);
  EXPECT_TRUE(m.validate().ok());
}

TEST_F(CalibrationTest, RateLimitQuotaCreditsAndTimeouts) {
  // Eight games a day kick off together and are polled every minute: eight
  // calls at one instant against 5 calls per fixed second; an odds-api quota
  // of 2000 credits per day at 6 credits a call runs out each day; 1% of
  // calls time out after 7 s.
  const Calibration c = RecordAndCalibrate(R"({"name": "calibration", "seed": 11,
    "schedule": {"synthetic": [{"name": "L", "teams": 16, "games_per_day": 8, "season_days": 2,
                                "season_start": "2024-01-01T00:00:00Z"}]},
    "upstreams": {"api": {
      "latency": {"kind": "constant", "constant": "20ms"},
      "failures": {"enabled": true, "timeout": 0.01, "timeout_latency": "7s"},
      "rate_limit": {"enabled": true, "max_calls": 5, "window": "1s", "kind": "fixed"},
      "quota": {"enabled": true, "limit": 2000, "period": "calendar_day", "headers": "odds-api",
                "default_credits": 6},
      "data": {"enabled": false}}},
    "demand": [{"name": "poll", "request": {"api": "api", "endpoint": "odds"},
                "live_polling": {"interval": "1m"}}],
    "variants": [{"name": "naive", "preset": "naive"}]})");
  const ApiFit& f = c.apis.at(0);
  const world::UpstreamModelConfig& m = f.model;
  EXPECT_EQ(f.calls, 2u * 8u * 210u);
  EXPECT_TRUE(m.rate_limit.enabled);
  EXPECT_EQ(m.rate_limit.kind, world::RateLimitWindow::kFixed);
  EXPECT_EQ(m.rate_limit.window, Seconds(1));
  EXPECT_EQ(m.rate_limit.max_calls, 5);
  EXPECT_EQ(f.rate_limited, 2u * 3u * 210u);
  EXPECT_TRUE(m.quota.enabled);
  EXPECT_EQ(m.quota.header_style, world::QuotaHeaderStyle::kOddsApi);
  EXPECT_EQ(m.quota.limit, 2000.0);
  EXPECT_EQ(m.quota.period, world::QuotaPeriod::kCalendarDayUtc);
  EXPECT_EQ(m.quota.default_credits, 6.0);
  EXPECT_TRUE(m.quota.credits_per_endpoint.empty());
  EXPECT_FALSE(m.quota.charge_per_key);
  EXPECT_EQ(m.quota.exhausted_status, 0);  // odds-api's own 401
  EXPECT_GT(f.quota_refused, 0u);
  EXPECT_EQ(f.statuses.at(401), f.quota_refused);
  EXPECT_EQ(f.timeouts_599, f.statuses.at(599));
  EXPECT_EQ(m.failures.timeout_latency, Seconds(7));
  EXPECT_LE(f.timeout.low, 0.01);
  EXPECT_GE(f.timeout.high, 0.01);
  EXPECT_EQ(f.status_500.count, 0u);
  EXPECT_TRUE(f.outages.empty());
  EXPECT_TRUE(f.degraded.empty());
  EXPECT_TRUE(m.validate().ok());
}

}  // namespace
}  // namespace orchsim::experiment
