// The core as a service deploys it: every API with its own policies, calls
// that hold their bulkhead slot until the transport confirms they ended,
// fractional credits, payload bytes through every way of answering, and a
// wall clock that may step without moving the core's timers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
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
using testing::SeededRandom;

const Instant kT0 = *ParseInstant("2023-09-10T12:00:00Z");
const int64_t kT0Seconds = kT0.unix_micros() / 1'000'000;

// "k<n>" (appended, not "k" + std::string: a GCC 12 -Wstringop-overflow
// false positive).
std::string Key(uint64_t n) {
  std::string key = "k";
  key += std::to_string(n);
  return key;
}

// Every mechanism off; tests switch on what they look at.
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

class PerApiTest : public ::testing::Test {
 protected:
  PerApiTest() : clock_(kT0), timers_(clock_), transport_(clock_, timers_), random_(3) {}

  void Build(const OrchestratorConfig& config) {
    StatusOr<std::unique_ptr<Orchestrator>> built =
        Orchestrator::Create(config, clock_, timers_, transport_, random_);
    ASSERT_TRUE(built.ok()) << built.status().message();
    core_ = std::move(built).value();
  }

  void Submit(uint64_t id, const std::string& api, const std::string& key,
              Priority priority = Priority::kNormal, const std::string& endpoint = "data") {
    Request r;
    r.id = id;
    r.api = api;
    r.endpoint = endpoint;
    r.key = key;
    r.priority = priority;
    core_->Submit(r, [this, id](const Result& result) {
      EXPECT_EQ(results_.count(id), 0u) << "request " << id << " completed twice";
      results_[id] = result;
    });
  }
  Outcome OutcomeOf(uint64_t id) const { return results_.at(id).outcome; }
  // Calls sent to `api`, in order.
  std::vector<Instant> SendTimes(const std::string& api) const {
    std::vector<Instant> times;
    for (size_t i = 0; i < transport_.calls().size(); ++i) {
      if (transport_.calls()[i].api == api) times.push_back(transport_.send_times()[i]);
    }
    return times;
  }

  FakeClock clock_;
  FakeTimers timers_;
  FakeTransport transport_;
  SeededRandom random_;
  std::unique_ptr<Orchestrator> core_;
  std::map<uint64_t, Result> results_;
};

// odds: a breaker that trips on the first failure, no retries, 1 s attempts,
// one call at a time. weather: a breaker that needs 10 failures, 3 attempts
// 100 ms apart, 5 s attempts, two calls at a time.
OrchestratorConfig TwoApis() {
  OrchestratorConfig c = Bare();
  ApiPolicy& odds = c.Api("odds");
  odds.breaker.enabled = true;
  odds.breaker.failure_threshold = 1;
  odds.breaker.open_wait = Minutes(1);
  odds.timeouts.enabled = true;
  odds.timeouts.per_attempt = Seconds(1);
  odds.concurrency.enabled = true;
  odds.concurrency.max_in_flight = 1;
  ApiPolicy& weather = c.Api("weather");
  weather.breaker.enabled = true;
  weather.breaker.failure_threshold = 10;
  weather.retry.enabled = true;
  weather.retry.max_attempts = 3;
  weather.retry.backoff = BackoffKind::kConstant;
  weather.retry.base = Milliseconds(100);
  weather.timeouts.enabled = true;
  weather.timeouts.per_attempt = Seconds(5);
  weather.concurrency.enabled = true;
  weather.concurrency.max_in_flight = 2;
  return c;
}

TEST_F(PerApiTest, EachApiHasItsOwnBreakerAndRetries) {
  Build(TwoApis());
  transport_.set_auto_responder(
      [](const UpstreamCall&) { return std::make_pair(ErrorResponse(503), Milliseconds(10)); });
  Submit(1, "odds", "a");
  Submit(2, "weather", "a");
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(OutcomeOf(1), Outcome::kFailed);
  EXPECT_EQ(OutcomeOf(2), Outcome::kFailed);
  EXPECT_EQ(results_[1].attempts, 1);  // odds: no retries
  EXPECT_EQ(results_[2].attempts, 3);  // weather: 3 attempts
  EXPECT_EQ(SendTimes("weather"),
            (std::vector<Instant>{kT0, kT0 + Milliseconds(110), kT0 + Milliseconds(220)}));
  // odds' breaker tripped on its one failure; weather's, after three, did not.
  ASSERT_NE(core_->breakers().Find("odds"), nullptr);
  EXPECT_EQ(core_->breakers().Find("odds")->state(), BreakerState::kOpen);
  EXPECT_EQ(core_->breakers().Find("weather")->state(), BreakerState::kClosed);
  Submit(3, "odds", "b");
  Submit(4, "weather", "b");
  EXPECT_EQ(OutcomeOf(3), Outcome::kRejectedCircuitOpen);
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(OutcomeOf(4), Outcome::kFailed);
  EXPECT_EQ(results_[4].attempts, 3);
}

