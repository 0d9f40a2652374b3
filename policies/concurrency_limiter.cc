#include "policies/concurrency_limiter.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace orchsim {

Status ConcurrencyLimitConfig::validate() const {
  if (max_in_flight < 1 || max_in_flight > kMaxConcurrencyLimit) {
    return FieldError("concurrency.max_in_flight", max_in_flight,
                      "must be in 1.." + std::to_string(kMaxConcurrencyLimit));
  }
  return Status::Ok();
}

ConcurrencyLimiter::ConcurrencyLimiter(const ConcurrencyLimitConfig& config) : config_(config) {}

bool ConcurrencyLimiter::TryAcquire() {
  if (!CanAcquire()) return false;
  ++in_flight_;
  peak_ = std::max(peak_, in_flight_);
  return true;
}

void ConcurrencyLimiter::Release() {
  assert(in_flight_ > 0 && "ConcurrencyLimiter::Release without a matching TryAcquire");
  if (in_flight_ > 0) --in_flight_;
}

}  // namespace orchsim
