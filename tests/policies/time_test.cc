#include "policies/time.h"

#include <gtest/gtest.h>

#include <limits>
#include <utility>

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

// Issue 19, defect 4: a duration near the int64 range added to an instant
// wrapped into the past (UBSan: signed overflow in time.h), which switched a
// rate limit off. Arithmetic now saturates, and never yields INT64_MIN.
TEST(DurationTest, ArithmeticSaturatesInsteadOfOverflowing) {
  const Duration big = Duration::FromMicros(std::numeric_limits<int64_t>::max() - 5);
  EXPECT_TRUE((big + Seconds(1)).is_infinite());
  EXPECT_TRUE((Duration::Infinite() + Duration::Infinite()).is_infinite());
  EXPECT_EQ((-big - Seconds(1)), -Duration::Infinite());
  EXPECT_EQ(-(-Duration::Infinite()), Duration::Infinite());
  EXPECT_TRUE((Days(1) * std::numeric_limits<int64_t>::max()).is_infinite());
  EXPECT_EQ(Days(1) * std::numeric_limits<int64_t>::min(), -Duration::Infinite());
  EXPECT_EQ(Duration::FromMicros(std::numeric_limits<int64_t>::min()) / -1, Duration::Infinite());
  EXPECT_TRUE(Days(std::numeric_limits<int64_t>::max() / 2).is_infinite());
  EXPECT_EQ(Seconds(-std::numeric_limits<int64_t>::max()), -Duration::Infinite());
  Duration d = Duration::Infinite();
  d += Seconds(1);
  EXPECT_TRUE(d.is_infinite());
  d -= Duration::Infinite();
  EXPECT_EQ(d, Duration::Zero());
  // Unaffected where nothing overflows.
  EXPECT_EQ((Seconds(5) - Seconds(7)).micros(), -2000000);
  EXPECT_EQ((Seconds(-7) / 2).micros(), -3500000);
}

TEST(InstantTest, ArithmeticSaturatesAtMinAndMax) {
  const Instant t = *ParseInstant("2023-09-10T17:00:00Z");
  EXPECT_EQ(t + Duration::Infinite(), Instant::Max());
  EXPECT_EQ(t + Duration::FromMicros(std::numeric_limits<int64_t>::max() - 1), Instant::Max());
  EXPECT_EQ(Instant::FromUnixMicros(-10) - Duration::Infinite(), Instant::Min());
  EXPECT_EQ(Instant::Max() + Seconds(1), Instant::Max());
  EXPECT_EQ(Instant::Min() - Seconds(1), Instant::Min());
  EXPECT_TRUE((Instant::Max() - Instant::Min()).is_infinite());
  EXPECT_EQ(Instant::Min() - Instant::Max(), -Duration::Infinite());
  Instant u = t;
  u += Duration::Infinite();
  EXPECT_EQ(u, Instant::Max());
  // A window that saturates stays in the future: "start + window > now" holds.
  EXPECT_GT(t + Duration::FromMicros(std::numeric_limits<int64_t>::max() / 2) +
                Duration::FromMicros(std::numeric_limits<int64_t>::max() / 2),
            t);
}

TEST(DurationTest, ParsedDurationsAreAtMostOneHundredYears) {
  EXPECT_EQ(kMaxDuration, Days(36500));
  EXPECT_EQ(*ParseDuration("36500d"), kMaxDuration);
  EXPECT_EQ(*ParseDuration("-36500d"), -kMaxDuration);
  EXPECT_EQ(*ParseDuration("36499d23h59m59s999ms999us"), kMaxDuration - Microseconds(1));
  for (const char* too_long :
       {"36500d1us", "36501d", "-36501d", "876001h", "36499d25h", "9223372036854s", "106751991d"}) {
    const auto r = ParseDuration(too_long);
    ASSERT_FALSE(r.ok()) << too_long;
    EXPECT_NE(r.error().find(too_long), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("\": longer than the longest duration allowed, 36500d (100 years)"),
              std::string::npos)
        << r.error();
  }
}

TEST(DurationTest, FractionsAreRejectedWithWhatToWriteInstead) {
  const std::pair<const char*, const char*> cases[] = {
      {"1.5s", "\"1.5s\": fractions are not supported in a duration: write 1500ms for 1.5s"},
      {"1.5h", "\"1.5h\": fractions are not supported in a duration: write 90m for 1.5h"},
      {"0.25d", "\"0.25d\": fractions are not supported in a duration: write 6h for 0.25d"},
      {"2.5ms", "\"2.5ms\": fractions are not supported in a duration: write 2500us for 2.5ms"},
      {"1h0.5m", "\"1h0.5m\": fractions are not supported in a duration: write 30s for 0.5m"},
      {"-0.001s", "\"-0.001s\": fractions are not supported in a duration: write 1ms for 0.001s"},
      {"1.5us",
       "\"1.5us\": fractions are not supported in a duration (1.5us is not a whole number of "
       "microseconds)"},
      {"1.5",
       "\"1.5\": fractions are not supported in a duration; use a smaller unit "
       "(\"1500ms\", not \"1.5s\")"},
      {"1.s",
       "\"1.s\": fractions are not supported in a duration; use a smaller unit "
       "(\"1500ms\", not \"1.5s\")"},
      {"0.0000000001d",
       "\"0.0000000001d\": fractions are not supported in a duration; use a "
       "smaller unit (\"1500ms\", not \"1.5s\")"},
  };
  for (const auto& [text, message] : cases) {
    const auto r = ParseDuration(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error(), message);
  }
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
