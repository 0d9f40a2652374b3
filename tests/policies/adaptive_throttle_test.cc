#include "policies/adaptive_throttle.h"

#include <gtest/gtest.h>

#include "policies/request.h"

namespace orchsim {
namespace {

const Instant kT0 = Instant::FromUnixMicros(1'694'390'400'000'000);

AdaptiveThrottleConfig On(double k = 2.0) {
  AdaptiveThrottleConfig c;
  c.enabled = true;
  c.k = k;
  c.window = Seconds(10);
  c.max_reject_probability = 0.9;
  return c;
}

TEST(AdaptiveThrottleTest, AHealthyUpstreamIsNeverThrottled) {
  AdaptiveThrottle t(On());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(t.Admit(0.0, kT0));  // even the lowest draw passes
    t.RecordAnswer(200, kT0);
  }
  EXPECT_EQ(t.RejectProbability(kT0), 0.0);
  EXPECT_FALSE(t.ShouldDraw(kT0));
}

// SRE book: p = max(0, (requests - k * accepts) / (requests + 1)).
TEST(AdaptiveThrottleTest, TheRejectionProbabilityFollowsTheSreFormula) {
  AdaptiveThrottle t(On(2.0));
  for (int i = 0; i < 10; ++i) t.Admit(0.99, kT0);  // 10 requests, none rejected (u high)
  for (int i = 0; i < 3; ++i) t.RecordAnswer(200, kT0);
  t.RecordAnswer(503, kT0);  // overload: not an accept
  t.RecordAnswer(429, kT0);
  t.RecordAnswer(kStatusTransportError, kT0);  // no answer: not an accept
  // (10 - 2 * 3) / 11
  EXPECT_DOUBLE_EQ(t.RejectProbability(kT0), 4.0 / 11.0);
  EXPECT_TRUE(t.ShouldDraw(kT0));
  // The draw decides: below p rejects (and counts as a request).
  EXPECT_FALSE(t.Admit(4.0 / 11.0 - 1e-9, kT0));
  EXPECT_EQ(t.rejected(), 1u);
  EXPECT_DOUBLE_EQ(t.RejectProbability(kT0), 5.0 / 12.0);
  EXPECT_TRUE(t.Admit(5.0 / 12.0, kT0));
}

TEST(AdaptiveThrottleTest, CappedAtTheMaximumAndForgottenAfterTheWindow) {
  AdaptiveThrottle t(On());
  for (int i = 0; i < 1000; ++i) t.Admit(0.99, kT0);
  EXPECT_DOUBLE_EQ(t.RejectProbability(kT0), 0.9);
  EXPECT_TRUE(t.Admit(0.95, kT0));  // above the cap always passes
  EXPECT_DOUBLE_EQ(t.RejectProbability(kT0 + Seconds(10)), 0.0);
}

TEST(AdaptiveThrottleTest, CancelConfirmationsAreNotAnswersAndDisabledCountsNothing) {
  AdaptiveThrottle t(On(1.0));
  t.Admit(0.5, kT0);
  t.RecordAnswer(kStatusCancelled, kT0);
  EXPECT_DOUBLE_EQ(t.RejectProbability(kT0), 0.5);  // (1 - 0) / 2
  AdaptiveThrottle off(AdaptiveThrottleConfig{});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(off.Admit(0.0, kT0));
  EXPECT_EQ(off.RejectProbability(kT0), 0.0);
}

TEST(AdaptiveThrottleTest, ValidateNamesTheField) {
  AdaptiveThrottleConfig c = On();
  c.k = 0.5;
  EXPECT_EQ(c.validate().message(), "adaptive_throttling.k: 0.5 must be in 1..100");
  c = On();
  c.window = Milliseconds(1500);
  EXPECT_EQ(c.validate().message(),
            "adaptive_throttling.window: \"1s500ms\" must be whole seconds in 1s..1h");
  c = On();
  c.overload_statuses = {503, 700};
  EXPECT_EQ(c.validate().message(),
            "adaptive_throttling.overload_statuses[1]: 700 must be an HTTP status in 100..599");
}

}  // namespace
}  // namespace orchsim
