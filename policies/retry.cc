#include "policies/retry.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "policies/retry_after.h"

namespace orchsim {
namespace {

constexpr std::string_view kBackoffKindNames[] = {
    "none", "constant", "exponential", "equal_jitter", "full_jitter", "decorrelated_jitter"};
constexpr int kBackoffKindCount = 6;

// 3 * d, saturating at the largest Duration.
Duration TripleSaturating(Duration d) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (d.micros() > kMax / 3) return Duration::FromMicros(kMax);
  return d * 3;
}

}  // namespace

std::string_view BackoffKindName(BackoffKind kind) {
  return kBackoffKindNames[static_cast<int>(kind)];
}

std::optional<BackoffKind> ParseBackoffKind(std::string_view name) {
  for (int i = 0; i < kBackoffKindCount; ++i) {
    if (kBackoffKindNames[i] == name) return static_cast<BackoffKind>(i);
  }
  return std::nullopt;
}

Status RetryConfig::validate() const {
  if (max_attempts < 1 || max_attempts > kMaxRetryAttempts) {
    return FieldError("retry.max_attempts", max_attempts,
                      "must be in 1.." + std::to_string(kMaxRetryAttempts));
  }
  if (base < Duration::Zero()) {
    return FieldError("retry.base", FormatDuration(base), "must be >= 0");
  }
  if (backoff != BackoffKind::kNone && base == Duration::Zero()) {
    return FieldError("retry.base", FormatDuration(base),
                      "must be > 0 with backoff \"" + std::string(BackoffKindName(backoff)) + "\"");
  }
  if (cap < base) {
    return FieldError("retry.cap", FormatDuration(cap),
                      "must be >= retry.base (" + FormatDuration(base) + ")");
  }
  if (max_retry_after < Duration::Zero()) {
    return FieldError("retry.max_retry_after", FormatDuration(max_retry_after), "must be >= 0");
  }
  for (size_t i = 0; i < retryable_statuses.size(); ++i) {
    const int s = retryable_statuses[i];
    if (s < 100 || s > 599) {
      return FieldError("retry.retryable_statuses[" + std::to_string(i) + "]", s,
                        "must be an HTTP status in 100..599");
    }
  }
  return Status::Ok();
}

Backoff::Backoff(const RetryConfig& config, RandomSource& random)
    : kind_(config.backoff),
      base_(config.base),
      cap_(config.cap),
      random_(&random),
      previous_sleep_(config.base) {}

void Backoff::Reset() { previous_sleep_ = base_; }

Duration Backoff::Exponential(int retry_number) const {
  // expo = min(cap, base * 2^n), n = retry_number - 1, without overflow:
  // base * 2^n <= cap  <=>  base <= floor(cap / 2^n) for integers.
  const int n = std::max(retry_number, 1) - 1;
  const int64_t base = base_.micros();
  const int64_t cap = cap_.micros();
  if (base == 0) return Duration::Zero();
  if (n >= 63 || base > (cap >> n)) return cap_;  // 2^63 alone exceeds any int64
  return Duration::FromMicros(base << n);
}

Duration Backoff::UniformBetween(Duration lo, Duration hi) {
  assert(lo <= hi);
  const int64_t span = (hi - lo).micros();
  double u = random_->Uniform01();
  if (!(u >= 0.0)) u = 0.0;  // also catches NaN from a broken source
  // floor() is deterministic across platforms; the clamp guards u >= 1 and the
  // rounding of u * span for spans above 2^53 us.
  const double scaled = std::floor(u * static_cast<double>(span));
  int64_t offset = scaled >= static_cast<double>(span) ? span : static_cast<int64_t>(scaled);
  offset = std::clamp<int64_t>(offset, 0, span);
  return lo + Duration::FromMicros(offset);
}

Duration Backoff::Next(int retry_number) {
  switch (kind_) {
    case BackoffKind::kNone:
      return Duration::Zero();
    case BackoffKind::kConstant:
      return std::min(base_, cap_);
    case BackoffKind::kExponential:
      return Exponential(retry_number);
    case BackoffKind::kFullJitter:
      return UniformBetween(Duration::Zero(), Exponential(retry_number));
    case BackoffKind::kEqualJitter: {
      const Duration expo = Exponential(retry_number);
      const Duration half = expo / 2;
      return half + UniformBetween(Duration::Zero(), expo - half);
    }
    case BackoffKind::kDecorrelatedJitter: {
      // max() keeps lo <= hi even if previous_sleep_ were below base/3.
      const Duration hi = std::max(base_, TripleSaturating(previous_sleep_));
      previous_sleep_ = std::min(cap_, UniformBetween(base_, hi));
      return previous_sleep_;
    }
  }
  return Duration::Zero();
}

RetryPolicy::RetryPolicy(const RetryConfig& config) : config_(config) {}

bool RetryPolicy::IsRetryable(int status) const {
  return std::find(config_.retryable_statuses.begin(), config_.retryable_statuses.end(), status) !=
         config_.retryable_statuses.end();
}

bool RetryPolicy::ShouldRetry(int status, int attempts_made) const {
  assert(attempts_made >= 1);
  return config_.enabled && attempts_made < config_.max_attempts && IsRetryable(status);
}

Duration RetryPolicy::DelayFor(const Response& response, Backoff& backoff, int retry_number,
                               Instant wall_now) const {
  if (config_.honour_retry_after) {
    if (const std::string* header = response.headers.Find("Retry-After")) {
      if (std::optional<Instant> at = ParseRetryAfter(*header, wall_now)) {
        return std::clamp(*at - wall_now, Duration::Zero(), config_.max_retry_after);
      }
    }
  }
  return backoff.Next(retry_number);
}

}  // namespace orchsim
