#include "policies/quota_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace orchsim {
namespace {

const Instant kNow = *ParseInstant("2023-09-11T00:00:00Z");  // 1694390400 s
const Duration kHorizon = Days(400);

QuotaHeaders Parse(Headers headers, Instant now = kNow) {
  return ParseQuotaHeaders(headers, now, kHorizon);
}

TEST(ParseMilliCreditsTest, WholeAndFractionalCreditsAreExactThousandths) {
  EXPECT_EQ(ParseMilliCredits("12", false), 12000);
  EXPECT_EQ(ParseMilliCredits(" 12.5 ", false), 12500);
  EXPECT_EQ(ParseMilliCredits("1.9", false), 1900);
  EXPECT_EQ(ParseMilliCredits("0.001", false), 1);
  EXPECT_EQ(ParseMilliCredits("0", false), 0);
}

TEST(ParseMilliCreditsTest, PastTheThousandthRoundsAsAsked) {
  EXPECT_EQ(ParseMilliCredits("1.2345", false), 1234);
  EXPECT_EQ(ParseMilliCredits("1.2345", true), 1235);
  EXPECT_EQ(ParseMilliCredits("1.2340000", true), 1234);  // zeros are not a remainder
  EXPECT_EQ(ParseMilliCredits("0.0001", true), 1);
  EXPECT_EQ(ParseMilliCredits("0.0001", false), 0);
}

TEST(ParseMilliCreditsTest, MalformedNegativeAndHugeAreRefused) {
  for (const char* bad : {"", "-1", "1.", ".5", "1e3", "0x10", "12a", "1.2.3", "9223372036854775",
                          "99999999999999999999"}) {
    EXPECT_FALSE(ParseMilliCredits(bad, false).has_value()) << '"' << bad << '"';
  }
  EXPECT_EQ(ParseMilliCredits("9223372036854774", false), 9223372036854774000);
}

TEST(ToMilliCreditsTest, RoundsToTheNearestThousandthAndClamps) {
  EXPECT_EQ(ToMilliCredits(1.9), 1900);
  EXPECT_EQ(ToMilliCredits(0.0004), 0);
  EXPECT_EQ(ToMilliCredits(0.0005), 1);
  EXPECT_EQ(ToMilliCredits(-3), 0);
  EXPECT_EQ(ToMilliCredits(std::numeric_limits<double>::quiet_NaN()), 0);
  EXPECT_EQ(ToMilliCredits(1e300), static_cast<int64_t>(kMaxCredits) * kMilliPerCredit);
  EXPECT_EQ(FromMilliCredits(1900), 1.9);
}

TEST(ParseQuotaHeadersTest, OddsApiDerivesTheLimitFromRemainingPlusUsed) {
  const QuotaHeaders q = Parse(
      {{"x-requests-remaining", "470.5"}, {"x-requests-used", "29.5"}, {"x-requests-last", "6"}});
  EXPECT_EQ(q.remaining, 470500);
  EXPECT_EQ(q.used, 29500);
  EXPECT_EQ(q.limit, 500000);
  EXPECT_EQ(q.last, 6000);
  EXPECT_FALSE(q.reset_at.has_value());
  EXPECT_EQ(q.bad_values, 0);
  EXPECT_TRUE(q.any());
}

TEST(ParseQuotaHeadersTest, ResetsAreWallInstantsFromTheResponsesWallTime) {
  // GitHub: epoch seconds, absolute.
  QuotaHeaders q = Parse({{"X-RateLimit-Reset", "1694390460"}});
  EXPECT_EQ(q.reset_at, kNow + Seconds(60));
  // IETF: seconds from now, relative to the wall time passed in.
  q = Parse({{"RateLimit", "\"default\";r=5;t=30"}}, kNow + Hours(1));
  EXPECT_EQ(q.reset_at, kNow + Hours(1) + Seconds(30));
  EXPECT_EQ(q.remaining, 5000);
  // Retry-After: seconds, or an HTTP-date; a date in the past asks no wait.
  EXPECT_EQ(Parse({{"Retry-After", "120"}}).retry_after, kNow + Minutes(2));
  EXPECT_EQ(Parse({{"Retry-After", "Mon, 11 Sep 2023 00:02:30 GMT"}}).retry_after,
            kNow + Seconds(150));
  q = Parse({{"Retry-After", "Sun, 10 Sep 2023 00:00:00 GMT"}});
  EXPECT_FALSE(q.retry_after.has_value());
  EXPECT_EQ(q.bad_values, 0);
}

TEST(ParseQuotaHeadersTest, ContradictionsAndBadValuesAreDroppedAndCounted) {
  QuotaHeaders q = Parse({{"x-ratelimit-limit", "10"},
                          {"x-ratelimit-remaining", "11"},
                          {"x-ratelimit-used", "12"},
                          {"x-ratelimit-reset", "1694390399"}});  // 1 s in the past
  EXPECT_EQ(q.remaining, 10000);                                  // clamped to the limit
  EXPECT_FALSE(q.used.has_value());
  EXPECT_FALSE(q.reset_at.has_value());
  EXPECT_EQ(q.bad_values, 3);
  q = Parse({{"Retry-After", "soon"}, {"x-requests-remaining", "-4"}});
  EXPECT_EQ(q.bad_values, 2);
  EXPECT_FALSE(q.any());
  EXPECT_FALSE(Parse({{"content-type", "application/json"}}).any());
}

}  // namespace
}  // namespace orchsim
