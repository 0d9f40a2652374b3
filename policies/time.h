// time.h — Duration and Instant: int64 microseconds behind small value types.
//
// The vocabulary type for time on both sides of the ports: the orchestration
// core (policies/) reads instants from its Clock port, and the simulation
// kernel (engine/kernel/) advances virtual instants of the same type. It lives
// in policies/ because the core may depend on nothing but the standard library;
// the kernel reuses it so that virtual and production time cannot drift apart.
//
// Contract:
//   - Arithmetic is exact integer arithmetic on microseconds; there is no
//     floating-point time anywhere. It saturates instead of overflowing: a
//     result beyond ±(2^63 - 1) us (±292,000 years) becomes
//     Duration::Infinite() / -Duration::Infinite() (Instant::Max() /
//     Instant::Min()), so an absurd sum reads as "never" rather than wrapping
//     into the past (a rate-limit window that wrapped would switch the limit
//     off). Values never become INT64_MIN, so negation is always defined.
//   - Instant counts microseconds since the Unix epoch, UTC.
//   - ParseDuration accepts one or more <integer><unit> parts, units us, ms,
//     s, m, h, d (e.g. "250ms", "90s", "1h30m", "3d"), optionally preceded by
//     '-'. A bare number, an unknown unit or trailing junk is an error.
//     Fractions are not supported; "1.5s" is an error that says what to
//     write instead ("1500ms"). A parsed duration is at most kMaxDuration
//     (36500d, 100 years) in magnitude: anything a scenario or preset may
//     hold, and small enough that instants of years 0000-9999 plus a few such
//     durations stay far from the int64 range.
//   - ParseInstant accepts ISO 8601 "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)"
//     and "YYYY-MM-DD" (midnight UTC). A missing offset is an error: an
//     instant without a zone is ambiguous.
//
// Example:
//   Duration d = Minutes(15) + Seconds(30);
//   FormatDuration(d);                       // "15m30s"
//   auto i = ParseInstant("2023-09-07T20:20:00-04:00");
//   FormatInstant(*i);                        // "2023-09-08T00:20:00Z"
#ifndef ORCHSIM_POLICIES_TIME_H_
#define ORCHSIM_POLICIES_TIME_H_

#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

namespace orchsim {

namespace time_internal {

// The saturation bounds: symmetric, so that negating a value never overflows.
inline constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kMin = -kMax;

constexpr int64_t Clamp(int64_t v) { return v < kMin ? kMin : v; }
constexpr int64_t AddSat(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMax : kMin;
  return Clamp(r);
}
constexpr int64_t SubSat(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? kMax : kMin;
  return Clamp(r);
}
constexpr int64_t MulSat(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? kMin : kMax;
  return Clamp(r);
}
// REQUIRES: b != 0.
constexpr int64_t DivSat(int64_t a, int64_t b) {
  if (b == -1) return Clamp(a) == a ? -a : kMax;  // only INT64_MIN / -1 overflows
  return a / b;
}

}  // namespace time_internal

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration FromMicros(int64_t us) { return Duration(us); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Infinite() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t micros() const { return us_; }
  constexpr bool is_infinite() const { return us_ == std::numeric_limits<int64_t>::max(); }

  // All saturating (see the header contract); division REQUIRES a non-zero divisor.
  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const {
    return Duration(time_internal::AddSat(us_, o.us_));
  }
  constexpr Duration operator-(Duration o) const {
    return Duration(time_internal::SubSat(us_, o.us_));
  }
  constexpr Duration operator-() const { return Duration(time_internal::SubSat(0, us_)); }
  constexpr Duration operator*(int64_t k) const { return Duration(time_internal::MulSat(us_, k)); }
  constexpr Duration operator/(int64_t k) const { return Duration(time_internal::DivSat(us_, k)); }
  constexpr int64_t operator/(Duration o) const { return time_internal::DivSat(us_, o.us_); }
  constexpr Duration& operator+=(Duration o) { return *this = *this + o; }
  constexpr Duration& operator-=(Duration o) { return *this = *this - o; }

 private:
  constexpr explicit Duration(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

constexpr Duration Microseconds(int64_t n) { return Duration::FromMicros(n); }
constexpr Duration Milliseconds(int64_t n) {
  return Duration::FromMicros(time_internal::MulSat(n, 1000));
}
constexpr Duration Seconds(int64_t n) {
  return Duration::FromMicros(time_internal::MulSat(n, 1000000));
}
constexpr Duration Minutes(int64_t n) { return Seconds(time_internal::MulSat(n, 60)); }
constexpr Duration Hours(int64_t n) { return Minutes(time_internal::MulSat(n, 60)); }
constexpr Duration Days(int64_t n) { return Hours(time_internal::MulSat(n, 24)); }

// The largest duration ParseDuration accepts (either sign): 100 years. Every
// time quantity in a scenario or preset is at most this, and so is a
// scenario's span (end - start); README "Limits".
inline constexpr Duration kMaxDuration = Days(36500);

class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant FromUnixMicros(int64_t us) { return Instant(us); }
  static constexpr Instant Epoch() { return Instant(0); }
  static constexpr Instant Max() { return Instant(std::numeric_limits<int64_t>::max()); }
  static constexpr Instant Min() { return Instant(time_internal::kMin); }

  constexpr int64_t unix_micros() const { return us_; }

  // All saturating at Min() and Max() (see the header contract).
  constexpr auto operator<=>(const Instant&) const = default;
  constexpr Instant operator+(Duration d) const {
    return Instant(time_internal::AddSat(us_, d.micros()));
  }
  constexpr Instant operator-(Duration d) const {
    return Instant(time_internal::SubSat(us_, d.micros()));
  }
  constexpr Duration operator-(Instant o) const {
    return Duration::FromMicros(time_internal::SubSat(us_, o.us_));
  }
  constexpr Instant& operator+=(Duration d) { return *this = *this + d; }

 private:
  constexpr explicit Instant(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

// A parse result: the value, or a message saying what was expected.
template <typename T>
class ParseResult {
 public:
  ParseResult(T value) : v_(value) {}  // NOLINT: implicit by design
  static ParseResult Error(std::string message) {
    return ParseResult(ErrorTag{std::move(message)});
  }
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& operator*() const { return std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  struct ErrorTag {
    std::string message;
  };
  explicit ParseResult(ErrorTag e) : v_(std::in_place_index<1>, std::move(e)) {}
  std::variant<T, ErrorTag> v_;
};

// ParseDuration("1h30m") -> 90 minutes. See the header contract for the grammar.
ParseResult<Duration> ParseDuration(std::string_view text);
// Canonical, shortest form: "1h30m", "250ms", "0s", "-5s".
std::string FormatDuration(Duration d);

// ParseInstant("2023-09-10T13:00:00-04:00"). See the header contract.
ParseResult<Instant> ParseInstant(std::string_view text);
// "2023-09-10T17:00:00Z", with ".ffffff" only when the microseconds are not 0.
std::string FormatInstant(Instant t);

// Days since 1970-01-01 for a proleptic Gregorian civil date, and back.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_TIME_H_
