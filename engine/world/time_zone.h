// time_zone.h — civil dates and named time zones: local date + time <-> UTC Instant.
//
// Schedules give kickoffs as a local calendar date and wall-clock time
// ("2023-11-12", "13:00", US Eastern); the simulator runs on UTC instants.
// This file converts between the two with built-in daylight-saving rules: no
// tzdata files, no <chrono> time zones, so results are identical on every
// machine.
//
// Supported zones (names are exact, case-sensitive):
//   UTC                   +00:00, no DST
//   America/New_York      EST -05:00 / EDT -04:00, US rules
//   America/Chicago       CST -06:00 / CDT -05:00, US rules
//   America/Denver        MST -07:00 / MDT -06:00, US rules
//   America/Phoenix       MST -07:00, no DST (Arizona)
//   America/Los_Angeles   PST -08:00 / PDT -07:00, US rules
//   Europe/London         GMT +00:00 / BST +01:00, EU rules
//   Europe/Berlin         CET +01:00 / CEST +02:00, EU rules
//   "+HH:MM" / "-HH:MM"   a fixed offset, no DST (HH 00-23, MM 00-59)
// US rules (since 2007): DST from the 2nd Sunday of March 02:00 local standard
// time to the 1st Sunday of November 02:00 local daylight time.
// EU rules (since 1996): DST from the last Sunday of March 01:00 UTC to the
// last Sunday of October 01:00 UTC.
//
// Years: the current rules are applied to every year. They are historically
// correct from first_rule_year() on (2007 for US zones, 1996 for EU zones) and
// assume the rules stay as they are in the future; callers that read real data
// (schedule.h) reject dates before first_rule_year().
//
// Local times that do not map to exactly one instant:
//   - nonexistent (kSkipped; the spring-forward gap, e.g. 02:30 on
//     2023-03-12 in New York): read with the offset in force before the
//     transition, i.e. shifted forward by the gap: 02:30 -> 03:30 EDT (07:30Z).
//   - ambiguous (kRepeated; the fall-back hour, e.g. 01:30 on 2023-11-05 in
//     New York happens twice): the earlier instant, i.e. the offset in force
//     before the transition: 01:30 EDT (05:30Z), not 01:30 EST (06:30Z).
// Both rules equal Python's fold=0 and RFC 5545's handling of DTSTART.
//
// Units: Instant/Duration are int64 microseconds; time of day is a Duration
// since local midnight.
#ifndef ORCHSIM_ENGINE_WORLD_TIME_ZONE_H_
#define ORCHSIM_ENGINE_WORLD_TIME_ZONE_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "policies/time.h"

namespace orchsim::world {

// A proleptic Gregorian calendar date.
struct CivilDate {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31

  auto operator<=>(const CivilDate&) const = default;
};

// Parses "YYYY-MM-DD" (exactly that shape, a real calendar date, year
// 0001-9999). The error says "expected YYYY-MM-DD".
ParseResult<CivilDate> ParseCivilDate(std::string_view text);
// "2023-09-07".
std::string FormatCivilDate(const CivilDate& date);
// Days since 1970-01-01 (negative before), and back.
int64_t DaysSinceEpoch(const CivilDate& date);
CivilDate CivilDateFromDays(int64_t days);
// 0 = Sunday, 1 = Monday, ..., 6 = Saturday.
int Weekday(const CivilDate& date);

// Parses a wall-clock time "HH:MM" (00:00-23:59) into a time of day. The error
// says "expected HH:MM".
ParseResult<Duration> ParseTimeOfDay(std::string_view text);

// A local date and the time since its local midnight.
struct LocalDateTime {
  CivilDate date;
  Duration time_of_day;  // [0, 24h) for results of TimeZone::ToLocal
};

// How a local date + time maps onto instants (see the header comment).
enum class LocalTimeKind { kUnique, kSkipped, kRepeated };

// A named zone: a standard offset and optionally a DST rule. A small value type.
class TimeZone {
 public:
  // The zone named `name`, or an error "unknown time zone \"X\"; supported:
  // UTC, America/New_York, ... or a fixed offset +HH:MM / -HH:MM".
  static ParseResult<TimeZone> Find(std::string_view name);
  static TimeZone Utc();

  const std::string& name() const { return name_; }
  // Offset from UTC of local time at `t` (local = UTC + offset).
  Duration UtcOffsetAt(Instant t) const;
  bool IsDaylightTimeAt(Instant t) const;
  // First year the built-in rules are historically correct for (a very small
  // number for zones without DST).
  int first_rule_year() const { return first_rule_year_; }

  LocalTimeKind Classify(const CivilDate& date, Duration time_of_day) const;
  // The instant of local `date` + `time_of_day`; skipped and repeated local
  // times resolve as documented above. `time_of_day` may exceed 24h (it is
  // added to local midnight).
  Instant ToUtc(const CivilDate& date, Duration time_of_day) const;
  // The local date and time of day at `t`.
  LocalDateTime ToLocal(Instant t) const;

 private:
  enum class Rule { kNone, kUnitedStates, kEuropeanUnion };
  TimeZone(std::string name, Duration standard_offset, Rule rule, int first_rule_year)
      : name_(std::move(name)),
        standard_offset_(standard_offset),
        rule_(rule),
        first_rule_year_(first_rule_year) {}

  std::string name_;
  Duration standard_offset_;
  Rule rule_ = Rule::kNone;
  int first_rule_year_ = 0;
};

// The supported zone names as a human-readable list, for error messages and
// documentation: "UTC, America/New_York, ..., or a fixed offset +HH:MM / -HH:MM".
std::string SupportedTimeZonesText();

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_TIME_ZONE_H_
