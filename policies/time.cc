#include "policies/time.h"

#include <cstdio>
#include <utility>

namespace orchsim {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t micros;
};

// Longest suffixes first so "ms" is not read as "m" followed by junk.
constexpr Unit kUnits[] = {{"us", 1},       {"ms", 1000},        {"s", 1000000},
                           {"m", 60000000}, {"h", 3600000000LL}, {"d", 86400000000LL}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

// Reads exactly `n` digits at `pos`; returns -1 when they are not there.
int64_t ReadFixedDigits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return -1;
    v = v * 10 + (s[pos + i] - '0');
  }
  return v;
}

// The unit at `at`, or null. Longest suffixes first: "m" must not swallow
// the "m" of "ms".
const Unit* FindUnit(std::string_view text, size_t at) {
  for (const Unit& u : kUnits) {
    if (text.substr(at, u.suffix.size()) == u.suffix) return &u;
  }
  return nullptr;
}

// For "1.5s" (the number `whole` starts at `start`, its '.' is at `dot`):
// fractions are not supported; says what to write instead when the part is
// a whole number of microseconds ("write 1500ms for 1.5s").
std::string FractionMessage(std::string_view text, size_t start, int64_t whole, size_t dot) {
  const std::string head = Quote(text) + ": fractions are not supported in a duration";
  const std::string generic = head + "; use a smaller unit (\"1500ms\", not \"1.5s\")";
  size_t end = dot + 1;
  int64_t fraction = 0;
  int64_t scale = 1;
  while (end < text.size() && IsDigit(text[end])) {
    if (scale >= 1000000000) return generic;
    fraction = fraction * 10 + (text[end] - '0');
    scale *= 10;
    ++end;
  }
  const Unit* unit = FindUnit(text, end);
  if (unit == nullptr || scale == 1) return generic;
  const std::string part(text.substr(start, end + unit->suffix.size() - start));
  // fraction * unit / scale, exactly and without overflow: reduce by the gcd.
  int64_t g = unit->micros;
  for (int64_t b = scale; b != 0;) g = std::exchange(b, g % b);
  const int64_t scale_left = scale / g;
  if (fraction % scale_left != 0) {
    return head + " (" + part + " is not a whole number of microseconds)";
  }
  int64_t us = 0;
  if (__builtin_mul_overflow(whole, unit->micros, &us) ||
      __builtin_add_overflow(us, fraction / scale_left * (unit->micros / g), &us)) {
    return generic;
  }
  for (const Unit& u : {Unit{"d", 86400000000LL}, Unit{"h", 3600000000LL}, Unit{"m", 60000000},
                        Unit{"s", 1000000}, Unit{"ms", 1000}, Unit{"us", 1}}) {
    // The largest unit below the one written that divides the value.
    if (u.micros >= unit->micros || us % u.micros != 0) continue;
    return head + ": write " + std::to_string(us / u.micros) + std::string(u.suffix) + " for " +
           part;
  }
  return generic;
}

}  // namespace

ParseResult<Duration> ParseDuration(std::string_view text) {
  const std::string expected =
      "expected a duration such as \"250ms\", \"90s\", \"15m\", \"2h\", \"3d\" or \"1h30m\"";
  if (text.empty()) return ParseResult<Duration>::Error("empty string; " + expected);
  size_t pos = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    pos = 1;
  }
  if (pos == text.size()) return ParseResult<Duration>::Error(Quote(text) + ": " + expected);
  int64_t total = 0;
  while (pos < text.size()) {
    if (!IsDigit(text[pos])) {
      return ParseResult<Duration>::Error(Quote(text) + ": unexpected '" +
                                          std::string(1, text[pos]) + "'; " + expected);
    }
    const size_t number_start = pos;
    int64_t number = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (number > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return ParseResult<Duration>::Error(Quote(text) + ": number too large for a duration");
      }
      number = number * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos < text.size() && text[pos] == '.') {
      return ParseResult<Duration>::Error(FractionMessage(text, number_start, number, pos));
    }
    const Unit* unit = FindUnit(text, pos);
    if (unit == nullptr) {
      return ParseResult<Duration>::Error(
          Quote(text) +
          (pos == text.size() ? ": missing unit (us, ms, s, m, h, d); " : ": unknown unit; ") +
          expected);
    }
    pos += unit->suffix.size();
    if (number > kMaxDuration.micros() / unit->micros ||
        total > kMaxDuration.micros() - number * unit->micros) {
      return ParseResult<Duration>::Error(Quote(text) +
                                          ": longer than the longest duration allowed, " +
                                          FormatDuration(kMaxDuration) + " (100 years)");
    }
    total += number * unit->micros;
  }
  return Duration::FromMicros(negative ? -total : total);
}

