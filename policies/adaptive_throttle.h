// adaptive_throttle.h — client-side adaptive throttling (Google SRE book,
// "Handling Overload"; Envoy's admission control filter).
//
// Over a sliding window the client counts `requests` (calls it wanted to
// make, including the ones it rejected itself) and `accepts` (calls the
// upstream accepted: any answer but an overload status or no answer). A new
// call is rejected locally with probability
//     p = min(max_reject_probability, max(0, (requests - k * accepts) / (requests + 1)))
// so a healthy upstream (accepts ~ requests) sees no rejection, and one that
// refuses most calls sees its load fall to about k times what it accepts.
//
// Deterministic: the caller passes the uniform draw `u` in [0, 1) (from the
// core's seeded random source); Admit rejects when u < p. No draw is needed
// while p is 0 (ShouldDraw), so a run without overload draws nothing.
//
// Window: sliding_counts.h (whole seconds). Disabled: always admits, counts
// nothing. Not thread-safe.
#ifndef ORCHSIM_POLICIES_ADAPTIVE_THROTTLE_H_
#define ORCHSIM_POLICIES_ADAPTIVE_THROTTLE_H_

#include <cstdint>
#include <vector>

#include "policies/sliding_counts.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

struct AdaptiveThrottleConfig {
  bool enabled = false;
  double k = 2.0;                       // accepts multiplier; in [1, 100]
  Duration window = Minutes(2);         // whole seconds, 1s..1h
  double max_reject_probability = 0.9;  // in (0, 1]
  // Answers that mean "not accepted" (the upstream is overloaded). No answer
  // at all (a transport error or timeout, status 599) never counts as
  // accepted. Each in 100..599.
  std::vector<int> overload_statuses = {429, 503};

  // Ok, or an error naming the first bad field ("adaptive_throttling.k: ...").
  Status validate() const;
  bool operator==(const AdaptiveThrottleConfig&) const = default;
};

// REQUIRES: config.validate().ok().
class AdaptiveThrottle {
 public:
  explicit AdaptiveThrottle(const AdaptiveThrottleConfig& config);

  // The rejection probability at `now` (0 when disabled).
  double RejectProbability(Instant now);
  // True when a draw would matter: enabled and RejectProbability(now) > 0.
  bool ShouldDraw(Instant now) { return RejectProbability(now) > 0.0; }
  // Counts a request at `now`; false (rejected, counted) when u < p.
  bool Admit(double u, Instant now);
  // The upstream answered `status` (499, the core's own cancel, is ignored).
  void RecordAnswer(int status, Instant now);

  uint64_t rejected() const { return rejected_; }

 private:
  static constexpr size_t kRequests = 0;
  static constexpr size_t kAccepts = 1;
  AdaptiveThrottleConfig config_;
  SlidingCounts<2> counts_;
  uint64_t rejected_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_ADAPTIVE_THROTTLE_H_
