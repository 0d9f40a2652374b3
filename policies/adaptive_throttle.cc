#include "policies/adaptive_throttle.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "policies/request.h"

namespace orchsim {

Status AdaptiveThrottleConfig::validate() const {
  if (!(k >= 1.0 && k <= 100.0)) {
    return FieldError("adaptive_throttling.k", k, "must be in 1..100");
  }
  if (window < kSlidingBucket || window > Hours(1) ||
      window.micros() % kSlidingBucket.micros() != 0) {
    return FieldError("adaptive_throttling.window", FormatDuration(window),
                      "must be whole seconds in 1s..1h");
  }
  if (!(max_reject_probability > 0.0 && max_reject_probability <= 1.0)) {
    return FieldError("adaptive_throttling.max_reject_probability", max_reject_probability,
                      "must be in (0, 1]");
  }
  for (size_t i = 0; i < overload_statuses.size(); ++i) {
    if (overload_statuses[i] < 100 || overload_statuses[i] > 599) {
      return FieldError("adaptive_throttling.overload_statuses[" + std::to_string(i) + "]",
                        overload_statuses[i], "must be an HTTP status in 100..599");
    }
  }
  return Status::Ok();
}

AdaptiveThrottle::AdaptiveThrottle(const AdaptiveThrottleConfig& config)
    : config_(config), counts_(config.window) {}

double AdaptiveThrottle::RejectProbability(Instant now) {
  if (!config_.enabled) return 0.0;
  const SlidingCounts<2>::Totals& window = counts_.At(now);
  const double requests = static_cast<double>(window[kRequests]);
  const double accepts = static_cast<double>(window[kAccepts]);
  const double p = (requests - config_.k * accepts) / (requests + 1.0);
  return std::clamp(p, 0.0, config_.max_reject_probability);
}

bool AdaptiveThrottle::Admit(double u, Instant now) {
  if (!config_.enabled) return true;
  const double p = RejectProbability(now);
  counts_.Add(kRequests, now);
  if (u < p) {
    ++rejected_;
    return false;
  }
  return true;
}

void AdaptiveThrottle::RecordAnswer(int status, Instant now) {
  if (!config_.enabled || status == kStatusCancelled || status == kStatusTransportError) return;
  if (std::find(config_.overload_statuses.begin(), config_.overload_statuses.end(), status) !=
      config_.overload_statuses.end()) {
    return;
  }
  counts_.Add(kAccepts, now);
}

}  // namespace orchsim