std::string FormatDuration(Duration d) {
  if (d.is_infinite()) return "inf";
  if (d.micros() <= time_internal::kMin) return "-inf";
  int64_t us = d.micros();
  if (us == 0) return "0s";
  std::string out;
  if (us < 0) {
    out = "-";
    us = -us;
  }
  // Largest units first; sub-second parts as ms/us.
  const Unit order[] = {{"d", 86400000000LL}, {"h", 3600000000LL}, {"m", 60000000},
                        {"s", 1000000},       {"ms", 1000},        {"us", 1}};
  for (const Unit& u : order) {
    if (us >= u.micros) {
      out += std::to_string(us / u.micros);
      out += u.suffix;
      us %= u.micros;
    }
  }
  return out;
}

// Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2);
}

namespace {
unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}
}  // namespace

ParseResult<Instant> ParseInstant(std::string_view s) {
  const std::string expected =
      "expected an ISO 8601 UTC instant such as \"2023-09-10T17:00:00Z\", "
      "\"2023-09-10T13:00:00-04:00\" or a date \"2023-09-10\"";
  auto fail = [&](const std::string& why) {
    return ParseResult<Instant>::Error(Quote(s) + ": " + why + "; " + expected);
  };
  const int64_t year = ReadFixedDigits(s, 0, 4);
  if (year < 0 || s.size() < 10 || s[4] != '-' || s[7] != '-') return fail("bad date");
  const int64_t month = ReadFixedDigits(s, 5, 2);
  const int64_t day = ReadFixedDigits(s, 8, 2);
  if (month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) {
    return fail("day out of range");
  }
  int64_t us = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
               Days(1).micros();
  if (s.size() == 10) return Instant::FromUnixMicros(us);
  if (s[10] != 'T' && s[10] != ' ') return fail("expected 'T' after the date");
  const int64_t hh = ReadFixedDigits(s, 11, 2);
  const int64_t mm = ReadFixedDigits(s, 14, 2);
  const int64_t ss = ReadFixedDigits(s, 17, 2);
  if (hh < 0 || mm < 0 || ss < 0 || s.size() < 19 || s[13] != ':' || s[16] != ':') {
    return fail("bad time of day");
  }
  if (hh > 23 || mm > 59 || ss > 59) return fail("time of day out of range");
  us += Hours(hh).micros() + Minutes(mm).micros() + Seconds(ss).micros();
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t frac = 0;
    int digits = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (digits < 6) frac = frac * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return fail("empty fraction of a second");
    for (int i = digits; i < 6; ++i) frac *= 10;
    us += frac;
  }
  if (pos == s.size()) return fail("missing time zone ('Z' or ±HH:MM)");
  if (s[pos] == 'Z' && pos + 1 == s.size()) return Instant::FromUnixMicros(us);
  if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    const int64_t oh = ReadFixedDigits(s, pos + 1, 2);
    const int64_t om = ReadFixedDigits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return fail("bad UTC offset");
    const int64_t offset = Hours(oh).micros() + Minutes(om).micros();
    // Local time = UTC + offset, so UTC = local - offset.
    us += s[pos] == '+' ? -offset : offset;
    return Instant::FromUnixMicros(us);
  }
  return fail("bad time zone");
}

std::string FormatInstant(Instant t) {
  const int64_t us = t.unix_micros();
  const int64_t day_us = Days(1).micros();
  int64_t days = us / day_us;
  int64_t rem = us % day_us;
  if (rem < 0) {
    rem += day_us;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const int64_t secs = rem / 1000000;
  const int64_t frac = rem % 1000000;
  char buf[64];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                  static_cast<long long>(frac));
  }
  return buf;
}

}  // namespace orchsim
