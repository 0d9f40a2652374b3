#include "engine/world/upstream_model.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace orchsim::world {
namespace {

UpstreamModelConfig Odds() {
  UpstreamModelConfig c;
  c.name = "odds";
  return c;
}

std::string ErrorOf(const std::function<void(UpstreamModelConfig&)>& edit) {
  UpstreamModelConfig c = Odds();
  edit(c);
  return c.validate().message();
}

TEST(UpstreamModelConfigTest, DefaultsAreValid) {
  UpstreamModelConfig c = Odds();
  c.health.enabled = true;
  c.failures.enabled = true;
  c.rate_limit.enabled = true;
  c.quota.enabled = true;
  c.batch.enabled = true;
  EXPECT_TRUE(c.validate().ok()) << c.validate().ToString();
}

TEST(UpstreamModelConfigTest, ErrorsNameTheFieldTheValueAndTheConstraint) {
  EXPECT_EQ(ErrorOf([](auto& c) { c.name = ""; }), "upstreams[].name: \"\" must not be empty");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.latency.kind = LatencyKind::kLognormal;
              c.latency.p99 = Milliseconds(50);
            }),
            "upstreams.odds.latency.p99: \"50ms\" must be >= latency.median (\"80ms\")");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.latency.kind = LatencyKind::kUniform;
              c.latency.min = Milliseconds(300);
            }),
            "upstreams.odds.latency.max: \"200ms\" must be >= latency.min (\"300ms\")");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.latency.kind = LatencyKind::kExponential;
              c.latency.mean = Duration::Zero();
            }),
            "upstreams.odds.latency.mean: \"0s\" must be > 0s");
  EXPECT_EQ(ErrorOf([](auto& c) { c.latency.kind = LatencyKind::kEmpirical; }),
            "upstreams.odds.latency.table: \"0 rows\" is not a usable table: empirical table is "
            "empty");
  EXPECT_EQ(ErrorOf([](auto& c) { c.latency.degraded_factor = 0.5; }),
            "upstreams.odds.latency.degraded_factor: 0.5 must be >= 1");
  EXPECT_EQ(ErrorOf([](auto& c) { c.failures.rates.status_502 = 1.5; }),
            "upstreams.odds.failures.status_502: 1.5 must be within [0, 1]");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.failures.rates.status_500 = 0.6;
              c.failures.rates.timeout = 0.6;
            }),
            "upstreams.odds.failures: 1.2 is status_500 + status_502 + status_503 + timeout; their "
            "sum must be <= 1");
  EXPECT_EQ(ErrorOf([](auto& c) { c.health.mean_down = Duration::Zero(); }),
            "upstreams.odds.health.mean_down: \"0s\" must be > 0s");
  EXPECT_EQ(ErrorOf([](auto& c) { c.health.down_status = 500; }),
            "upstreams.odds.health.down_status: 500 must be 503 or 599");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.outages.push_back({Instant::FromUnixMicros(10), Instant::FromUnixMicros(10), 503});
            }),
            "upstreams.odds.outages[0].end: \"1970-01-01T00:00:00.000010Z\" must be after start "
            "(\"1970-01-01T00:00:00.000010Z\")");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.rate_limit.enabled = true;
              c.rate_limit.max_calls = 0;
            }),
            "upstreams.odds.rate_limit.max_calls: 0 must be >= 1");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.quota.enabled = true;
              c.quota.credits_per_endpoint["odds"] = -2;
            }),
            "upstreams.odds.quota.credits_per_endpoint.odds: -2 must be >= 0");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.quota.enabled = true;
              c.quota.limit = 0;
            }),
            "upstreams.odds.quota.limit: 0 must be > 0");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.batch.enabled = true;
              c.batch.max_keys = 0;
            }),
            "upstreams.odds.batch.max_keys: 0 must be >= 1");
  EXPECT_EQ(ErrorOf([](auto& c) { c.data.live_per_hour = -1; }),
            "upstreams.odds.data.live_per_hour: -1 must be >= 0");
}

