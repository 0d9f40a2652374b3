#include "policies/api_admission.h"

#include <gtest/gtest.h>

#include <string>

namespace orchsim {
namespace {

const Instant kT0 = *ParseInstant("2023-09-11T00:00:00Z");
const int64_t kT0Seconds = kT0.unix_micros() / 1'000'000;

ApiPolicy Policy() {
  ApiPolicy p;
  p.bucket.rate_per_s = 1;  // one token a second
  p.bucket.burst = 1;
  p.quota.mode = QuotaMode::kPace;
  p.concurrency.max_in_flight = 1;
  p.breaker.failure_threshold = 1;
  p.breaker.open_wait = Minutes(1);
  return p;
}

Response Quota(const std::string& remaining, int64_t reset_in_s) {
  Response r;
  r.status = 200;
  r.headers.Set("x-ratelimit-limit", "100");
  r.headers.Set("x-ratelimit-remaining", remaining);
  r.headers.Set("x-ratelimit-reset", std::to_string(kT0Seconds + reset_in_s));
  return r;
}

TEST(ApiAdmissionTest, AFreshApiSendsAndAdmitTakesTokenAndSlot) {
  const ApiPolicy policy = Policy();
  ApiAdmission admission(policy, kT0);
  CircuitBreaker breaker("api", policy.breaker);
  const Instant deadline = kT0 + Minutes(1);
  EXPECT_EQ(admission.Check(breaker, Priority::kNormal, 1, deadline, kT0).verdict,
            AdmissionVerdict::kSend);
  admission.Admit(breaker, Priority::kNormal, 1, kT0);
  EXPECT_EQ(admission.bulkhead().in_flight(), 1);
  EXPECT_EQ(admission.bucket().available(kT0), 0.0);
  // The token comes back in 1 s, but the slot is still taken: the bucket
  // answers first (gate order), then the bulkhead.
  AdmissionDecision d = admission.Check(breaker, Priority::kNormal, 1, deadline, kT0);
  EXPECT_EQ(d.verdict, AdmissionVerdict::kWait);
  EXPECT_EQ(d.wake_at, kT0 + Seconds(1));
  d = admission.Check(breaker, Priority::kNormal, 1, deadline, kT0 + Seconds(1));
  EXPECT_EQ(d.verdict, AdmissionVerdict::kWaitForSlot);
  admission.OnCallEnded();
  EXPECT_EQ(admission.Check(breaker, Priority::kNormal, 1, deadline, kT0 + Seconds(1)).verdict,
            AdmissionVerdict::kSend);
}

TEST(ApiAdmissionTest, TheBreakerRefusesFirstWhateverElseWouldWait) {
  const ApiPolicy policy = Policy();
  ApiAdmission admission(policy, kT0);
  admission.quota().Observe(Quota("0", 3600), kT0, kT0);  // exhausted for an hour
  CircuitBreaker breaker("api", policy.breaker);
  breaker.RecordResult(503, Milliseconds(1), kT0);
  ASSERT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(admission.Check(breaker, Priority::kNormal, 1, kT0 + Hours(2), kT0).verdict,
            AdmissionVerdict::kRejectOpen);
}

TEST(ApiAdmissionTest, QuotaWaitsWithinTheDeadlineAndRejectsBeyondIt) {
  const ApiPolicy policy = Policy();
  ApiAdmission admission(policy, kT0);
  admission.quota().Observe(Quota("0", 60), kT0, kT0);  // back in 60 s
  CircuitBreaker breaker("api", policy.breaker);
  AdmissionDecision d = admission.Check(breaker, Priority::kNormal, 1, kT0 + Minutes(2), kT0);
  EXPECT_EQ(d.verdict, AdmissionVerdict::kWait);
  EXPECT_EQ(d.wake_at, kT0 + Seconds(60));
  d = admission.Check(breaker, Priority::kNormal, 1, kT0 + Seconds(59), kT0);
  EXPECT_EQ(d.verdict, AdmissionVerdict::kRejectQuota);
}

TEST(ApiAdmissionTest, TheBucketRejectsWhatItCannotAdmitBeforeTheDeadline) {
  ApiPolicy policy = Policy();
  policy.bucket.rate_per_s = 0.1;  // a token every 10 s
  ApiAdmission admission(policy, kT0);
  CircuitBreaker breaker("api", policy.breaker);
  admission.Admit(breaker, Priority::kNormal, 1, kT0);
  admission.OnCallEnded();
  EXPECT_EQ(admission.Check(breaker, Priority::kNormal, 1, kT0 + Seconds(9), kT0).verdict,
            AdmissionVerdict::kRejectQuota);
  const AdmissionDecision d =
      admission.Check(breaker, Priority::kNormal, 1, kT0 + Seconds(10), kT0);
  EXPECT_EQ(d.verdict, AdmissionVerdict::kWait);
  EXPECT_EQ(d.wake_at, kT0 + Seconds(10));
}

TEST(ApiAdmissionTest, AdmitDoesTheQuotaBookkeepingInFractionalCredits) {
  const ApiPolicy policy = Policy();
  ApiAdmission admission(policy, kT0);
  admission.quota().Observe(Quota("5", 3600), kT0, kT0);
  CircuitBreaker breaker("api", policy.breaker);
  admission.Admit(breaker, Priority::kCritical, 2.5, kT0);
  EXPECT_EQ(admission.quota().snapshot().remaining, 2.5);
  admission.OnCallEnded();
  EXPECT_EQ(
      admission.Check(breaker, Priority::kCritical, 2.6, kT0 + Hours(2), kT0 + Seconds(5)).verdict,
      AdmissionVerdict::kWait);  // 2.5 left: a 2.6-credit call waits for the reset
}

}  // namespace
}  // namespace orchsim
