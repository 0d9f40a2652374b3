// api_admission.h — the gates an upstream call to one API passes, in one
// place and in one order: circuit breaker → quota → token bucket → bulkhead.
//
// The core keeps one ApiAdmission per upstream API, built from that API's
// policy (its bucket, quota tracker, bulkhead and retry budget are the API's
// own, shared by its endpoints; the breaker is the endpoint's, passed in).
//
// Check (consumes nothing) answers, for the most urgent call waiting:
//   - kRejectOpen: the breaker does not allow a call now;
//   - kRejectQuota: the quota or the bucket cannot admit it before
//     `deadline` (or never);
//   - kWait: the quota or the bucket admits it at `wake_at` (<= deadline);
//   - kWaitForSlot: every bulkhead slot is taken; ask again when a call ends;
//   - kSend: Admit may take it now.
// Refusals are checked in the gate order, so the first gate that refuses
// decides (a call refused by the breaker spends no quota check).
// Admit takes what Check allowed: a breaker permit, the bucket's tokens, a
// bulkhead slot, and the quota's bookkeeping for a sent call. OnCallEnded
// gives the slot back once the transport has confirmed the call ended.
//
// Overload (all off by default): PassThrottle applies adaptive throttling
// to a call Check allowed (a seeded draw, only while the rejection
// probability is above 0); OnCallResult feeds every answer or timeout to
// adaptive throttling, retry throttling and adaptive concurrency, which
// resizes the bulkhead. The API's retry budget and hedge budget live here
// too.
//
// Units: credits are the upstream's quota units (fractional); tokens are the
// bucket's. Not thread-safe.
#ifndef ORCHSIM_POLICIES_API_ADMISSION_H_
#define ORCHSIM_POLICIES_API_ADMISSION_H_

#include "policies/adaptive_concurrency.h"
#include "policies/adaptive_throttle.h"
#include "policies/circuit_breaker.h"
#include "policies/concurrency_limiter.h"
#include "policies/orchestrator_config.h"
#include "policies/ports.h"
#include "policies/quota_tracker.h"
#include "policies/request.h"
#include "policies/retry_budget.h"
#include "policies/retry_throttle.h"
#include "policies/time.h"
#include "policies/token_bucket.h"

namespace orchsim {

enum class AdmissionVerdict : uint8_t { kSend, kWait, kWaitForSlot, kRejectOpen, kRejectQuota };

struct AdmissionDecision {
  AdmissionVerdict verdict = AdmissionVerdict::kSend;
  Instant wake_at = Instant::Max();  // kWait: when to ask again
};

class ApiAdmission {
 public:
  // REQUIRES: policy.validate().ok().
  ApiAdmission(const ApiPolicy& policy, Instant now);

  // See the header. `credits`: what the call is expected to cost.
  AdmissionDecision Check(const CircuitBreaker& breaker, Priority p, double credits,
                          Instant deadline, Instant now) const;
  // Takes what Check allowed. REQUIRES: Check(...) answered kSend at `now`.
  void Admit(CircuitBreaker& breaker, Priority p, double credits, Instant now);
  // A call admitted here has ended (answered, or its cancellation confirmed).
  void OnCallEnded() { bulkhead_.Release(); }
  // A first attempt (not a retry, not a hedge) went out: the retry and
  // hedge budgets count against these.
  void RecordFirstAttempt(Instant now);
  // Adaptive throttling for a call Check allowed: false when it is rejected.
  // Draws from `random` only while the rejection probability is above 0.
  bool PassThrottle(RandomSource& random, Instant now);
  // The core's view of one call: answered with `status` after `latency`, or
  // `timed_out`; `retryable`: a failure a retry could fix (retry throttling
  // counts those).
  void OnCallResult(int status, Duration latency, bool timed_out, bool retryable, Instant now);

  QuotaTracker& quota() { return quota_; }
  const QuotaTracker& quota() const { return quota_; }
  const TokenBucket& bucket() const { return bucket_; }
  const ConcurrencyLimiter& bulkhead() const { return bulkhead_; }
  RetryBudget& retry_budget() { return retry_budget_; }
  const RetryBudget& retry_budget() const { return retry_budget_; }
  RetryBudget& hedge_budget() { return hedge_budget_; }
  RetryThrottle& retry_throttle() { return retry_throttle_; }
  const RetryThrottle& retry_throttle() const { return retry_throttle_; }
  const AdaptiveThrottle& throttle() const { return throttle_; }
  const AdaptiveConcurrency& adaptive_concurrency() const { return adaptive_concurrency_; }

 private:
  double bucket_cost_;
  TokenBucket bucket_;
  QuotaTracker quota_;
  ConcurrencyLimiter bulkhead_;
  RetryBudget retry_budget_;
  RetryBudget hedge_budget_;
  bool hedging_ = false;  // the API or one of its endpoints hedges
  AdaptiveThrottle throttle_;
  bool throttle_enabled_;
  RetryThrottle retry_throttle_;
  AdaptiveConcurrency adaptive_concurrency_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_API_ADMISSION_H_
