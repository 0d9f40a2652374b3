#include "policies/concurrency_limiter.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

ConcurrencyLimitConfig Limit(int n) {
  ConcurrencyLimitConfig c;
  c.max_in_flight = n;
  return c;
}

TEST(ConcurrencyLimitConfigTest, DefaultsAndErrors) {
  ConcurrencyLimitConfig c;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.max_in_flight, 8);
  EXPECT_TRUE(c.validate().ok());
  EXPECT_EQ(Limit(0).validate().message(), "concurrency.max_in_flight: 0 must be in 1..1000000");
  EXPECT_EQ(Limit(-3).validate().message(), "concurrency.max_in_flight: -3 must be in 1..1000000");
  EXPECT_EQ(Limit(1000001).validate().message(),
            "concurrency.max_in_flight: 1000001 must be in 1..1000000");
  EXPECT_TRUE(Limit(1).validate().ok());
}

TEST(ConcurrencyLimiterTest, RefusesAtTheLimitAndFreesOnRelease) {
  ConcurrencyLimiter limiter(Limit(2));
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_TRUE(limiter.CanAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_EQ(limiter.in_flight(), 2);
  EXPECT_FALSE(limiter.CanAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
  EXPECT_EQ(limiter.in_flight(), 2);  // a refusal changes nothing
  limiter.Release();
  EXPECT_EQ(limiter.in_flight(), 1);
  EXPECT_TRUE(limiter.CanAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_EQ(limiter.peak(), 2);
}

TEST(ConcurrencyLimiterTest, CanAcquireDoesNotConsume) {
  ConcurrencyLimiter limiter(Limit(1));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.CanAcquire());
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.CanAcquire());
}

TEST(ConcurrencyLimiterTest, PeakIsTheHighWaterMark) {
  ConcurrencyLimiter limiter(Limit(8));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.TryAcquire());
  for (int i = 0; i < 4; ++i) limiter.Release();
  ASSERT_TRUE(limiter.TryAcquire());
  EXPECT_EQ(limiter.in_flight(), 2);
  EXPECT_EQ(limiter.peak(), 5);
}

TEST(ConcurrencyLimiterTest, DisabledNeverRefusesButStillCounts) {
  ConcurrencyLimitConfig c = Limit(1);
  c.enabled = false;
  ConcurrencyLimiter limiter(c);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.CanAcquire());
  EXPECT_EQ(limiter.in_flight(), 100);
  EXPECT_EQ(limiter.peak(), 100);
  for (int i = 0; i < 100; ++i) limiter.Release();
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(ConcurrencyLimiterDeathTest, ReleaseWithoutAcquireAssertsAndNeverUnderflows) {
  ConcurrencyLimiter limiter(Limit(2));
  // Debug builds die on the assertion; release builds ignore the call.
  EXPECT_DEBUG_DEATH(limiter.Release(), "without a matching TryAcquire");
  ASSERT_TRUE(limiter.TryAcquire());
  limiter.Release();
  EXPECT_DEBUG_DEATH(limiter.Release(), "without a matching TryAcquire");
  EXPECT_EQ(limiter.in_flight(), 0);
  // The limit still holds after the bad releases: no phantom slots.
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
}

}  // namespace
}  // namespace orchsim
