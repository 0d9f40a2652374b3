// The overload policies inside the core, at exact virtual times: hedging,
// retry throttling, adaptive throttling, adaptive concurrency and deadline
// propagation.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

using testing::ErrorResponse;
using testing::FakeClock;
using testing::FakeTimers;
using testing::FakeTransport;
using testing::OkResponse;
using testing::ScriptedRandom;

const Instant kT0 = *ParseInstant("2023-09-10T12:00:00Z");

std::string Key(uint64_t n) {
  std::string key = "k";  // appended: a GCC 12 false positive on "k" + std::string
  key += std::to_string(n);
  return key;
}

OrchestratorConfig Bare() {
  OrchestratorConfig c;
  c.defaults.bucket.enabled = false;
  c.defaults.quota.enabled = false;
  c.queue.escalation_enabled = false;
  c.defaults.coalescer.enabled = false;
  c.defaults.batcher.enabled = false;
  c.defaults.cache.enabled = false;
  c.defaults.breaker.enabled = false;
  c.defaults.retry.enabled = false;
  c.defaults.retry_budget.enabled = false;
  c.defaults.concurrency.enabled = false;
  c.defaults.timeouts.enabled = false;
  c.health.enabled = false;
  return c;
}

class OverloadTest : public ::testing::Test {
 protected:
  OverloadTest() : clock_(kT0), timers_(clock_), transport_(clock_, timers_), random_({0.0}) {}

  void Build(const OrchestratorConfig& config) {
    StatusOr<std::unique_ptr<Orchestrator>> built =
        Orchestrator::Create(config, clock_, timers_, transport_, random_);
    ASSERT_TRUE(built.ok()) << built.status().message();
    core_ = std::move(built).value();
  }
  void Submit(uint64_t id) {
    Request r;
    r.id = id;
    r.api = "odds";
    r.endpoint = "odds";
    r.key = Key(id);
    core_->Submit(r, [this, id](const Result& result) {
      EXPECT_EQ(results_.count(id), 0u) << "request " << id << " completed twice";
      results_[id] = result;
      ended_at_[id] = clock_.now();
    });
  }
  // Every call answered `status` after `latency`.
  void AnswerAll(int status, Duration latency) {
    transport_.set_auto_responder([status, latency](const UpstreamCall&) {
      return std::make_pair(status == 200 ? OkResponse() : ErrorResponse(status), latency);
    });
  }

  FakeClock clock_;
  FakeTimers timers_;
  FakeTransport transport_;
  ScriptedRandom random_;  // every draw 0.0: any positive rejection probability rejects
  std::unique_ptr<Orchestrator> core_;
  std::map<uint64_t, Result> results_;
  std::map<uint64_t, Instant> ended_at_;
};

TEST_F(OverloadTest, AHedgeGoesAfterTheDelayAndTheFirstAnswerWins) {
  OrchestratorConfig c = Bare();
  c.defaults.hedging.enabled = true;
  c.defaults.hedging.delay = Milliseconds(100);
  c.defaults.hedging.max_hedges = 1;
  c.defaults.hedging.budget_ratio = 1.0;
  Build(c);
  Submit(1);
  timers_.AdvanceBy(Milliseconds(99));
  ASSERT_EQ(transport_.calls().size(), 1u);
  timers_.AdvanceBy(Milliseconds(1));
  ASSERT_EQ(transport_.calls().size(), 2u);
  EXPECT_EQ(transport_.calls()[1].kind, CallKind::kHedge);
  EXPECT_EQ(transport_.send_times()[1], kT0 + Milliseconds(100));
  EXPECT_EQ(core_->stats().hedges, 1u);
  // No second hedge (max_hedges 1).
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(transport_.calls().size(), 2u);
  // The first call answers first: it wins, the hedge is cancelled.
  transport_.AnswerOldest(OkResponse({5}));
  EXPECT_EQ(results_[1].outcome, Outcome::kServed);
  EXPECT_EQ(results_[1].payload_version, 5u);
  EXPECT_EQ(transport_.cancelled(), (std::vector<Transport::CallHandle>{2}));
  timers_.RunAll();
  EXPECT_EQ(core_->calls_in_flight(), 0u);
}

