// retry_budget.h — a system-wide cap on retries, so retries cannot multiply
// load on an upstream that is already failing (Finagle's RetryBudget; Envoy's
// retry_budget plays the same role).
//
// Rule: a retry is granted when, counting over the sliding window,
//   retries + 1 <= ratio * first_attempts + min_retries_per_s * window_s
// i.e. retries may be `ratio` of first attempts, plus a floor of
// `min_retries_per_s` per second of window so that a quiet system can still
// retry at all. A granted retry is recorded; a denied one is not.
// The comparison tolerates 1e-9 of floating-point error, so ratio 0.2 with
// 5 first attempts allows exactly one retry.
//
// Window and rounding: sliding_counts.h (1 s buckets on the Unix epoch; an
// event counts for more than window - 1s and at most window). Memory is
// window/1s buckets, whatever the traffic; each call costs amortised O(1).
//
// Disabled: every retry is granted (and counted in granted()); nothing is
// recorded in the window.
//
// Units: window in Duration (whole seconds); ratio is retries per first
// attempt; min_retries_per_s is retries per second.
#ifndef ORCHSIM_POLICIES_RETRY_BUDGET_H_
#define ORCHSIM_POLICIES_RETRY_BUDGET_H_

#include <cstdint>
#include <vector>

#include "policies/sliding_counts.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

inline constexpr Duration kRetryBudgetBucket = kSlidingBucket;
inline constexpr Duration kRetryBudgetMaxWindow = Hours(1);  // bounds memory: 3600 buckets
inline constexpr double kRetryBudgetMaxRatio = 100.0;

struct RetryBudgetConfig {
  bool enabled = true;             // false: never deny a retry
  double ratio = 0.2;              // retries per first attempt; 0..kRetryBudgetMaxRatio
  double min_retries_per_s = 1.0;  // floor, retries per second of window; >= 0, finite
  Duration window = Seconds(10);   // whole seconds, 1s..kRetryBudgetMaxWindow

  // Ok, or an error naming the first bad field ("retry_budget.window: ...").
  Status validate() const;
};

// Not thread-safe. REQUIRES: config.validate() is ok.
class RetryBudget {
 public:
  explicit RetryBudget(const RetryBudgetConfig& config);

  // Counts one first attempt (a call that is not a retry) at `now`.
  void RecordFirstAttempt(Instant now);

  // True, and the retry is recorded, when the budget allows one more retry at
  // `now`; false (counted in denied()) otherwise.
  bool TryAcquireRetry(Instant now);

  uint64_t denied() const { return denied_; }
  uint64_t granted() const { return granted_; }

  // Counts inside the window as of the latest instant seen (for tests and
  // metrics).
  uint64_t first_attempts_in_window() const { return counts_.totals()[kFirstAttempts]; }
  uint64_t retries_in_window() const { return counts_.totals()[kRetries]; }

 private:
  static constexpr size_t kFirstAttempts = 0;
  static constexpr size_t kRetries = 1;

  RetryBudgetConfig config_;
  SlidingCounts<2> counts_;
  uint64_t granted_ = 0;
  uint64_t denied_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_RETRY_BUDGET_H_
