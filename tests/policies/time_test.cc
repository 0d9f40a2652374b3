#include "policies/time.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

TEST(DurationTest, FactoriesAreExactMicroseconds) {
  EXPECT_EQ(Milliseconds(250).micros(), 250000);
  EXPECT_EQ(Minutes(15).micros(), 900000000);
  EXPECT_EQ(Days(3).micros(), 259200000000);
  EXPECT_EQ((Hours(1) + Minutes(30)).micros(), 5400000000);
  EXPECT_EQ(Seconds(10) / Seconds(3), 3);
}

TEST(DurationTest, ParsesEveryUnitAndCombinations) {
  EXPECT_EQ(*ParseDuration("250ms"), Milliseconds(250));
  EXPECT_EQ(*ParseDuration("90s"), Seconds(90));
  EXPECT_EQ(*ParseDuration("15m"), Minutes(15));
  EXPECT_EQ(*ParseDuration("2h"), Hours(2));
  EXPECT_EQ(*ParseDuration("3d"), Days(3));
  EXPECT_EQ(*ParseDuration("7us"), Microseconds(7));
  EXPECT_EQ(*ParseDuration("1h30m"), Minutes(90));
  EXPECT_EQ(*ParseDuration("1m500ms"), Milliseconds(60500));
  EXPECT_EQ(*ParseDuration("0s"), Duration::Zero());
  EXPECT_EQ(*ParseDuration("-5s"), Seconds(-5));
}

TEST(DurationTest, RejectsBadStringsWithAMessage) {
  for (const char* bad : {"", "5", "5x", "ms", "1h30", "-", "1.5s", " 5s", "5s ", "5 s", "h1",
                          "99999999999999999999s"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().find("duration"), std::string::npos) << r.error();
    }
  }
  EXPECT_NE(ParseDuration("5").error().find("missing unit"), std::string::npos);
}

TEST(DurationTest, FormatsCanonicallyAndRoundTrips) {
  EXPECT_EQ(FormatDuration(Minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(Milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration::Zero()), "0s");
  EXPECT_EQ(FormatDuration(Seconds(-5)), "-5s");
  EXPECT_EQ(FormatDuration(Days(3) + Microseconds(1)), "3d1us");
  for (int64_t us : {1LL, 999LL, 1000001LL, 86400000000LL + 61000000LL, 123456789012LL}) {
    const Duration d = Microseconds(us);
    EXPECT_EQ(*ParseDuration(FormatDuration(d)), d) << us;
  }
}

TEST(InstantTest, ParsesUtcAndOffsets) {
  EXPECT_EQ(ParseInstant("1970-01-01T00:00:00Z")->unix_micros(), 0);
  EXPECT_EQ(ParseInstant("2023-09-10T17:00:00Z")->unix_micros(), 1694365200000000);
  // 13:00 EDT (-04:00) is 17:00 UTC.
  EXPECT_EQ(*ParseInstant("2023-09-10T13:00:00-04:00"), *ParseInstant("2023-09-10T17:00:00Z"));
  EXPECT_EQ(*ParseInstant("2023-09-10T22:30:00+05:30"), *ParseInstant("2023-09-10T17:00:00Z"));
  EXPECT_EQ(ParseInstant("2024-02-29")->unix_micros(), 1709164800000000);
  EXPECT_EQ(ParseInstant("2023-09-10T17:00:00.25Z")->unix_micros(), 1694365200250000);
}

TEST(InstantTest, RejectsBadStrings) {
  for (const char* bad :
       {"", "2023-09-10T17:00:00", "2023-13-01", "2023-02-29", "2023-09-10T24:00:00Z",
        "2023-09-10T17:00Z", "2023/09/10", "2023-09-10T17:00:00+0400", "2023-09-10T17:00:00.Z",
        "2023-09-10T17:00:00Zjunk"}) {
    auto r = ParseInstant(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().find("ISO 8601"), std::string::npos) << r.error();
    }
  }
}

TEST(InstantTest, FormatsAndRoundTrips) {
  EXPECT_EQ(FormatInstant(Instant::Epoch()), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatInstant(*ParseInstant("2023-09-07T20:20:00-04:00")), "2023-09-08T00:20:00Z");
  EXPECT_EQ(FormatInstant(Instant::FromUnixMicros(1)), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatInstant(Instant::FromUnixMicros(-1)), "1969-12-31T23:59:59.999999Z");
  for (int64_t us : {0LL, 951782400123456LL, 4102444799000000LL, -86400000000LL}) {
    const Instant t = Instant::FromUnixMicros(us);
    EXPECT_EQ(*ParseInstant(FormatInstant(t)), t) << us;
  }
}

TEST(CivilDateTest, RoundTripsEveryDayOverFourCenturies) {
  for (int64_t days = -146097; days < 146097; days += 7) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
  }
}

}  // namespace
}  // namespace orchsim
