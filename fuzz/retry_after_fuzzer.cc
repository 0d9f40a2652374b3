// libFuzzer target: the Retry-After parser (policies/retry_after.h), the core's
// reading of a header an upstream controls.
//
// Input: "<now in microseconds>\n<header value>"; without a newline the whole
// input is the value and now is 2024-01-01T00:00:00Z. A hostile `now` (near
// the int64 range) is part of the contract: the clock port could return it.
// Contract checked: never crashes, no sanitizer report (UBSan catches the
// overflow of now + delay), and:
//   - delay-seconds (1-12 digits, optional blanks around) give exactly
//     now + that many seconds, saturating at Instant::Max();
//   - anything else gives ParseHttpDate's answer;
//   - an HTTP-date that parses lies in years 0000-9999 (one second more for
//     a leap second), and re-formatted as an IMF-fixdate parses to itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "policies/retry_after.h"
#include "policies/time.h"

namespace {

using orchsim::Instant;

void Check(bool condition) {
  if (!condition) std::abort();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The decimal number at the start of `s` (optional '-'), saturating; 0 if none.
int64_t ParseNow(std::string_view s) {
  bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    if (v > (INT64_MAX - 9) / 10) return negative ? -INT64_MAX : INT64_MAX;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

std::string FormatHttpDate(Instant t) {
  static const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t day_us = orchsim::Days(1).micros();
  int64_t days = t.unix_micros() / day_us;
  int64_t rem = t.unix_micros() % day_us;
  if (rem < 0) {
    rem += day_us;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  orchsim::CivilFromDays(days, &year, &month, &day);
  const int64_t s = rem / 1000000;
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s, %02u %s %04lld %02lld:%02lld:%02lld GMT",
                kDays[((days % 7) + 7) % 7], day, kMonths[month - 1], static_cast<long long>(year),
                static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60),
                static_cast<long long>(s % 60));
  return buffer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const Instant now = newline == std::string_view::npos
                          ? *orchsim::ParseInstant("2024-01-01T00:00:00Z")
                          : Instant::FromUnixMicros(ParseNow(input.substr(0, newline)));
  const std::string_view value =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  const std::optional<Instant> retry = orchsim::ParseRetryAfter(value, now);
  const std::string_view trimmed = Trim(value);
  const bool digits = !trimmed.empty() && trimmed.size() <= 12 &&
                      trimmed.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits) {
    Check(retry.has_value());
    Check(*retry == now + orchsim::Seconds(ParseNow(trimmed)));
    Check(*retry >= now || now.unix_micros() < 0);
    return 0;
  }
  const std::optional<Instant> date = orchsim::ParseHttpDate(value);
  Check(retry == date);
  if (date) {
    Check(*date >= *orchsim::ParseInstant("0000-01-01T00:00:00Z"));
    Check(*date <= *orchsim::ParseInstant("9999-12-31T23:59:59Z") + orchsim::Seconds(1));
    if (*date <= *orchsim::ParseInstant("9999-12-31T23:59:59Z")) {
      Check(orchsim::ParseHttpDate(FormatHttpDate(*date)) == date);
    }
  }
  return 0;
}
