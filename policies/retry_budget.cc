#include "policies/retry_budget.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace orchsim {

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
    : config_(config), counts_(config.window) {}

void RetryBudget::RecordFirstAttempt(Instant now) {
  if (!config_.enabled) return;
  counts_.Add(kFirstAttempts, now);
}

bool RetryBudget::TryAcquireRetry(Instant now) {
  if (!config_.enabled) {
    ++granted_;
    return true;
  }
  const SlidingCounts<2>::Totals& window = counts_.At(now);
  const double allowed = config_.ratio * static_cast<double>(window[kFirstAttempts]) +
                         config_.min_retries_per_s * static_cast<double>(counts_.window_seconds());
  constexpr double kTolerance = 1e-9;
  if (static_cast<double>(window[kRetries] + 1) > allowed + kTolerance) {
    ++denied_;
    return false;
  }
  counts_.Add(kRetries, now);
  ++granted_;
  return true;
}

}  // namespace orchsim
