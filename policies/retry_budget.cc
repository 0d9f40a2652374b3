#include "policies/retry_budget.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace orchsim {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The ring slot of bucket index `bucket` (which may be negative before 1970).
size_t SlotOf(int64_t bucket, int64_t ring_size) {
  return static_cast<size_t>((bucket % ring_size + ring_size) % ring_size);
}

}  // namespace

Status RetryBudgetConfig::validate() const {
  if (!(ratio >= 0.0 && ratio <= kRetryBudgetMaxRatio)) {
    return FieldError("retry_budget.ratio", ratio,
                      "must be in 0.." + ShortestText(kRetryBudgetMaxRatio));
  }
  if (!(min_retries_per_s >= 0.0 && std::isfinite(min_retries_per_s))) {
    return FieldError("retry_budget.min_retries_per_s", min_retries_per_s,
                      "must be >= 0 and finite");
  }
  if (window < kRetryBudgetBucket || window > kRetryBudgetMaxWindow ||
      window.micros() % kRetryBudgetBucket.micros() != 0) {
    return FieldError("retry_budget.window", FormatDuration(window),
                      "must be whole seconds in 1s.." + FormatDuration(kRetryBudgetMaxWindow));
  }
  return Status::Ok();
}

RetryBudget::RetryBudget(const RetryBudgetConfig& config)
    : config_(config),
      ring_(static_cast<size_t>(std::max<int64_t>(1, config.window / kRetryBudgetBucket))) {}

RetryBudget::Bucket& RetryBudget::Advance(Instant now) {
  const int64_t size = static_cast<int64_t>(ring_.size());
  const int64_t bucket = FloorDiv(now.unix_micros(), kRetryBudgetBucket.micros());
  if (!started_) {
    started_ = true;
    current_bucket_ = bucket;
  } else if (bucket > current_bucket_) {
    if (bucket - current_bucket_ >= size) {
      for (Bucket& b : ring_) b = Bucket();
      window_first_attempts_ = 0;
      window_retries_ = 0;
    } else {
      // Each bucket entered reuses the slot of the one that leaves the window.
      for (int64_t i = current_bucket_ + 1; i <= bucket; ++i) {
        Bucket& leaving = ring_[SlotOf(i, size)];
        window_first_attempts_ -= leaving.first_attempts;
        window_retries_ -= leaving.retries;
        leaving = Bucket();
      }
    }
    current_bucket_ = bucket;
  }
  return ring_[SlotOf(current_bucket_, size)];
}

void RetryBudget::RecordFirstAttempt(Instant now) {
  if (!config_.enabled) return;
  ++Advance(now).first_attempts;
  ++window_first_attempts_;
}

bool RetryBudget::TryAcquireRetry(Instant now) {
  if (!config_.enabled) {
    ++granted_;
    return true;
  }
  Bucket& bucket = Advance(now);
  const double window_s = static_cast<double>(config_.window / kRetryBudgetBucket);
  const double allowed = config_.ratio * static_cast<double>(window_first_attempts_) +
                         config_.min_retries_per_s * window_s;
  constexpr double kTolerance = 1e-9;
  if (static_cast<double>(window_retries_ + 1) > allowed + kTolerance) {
    ++denied_;
    return false;
  }
  ++bucket.retries;
  ++window_retries_;
  ++granted_;
  return true;
}

}  // namespace orchsim