TEST(UpstreamModelConfigTest, DisabledComponentsAreNotValidated) {
  EXPECT_EQ(ErrorOf([](auto& c) { c.rate_limit.max_calls = 0; }), "");
  EXPECT_EQ(ErrorOf([](auto& c) { c.quota.limit = -1; }), "");
  EXPECT_EQ(ErrorOf([](auto& c) {
              c.data.enabled = false;
              c.data.base_per_hour = -1;
            }),
            "");
}

TEST(HealthModelConfigTest, StationaryFractionsOfACycleAreProportionalToTheMeans) {
  HealthModelConfig h;
  h.mean_healthy = Minutes(60);
  h.mean_degraded = Minutes(30);
  h.mean_down = Minutes(10);
  h.healthy_to_down = 0.0;   // healthy -> degraded
  h.degraded_to_down = 1.0;  // degraded -> down
  h.down_to_degraded = 0.0;  // down -> healthy
  const auto f = h.StationaryTimeFractions();
  EXPECT_DOUBLE_EQ(f[0], 0.6);
  EXPECT_DOUBLE_EQ(f[1], 0.3);
  EXPECT_DOUBLE_EQ(f[2], 0.1);
}

TEST(HealthModelConfigTest, StationaryFractionsSolveTheEmbeddedChain) {
  HealthModelConfig h;
  h.mean_healthy = Minutes(10);
  h.mean_degraded = Minutes(10);
  h.mean_down = Minutes(10);
  h.healthy_to_down = 0.0;
  h.degraded_to_down = 0.5;
  h.down_to_degraded = 0.0;
  // Embedded chain: nu_H = nu_D = 1, nu_N = 0.5 (by hand), equal sojourns.
  const auto f = h.StationaryTimeFractions();
  EXPECT_DOUBLE_EQ(f[0], 0.4);
  EXPECT_DOUBLE_EQ(f[1], 0.4);
  EXPECT_DOUBLE_EQ(f[2], 0.2);
}

TEST(UpstreamModelNamesTest, RoundTrip) {
  for (auto k : {LatencyKind::kConstant, LatencyKind::kUniform, LatencyKind::kExponential,
                 LatencyKind::kLognormal, LatencyKind::kEmpirical}) {
    EXPECT_EQ(ParseLatencyKind(LatencyKindName(k)), k);
  }
  for (auto s : {QuotaHeaderStyle::kNone, QuotaHeaderStyle::kOddsApi, QuotaHeaderStyle::kGithub,
                 QuotaHeaderStyle::kIetf}) {
    EXPECT_EQ(ParseQuotaHeaderStyle(QuotaHeaderStyleName(s)), s);
  }
  for (auto p : {QuotaPeriod::kCalendarMonthUtc, QuotaPeriod::kCalendarDayUtc,
                 QuotaPeriod::kRollingWindow, QuotaPeriod::kFixedWindow}) {
    EXPECT_EQ(ParseQuotaPeriod(QuotaPeriodName(p)), p);
  }
  EXPECT_EQ(QuotaHeaderStyleName(QuotaHeaderStyle::kOddsApi), "odds-api");
  EXPECT_EQ(ParseQuotaHeaderStyle("github-v3"), std::nullopt);
  EXPECT_EQ(UpstreamHealthName(UpstreamHealth::kDown), "down");
  EXPECT_EQ(DefaultQuotaExhaustedStatus(QuotaHeaderStyle::kGithub), 403);
  EXPECT_EQ(DefaultQuotaExhaustedStatus(QuotaHeaderStyle::kOddsApi), 401);
  EXPECT_EQ(DefaultQuotaExhaustedStatus(QuotaHeaderStyle::kIetf), 429);
}

TEST(QuotaConfigTest, CreditsPerEndpointWithDefaultAndPerKeyCharging) {
  QuotaConfig q;
  q.credits_per_endpoint["odds"] = 6;  // 3 markets x 2 regions
  EXPECT_EQ(q.CreditsFor("odds", 4), 6.0);
  EXPECT_EQ(q.CreditsFor("scores", 4), 1.0);
  q.charge_per_key = true;
  EXPECT_EQ(q.CreditsFor("odds", 4), 24.0);
}

}  // namespace
}  // namespace orchsim::world
