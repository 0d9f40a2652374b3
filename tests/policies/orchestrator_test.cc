// The orchestrator end to end over fake ports: each test pins what a
// mechanism does to calls, outcomes and exact virtual times.
#include "policies/orchestrator.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

using testing::ErrorResponse;
using testing::FakeClock;
using testing::FakeTimers;
using testing::FakeTransport;
using testing::OkResponse;
using testing::SeededRandom;

const Instant kT0 = *ParseInstant("2023-09-10T12:00:00Z");

// Every mechanism off: the "naive" preset.
OrchestratorConfig NaiveConfig() {
  OrchestratorConfig c;
  c.defaults.bucket.enabled = false;
  c.defaults.quota.enabled = false;
  c.queue.escalation_enabled = false;
  c.defaults.coalescer.enabled = false;
  c.defaults.batcher.enabled = false;
  c.defaults.cache.enabled = false;
  c.prefetch.enabled = false;
  c.defaults.breaker.enabled = false;
  c.defaults.retry.enabled = false;
  c.defaults.retry_budget.enabled = false;
  c.defaults.concurrency.enabled = false;
  c.defaults.timeouts.enabled = false;
  c.health.enabled = false;
  return c;
}

class OrchestratorTest : public ::testing::Test {
 protected:
  OrchestratorTest() : clock_(kT0), timers_(clock_), transport_(clock_, timers_), random_(7) {}

  void Build(const OrchestratorConfig& config) {
    StatusOr<std::unique_ptr<Orchestrator>> built =
        Orchestrator::Create(config, clock_, timers_, transport_, random_);
    ASSERT_TRUE(built.ok()) << built.status().message();
    orchestrator_ = std::move(built).value();
  }

  // Submits a request; its result lands in results_[id].
  void Submit(uint64_t id, const std::string& key, Priority priority = Priority::kNormal,
              bool batchable = false, std::string api = "odds") {
    Request r;
    r.id = id;
    r.api = std::move(api);
    r.endpoint = "odds";
    r.key = key;
    r.priority = priority;
    r.batchable = batchable;
    orchestrator_->Submit(r, [this, id](const Result& result) {
      EXPECT_EQ(results_.count(id), 0u) << "request " << id << " completed twice";
      results_[id] = result;
      completed_at_[id] = clock_.now();
    });
  }
  Outcome OutcomeOf(uint64_t id) const { return results_.at(id).outcome; }

  FakeClock clock_;
  FakeTimers timers_;
  FakeTransport transport_;
  SeededRandom random_;
  std::unique_ptr<Orchestrator> orchestrator_;
  std::map<uint64_t, Result> results_;
  std::map<uint64_t, Instant> completed_at_;
};

TEST_F(OrchestratorTest, NaiveSendsEveryRequestStraightUpstream) {
  Build(NaiveConfig());
  Submit(1, "g1");
  Submit(2, "g1");
  ASSERT_EQ(transport_.calls().size(), 2u);
  EXPECT_EQ(transport_.calls()[0].kind, CallKind::kFirstAttempt);
  timers_.AdvanceBy(Milliseconds(40));
  transport_.AnswerOldest(OkResponse({5}));
  transport_.AnswerOldest(ErrorResponse(503));
  EXPECT_EQ(OutcomeOf(1), Outcome::kServed);
  EXPECT_EQ(results_[1].payload_version, 5u);
  EXPECT_EQ(results_[1].fetched_at, kT0 + Milliseconds(40));
  EXPECT_EQ(results_[1].queue_wait, Duration::Zero());
  EXPECT_EQ(OutcomeOf(2), Outcome::kFailed);
  EXPECT_EQ(results_[2].status, 503);
  EXPECT_EQ(orchestrator_->stats().completed, 2u);
}

TEST_F(OrchestratorTest, CacheAnswersUntilTheTtlEndsExactly) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.cache.enabled = true;
  c.defaults.cache.default_ttl = Minutes(5);
  Build(c);
  Submit(1, "g1");
  transport_.AnswerOldest(OkResponse({3}));  // fetched at kT0
  timers_.AdvanceTo(kT0 + Minutes(5) - Microseconds(1));
  Submit(2, "g1");
  EXPECT_EQ(OutcomeOf(2), Outcome::kCacheHit);
  EXPECT_EQ(results_[2].payload_version, 3u);
  timers_.AdvanceTo(kT0 + Minutes(5));
  Submit(3, "g1");
  EXPECT_EQ(results_.count(3), 0u) << "expired: must go upstream";
  EXPECT_EQ(transport_.calls().size(), 2u);
}

