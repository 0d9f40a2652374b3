#include "policies/adaptive_concurrency.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

AdaptiveConcurrencyConfig Aimd() {
  AdaptiveConcurrencyConfig c;
  c.enabled = true;
  c.algorithm = ConcurrencyAlgorithm::kAimd;
  c.initial_limit = 10;
  c.min_limit = 2;
  c.max_limit = 12;
  c.latency_threshold = Milliseconds(500);
  c.backoff_ratio = 0.5;
  return c;
}

TEST(AdaptiveConcurrencyTest, AimdGrowsByOneWhenBusyAndHalvesOnSlowOrDropped) {
  AdaptiveConcurrency a(Aimd());
  EXPECT_EQ(a.limit(), 10);
  a.OnSample(Milliseconds(100), false, 4);  // 4 * 2 < 10: not busy, no growth
  EXPECT_EQ(a.limit(), 10);
  a.OnSample(Milliseconds(100), false, 5);  // busy: +1
  EXPECT_EQ(a.limit(), 11);
  a.OnSample(Milliseconds(501), false, 5);  // slower than the threshold: x0.5
  EXPECT_DOUBLE_EQ(a.estimated_limit(), 5.5);
  EXPECT_EQ(a.limit(), 5);
  a.OnSample(Milliseconds(10), true, 5);  // dropped: x0.5, floored at min 2
  EXPECT_DOUBLE_EQ(a.estimated_limit(), 2.75);
  a.OnSample(Milliseconds(10), true, 5);
  EXPECT_EQ(a.limit(), 2);
  for (int i = 0; i < 20; ++i) a.OnSample(Milliseconds(10), false, 12);
  EXPECT_EQ(a.limit(), 12);  // capped at max
}

AdaptiveConcurrencyConfig Gradient2() {
  AdaptiveConcurrencyConfig c;
  c.enabled = true;
  c.algorithm = ConcurrencyAlgorithm::kGradient2;
  c.initial_limit = 20;
  c.min_limit = 1;
  c.max_limit = 100;
  c.smoothing = 0.5;
  c.rtt_tolerance = 1.0;
  c.long_window = 10;
  c.queue_size = 4;
  return c;
}

TEST(AdaptiveConcurrencyTest, Gradient2HoldsAtSteadyLatencyAndShrinksWhenItRises) {
  AdaptiveConcurrency a(Gradient2());
  // Steady 100 ms: gradient 1, so limit -> 0.5 * L + 0.5 * (L + 4) = L + 2.
  a.OnSample(Milliseconds(100), false, 20);
  EXPECT_DOUBLE_EQ(a.estimated_limit(), 22.0);
  a.OnSample(Milliseconds(100), false, 20);
  EXPECT_DOUBLE_EQ(a.estimated_limit(), 24.0);
  // Latency doubles: long (the average of 100,100,200 = 133.3 ms) / 200 ms
  // = 0.667: limit -> 0.5 * 24 + 0.5 * (24 * 0.667 + 4) = 22.
  a.OnSample(Milliseconds(200), false, 20);
  EXPECT_NEAR(a.estimated_limit(), 12.0 + 0.5 * (24.0 * (400.0 / 3.0) / 200.0 + 4.0), 1e-9);
  EXPECT_EQ(a.limit(), 22);
  // Much slower: the gradient floors at 0.5: limit -> 0.75 * L + 2.
  const double before = a.estimated_limit();
  a.OnSample(Seconds(10), false, 100);
  EXPECT_NEAR(a.estimated_limit(), 0.75 * before + 2.0, 1e-9);
  // A latency that stays high becomes the new normal: the long average
  // follows it and the limit grows again (Gradient2 tracks the baseline).
  for (int i = 0; i < 30; ++i) a.OnSample(Seconds(10), false, 100);
  EXPECT_GT(a.estimated_limit(), 0.75 * before + 2.0);
}

TEST(AdaptiveConcurrencyTest, Gradient2DoesNotChangeWhileTheClientIsTheLimit) {
  AdaptiveConcurrency a(Gradient2());
  a.OnSample(Milliseconds(100), false, 9);  // 9 < 20 / 2: app-limited
  EXPECT_DOUBLE_EQ(a.estimated_limit(), 20.0);
}

TEST(AdaptiveConcurrencyTest, DisabledKeepsTheInitialLimitAndValidateNamesTheField) {
  AdaptiveConcurrencyConfig c = Aimd();
  c.enabled = false;
  AdaptiveConcurrency a(c);
  a.OnSample(Seconds(10), true, 100);
  EXPECT_EQ(a.limit(), 10);
  c = Aimd();
  c.initial_limit = 20;
  EXPECT_EQ(c.validate().message(),
            "adaptive_concurrency.initial_limit: 20 must be in min_limit..max_limit");
  c = Aimd();
  c.backoff_ratio = 1.0;
  EXPECT_EQ(c.validate().message(), "adaptive_concurrency.backoff_ratio: 1 must be in [0.5, 1)");
}

}  // namespace
}  // namespace orchsim