TEST_F(PerApiTest, EachApiHasItsOwnTimeoutAndBulkhead) {
  OrchestratorConfig c = TwoApis();
  c.Api("odds").breaker.enabled = false;  // timeouts would trip it
  Build(c);  // nothing ever answers (the transport confirms cancels at once)
  for (uint64_t id = 1; id <= 3; ++id) Submit(id, "odds", Key(id));
  for (uint64_t id = 11; id <= 13; ++id) Submit(id, "weather", Key(id));
  EXPECT_EQ(SendTimes("odds").size(), 1u);     // bulkhead of 1
  EXPECT_EQ(SendTimes("weather").size(), 2u);  // bulkhead of 2
  EXPECT_EQ(core_->bulkhead("odds")->in_flight(), 1);
  EXPECT_EQ(core_->bulkhead("weather")->in_flight(), 2);
  timers_.AdvanceTo(kT0 + Seconds(1));
  // odds' attempt timed out after 1 s: the next odds call goes out.
  EXPECT_EQ(OutcomeOf(1), Outcome::kFailed);
  EXPECT_EQ(SendTimes("odds"), (std::vector<Instant>{kT0, kT0 + Seconds(1)}));
  EXPECT_EQ(SendTimes("weather").size(), 2u);
  timers_.AdvanceTo(kT0 + Seconds(5) + Milliseconds(100));
  EXPECT_EQ(SendTimes("odds"), (std::vector<Instant>{kT0, kT0 + Seconds(1), kT0 + Seconds(2)}));
  // weather's attempts last 5 s: then the third request takes a freed slot
  // and one of the two retries (100 ms later) the other.
  EXPECT_EQ(SendTimes("weather"), (std::vector<Instant>{kT0, kT0, kT0 + Seconds(5),
                                                        kT0 + Seconds(5) + Milliseconds(100)}));
  EXPECT_EQ(transport_.cancelled().size(), 3u + 2u);  // odds at 1, 2, 3 s; weather's two at 5 s
  EXPECT_EQ(core_->bulkhead("weather")->in_flight(), 2);
  EXPECT_EQ(core_->bulkhead("odds")->in_flight(), 0);
}

// The probe from the issue: max_in_flight 1, a 1 s attempt timeout, an
// upstream that never answers. Before, every timeout freed the slot while
// the call was still out: 5 calls outstanding, the limiter saying 0. Now a
// call holds its slot until the transport confirms the cancel (here 500 ms
// after it, as closing a connection takes time), so exactly one is out.
TEST_F(PerApiTest, ATimedOutCallKeepsItsBulkheadSlotUntilTheTransportConfirms) {
  OrchestratorConfig c = Bare();
  c.defaults.concurrency.enabled = true;
  c.defaults.concurrency.max_in_flight = 1;
  c.defaults.timeouts.enabled = true;
  c.defaults.timeouts.per_attempt = Seconds(1);
  c.defaults.timeouts.overall = Minutes(1);
  Build(c);
  transport_.set_cancel_delay(Milliseconds(500));
  for (uint64_t id = 1; id <= 5; ++id) Submit(id, "odds", Key(id));
  size_t most_outstanding = 0;               // calls the core counts as out
  for (int step = 0; step < 1000; ++step) {  // 10 s in 10 ms steps
    timers_.AdvanceBy(Milliseconds(10));
    most_outstanding = std::max(most_outstanding, core_->calls_in_flight());
    // Sent and not answered, or cancelled and not yet confirmed: at most one.
    ASSERT_LE(core_->calls_in_flight(), 1u) << "at step " << step;
    ASSERT_EQ(static_cast<size_t>(core_->bulkhead("odds")->in_flight()), core_->calls_in_flight())
        << "at step " << step;
  }
  EXPECT_EQ(most_outstanding, 1u);
  // Sent at 0, then each 1 s timeout + 0.5 s confirmation later.
  EXPECT_EQ(transport_.send_times(),
            (std::vector<Instant>{kT0, kT0 + Milliseconds(1500), kT0 + Seconds(3),
                                  kT0 + Milliseconds(4500), kT0 + Seconds(6)}));
  for (uint64_t id = 1; id <= 5; ++id) EXPECT_EQ(OutcomeOf(id), Outcome::kFailed) << id;
  EXPECT_EQ(core_->calls_in_flight(), 0u);
  EXPECT_EQ(core_->bulkhead("odds")->in_flight(), 0);
  EXPECT_EQ(core_->bulkhead("odds")->peak(), 1);
}

