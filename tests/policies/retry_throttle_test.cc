#include "policies/retry_throttle.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

RetryThrottleConfig On() {
  RetryThrottleConfig c;
  c.enabled = true;
  c.max_tokens = 10;
  c.token_ratio = 0.5;
  return c;
}

// gRFC A6: failures -1, successes +token_ratio, retries only above half.
TEST(RetryThrottleTest, FailuresDrainSuccessesRefillRetriesStopAtHalf) {
  RetryThrottle t(On());
  EXPECT_EQ(t.tokens(), 10);
  for (int i = 0; i < 4; ++i) t.RecordAnswer(/*failed=*/true);
  EXPECT_EQ(t.tokens(), 6);
  EXPECT_TRUE(t.AllowRetry());
  t.RecordAnswer(true);
  EXPECT_EQ(t.tokens(), 5);
  EXPECT_FALSE(t.AllowRetry());  // not above half
  EXPECT_EQ(t.denied(), 1u);
  t.RecordAnswer(false);
  EXPECT_EQ(t.tokens(), 5.5);
  EXPECT_TRUE(t.AllowRetry());
}

TEST(RetryThrottleTest, TokensStayWithinZeroAndTheMaximum) {
  RetryThrottle t(On());
  for (int i = 0; i < 50; ++i) t.RecordAnswer(true);
  EXPECT_EQ(t.tokens(), 0);
  for (int i = 0; i < 100; ++i) t.RecordAnswer(false);
  EXPECT_EQ(t.tokens(), 10);
}

TEST(RetryThrottleTest, DisabledAlwaysAllowsAndValidateNamesTheField) {
  RetryThrottle off(RetryThrottleConfig{});
  for (int i = 0; i < 50; ++i) off.RecordAnswer(true);
  EXPECT_TRUE(off.AllowRetry());
  RetryThrottleConfig c = On();
  c.token_ratio = 11;
  EXPECT_EQ(c.validate().message(), "retry_throttling.token_ratio: 11 must be in (0, max_tokens]");
  c = On();
  c.max_tokens = 0;
  EXPECT_EQ(c.validate().message(), "retry_throttling.max_tokens: 0 must be in (0, 1000]");
}

}  // namespace
}  // namespace orchsim
