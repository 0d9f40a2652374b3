#include "engine/experiment/metric_catalog.h"

#include <gtest/gtest.h>

#include <set>

namespace orchsim::experiment {
namespace {

VariantRun MakeRun(uint64_t calls, uint64_t submitted) {
  VariantRun run;
  run.metrics.submitted = submitted;
  run.metrics.upstream_calls = calls;
  run.metrics.credits = 42.5;
  run.metrics.apis["odds"].calls = calls;
  run.metrics.apis["odds"].credits = 42.5;
  run.upstreams["weather"] = UpstreamSummary{};
  run.metrics.outcomes[static_cast<int>(Outcome::kFailed)] = 3;
  run.metrics.outcomes[static_cast<int>(Outcome::kCacheHit)] = 7;
  run.metrics.breaker_open_time = Milliseconds(2500);
  run.metrics.answered_with_data = 8;
  run.metrics.answered_outdated = 2;
  run.metrics.wait_by_priority[PriorityIndex(Priority::kCritical)].Record(Milliseconds(40));
  run.metrics.data_age.Record(Seconds(30));
  return run;
}

TEST(MetricCatalogTest, FlattensCountsPercentagesAndSecondsWithBaseline) {
  const VariantRun base = MakeRun(200, 100);
  const VariantRun run = MakeRun(150, 100);
  const MetricValues v = FlattenMetrics(run, &base);
  EXPECT_EQ(v.at("upstream_calls"), 150.0);
  EXPECT_EQ(v.at("calls_saved"), 50.0);
  EXPECT_EQ(v.at("calls_saved_pct"), 25.0);
  EXPECT_EQ(v.at("credits"), 42.5);
  EXPECT_EQ(v.at("calls.odds"), 150.0);
  EXPECT_EQ(v.at("calls.weather"), 0.0);  // an upstream never called still has a name
  EXPECT_EQ(v.at("client_failures"), 3.0);
  EXPECT_EQ(v.at("client_failures_pct"), 3.0);
  EXPECT_EQ(v.at("outcome.cache_hit"), 7.0);
  EXPECT_EQ(v.at("breaker_open_s"), 2.5);
  EXPECT_EQ(v.at("outdated_fraction"), 0.25);
  EXPECT_EQ(v.at("wait_max_s.CRITICAL"), 0.04);
  EXPECT_EQ(v.at("wait_p99_s.LOW"), 0.0);  // empty histogram
  EXPECT_GE(v.at("data_age_p50_s"), 30.0);
  EXPECT_LE(v.at("data_age_p50_s"), 30.0 * (1 + 1.0 / 32));
}

// Issue 18, items 2-5: the call balance, upstream quota refusals, end-to-end
// latency per class and per API, mean wait and the share that waited, all
// usable in expect blocks and sweep objectives.
TEST(MetricCatalogTest, BalanceLatencyAndWaitMetrics) {
  VariantRun run = MakeRun(6, 10);
  VariantMetrics& m = run.metrics;
  m.accounting.requests = 10;
  m.accounting.cache_hits = 7;
  m.accounting.failed_without_call[static_cast<int>(Outcome::kRejectedQuota)] = 2;
  m.calls_by_kind[static_cast<int>(CallKind::kFirstAttempt)] = 1;
  m.calls_by_kind[static_cast<int>(CallKind::kRetry)] = 5;
  run.upstreams["weather"].quota_rejected = 4;
  Histogram& high = m.wait_by_priority[PriorityIndex(Priority::kHigh)];
  high.Record(Duration::Zero());
  high.Record(Seconds(3));
  m.waited_by_priority[PriorityIndex(Priority::kHigh)] = 1;
  m.latency.Record(Seconds(2));
  m.latency.Record(Seconds(4));
  m.latency_by_priority[PriorityIndex(Priority::kHigh)].Record(Seconds(4));
  m.apis["odds"].latency.Record(Milliseconds(250));
  const MetricValues v = FlattenMetrics(run, nullptr);
  EXPECT_EQ(v.at("calls_avoided"), 7.0);
  EXPECT_EQ(v.at("calls_avoided.cache_hits"), 7.0);
  EXPECT_EQ(v.at("failed_without_call"), 2.0);
  EXPECT_EQ(v.at("calls_added"), 5.0);
  EXPECT_EQ(v.at("calls_other"), 0.0);  // 6 = 10 - 7 - 2 + 5
  EXPECT_EQ(v.at("quota_refused_calls"), 4.0);
  EXPECT_EQ(v.at("wait_mean_s.HIGH"), 1.5);
  EXPECT_EQ(v.at("waited_fraction.HIGH"), 0.5);
  EXPECT_EQ(v.at("waited_fraction.LOW"), 0.0);  // no requests: no division by zero
  EXPECT_EQ(v.at("latency_max_s"), 4.0);
  EXPECT_EQ(v.at("latency_mean_s"), 3.0);
  EXPECT_EQ(v.at("latency_p99_s.HIGH"), 4.0);
  EXPECT_EQ(v.at("api_latency_max_s.odds"), 0.25);
  EXPECT_EQ(v.at("api_latency_p50_s.weather"), 0.0);
  const auto catalog = MetricCatalog({"odds"});
  EXPECT_EQ(FindMetricInfo(catalog, "latency_p99_s.CRITICAL").unit, "s");
  EXPECT_EQ(FindMetricInfo(catalog, "waited_fraction.NORMAL").unit, "fraction");
  EXPECT_EQ(FindMetricInfo(catalog, "api_latency_mean_s.odds").unit, "s");
}

TEST(MetricCatalogTest, NoBaselineMeansNothingSaved) {
  const MetricValues v = FlattenMetrics(MakeRun(150, 0), nullptr);
  EXPECT_EQ(v.at("calls_saved"), 0.0);
  EXPECT_EQ(v.at("calls_saved_pct"), 0.0);
  EXPECT_EQ(v.at("client_failures_pct"), 0.0);  // no requests: no division by zero
}

TEST(MetricCatalogTest, CatalogNamesExactlyTheFlattenedMetrics) {
  const MetricValues v = FlattenMetrics(MakeRun(1, 1), nullptr);
  std::set<std::string> catalog;
  for (const MetricInfo& info : MetricCatalog({"odds", "weather"})) {
    EXPECT_FALSE(info.unit.empty()) << info.name;
    EXPECT_TRUE(catalog.insert(info.name).second) << "duplicate " << info.name;
  }
  std::set<std::string> flattened;
  for (const auto& [name, value] : v) flattened.insert(name);
  EXPECT_EQ(catalog, flattened);
}

TEST(MetricCatalogTest, UnknownNameListsKnownOnes) {
  const MetricValues v = FlattenMetrics(MakeRun(1, 1), nullptr);
  EXPECT_EQ(LookupMetric(v, "calls.odds"), 1.0);
  try {
    LookupMetric(v, "credit");
    FAIL() << "expected UnknownMetricError";
  } catch (const UnknownMetricError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown metric \"credit\""), std::string::npos) << what;
    EXPECT_NE(what.find("credits"), std::string::npos) << what;
    EXPECT_NE(what.find("wait_p99_s.CRITICAL"), std::string::npos) << what;
  }
  const auto catalog = MetricCatalog({"odds"});
  EXPECT_EQ(FindMetricInfo(catalog, "data_age_p99_s").unit, "s");
  EXPECT_THROW(FindMetricInfo(catalog, "calls.weather"), UnknownMetricError);
}

}  // namespace
}  // namespace orchsim::experiment