// Credits are fractional end to end: calls expected to cost 1.9 credits
// against a quota the upstream reports in tenths. Four fit in 7.6 credits;
// the fifth does not and is held back (an int64 tracker truncated 1.9 to 1
// and sent it with 0 left... or 1.8 left in the second run below).
TEST_F(PerApiTest, FractionalCreditsHoldBackTheCallThatDoesNotFit) {
  for (const double start : {7.6, 7.5}) {
    SCOPED_TRACE(start);
    results_.clear();
    OrchestratorConfig c = Bare();
    c.defaults.quota.enabled = true;
    c.defaults.quota.mode = QuotaMode::kPace;
    c.defaults.expected_credits_per_call = 1.9;
    c.defaults.timeouts.enabled = true;
    c.defaults.timeouts.overall = Seconds(30);
    Build(c);
    double remaining = start;
    transport_.set_auto_responder([&remaining](const UpstreamCall&) {
      remaining -= 1.9;
      char text[32];
      std::snprintf(text, sizeof(text), "%.1f", remaining + 1e-9);
      Response r = OkResponse({1}, 1.9);
      r.headers.Set("x-ratelimit-limit", "10");
      r.headers.Set("x-ratelimit-remaining", text);
      r.headers.Set("x-ratelimit-reset", std::to_string(kT0Seconds + 3600));
      return std::make_pair(r, Milliseconds(5));
    });
    // The first call learns the quota; the rest go one at a time (CRITICAL:
    // the pace schedule does not apply, exhaustion does).
    for (uint64_t id = 1; id <= 5; ++id) {
      Submit(id, "odds", Key(id), Priority::kCritical);
      timers_.AdvanceBy(Milliseconds(100));
    }
    // start 7.6: 5.7, 3.8, 1.9, 0.0 after four calls; start 7.5: 5.6, 3.7, 1.8
    // after three, and 1.8 cannot pay for 1.9.
    const uint64_t fit = start == 7.6 ? 4 : 3;
    for (uint64_t id = 1; id <= 5; ++id) {
      EXPECT_EQ(OutcomeOf(id), id <= fit ? Outcome::kServed : Outcome::kRejectedQuota) << id;
    }
    EXPECT_EQ(core_->stats().calls_sent, fit);
    ASSERT_NE(core_->quota("odds"), nullptr);
    EXPECT_NEAR(*core_->quota("odds")->snapshot().remaining, start - 1.9 * static_cast<double>(fit),
                1e-9);
  }
}

// Payload bytes reach every waiter through every way of answering, as one
// shared body, never a copy per waiter.
TEST_F(PerApiTest, PayloadBytesThroughServedCoalescedCacheHitAndStale) {
  OrchestratorConfig c = Bare();
  c.defaults.cache.enabled = true;
  c.defaults.cache.default_ttl = Minutes(1);
  c.defaults.cache.stale_if_error = true;
  c.defaults.cache.stale_max_age = Hours(1);
  c.defaults.coalescer.enabled = true;
  Build(c);
  Submit(1, "odds", "g1");
  Submit(2, "odds", "g1");  // joins the flight of 1
  ASSERT_EQ(transport_.outstanding(), 1u);
  Response answer = OkResponse({7});
  answer.bodies = {MakeBody("application/json", R"({"game":"g1","home":-110})")};
  const Body* sent = answer.bodies[0].get();
  transport_.AnswerOldest(answer);
  Submit(3, "odds", "g1");  // fresh in the cache
  EXPECT_EQ(OutcomeOf(1), Outcome::kServed);
  EXPECT_EQ(OutcomeOf(2), Outcome::kCoalesced);
  EXPECT_EQ(OutcomeOf(3), Outcome::kCacheHit);
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_NE(results_[id].body, nullptr) << id;
    EXPECT_EQ(results_[id].body.get(), sent) << id;  // the same bytes, shared
    EXPECT_EQ(results_[id].payload_version, 7u);
  }
  EXPECT_EQ(results_[3].body->bytes, R"({"game":"g1","home":-110})");
  EXPECT_EQ(results_[3].body->content_type, "application/json");
  timers_.AdvanceBy(Minutes(2));  // expired, still within stale_max_age
  Submit(4, "odds", "g1");
  transport_.AnswerOldest(ErrorResponse(503));
  EXPECT_EQ(OutcomeOf(4), Outcome::kServedStale);
  EXPECT_EQ(results_[4].body.get(), sent);
  EXPECT_EQ(results_[4].status, 503);
  EXPECT_EQ(core_->cache().bytes(), RequestKey("odds", "data", "g1").encoded().size() +
                                        sent->bytes.size() + sent->content_type.size());
}

