#include "policies/retry_after.h"

#include <cstdint>

namespace orchsim {
namespace {

bool ParseDigits(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Instant> ParseHttpDate(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = Trim(s);
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  int64_t day, year, hh, mm, ss;
  if (!ParseDigits(s.substr(5, 2), &day) || !ParseDigits(s.substr(12, 4), &year) ||
      !ParseDigits(s.substr(17, 2), &hh) || !ParseDigits(s.substr(20, 2), &mm) ||
      !ParseDigits(s.substr(23, 2), &ss)) {
    return std::nullopt;
  }
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  if (month == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  int64_t y2;
  unsigned m2, d2;
  const int64_t days = DaysFromCivil(year, month, static_cast<unsigned>(day));
  CivilFromDays(days, &y2, &m2, &d2);
  if (m2 != month) return std::nullopt;  // e.g. 31 Feb
  return Instant::FromUnixMicros(days * Days(1).micros()) + Hours(hh) + Minutes(mm) + Seconds(ss);
}

std::optional<Instant> ParseRetryAfter(std::string_view value, Instant now) {
  value = Trim(value);
  int64_t seconds;
  if (ParseDigits(value, &seconds)) return now + Seconds(seconds);
  return ParseHttpDate(value);
}

}  // namespace orchsim