TEST_F(OrchestratorTest, CoalescesIdenticalRequestsInFlight) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.coalescer.enabled = true;
  Build(c);
  Submit(1, "g1");
  Submit(2, "g1");
  Submit(3, "g2");
  EXPECT_EQ(transport_.calls().size(), 2u);
  transport_.AnswerOldest(OkResponse({9}));
  EXPECT_EQ(OutcomeOf(1), Outcome::kServed);
  EXPECT_EQ(OutcomeOf(2), Outcome::kCoalesced);
  EXPECT_EQ(results_[2].payload_version, 9u);
  EXPECT_EQ(results_.count(3), 0u);
}

TEST_F(OrchestratorTest, RetriesAfterConstantBackoffAtTheExactInstant) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.retry.enabled = true;
  c.defaults.retry.max_attempts = 3;
  c.defaults.retry.backoff = BackoffKind::kConstant;
  c.defaults.retry.base = Milliseconds(250);
  Build(c);
  Submit(1, "g1");
  timers_.AdvanceBy(Milliseconds(10));
  transport_.AnswerOldest(ErrorResponse(503));
  ASSERT_EQ(transport_.calls().size(), 1u);
  timers_.AdvanceTo(kT0 + Milliseconds(260) - Microseconds(1));
  EXPECT_EQ(transport_.calls().size(), 1u);
  timers_.AdvanceTo(kT0 + Milliseconds(260));
  ASSERT_EQ(transport_.calls().size(), 2u);
  EXPECT_EQ(transport_.calls()[1].kind, CallKind::kRetry);
  EXPECT_EQ(transport_.calls()[1].attempt, 2);
  transport_.AnswerOldest(OkResponse());
  EXPECT_EQ(OutcomeOf(1), Outcome::kServed);
  EXPECT_EQ(results_[1].attempts, 2);
  EXPECT_EQ(orchestrator_->stats().retries, 1u);
}

TEST_F(OrchestratorTest, NonRetryableStatusFailsAtOnce) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.retry.enabled = true;
  Build(c);
  Submit(1, "g1");
  transport_.AnswerOldest(ErrorResponse(404));
  EXPECT_EQ(OutcomeOf(1), Outcome::kFailed);
  EXPECT_EQ(transport_.calls().size(), 1u);
}

TEST_F(OrchestratorTest, OpenBreakerRejectsOrServesStale) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.breaker.enabled = true;
  c.defaults.breaker.failure_threshold = 2;
  c.defaults.breaker.open_wait = Seconds(30);
  c.defaults.cache.enabled = true;
  c.defaults.cache.default_ttl = Seconds(10);
  c.defaults.cache.stale_if_error = true;
  c.defaults.cache.stale_max_age = Hours(1);
  Build(c);
  Submit(1, "cached");
  transport_.AnswerOldest(OkResponse({4}));
  timers_.AdvanceBy(Seconds(20));  // entry now stale
  Submit(2, "a");
  Submit(3, "b");
  transport_.AnswerOldest(ErrorResponse(500));
  transport_.AnswerOldest(ErrorResponse(500));  // second failure trips
  EXPECT_EQ(OutcomeOf(2), Outcome::kFailed);
  EXPECT_EQ(orchestrator_->breakers().breakers().size(), 1u);
  Submit(4, "c");
  EXPECT_EQ(OutcomeOf(4), Outcome::kRejectedCircuitOpen);
  Submit(5, "cached");
  EXPECT_EQ(OutcomeOf(5), Outcome::kServedStale);
  EXPECT_EQ(results_[5].payload_version, 4u);
  EXPECT_EQ(transport_.calls().size(), 3u) << "no call while open";
  // After the open wait, one probe goes through (half-open) and closes it.
  timers_.AdvanceBy(Seconds(30));
  Submit(6, "d");
  ASSERT_EQ(transport_.calls().size(), 4u);
  transport_.AnswerOldest(OkResponse());
  EXPECT_EQ(OutcomeOf(6), Outcome::kServed);
}

TEST_F(OrchestratorTest, TokenBucketSpacesCallsExactly) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.bucket.enabled = true;
  c.defaults.bucket.rate_per_s = 2.0;  // one token per 500 ms
  c.defaults.bucket.burst = 1.0;
  c.defaults.bucket.cost_per_call = 1.0;
  Build(c);
  for (uint64_t id = 1; id <= 3; ++id) Submit(id, std::to_string(id));
  timers_.AdvanceBy(Seconds(2));
  ASSERT_EQ(transport_.send_times().size(), 3u);
  EXPECT_EQ(transport_.send_times()[0], kT0);
  EXPECT_EQ(transport_.send_times()[1], kT0 + Milliseconds(500));
  EXPECT_EQ(transport_.send_times()[2], kT0 + Milliseconds(1000));
  while (transport_.outstanding() > 0) transport_.AnswerOldest(OkResponse());
  EXPECT_EQ(results_[3].queue_wait, Milliseconds(1000));
}

