// hedging.h — hedged requests (the tail at scale; Polly's hedging strategy,
// gRPC's hedgingPolicy): when an attempt has not answered after `delay`,
// the core sends the same call again, up to max_hedges times per attempt,
// and takes the first answer; the others are cancelled.
//
// Hedges spend the same gates as any call (breaker, quota, bucket,
// bulkhead: a hedge that would have to wait is not sent), the API's retry
// throttling (retry_throttle.h), and a hedge budget: over a sliding window
// (sliding_counts.h), hedges + 1 <= budget_ratio * first attempts +
// budget_min_per_s * window seconds (the retry budget's rule; the budget is
// the API's, the delay and count the endpoint's).
//
// A failed answer while another call of the same attempt is still out ends
// nothing: the attempt fails (and may be retried) when its last call fails.
#ifndef ORCHSIM_POLICIES_HEDGING_H_
#define ORCHSIM_POLICIES_HEDGING_H_

#include "policies/retry_budget.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

inline constexpr int kMaxHedges = 5;

struct HedgeConfig {
  bool enabled = false;
  Duration delay = Milliseconds(200);    // > 0
  int max_hedges = 1;                    // extra calls per attempt; 1..kMaxHedges
  double budget_ratio = 0.1;             // hedges per first attempt; 0..100
  double budget_min_per_s = 0.0;         // floor, hedges per second of window; >= 0
  Duration budget_window = Seconds(10);  // whole seconds, 1s..1h

  // The budget as a RetryBudget counting hedges against first attempts.
  RetryBudgetConfig Budget() const;
  // Ok, or an error naming the first bad field ("hedging.delay: ...").
  Status validate() const;
  bool operator==(const HedgeConfig&) const = default;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_HEDGING_H_
