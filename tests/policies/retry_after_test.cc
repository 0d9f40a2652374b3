#include "policies/retry_after.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

const Instant kNow = Instant::FromUnixMicros(784111777000000);  // 1994-11-06T08:49:37Z

TEST(RetryAfterTest, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), kNow + Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", kNow), kNow);
}

TEST(RetryAfterTest, HttpDate) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kNow), kNow);
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:51:37 GMT"), kNow + Minutes(2));
}

TEST(RetryAfterTest, MalformedIsNullopt) {
  for (const char* bad :
       {"", "-5", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37", "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"}) {
    EXPECT_FALSE(ParseRetryAfter(bad, kNow).has_value()) << bad;
  }
}

// Issue 19 (fuzzing the core's hostile input): the largest delay an upstream
// may send, added to a clock near the end of the int64 range, overflowed
// (UBSan; a retry "allowed" in 1970). Instant arithmetic saturates.
TEST(RetryAfterTest, AHugeDelayNearTheEndOfTimeSaturates) {
  const Instant late = Instant::Max() - Seconds(1);
  EXPECT_EQ(ParseRetryAfter("999999999999", late), Instant::Max());
  EXPECT_EQ(ParseRetryAfter("999999999999", kNow), kNow + Seconds(999999999999));
  EXPECT_FALSE(ParseRetryAfter("1000000000000", kNow).has_value());  // 13 digits
}

TEST(RetryAfterTest, DatesOfEveryFourDigitYearAndALeapSecond) {
  EXPECT_EQ(ParseHttpDate("Mon, 01 Jan 0000 00:00:00 GMT"), *ParseInstant("0000-01-01T00:00:00Z"));
  EXPECT_EQ(ParseHttpDate("Fri, 31 Dec 9999 23:59:60 GMT"),
            *ParseInstant("9999-12-31T23:59:59Z") + Seconds(1));
}

}  // namespace
}  // namespace orchsim