TEST_F(OrchestratorTest, HigherPriorityOvertakesInTheQueue) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.concurrency.enabled = true;
  c.defaults.concurrency.max_in_flight = 1;
  Build(c);
  Submit(1, "first");
  Submit(2, "normal", Priority::kNormal);
  Submit(3, "low", Priority::kLow);
  Submit(4, "critical", Priority::kCritical);
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    order.push_back(transport_.calls().back().keys[0]);
    timers_.AdvanceBy(Milliseconds(100));
    transport_.AnswerOldest(OkResponse());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"first", "critical", "normal", "low"}));
  EXPECT_EQ(results_[4].queue_wait, Milliseconds(100));
  EXPECT_EQ(results_[3].queue_wait, Milliseconds(300));
}

TEST_F(OrchestratorTest, ShedsTheLowestClassAtCapacity) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.concurrency.enabled = true;
  c.defaults.concurrency.max_in_flight = 1;
  c.queue.capacity = 2;
  Build(c);
  Submit(1, "in-flight");
  Submit(2, "low", Priority::kLow);
  Submit(3, "normal", Priority::kNormal);
  Submit(4, "high", Priority::kHigh);  // queue full: the LOW one is shed
  EXPECT_EQ(OutcomeOf(2), Outcome::kShed);
  Submit(5, "prefetch-like", Priority::kPrefetch);  // lowest of all: itself shed
  EXPECT_EQ(OutcomeOf(5), Outcome::kShed);
}

TEST_F(OrchestratorTest, AttemptTimeoutDiscardsTheLateAnswer) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.timeouts.enabled = true;
  c.defaults.timeouts.per_attempt = Seconds(2);
  c.defaults.timeouts.overall = Seconds(60);
  Build(c);
  Submit(1, "g1");
  timers_.AdvanceTo(kT0 + Seconds(2));
  EXPECT_EQ(OutcomeOf(1), Outcome::kFailed);
  EXPECT_EQ(results_[1].status, kStatusTransportError);
  EXPECT_EQ(completed_at_[1], kT0 + Seconds(2));
  // The core cancelled the call; the transport confirmed through its timers
  // at the same instant, and the confirmation is discarded as late.
  EXPECT_EQ(transport_.cancelled().size(), 1u);
  EXPECT_EQ(orchestrator_->stats().calls_cancelled, 1u);
  EXPECT_EQ(orchestrator_->calls_in_flight(), 0u);
  EXPECT_EQ(orchestrator_->stats().late_answers_discarded, 1u);
  EXPECT_EQ(orchestrator_->stats().completed, 1u);
}

TEST_F(OrchestratorTest, AnAnswerRacingTheCancelIsDiscardedAsLate) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.timeouts.enabled = true;
  c.defaults.timeouts.per_attempt = Seconds(2);
  Build(c);
  transport_.set_ignore_cancel(true);  // the answer was already on its way
  Submit(1, "g1");
  timers_.AdvanceTo(kT0 + Seconds(2));
  EXPECT_EQ(OutcomeOf(1), Outcome::kFailed);
  transport_.AnswerOldest(OkResponse());
  EXPECT_EQ(orchestrator_->stats().late_answers_discarded, 1u);
  EXPECT_EQ(orchestrator_->calls_in_flight(), 0u);
  EXPECT_EQ(orchestrator_->stats().completed, 1u);
  EXPECT_EQ(orchestrator_->cache().size(), 0u);  // a late answer fills nothing
}

TEST_F(OrchestratorTest, OverallDeadlineEndsAQueuedRequest) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.concurrency.enabled = true;
  c.defaults.concurrency.max_in_flight = 1;
  Build(c);
  Submit(1, "slow");
  Request r;
  r.id = 2;
  r.api = "odds";
  r.endpoint = "odds";
  r.key = "late";
  r.deadline = kT0 + Seconds(5);
  orchestrator_->Submit(r, [this](const Result& result) {
    results_[2] = result;
    completed_at_[2] = clock_.now();
  });
  timers_.AdvanceTo(kT0 + Seconds(5));
  EXPECT_EQ(OutcomeOf(2), Outcome::kTimedOut);
  EXPECT_EQ(completed_at_[2], kT0 + Seconds(5));
  transport_.AnswerOldest(OkResponse());
  EXPECT_EQ(transport_.calls().size(), 1u) << "the timed-out request spends no call";
}

