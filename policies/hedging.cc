#include "policies/hedging.h"

#include <cmath>
#include <string>

namespace orchsim {

RetryBudgetConfig HedgeConfig::Budget() const {
  RetryBudgetConfig budget;
  budget.enabled = true;
  budget.ratio = budget_ratio;
  budget.min_retries_per_s = budget_min_per_s;
  budget.window = budget_window;
  return budget;
}

Status HedgeConfig::validate() const {
  if (delay <= Duration::Zero()) {
    return FieldError("hedging.delay", FormatDuration(delay), "must be > 0");
  }
  if (max_hedges < 1 || max_hedges > kMaxHedges) {
    return FieldError("hedging.max_hedges", max_hedges,
                      "must be in 1.." + std::to_string(kMaxHedges));
  }
  if (!(budget_ratio >= 0.0 && budget_ratio <= kRetryBudgetMaxRatio)) {
    return FieldError("hedging.budget_ratio", budget_ratio, "must be in 0..100");
  }
  if (!(budget_min_per_s >= 0.0 && std::isfinite(budget_min_per_s))) {
    return FieldError("hedging.budget_min_per_s", budget_min_per_s, "must be >= 0 and finite");
  }
  if (budget_window < kRetryBudgetBucket || budget_window > kRetryBudgetMaxWindow ||
      budget_window.micros() % kRetryBudgetBucket.micros() != 0) {
    return FieldError("hedging.budget_window", FormatDuration(budget_window),
                      "must be whole seconds in 1s.." + FormatDuration(kRetryBudgetMaxWindow));
  }
  return Status::Ok();
}

}  // namespace orchsim
