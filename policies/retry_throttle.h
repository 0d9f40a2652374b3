// retry_throttle.h — retry throttling as gRPC does it (gRFC A6,
// "retryThrottling"): a token count per upstream that failures drain and
// successes refill; retries (and hedges) are allowed only while it is above
// half its maximum, so a failing upstream stops getting them quickly and a
// recovered one gets them back gradually.
//
//   tokens starts at max_tokens;
//   a failed answer (a retryable status, or none: 599): tokens -= 1 (not below 0);
//   any other answer:                                   tokens += token_ratio (not above max);
//   AllowRetry():                                       tokens > max_tokens / 2.
// The core's own cancel confirmations (499) are ignored. Disabled: always
// allows, counts nothing. Not thread-safe.
#ifndef ORCHSIM_POLICIES_RETRY_THROTTLE_H_
#define ORCHSIM_POLICIES_RETRY_THROTTLE_H_

#include <cstdint>

#include "policies/status.h"

namespace orchsim {

struct RetryThrottleConfig {
  bool enabled = false;
  double max_tokens = 10;    // in (0, 1000]
  double token_ratio = 0.1;  // tokens a success gives back; in (0, max_tokens]
  // Ok, or an error naming the first bad field ("retry_throttling.max_tokens: ...").
  Status validate() const;
  bool operator==(const RetryThrottleConfig&) const = default;
};

// REQUIRES: config.validate().ok().
class RetryThrottle {
 public:
  explicit RetryThrottle(const RetryThrottleConfig& config);
  // A retry or hedge may go (counted in denied() when not).
  bool AllowRetry();
  // An answer came: `failed` when its status is retryable or none came.
  void RecordAnswer(bool failed);
  double tokens() const { return tokens_; }
  uint64_t denied() const { return denied_; }

 private:
  RetryThrottleConfig config_;
  double tokens_;
  uint64_t denied_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_RETRY_THROTTLE_H_
