#include "policies/timeouts.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

const Instant kSubmit = Instant::FromUnixMicros(1694000000000000);  // 2023-09-06T11:33:20Z

TEST(TimeoutConfigTest, DefaultsAndErrors) {
  TimeoutConfig c;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.per_attempt, Seconds(10));
  EXPECT_EQ(c.overall, Seconds(60));
  EXPECT_TRUE(c.validate().ok());
  c.per_attempt = Duration::Zero();
  EXPECT_EQ(c.validate().message(), "timeouts.per_attempt: \"0s\" must be > 0");
  c = TimeoutConfig();
  c.overall = Milliseconds(-250);
  EXPECT_EQ(c.validate().message(), "timeouts.overall: \"-250ms\" must be > 0");
  c = TimeoutConfig();
  c.per_attempt = Duration::Infinite();
  c.overall = Duration::Infinite();
  EXPECT_TRUE(c.validate().ok());
}

TEST(TimeoutsTest, OverallIsSubmitPlusOverallUnlessTheRequestDeadlineIsEarlier) {
  TimeoutConfig c;
  EXPECT_EQ(OverallDeadline(c, kSubmit, Instant::Max()), kSubmit + Seconds(60));
  EXPECT_EQ(OverallDeadline(c, kSubmit, kSubmit + Seconds(61)), kSubmit + Seconds(60));
  EXPECT_EQ(OverallDeadline(c, kSubmit, kSubmit + Seconds(30)), kSubmit + Seconds(30));
}

TEST(TimeoutsTest, AttemptIsStartPlusPerAttemptBoundedByTheOverallDeadline) {
  TimeoutConfig c;
  const Instant overall = OverallDeadline(c, kSubmit, Instant::Max());
  EXPECT_EQ(AttemptDeadline(c, kSubmit, overall), kSubmit + Seconds(10));
  EXPECT_EQ(AttemptDeadline(c, kSubmit + Seconds(45), overall), kSubmit + Seconds(55));
  // A late retry is cut short by the overall deadline.
  EXPECT_EQ(AttemptDeadline(c, kSubmit + Seconds(55), overall), kSubmit + Seconds(60));
  // The request's own deadline wins when it is the earliest.
  const Instant tight = OverallDeadline(c, kSubmit, kSubmit + Milliseconds(2500));
  EXPECT_EQ(AttemptDeadline(c, kSubmit, tight), kSubmit + Milliseconds(2500));
  // An attempt starting after the deadline is already due.
  EXPECT_EQ(AttemptDeadline(c, kSubmit + Seconds(70), overall), kSubmit + Seconds(60));
}

TEST(TimeoutsTest, DisabledUsesOnlyTheRequestsOwnDeadline) {
  TimeoutConfig c;
  c.enabled = false;
  EXPECT_EQ(OverallDeadline(c, kSubmit, Instant::Max()), Instant::Max());
  EXPECT_EQ(AttemptDeadline(c, kSubmit, Instant::Max()), Instant::Max());
  EXPECT_EQ(OverallDeadline(c, kSubmit, kSubmit + Hours(2)), kSubmit + Hours(2));
  EXPECT_EQ(AttemptDeadline(c, kSubmit, kSubmit + Hours(2)), kSubmit + Hours(2));
}

TEST(TimeoutsTest, InfiniteDurationsSaturateInsteadOfOverflowing) {
  TimeoutConfig c;
  c.per_attempt = Duration::Infinite();
  c.overall = Duration::Infinite();
  EXPECT_EQ(OverallDeadline(c, kSubmit, Instant::Max()), Instant::Max());
  EXPECT_EQ(AttemptDeadline(c, kSubmit, Instant::Max()), Instant::Max());
  EXPECT_EQ(AttemptDeadline(c, kSubmit, kSubmit + Seconds(5)), kSubmit + Seconds(5));
  // Exactly reaching the maximum also saturates.
  c.overall = Instant::Max() - kSubmit;
  EXPECT_EQ(OverallDeadline(c, kSubmit, Instant::Max()), Instant::Max());
  c.overall = Instant::Max() - kSubmit - Microseconds(1);
  EXPECT_EQ(OverallDeadline(c, kSubmit, Instant::Max()), Instant::Max() - Microseconds(1));
  // Instants before the epoch add normally.
  const Instant before = Instant::FromUnixMicros(-5);
  EXPECT_EQ(OverallDeadline(c, before, Instant::Max()),
            Instant::FromUnixMicros(-5) + (Instant::Max() - kSubmit - Microseconds(1)));
  c.overall = Duration::Infinite();
  EXPECT_EQ(OverallDeadline(c, before, Instant::Max()),
            Instant::FromUnixMicros(-5) + Duration::Infinite());
}

}  // namespace
}  // namespace orchsim