TEST_F(OrchestratorTest, BatchesWithinTheWindowIntoOneCall) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.batcher.enabled = true;
  c.defaults.batcher.window = Milliseconds(200);
  c.defaults.batcher.max_batch_size = 10;
  Build(c);
  Submit(1, "kc", Priority::kNormal, /*batchable=*/true);
  timers_.AdvanceBy(Milliseconds(50));
  Submit(2, "det", Priority::kNormal, true);
  Submit(3, "kc", Priority::kNormal, true);  // same key: merged
  timers_.AdvanceTo(kT0 + Milliseconds(200) - Microseconds(1));
  EXPECT_EQ(transport_.calls().size(), 0u);
  timers_.AdvanceTo(kT0 + Milliseconds(200));
  ASSERT_EQ(transport_.calls().size(), 1u);
  EXPECT_EQ(transport_.calls()[0].kind, CallKind::kBatch);
  EXPECT_EQ(transport_.calls()[0].keys, (std::vector<std::string>{"kc", "det"}));
  transport_.AnswerOldest(OkResponse({11, 22}));
  EXPECT_EQ(results_[1].payload_version, 11u);
  EXPECT_EQ(results_[2].payload_version, 22u);
  EXPECT_EQ(results_[3].payload_version, 11u);
  EXPECT_EQ(OutcomeOf(3), Outcome::kServed);
}

TEST_F(OrchestratorTest, ShutdownDrainsThenCancelsTheRest) {
  OrchestratorConfig c = NaiveConfig();
  Build(c);
  Submit(1, "g1");
  Submit(2, "g2");
  bool stopped = false;
  orchestrator_->Shutdown(Seconds(10), [&] { stopped = true; });
  Submit(3, "g3");
  EXPECT_EQ(OutcomeOf(3), Outcome::kCancelled) << "intake closed";
  timers_.AdvanceBy(Seconds(1));
  transport_.AnswerOldest(OkResponse());
  EXPECT_EQ(OutcomeOf(1), Outcome::kServed);
  EXPECT_FALSE(stopped);
  timers_.AdvanceTo(kT0 + Seconds(10));
  EXPECT_TRUE(stopped);
  EXPECT_EQ(OutcomeOf(2), Outcome::kCancelled);
  EXPECT_EQ(completed_at_[2], kT0 + Seconds(10));
  // Its queue wait ended when its call went out, not at the cancel.
  EXPECT_EQ(results_[2].queue_wait, Duration::Zero());
  // The stop cancelled the call still out; its confirmation is discarded.
  EXPECT_EQ(transport_.cancelled().size(), 1u);
  const size_t completed = results_.size();
  timers_.RunAll();
  EXPECT_EQ(results_.size(), completed) << "nothing completes after the stop";
  EXPECT_EQ(orchestrator_->calls_in_flight(), 0u);
  EXPECT_EQ(orchestrator_->stats().late_answers_discarded, 1u);
}

TEST_F(OrchestratorTest, ShutdownStopsEarlyWhenNothingIsPending) {
  Build(NaiveConfig());
  Submit(1, "g1");
  bool stopped = false;
  orchestrator_->Shutdown(Seconds(10), [&] { stopped = true; });
  timers_.AdvanceBy(Milliseconds(30));
  transport_.AnswerOldest(OkResponse());
  EXPECT_TRUE(stopped);
  EXPECT_EQ(clock_.now(), kT0 + Milliseconds(30));
}

TEST_F(OrchestratorTest, PrefetchFillsTheCacheBeforeKickoff) {
  OrchestratorConfig c = NaiveConfig();
  c.defaults.cache.enabled = true;
  c.defaults.cache.default_ttl = Hours(3);
  c.defaults.coalescer.enabled = true;
  c.prefetch.enabled = true;
  c.prefetch.offsets = {Hours(1)};
  c.prefetch.targets = {PrefetchTarget{"odds", "odds", "{game}"}};
  Build(c);
  orchestrator_->AddGame("KC-DET", kT0 + Hours(2));
  timers_.AdvanceTo(kT0 + Hours(1));
  ASSERT_EQ(transport_.calls().size(), 1u);
  EXPECT_EQ(transport_.calls()[0].kind, CallKind::kPrefetch);
  EXPECT_EQ(transport_.calls()[0].keys[0], "KC-DET");
  transport_.AnswerOldest(OkResponse({2}));
  Submit(1, "KC-DET");
  EXPECT_EQ(OutcomeOf(1), Outcome::kCacheHit);
  EXPECT_EQ(orchestrator_->stats().submitted, 1u) << "prefetches are not client requests";
}

}  // namespace
}  // namespace orchsim
