#include "policies/metric_values.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

// docs/metrics.md promises these values; dashboards and alerts rely on them.
TEST(MetricValuesTest, GaugeEncodingsAreTheDocumentedOnes) {
  EXPECT_EQ(BreakerStateGauge(BreakerState::kClosed), 0);
  EXPECT_EQ(BreakerStateGauge(BreakerState::kOpen), 1);
  EXPECT_EQ(BreakerStateGauge(BreakerState::kHalfOpen), 2);
  EXPECT_EQ(HealthGauge(HealthState::kHealthy), 0);
  EXPECT_EQ(HealthGauge(HealthState::kDegraded), 1);
  EXPECT_EQ(HealthGauge(HealthState::kUnhealthy), 2);
}

TEST(MetricValuesTest, LatencyBoundsRiseFromOneMillisecondToOneMinute) {
  EXPECT_EQ(kLatencyBucketBounds.front(), 0.001);
  EXPECT_EQ(kLatencyBucketBounds.back(), 60);
  for (size_t i = 1; i < kLatencyBucketBounds.size(); ++i) {
    EXPECT_LT(kLatencyBucketBounds[i - 1], kLatencyBucketBounds[i]) << i;
  }
}

}  // namespace
}  // namespace orchsim
