#include "policies/api_admission.h"

namespace orchsim {

ApiAdmission::ApiAdmission(const ApiPolicy& policy, Instant now)
    : bucket_cost_(policy.bucket.cost_per_call),
      bucket_(policy.bucket, now),
      quota_(policy.quota),
      bulkhead_(policy.concurrency),
      retry_budget_(policy.retry_budget),
      hedge_budget_(policy.hedging.Budget()),
      throttle_(policy.adaptive_throttling),
      throttle_enabled_(policy.adaptive_throttling.enabled),
      retry_throttle_(policy.retry_throttling),
      adaptive_concurrency_(policy.adaptive_concurrency) {
  if (adaptive_concurrency_.enabled()) bulkhead_.set_limit(adaptive_concurrency_.limit());
  hedging_ = policy.hedging.enabled;
  for (const auto& [name, endpoint] : policy.endpoints)
    hedging_ = hedging_ || endpoint.hedging.enabled;
}

void ApiAdmission::RecordFirstAttempt(Instant now) {
  retry_budget_.RecordFirstAttempt(now);
  if (hedging_) hedge_budget_.RecordFirstAttempt(now);
}

AdmissionDecision ApiAdmission::Check(const CircuitBreaker& breaker, Priority p, double credits,
                                      Instant deadline, Instant now) const {
  if (!breaker.WouldAllow(now)) return {AdmissionVerdict::kRejectOpen, Instant::Max()};
  const QuotaAdmission quota = quota_.Check(p, credits, now);
  if (!quota.allowed) {
    if (quota.retry_at > deadline) return {AdmissionVerdict::kRejectQuota, Instant::Max()};
    return {AdmissionVerdict::kWait, quota.retry_at};
  }
  const Duration wait = bucket_.TimeUntilAvailable(p, bucket_cost_, now);
  if (wait > Duration::Zero()) {
    if (wait.is_infinite() || wait > deadline - now) {
      return {AdmissionVerdict::kRejectQuota, Instant::Max()};
    }
    return {AdmissionVerdict::kWait, now + wait};
  }
  if (!bulkhead_.CanAcquire()) return {AdmissionVerdict::kWaitForSlot, Instant::Max()};
  return {AdmissionVerdict::kSend, now};
}

void ApiAdmission::Admit(CircuitBreaker& breaker, Priority p, double credits, Instant now) {
  breaker.AllowRequest(now);
  bucket_.TryAcquire(p, bucket_cost_, now);
  bulkhead_.TryAcquire();
  quota_.OnSent(p, credits, now);
}

bool ApiAdmission::PassThrottle(RandomSource& random, Instant now) {
  if (!throttle_enabled_) return true;
  const double u = throttle_.ShouldDraw(now) ? random.Uniform01() : 1.0;
  return throttle_.Admit(u, now);
}

void ApiAdmission::OnCallResult(int status, Duration latency, bool timed_out, bool retryable,
                                Instant now) {
  throttle_.RecordAnswer(timed_out ? kStatusTransportError : status, now);
  retry_throttle_.RecordAnswer(timed_out || retryable);
  if (adaptive_concurrency_.enabled()) {
    const bool dropped = timed_out || status == 429 || status == 503;
    adaptive_concurrency_.OnSample(latency, dropped, bulkhead_.in_flight());
    bulkhead_.set_limit(adaptive_concurrency_.limit());
  }
}

}  // namespace orchsim
