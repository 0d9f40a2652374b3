#include "policies/api_admission.h"

namespace orchsim {

ApiAdmission::ApiAdmission(const ApiPolicy& policy, Instant now)
    : bucket_cost_(policy.bucket.cost_per_call),
      bucket_(policy.bucket, now),
      quota_(policy.quota),
      bulkhead_(policy.concurrency),
      retry_budget_(policy.retry_budget) {}

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

}  // namespace orchsim
