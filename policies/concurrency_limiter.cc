#include "policies/concurrency_limiter.h"

#include <algorithm>
#include <cassert>

namespace orchsim {

Status ConcurrencyLimitConfig::validate() const {
  if (max_in_flight < 1 || max_in_flight > kMaxConcurrencyLimit) {
    return FieldError("concurrency_limit.max_in_flight", max_in_flight,
                      "must be in 1.." + std::to_string(kMaxConcurrencyLimit));
  }
  return Status::Ok();
}

ConcurrencyLimiter::ConcurrencyLimiter(const ConcurrencyLimitConfig& config) : config_(config) {}

bool ConcurrencyLimiter::TryAcquire(const std::string& api) {
  if (!CanAcquire(api)) return false;
  Slots& slots = by_api_[api];
  ++slots.in_flight;
  slots.peak = std::max(slots.peak, slots.in_flight);
  return true;
}

void ConcurrencyLimiter::Release(const std::string& api) {
  auto it = by_api_.find(api);
  const bool acquired = it != by_api_.end() && it->second.in_flight > 0;
  assert(acquired && "ConcurrencyLimiter::Release without a matching TryAcquire");
  if (!acquired) return;
  --it->second.in_flight;
}

int ConcurrencyLimiter::in_flight(const std::string& api) const {
  auto it = by_api_.find(api);
  return it == by_api_.end() ? 0 : it->second.in_flight;
}

bool ConcurrencyLimiter::CanAcquire(const std::string& api) const {
  return !config_.enabled || in_flight(api) < config_.max_in_flight;
}

int ConcurrencyLimiter::peak(const std::string& api) const {
  auto it = by_api_.find(api);
  return it == by_api_.end() ? 0 : it->second.peak;
}

}  // namespace orchsim
