#include "policies/retry_throttle.h"

#include <algorithm>

namespace orchsim {

Status RetryThrottleConfig::validate() const {
  if (!(max_tokens > 0 && max_tokens <= 1000)) {
    return FieldError("retry_throttling.max_tokens", max_tokens, "must be in (0, 1000]");
  }
  if (!(token_ratio > 0 && token_ratio <= max_tokens)) {
    return FieldError("retry_throttling.token_ratio", token_ratio, "must be in (0, max_tokens]");
  }
  return Status::Ok();
}

RetryThrottle::RetryThrottle(const RetryThrottleConfig& config)
    : config_(config), tokens_(config.max_tokens) {}

bool RetryThrottle::AllowRetry() {
  if (!config_.enabled || tokens_ > config_.max_tokens / 2) return true;
  ++denied_;
  return false;
}

void RetryThrottle::RecordAnswer(bool failed) {
  if (!config_.enabled) return;
  tokens_ = failed ? std::max(0.0, tokens_ - 1.0)
                   : std::min(config_.max_tokens, tokens_ + config_.token_ratio);
}

}  // namespace orchsim
