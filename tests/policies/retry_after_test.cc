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

}  // namespace
}  // namespace orchsim
