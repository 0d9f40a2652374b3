// retry.h — when to retry an upstream call, and how long to wait first.
//
// Three pieces:
//   - RetryConfig: the settings (max attempts, backoff kind, base, cap,
//     Retry-After handling, retryable statuses).
//   - Backoff: the delay formulas published by Marc Brooker, "Exponential
//     Backoff and Jitter" (AWS Architecture Blog, 2015). One Backoff per
//     request being retried (decorrelated jitter remembers its last sleep).
//   - RetryPolicy: whether a status may be retried, and the delay before the
//     next attempt (the upstream's Retry-After when honoured, else the backoff).
// The retry budget (how many retries the whole system may make) is a separate
// component: policies/retry_budget.h.
//
// Backoff formulas. Brooker numbers attempts n = 0, 1, 2, ...; here Next()
// takes the retry number r = 1 for the first retry, and n = r - 1, so the
// first retry waits `base` before jitter:
//   none:          0
//   constant:      base
//   exponential:   expo(n) = min(cap, base * 2^n)
//   full jitter:   U(0, expo(n))
//   equal jitter:  floor(expo(n) / 2) + U(0, expo(n) - floor(expo(n) / 2))
//                  (the published expo/2 + U(0, expo/2), written so that an odd
//                  number of microseconds loses nothing)
//   decorrelated:  sleep = min(cap, U(base, 3 * previous_sleep)), with
//                  previous_sleep = base initially and after Reset(); it does
//                  not depend on r.
// U(lo, hi) = lo + floor(u * (hi - lo)) microseconds with u = Uniform01() from
// the RandomSource, so it lies in [lo, hi) (exactly lo when hi == lo). One
// draw per jittered Next(), none for none/constant/exponential.
//
// Overflow: base * 2^n saturates at cap for any n (n = 60, 1000, ...); 3 *
// previous_sleep saturates at the largest Duration before the min with cap.
//
// Units: all durations are whole microseconds. Statuses are HTTP codes, with
// kStatusTransportError (599) for "no answer".
//
// Example:
//   RetryPolicy policy(config);
//   Backoff backoff(config, random);
//   if (policy.ShouldRetry(response.status, attempts_made)) {
//     Duration wait = policy.DelayFor(response, backoff, attempts_made, now);
//     ...schedule attempt attempts_made + 1 at now + wait...
//   }
#ifndef ORCHSIM_POLICIES_RETRY_H_
#define ORCHSIM_POLICIES_RETRY_H_

#include <optional>
#include <string_view>
#include <vector>

#include "policies/ports.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

enum class BackoffKind : uint8_t {
  kNone,
  kConstant,
  kExponential,
  kEqualJitter,
  kFullJitter,
  kDecorrelatedJitter,
};

// "none", "constant", "exponential", "equal_jitter", "full_jitter",
// "decorrelated_jitter".
std::string_view BackoffKindName(BackoffKind kind);
// Inverse of BackoffKindName (exact, lower case); nullopt when unknown.
std::optional<BackoffKind> ParseBackoffKind(std::string_view name);

inline constexpr int kMaxRetryAttempts = 100;  // upper bound accepted by validate()

struct RetryConfig {
  bool enabled = true;   // false: never retry (ShouldRetry is always false)
  int max_attempts = 3;  // total attempts including the first; 1..kMaxRetryAttempts
  BackoffKind backoff = BackoffKind::kExponential;
  Duration base = Milliseconds(100);      // > 0 unless backoff is none
  Duration cap = Seconds(10);             // >= base; no sleep exceeds it
  bool honour_retry_after = true;         // use the upstream's Retry-After when present
  Duration max_retry_after = Minutes(5);  // >= 0; a longer Retry-After is clamped to it
  std::vector<int> retryable_statuses = {429, 500, 502, 503, 504, 599};  // each in 100..599

  // Ok, or an error naming the first bad field ("retry.cap: ...").
  Status validate() const;
  bool operator==(const RetryConfig&) const = default;
};

// The backoff delay sequence of one request's retries. Not thread-safe.
// REQUIRES: the RandomSource outlives the Backoff; config.validate() is ok.
class Backoff {
 public:
  Backoff(const RetryConfig& config, RandomSource& random);

  // The sleep before retry number `retry_number` (1 for the first retry).
  // Values below 1 are treated as 1. Always in [0, cap].
  Duration Next(int retry_number);

  // Forgets the decorrelated-jitter history (previous sleep back to base).
  void Reset();

 private:
  Duration Exponential(int retry_number) const;
  // lo + floor(u * (hi - lo)), clamped to [lo, hi]. REQUIRES: lo <= hi.
  Duration UniformBetween(Duration lo, Duration hi);

  BackoffKind kind_;
  Duration base_;
  Duration cap_;
  RandomSource* random_;
  Duration previous_sleep_;
};

// Stateless retry decisions from a RetryConfig (copied).
class RetryPolicy {
 public:
  explicit RetryPolicy(const RetryConfig& config);

  // True when `status` is in retryable_statuses (a classification only; it
  // ignores `enabled` and the attempt count).
  bool IsRetryable(int status) const;

  // True when enabled, `status` is retryable and attempts_made <
  // max_attempts. REQUIRES: attempts_made >= 1 (the attempt that just failed
  // counts).
  bool ShouldRetry(int status, int attempts_made) const;

  // The delay before the next attempt. When honour_retry_after is set and the
  // response carries a parsable Retry-After (seconds or HTTP-date), the delay
  // is that instant minus `wall_now` (the wall clock: an HTTP-date is wall
  // time), clamped to [0, max_retry_after], and the backoff is not advanced.
  // Otherwise backoff.Next(retry_number). A malformed Retry-After falls back
  // to the backoff.
  Duration DelayFor(const Response& response, Backoff& backoff, int retry_number,
                    Instant wall_now) const;

  const RetryConfig& config() const { return config_; }

 private:
  RetryConfig config_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_RETRY_H_