TEST_F(OverloadTest, AFailedCallWaitsForItsHedgeBeforeTheAttemptFails) {
  OrchestratorConfig c = Bare();
  c.defaults.hedging.enabled = true;
  c.defaults.hedging.delay = Milliseconds(100);
  c.defaults.hedging.budget_ratio = 1.0;
  Build(c);
  Submit(1);
  timers_.AdvanceBy(Milliseconds(100));
  ASSERT_EQ(transport_.outstanding(), 2u);
  transport_.AnswerOldest(ErrorResponse(503));  // the first call fails
  EXPECT_EQ(results_.count(1), 0u);             // the hedge is still out
  transport_.AnswerOldest(OkResponse({9}));     // and it succeeds
  EXPECT_EQ(results_[1].outcome, Outcome::kServed);
  EXPECT_EQ(results_[1].payload_version, 9u);
}

TEST_F(OverloadTest, AnEmptyHedgeBudgetSendsNoHedge) {
  OrchestratorConfig c = Bare();
  c.defaults.hedging.enabled = true;
  c.defaults.hedging.delay = Milliseconds(100);
  c.defaults.hedging.budget_ratio = 0.0;
  c.defaults.hedging.budget_min_per_s = 0.0;
  Build(c);
  Submit(1);
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(transport_.calls().size(), 1u);
  EXPECT_EQ(core_->stats().hedges, 0u);
  EXPECT_EQ(core_->stats().hedges_denied, 1u);
}

// gRPC retry throttling, max 4 tokens: every failure costs one; retries
// only while more than 2 are left. Each request fails twice, then the
// third request gets no retry at all.
TEST_F(OverloadTest, RetryThrottlingStopsRetriesWhileTheUpstreamFails) {
  OrchestratorConfig c = Bare();
  c.defaults.retry.enabled = true;
  c.defaults.retry.max_attempts = 3;
  c.defaults.retry.backoff = BackoffKind::kNone;
  c.defaults.retry_throttling.enabled = true;
  c.defaults.retry_throttling.max_tokens = 4;
  c.defaults.retry_throttling.token_ratio = 1;
  Build(c);
  AnswerAll(503, Milliseconds(10));
  Submit(1);
  timers_.AdvanceBy(Seconds(1));
  // tokens 4 -> 3 (retry allowed: 3 > 2) -> 2 (not above half: no retry).
  EXPECT_EQ(results_[1].outcome, Outcome::kFailed);
  EXPECT_EQ(results_[1].attempts, 2);
  EXPECT_EQ(core_->stats().retries_throttled, 1u);
  Submit(2);
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(results_[2].attempts, 1);  // tokens 2 -> 1: no retry
  AnswerAll(200, Milliseconds(10));    // recovery refills one token per success
  Submit(3);
  Submit(4);
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(core_->retry_budget("odds") != nullptr, true);
  EXPECT_EQ(results_[3].outcome, Outcome::kServed);
  EXPECT_EQ(results_[4].outcome, Outcome::kServed);
}

// SRE adaptive throttling with k = 1 and every draw 0: after one refused
// call, p = (requests - accepts) / (requests + 1) > 0 and every later call
// is rejected locally until the window forgets.
TEST_F(OverloadTest, AdaptiveThrottlingRejectsLocallyWhileTheUpstreamRefuses) {
  OrchestratorConfig c = Bare();
  c.defaults.adaptive_throttling.enabled = true;
  c.defaults.adaptive_throttling.k = 1.0;
  c.defaults.adaptive_throttling.window = Seconds(10);
  Build(c);
  AnswerAll(503, Milliseconds(10));
  for (uint64_t id = 1; id <= 5; ++id) {
    Submit(id);
    timers_.AdvanceBy(Milliseconds(100));
  }
  EXPECT_EQ(results_[1].outcome, Outcome::kFailed);
  for (uint64_t id = 2; id <= 5; ++id) {
    EXPECT_EQ(results_[id].outcome, Outcome::kRejectedThrottled) << id;
    EXPECT_EQ(ended_at_[id], kT0 + Milliseconds(100) * static_cast<int64_t>(id - 1));
  }
  EXPECT_EQ(transport_.calls().size(), 1u);
  EXPECT_EQ(core_->stats().by_outcome[static_cast<int>(Outcome::kRejectedThrottled)], 4u);
  timers_.AdvanceTo(kT0 + Seconds(11));  // the window forgot
  AnswerAll(200, Milliseconds(10));
  Submit(6);
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(results_[6].outcome, Outcome::kServed);
}