// Wall time may step (NTP, an operator); timers and retries run on the
// monotonic clock. A Retry-After HTTP-date is read against the wall clock.
TEST_F(PerApiTest, ARetryAfterDateIsWallTimeButTheRetryRunsOnTheMonotonicClock) {
  OrchestratorConfig c = Bare();
  c.defaults.retry.enabled = true;
  c.defaults.retry.max_attempts = 2;
  c.defaults.retry.honour_retry_after = true;
  c.defaults.retry.max_retry_after = Minutes(5);
  Build(c);
  clock_.StepWall(Hours(1));  // the wall clock is an hour ahead of the monotonic one
  Submit(1, "odds", "g1");
  Response busy = ErrorResponse(503);
  // 30 s after the wall clock's now: 2023-09-10T13:00:30Z.
  busy.headers.Set("Retry-After", "Sun, 10 Sep 2023 13:00:30 GMT");
  transport_.AnswerOldest(busy);
  timers_.AdvanceBy(Seconds(29));
  EXPECT_EQ(transport_.calls().size(), 1u);
  timers_.AdvanceBy(Seconds(1));
  ASSERT_EQ(transport_.calls().size(), 2u);
  EXPECT_EQ(transport_.send_times()[1], kT0 + Seconds(30));
}

// An endpoint's overrides apply to that endpoint only; its own breaker
// settings give it a breaker of its own.
TEST_F(PerApiTest, EndpointOverridesApplyToThatEndpointOnly) {
  OrchestratorConfig c = Bare();
  ApiPolicy& odds = c.Api("odds");
  odds.retry.enabled = true;
  odds.retry.max_attempts = 2;
  odds.retry.backoff = BackoffKind::kNone;
  odds.breaker.enabled = true;
  odds.breaker.failure_threshold = 10;
  CallPolicy& scores = odds.Endpoint("scores");
  scores.retry.max_attempts = 4;
  scores.breaker.failure_threshold = 4;
  Build(c);
  transport_.set_auto_responder(
      [](const UpstreamCall&) { return std::make_pair(ErrorResponse(503), Milliseconds(1)); });
  Submit(1, "odds", "a", Priority::kNormal, "lines");
  Submit(2, "odds", "a", Priority::kNormal, "scores");
  timers_.AdvanceBy(Seconds(1));
  EXPECT_EQ(results_[1].attempts, 2);
  EXPECT_EQ(results_[2].attempts, 4);
  ASSERT_NE(core_->breakers().Find("odds/scores"), nullptr);
  EXPECT_EQ(core_->breakers().Find("odds/scores")->state(), BreakerState::kOpen);
  EXPECT_EQ(core_->breakers().Find("odds")->state(), BreakerState::kClosed);
  Submit(3, "odds", "b", Priority::kNormal, "scores");
  EXPECT_EQ(OutcomeOf(3), Outcome::kRejectedCircuitOpen);
}

TEST(OrchestratorCreateTest, AnInvalidConfigIsAStatusNotAnAssertion) {
  FakeClock clock(kT0);
  FakeTimers timers(clock);
  FakeTransport transport(clock, timers);
  SeededRandom random(1);
  OrchestratorConfig c;
  c.Api("odds").expected_credits_per_call = 1e300;
  StatusOr<std::unique_ptr<Orchestrator>> built =
      Orchestrator::Create(c, clock, timers, transport, random);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().message(),
            "apis.odds.expected_credits_per_call: 1e+300 must be >= 0 and <= 1e12 credits");
  c.Api("odds").expected_credits_per_call = 2.5;
  c.Api("odds").Endpoint("scores").retry.max_attempts = 0;
  built = Orchestrator::Create(c, clock, timers, transport, random);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().message().rfind("apis.odds.endpoints.scores.retry.max_attempts", 0), 0u)
      << built.status().message();
}

}  // namespace
}  // namespace orchsim
