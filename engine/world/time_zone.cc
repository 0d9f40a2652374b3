#include "engine/world/time_zone.h"

#include <limits>
#include <utility>

namespace orchsim::world {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;
constexpr int kAlwaysValid = std::numeric_limits<int>::min();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`; -1 when they are not there.
int ReadDigits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return -1;
    v = v * 10 + (s[pos + i] - '0');
  }
  return v;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

struct NamedZone {
  std::string_view name;
  int standard_offset_minutes;
  int rule;  // 0 none, 1 US, 2 EU
};

constexpr NamedZone kNamedZones[] = {
    {"UTC", 0, 0},
    {"America/New_York", -5 * 60, 1},
    {"America/Chicago", -6 * 60, 1},
    {"America/Denver", -7 * 60, 1},
    {"America/Phoenix", -7 * 60, 0},
    {"America/Los_Angeles", -8 * 60, 1},
    {"Europe/London", 0, 2},
    {"Europe/Berlin", 60, 2},
};

// The day number of the n-th (1-based) Sunday of a month.
int64_t NthSunday(int year, int month, int n) {
  const CivilDate first{year, month, 1};
  const int offset = (7 - Weekday(first)) % 7;
  return DaysSinceEpoch(first) + offset + 7 * (n - 1);
}

int64_t LastSunday(int year, int month) {
  const CivilDate last{year, month, DaysInMonth(year, month)};
  return DaysSinceEpoch(last) - Weekday(last);
}

Instant AtDay(int64_t days, Duration time_of_day) {
  return Instant::FromUnixMicros(days * kMicrosPerDay) + time_of_day;
}

}  // namespace

ParseResult<CivilDate> ParseCivilDate(std::string_view text) {
  const auto error = [&] {
    return ParseResult<CivilDate>::Error("expected YYYY-MM-DD, got '" + std::string(text) + "'");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return error();
  const int year = ReadDigits(text, 0, 4);
  const int month = ReadDigits(text, 5, 2);
  const int day = ReadDigits(text, 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return error();
  if (day > DaysInMonth(year, month)) return error();
  return CivilDate{year, month, day};
}

std::string FormatCivilDate(const CivilDate& date) {
  char buffer[16];
  buffer[0] = static_cast<char>('0' + (date.year / 1000) % 10);
  buffer[1] = static_cast<char>('0' + (date.year / 100) % 10);
  buffer[2] = static_cast<char>('0' + (date.year / 10) % 10);
  buffer[3] = static_cast<char>('0' + date.year % 10);
  buffer[4] = '-';
  buffer[5] = static_cast<char>('0' + date.month / 10);
  buffer[6] = static_cast<char>('0' + date.month % 10);
  buffer[7] = '-';
  buffer[8] = static_cast<char>('0' + date.day / 10);
  buffer[9] = static_cast<char>('0' + date.day % 10);
  return std::string(buffer, 10);
}

int64_t DaysSinceEpoch(const CivilDate& date) {
  return DaysFromCivil(date.year, static_cast<unsigned>(date.month),
                       static_cast<unsigned>(date.day));
}

CivilDate CivilDateFromDays(int64_t days) {
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(days, &y, &m, &d);
  return CivilDate{static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

int Weekday(const CivilDate& date) {
  // 1970-01-01 was a Thursday (4).
  const int64_t w = (DaysSinceEpoch(date) + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

ParseResult<Duration> ParseTimeOfDay(std::string_view text) {
  const int hours = text.size() == 5 && text[2] == ':' ? ReadDigits(text, 0, 2) : -1;
  const int minutes = hours >= 0 ? ReadDigits(text, 3, 2) : -1;
  if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) {
    return ParseResult<Duration>::Error("expected HH:MM, got '" + std::string(text) + "'");
  }
  return Hours(hours) + Minutes(minutes);
}

ParseResult<TimeZone> TimeZone::Find(std::string_view name) {
  for (const NamedZone& zone : kNamedZones) {
    if (zone.name != name) continue;
    const Rule rule = zone.rule == 1   ? Rule::kUnitedStates
                      : zone.rule == 2 ? Rule::kEuropeanUnion
                                       : Rule::kNone;
    const int first_year = rule == Rule::kUnitedStates    ? 2007
                           : rule == Rule::kEuropeanUnion ? 1996
                                                          : kAlwaysValid;
    return TimeZone(std::string(name), Minutes(zone.standard_offset_minutes), rule, first_year);
  }
  if (name.size() == 6 && (name[0] == '+' || name[0] == '-') && name[3] == ':') {
    const int hours = ReadDigits(name, 1, 2);
    const int minutes = ReadDigits(name, 4, 2);
    if (hours >= 0 && hours <= 23 && minutes >= 0 && minutes <= 59) {
      const Duration offset = Hours(hours) + Minutes(minutes);
      return TimeZone(std::string(name), name[0] == '-' ? -offset : offset, Rule::kNone,
                      kAlwaysValid);
    }
  }
  return ParseResult<TimeZone>::Error("unknown time zone \"" + std::string(name) +
                                      "\"; supported: " + SupportedTimeZonesText());
}

TimeZone TimeZone::Utc() { return TimeZone("UTC", Duration::Zero(), Rule::kNone, kAlwaysValid); }

bool TimeZone::IsDaylightTimeAt(Instant t) const {
  if (rule_ == Rule::kNone) return false;
  // DST never spans New Year in the supported (northern) zones, so the UTC
  // year of `t` selects the right pair of transitions.
  const int year = CivilDateFromDays(FloorDiv(t.unix_micros(), kMicrosPerDay)).year;
  Instant start;
  Instant end;
  if (rule_ == Rule::kUnitedStates) {
    // 02:00 local standard time; ends 02:00 local daylight time.
    start = AtDay(NthSunday(year, 3, 2), Hours(2) - standard_offset_);
    end = AtDay(NthSunday(year, 11, 1), Hours(2) - (standard_offset_ + Hours(1)));
  } else {
    start = AtDay(LastSunday(year, 3), Hours(1));
    end = AtDay(LastSunday(year, 10), Hours(1));
  }
  return start <= t && t < end;
}

Duration TimeZone::UtcOffsetAt(Instant t) const {
  return IsDaylightTimeAt(t) ? standard_offset_ + Hours(1) : standard_offset_;
}

LocalTimeKind TimeZone::Classify(const CivilDate& date, Duration time_of_day) const {
  if (rule_ == Rule::kNone) return LocalTimeKind::kUnique;
  const Instant wall = AtDay(DaysSinceEpoch(date), time_of_day);
  const bool standard_fits = !IsDaylightTimeAt(wall - standard_offset_);
  const bool daylight_fits = IsDaylightTimeAt(wall - (standard_offset_ + Hours(1)));
  if (standard_fits && daylight_fits) return LocalTimeKind::kRepeated;
  if (!standard_fits && !daylight_fits) return LocalTimeKind::kSkipped;
  return LocalTimeKind::kUnique;
}

Instant TimeZone::ToUtc(const CivilDate& date, Duration time_of_day) const {
  // Read the wall clock as if it were UTC, then subtract the offset that applies.
  const Instant wall = AtDay(DaysSinceEpoch(date), time_of_day);
  const Instant as_standard = wall - standard_offset_;
  if (rule_ == Rule::kNone) return as_standard;
  const Instant as_daylight = wall - (standard_offset_ + Hours(1));
  switch (Classify(date, time_of_day)) {
    case LocalTimeKind::kRepeated:
      // Fall back: the earlier instant is the one still on daylight time.
      return as_daylight;
    case LocalTimeKind::kSkipped:
      // Spring forward: the offset before the transition is standard time,
      // which moves the wall clock forward by the gap.
      return as_standard;
    case LocalTimeKind::kUnique:
      break;
  }
  return IsDaylightTimeAt(as_daylight) ? as_daylight : as_standard;
}

LocalDateTime TimeZone::ToLocal(Instant t) const {
  const int64_t local = (t + UtcOffsetAt(t)).unix_micros();
  const int64_t days = FloorDiv(local, kMicrosPerDay);
  return LocalDateTime{CivilDateFromDays(days), Duration::FromMicros(local - days * kMicrosPerDay)};
}

std::string SupportedTimeZonesText() {
  std::string text;
  for (const NamedZone& zone : kNamedZones) {
    text += zone.name;
    text += ", ";
  }
  text += "or a fixed offset +HH:MM / -HH:MM";
  return text;
}

}  // namespace orchsim::world
