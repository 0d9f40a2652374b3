#include "engine/world/time_zone.h"

#include <gtest/gtest.h>

#include <string>

namespace orchsim::world {
namespace {

TimeZone Zone(const std::string& name) {
  auto zone = TimeZone::Find(name);
  EXPECT_TRUE(zone.ok()) << (zone.ok() ? "" : zone.error());
  return *zone;
}

CivilDate Date(const std::string& text) {
  auto date = ParseCivilDate(text);
  EXPECT_TRUE(date.ok()) << text;
  return *date;
}

// Local date + "HH:MM" in `zone`, formatted as a UTC instant.
std::string Utc(const std::string& zone, const std::string& date, const std::string& time) {
  auto tod = ParseTimeOfDay(time);
  EXPECT_TRUE(tod.ok()) << time;
  return FormatInstant(Zone(zone).ToUtc(Date(date), *tod));
}

Instant At(const std::string& iso) {
  auto t = ParseInstant(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return *t;
}

TEST(CivilDateTest, ParsesFormatsAndRejects) {
  EXPECT_EQ(FormatCivilDate(Date("2024-02-29")), "2024-02-29");
  EXPECT_EQ(ParseCivilDate("2023-02-29").error(), "expected YYYY-MM-DD, got '2023-02-29'");
  EXPECT_FALSE(ParseCivilDate("2023-9-07").ok());
  EXPECT_FALSE(ParseCivilDate("2023-13-01").ok());
  EXPECT_FALSE(ParseCivilDate("2023-09-07 ").ok());
  EXPECT_EQ(DaysSinceEpoch(Date("1970-01-01")), 0);
  EXPECT_EQ(CivilDateFromDays(DaysSinceEpoch(Date("2023-09-07"))), Date("2023-09-07"));
  EXPECT_EQ(Weekday(Date("2023-09-07")), 4);  // Thursday
  EXPECT_EQ(Weekday(Date("2023-11-05")), 0);  // Sunday
  EXPECT_EQ(Weekday(Date("1969-12-31")), 3);  // Wednesday, before the epoch
}

TEST(TimeOfDayTest, ParsesHoursAndMinutesOnly) {
  EXPECT_EQ(*ParseTimeOfDay("20:20"), Hours(20) + Minutes(20));
  EXPECT_EQ(*ParseTimeOfDay("00:00"), Duration::Zero());
  EXPECT_EQ(ParseTimeOfDay("25:99").error(), "expected HH:MM, got '25:99'");
  EXPECT_FALSE(ParseTimeOfDay("24:00").ok());
  EXPECT_FALSE(ParseTimeOfDay("9:30").ok());
  EXPECT_FALSE(ParseTimeOfDay("09:30:00").ok());
}

TEST(TimeZoneTest, UsEasternSummerAndWinter) {
  EXPECT_EQ(Utc("America/New_York", "2023-09-07", "20:20"), "2023-09-08T00:20:00Z");
  EXPECT_EQ(Utc("America/New_York", "2023-11-12", "13:00"), "2023-11-12T18:00:00Z");
  EXPECT_EQ(Utc("America/New_York", "2023-10-29", "13:00"), "2023-10-29T17:00:00Z");
  EXPECT_EQ(Utc("America/New_York", "2024-01-01", "00:00"), "2024-01-01T05:00:00Z");
}

TEST(TimeZoneTest, UsTransitionInstants2023) {
  const TimeZone ny = Zone("America/New_York");
  // Spring forward at 2023-03-12 02:00 EST = 07:00Z.
  EXPECT_FALSE(ny.IsDaylightTimeAt(At("2023-03-12T06:59:59Z")));
  EXPECT_TRUE(ny.IsDaylightTimeAt(At("2023-03-12T07:00:00Z")));
  // Fall back at 2023-11-05 02:00 EDT = 06:00Z.
  EXPECT_TRUE(ny.IsDaylightTimeAt(At("2023-11-05T05:59:59Z")));
  EXPECT_FALSE(ny.IsDaylightTimeAt(At("2023-11-05T06:00:00Z")));
  EXPECT_EQ(ny.UtcOffsetAt(At("2023-07-01T00:00:00Z")), -Hours(4));
  EXPECT_EQ(ny.UtcOffsetAt(At("2023-12-01T00:00:00Z")), -Hours(5));
  // Los Angeles switches at 02:00 local too, three hours later in UTC (2024).
  const TimeZone la = Zone("America/Los_Angeles");
  EXPECT_FALSE(la.IsDaylightTimeAt(At("2024-03-10T09:59:59Z")));
  EXPECT_TRUE(la.IsDaylightTimeAt(At("2024-03-10T10:00:00Z")));
  EXPECT_TRUE(la.IsDaylightTimeAt(At("2024-11-03T08:59:59Z")));
  EXPECT_FALSE(la.IsDaylightTimeAt(At("2024-11-03T09:00:00Z")));
}

TEST(TimeZoneTest, OtherUsZones) {
  EXPECT_EQ(Utc("America/Chicago", "2023-11-12", "12:00"), "2023-11-12T18:00:00Z");
  EXPECT_EQ(Utc("America/Chicago", "2023-09-10", "12:00"), "2023-09-10T17:00:00Z");
  EXPECT_EQ(Utc("America/Denver", "2023-07-04", "18:00"), "2023-07-05T00:00:00Z");
  EXPECT_EQ(Utc("America/Denver", "2023-12-04", "18:00"), "2023-12-05T01:00:00Z");
  // Arizona keeps MST all year.
  EXPECT_EQ(Utc("America/Phoenix", "2023-07-01", "12:00"), "2023-07-01T19:00:00Z");
  EXPECT_EQ(Utc("America/Phoenix", "2023-12-01", "12:00"), "2023-12-01T19:00:00Z");
  EXPECT_EQ(Utc("America/Los_Angeles", "2023-09-10", "13:05"), "2023-09-10T20:05:00Z");
}

TEST(TimeZoneTest, EuropeanRules) {
  const TimeZone london = Zone("Europe/London");
  // 2023: last Sunday of March is the 26th, of October the 29th; both at 01:00Z.
  EXPECT_FALSE(london.IsDaylightTimeAt(At("2023-03-26T00:59:59Z")));
  EXPECT_TRUE(london.IsDaylightTimeAt(At("2023-03-26T01:00:00Z")));
  EXPECT_TRUE(london.IsDaylightTimeAt(At("2023-10-29T00:59:59Z")));
  EXPECT_FALSE(london.IsDaylightTimeAt(At("2023-10-29T01:00:00Z")));
  EXPECT_EQ(Utc("Europe/London", "2023-10-01", "14:30"), "2023-10-01T13:30:00Z");
  EXPECT_EQ(Utc("Europe/London", "2023-12-01", "14:30"), "2023-12-01T14:30:00Z");
  EXPECT_EQ(Utc("Europe/Berlin", "2023-11-05", "15:30"), "2023-11-05T14:30:00Z");
  EXPECT_EQ(Utc("Europe/Berlin", "2023-07-01", "12:00"), "2023-07-01T10:00:00Z");
  // Berlin switches at the same instant as London (01:00Z), 03:00 local.
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_TRUE(berlin.IsDaylightTimeAt(At("2024-03-31T01:00:00Z")));
  EXPECT_FALSE(berlin.IsDaylightTimeAt(At("2024-03-31T00:59:59Z")));
}

TEST(TimeZoneTest, NonexistentLocalTimeShiftsForward) {
  const TimeZone ny = Zone("America/New_York");
  EXPECT_EQ(ny.Classify(Date("2023-03-12"), Hours(2) + Minutes(30)), LocalTimeKind::kSkipped);
  EXPECT_EQ(ny.Classify(Date("2023-03-12"), Hours(2)), LocalTimeKind::kSkipped);
  EXPECT_EQ(ny.Classify(Date("2023-03-12"), Hours(3)), LocalTimeKind::kUnique);
  EXPECT_EQ(ny.Classify(Date("2023-03-12"), Hours(1) + Minutes(59)), LocalTimeKind::kUnique);
  // 02:30 does not exist; it reads as 03:30 EDT.
  EXPECT_EQ(Utc("America/New_York", "2023-03-12", "02:30"), "2023-03-12T07:30:00Z");
  EXPECT_EQ(Utc("America/New_York", "2023-03-12", "03:30"), "2023-03-12T07:30:00Z");
  EXPECT_EQ(Utc("America/New_York", "2023-03-12", "01:59"), "2023-03-12T06:59:00Z");
  const LocalDateTime local = ny.ToLocal(At("2023-03-12T07:30:00Z"));
  EXPECT_EQ(local.time_of_day, Hours(3) + Minutes(30));
  // London's gap is 01:00-02:00 local.
  EXPECT_EQ(Utc("Europe/London", "2023-03-26", "01:30"), "2023-03-26T01:30:00Z");
  EXPECT_EQ(Utc("Europe/Berlin", "2023-03-26", "02:30"), "2023-03-26T01:30:00Z");
}

TEST(TimeZoneTest, AmbiguousLocalTimeTakesEarlierInstant) {
  const TimeZone ny = Zone("America/New_York");
  EXPECT_EQ(ny.Classify(Date("2023-11-05"), Hours(1) + Minutes(30)), LocalTimeKind::kRepeated);
  EXPECT_EQ(ny.Classify(Date("2023-11-05"), Hours(1)), LocalTimeKind::kRepeated);
  EXPECT_EQ(ny.Classify(Date("2023-11-05"), Hours(2)), LocalTimeKind::kUnique);
  EXPECT_EQ(ny.Classify(Date("2023-11-05"), Minutes(59)), LocalTimeKind::kUnique);
  // 01:30 happens at 05:30Z (EDT) and 06:30Z (EST); the earlier one wins.
  EXPECT_EQ(Utc("America/New_York", "2023-11-05", "01:30"), "2023-11-05T05:30:00Z");
  EXPECT_EQ(Utc("America/New_York", "2023-11-05", "02:00"), "2023-11-05T07:00:00Z");
  EXPECT_EQ(Utc("Europe/London", "2023-10-29", "01:30"), "2023-10-29T00:30:00Z");
}

TEST(TimeZoneTest, LocalRoundTripEveryHalfHourOverYears) {
  // ToUtc(ToLocal(t)) == t for every instant, except the second pass through
  // a repeated hour, which resolves to the earlier instant one hour before.
  for (const char* name : {"America/New_York", "America/Los_Angeles", "America/Phoenix",
                           "Europe/London", "Europe/Berlin", "+05:30", "UTC"}) {
    const TimeZone zone = Zone(name);
    int repeated_second_pass = 0;
    for (Instant t = At("2020-01-01T00:00:00Z"); t < At("2031-01-01T00:00:00Z"); t += Minutes(30)) {
      const LocalDateTime local = zone.ToLocal(t);
      ASSERT_GE(local.time_of_day, Duration::Zero());
      ASSERT_LT(local.time_of_day, Hours(24));
      ASSERT_NE(zone.Classify(local.date, local.time_of_day), LocalTimeKind::kSkipped);
      const Instant back = zone.ToUtc(local.date, local.time_of_day);
      if (back != t) {
        ASSERT_EQ(zone.Classify(local.date, local.time_of_day), LocalTimeKind::kRepeated);
        ASSERT_EQ(back, t - Hours(1)) << name << " " << FormatInstant(t);
        ++repeated_second_pass;
      }
    }
    const bool has_dst =
        std::string(name).find('/') != std::string::npos && std::string(name) != "America/Phoenix";
    // 11 years x one repeated hour x 2 half hours.
    EXPECT_EQ(repeated_second_pass, has_dst ? 22 : 0) << name;
  }
}

TEST(TimeZoneTest, FixedOffsets) {
  EXPECT_EQ(Utc("+05:30", "2023-01-01", "00:00"), "2022-12-31T18:30:00Z");
  EXPECT_EQ(Utc("-03:00", "2023-07-01", "21:00"), "2023-07-02T00:00:00Z");
  EXPECT_EQ(Utc("+00:00", "2023-07-01", "21:00"), "2023-07-01T21:00:00Z");
  EXPECT_EQ(Utc("UTC", "2023-07-01", "21:00"), "2023-07-01T21:00:00Z");
  EXPECT_EQ(Zone("-03:00").name(), "-03:00");
  EXPECT_FALSE(TimeZone::Find("+5:30").ok());
  EXPECT_FALSE(TimeZone::Find("+24:00").ok());
  EXPECT_FALSE(TimeZone::Find("+05:60").ok());
}

TEST(TimeZoneTest, RuleYears) {
  EXPECT_EQ(Zone("America/Denver").first_rule_year(), 2007);
  EXPECT_EQ(Zone("Europe/Berlin").first_rule_year(), 1996);
  EXPECT_LT(Zone("America/Phoenix").first_rule_year(), 1);
  EXPECT_LT(Zone("+01:00").first_rule_year(), 1);
}

TEST(TimeZoneTest, UnknownZoneListsSupportedZones) {
  auto zone = TimeZone::Find("US/Eastern");
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.error(),
            "unknown time zone \"US/Eastern\"; supported: UTC, America/New_York, "
            "America/Chicago, America/Denver, America/Phoenix, America/Los_Angeles, "
            "Europe/London, Europe/Berlin, or a fixed offset +HH:MM / -HH:MM");
  EXPECT_FALSE(TimeZone::Find("america/new_york").ok());
  EXPECT_FALSE(TimeZone::Find("").ok());
}

}  // namespace
}  // namespace orchsim::world