// AIMD adaptive concurrency: every call slower than the 100 ms threshold
// halves the bulkhead's limit (4 -> 2 -> 1).
TEST_F(OverloadTest, AdaptiveConcurrencyShrinksTheBulkheadWhenLatencyRises) {
  OrchestratorConfig c = Bare();
  c.defaults.adaptive_concurrency.enabled = true;
  c.defaults.adaptive_concurrency.algorithm = ConcurrencyAlgorithm::kAimd;
  c.defaults.adaptive_concurrency.initial_limit = 4;
  c.defaults.adaptive_concurrency.min_limit = 1;
  c.defaults.adaptive_concurrency.max_limit = 4;
  c.defaults.adaptive_concurrency.latency_threshold = Milliseconds(100);
  c.defaults.adaptive_concurrency.backoff_ratio = 0.5;
  Build(c);
  AnswerAll(200, Milliseconds(200));
  for (uint64_t id = 1; id <= 6; ++id) Submit(id);
  EXPECT_EQ(transport_.calls().size(), 4u);  // the initial limit
  EXPECT_EQ(core_->bulkhead("odds")->limit(), 4);
  timers_.AdvanceTo(kT0 + Milliseconds(200));
  // Four slow answers at 200 ms: 4 -> 2 -> 1 -> 1 (min) -> 1; with 0 in
  // flight afterwards one more call fits.
  EXPECT_EQ(core_->bulkhead("odds")->limit(), 1);
  EXPECT_EQ(transport_.calls().size(), 5u);
  EXPECT_EQ(transport_.send_times()[4], kT0 + Milliseconds(200));
  timers_.RunAll();
  EXPECT_EQ(results_.size(), 6u);
  EXPECT_EQ(transport_.send_times()[5], kT0 + Milliseconds(400));
}

// Deadline propagation: each call carries min(per-attempt, the request's
// deadline); a retry is made only if at least min_attempt is left after its
// backoff.
TEST_F(OverloadTest, NoRetryThatCannotFinishInTime) {
  OrchestratorConfig c = Bare();
  c.defaults.retry.enabled = true;
  c.defaults.retry.max_attempts = 5;
  c.defaults.retry.backoff = BackoffKind::kConstant;
  c.defaults.retry.base = Seconds(1);
  c.defaults.timeouts.enabled = true;
  c.defaults.timeouts.per_attempt = Seconds(10);
  c.defaults.timeouts.overall = Seconds(5);
  c.defaults.timeouts.min_attempt = Seconds(2);
  Build(c);
  AnswerAll(503, Milliseconds(10));
  Submit(1);
  timers_.AdvanceBy(Seconds(10));
  // Attempts at 0, 1.01 s and 2.02 s; the next would start at 3.03 s with
  // 1.97 s left, less than min_attempt.
  EXPECT_EQ(transport_.send_times(),
            (std::vector<Instant>{kT0, kT0 + Milliseconds(1010), kT0 + Milliseconds(2020)}));
  EXPECT_EQ(results_[1].outcome, Outcome::kFailed);
  EXPECT_EQ(ended_at_[1], kT0 + Milliseconds(2030));
  for (const UpstreamCall& call : transport_.calls()) EXPECT_EQ(call.deadline, kT0 + Seconds(5));
}

}  // namespace
}  // namespace orchsim
