// The shared limiter of a fleet and the transport replicas ask it through:
// one bucket for all, the ask's round trip, denials without reaching the
// upstream, failures open or closed, reservations (max_wait), cancellation
// while asking, the calls kept from the upstream.
#include "engine/world/shared_limiter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/world/mock_transport.h"

namespace orchsim::world {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'704'067'200'000'000);  // 2024-01-01T00:00Z

int64_t Ms(Instant t) { return (t - kStart).micros() / 1000; }

SharedLimiterConfig Limiter(double rate, double burst) {
  SharedLimiterConfig c;
  c.enabled = true;
  c.rate_per_s = rate;
  c.burst = burst;
  c.latency.kind = LatencyKind::kConstant;
  c.latency.constant = Milliseconds(2);
  return c;
}

struct Answer {
  int id;
  int64_t at_ms;
  int status;
  int64_t latency_ms;
  std::string retry_after;
  friend bool operator==(const Answer&, const Answer&) = default;
};

class SharedLimiterTest : public ::testing::Test {
 protected:
  SharedLimiterTest() : sim_(kStart), seeds_(5), upstreams_(sim_) {
    UpstreamModelConfig api;
    api.name = "api";
    api.data.enabled = false;
    api.latency.constant = Milliseconds(10);
    upstreams_.AddUpstream(api, seeds_);
    api.name = "other";
    upstreams_.AddUpstream(api, seeds_);
  }
  Transport::CallHandle Send(Transport& port, int id, const std::string& api = "api") {
    return port.Send(UpstreamCall{.api = api, .endpoint = "e", .keys = {"k"}}, [this,
                                                                                id](const Response&
                                                                                        r) {
      const std::string* h = r.headers.Find("Retry-After");
      answers_.push_back({id, Ms(sim_.now()), r.status, r.latency.micros() / 1000, h ? *h : ""});
    });
  }
  kernel::Simulator sim_;
  kernel::SeedTree seeds_;
  MockTransport upstreams_;
  std::vector<Answer> answers_;
};

TEST_F(SharedLimiterTest, OneBucketForEveryReplicaAndTheAskDelaysTheCall) {
  SharedLimiter limiter(sim_, seeds_, Limiter(/*rate=*/2, /*burst=*/2));
  LimitedTransport a(sim_, upstreams_, limiter);
  LimitedTransport b(sim_, upstreams_, limiter);
  Send(a, 1);
  Send(b, 2);
  Send(a, 3);  // the bucket is empty: denied after the ask, Retry-After 1 (0.5 s, rounded up)
  EXPECT_TRUE(answers_.empty());
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_,
            (std::vector<Answer>{{3, 2, 429, 2, "1"}, {1, 12, 200, 12, ""}, {2, 12, 200, 12, ""}}));
  EXPECT_EQ(upstreams_.Find("api")->counters().calls, 2u);
  EXPECT_EQ(limiter.counters().asks, 3u);
  EXPECT_EQ(limiter.counters().allowed, 2u);
  EXPECT_EQ(limiter.counters().denied, 1u);
  // Half a second later one token is back.
  sim_.RunUntil(kStart + Milliseconds(502));
  Send(b, 4);
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_.back(), (Answer{4, 514, 200, 12, ""}));
}

// With max_wait the call reserves the next token and waits for it (the
// bucket goes below zero); a token further away than max_wait is refused.
TEST_F(SharedLimiterTest, MaxWaitReservesTheNextTokenAndHoldsTheCall) {
  SharedLimiterConfig config = Limiter(/*rate=*/4, /*burst=*/1);
  config.max_wait = Milliseconds(600);
  SharedLimiter limiter(sim_, seeds_, config);
  LimitedTransport port(sim_, upstreams_, limiter);
  Send(port, 1);  // the token there: leaves after the 2 ms ask
  Send(port, 2);  // reserves the token of t = 250 ms
  Send(port, 3);  // reserves the token of t = 500 ms
  Send(port, 4);  // the next would be at 750 ms > 600 ms: refused, Retry-After 1
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_, (std::vector<Answer>{{4, 2, 429, 2, "1"},
                                           {1, 12, 200, 12, ""},
                                           {2, 260, 200, 260, ""},
                                           {3, 510, 200, 510, ""}}));
  EXPECT_EQ(limiter.counters().allowed, 3u);
  EXPECT_EQ(limiter.counters().reserved, 2u);
  EXPECT_EQ(limiter.counters().denied, 1u);
  EXPECT_EQ(upstreams_.Find("api")->counters().calls, 3u);
}

TEST_F(SharedLimiterTest, CallsToOtherApisGoStraightThrough) {
  SharedLimiterConfig config = Limiter(1, 1);
  config.apis = {"api"};
  SharedLimiter limiter(sim_, seeds_, config);
  LimitedTransport port(sim_, upstreams_, limiter);
  Send(port, 1, "other");
  Send(port, 2, "other");
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_, (std::vector<Answer>{{1, 10, 200, 10, ""}, {2, 10, 200, 10, ""}}));
  EXPECT_EQ(limiter.counters().asks, 0u);
}

TEST_F(SharedLimiterTest, FailuresFailOpenOrClosed) {
  for (bool open : {true, false}) {
    answers_.clear();
    SharedLimiterConfig config = Limiter(100, 100);
    config.failure_rate = 1.0;
    config.failure_latency = Milliseconds(50);
    config.fail_open = open;
    SharedLimiter limiter(sim_, seeds_, config);
    LimitedTransport port(sim_, upstreams_, limiter);
    const Instant t0 = sim_.now();
    Send(port, 1);
    sim_.RunUntilEmpty();
    ASSERT_EQ(answers_.size(), 1u);
    EXPECT_EQ(answers_[0].status, open ? 200 : 429);
    EXPECT_EQ(answers_[0].at_ms - Ms(t0), open ? 60 : 50);
    EXPECT_EQ(limiter.counters().failures, 1u);
  }
}

TEST_F(SharedLimiterTest, CancelWhileAskingEndsAtOnceAndNeverSends) {
  SharedLimiter limiter(sim_, seeds_, Limiter(10, 10));
  LimitedTransport port(sim_, upstreams_, limiter);
  const Transport::CallHandle h = Send(port, 1);
  sim_.RunUntil(kStart + Milliseconds(1));
  port.Cancel(h);
  port.Cancel(h);                 // twice: still one answer
  EXPECT_TRUE(answers_.empty());  // never from inside Cancel
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_, (std::vector<Answer>{{1, 1, kStatusCancelled, 1, ""}}));
  EXPECT_EQ(upstreams_.Find("api")->counters().calls, 0u);
  EXPECT_EQ(port.in_flight(), 0u);
}

// What never reached the upstream (denied, cancelled while asking) is counted
// by API and kind, from count_from on, so the run's cross-check of the core's
// call counts against the upstream's can leave it out.
TEST_F(SharedLimiterTest, CountsTheCallsItKeptFromTheUpstream) {
  SharedLimiter limiter(sim_, seeds_, Limiter(/*rate=*/1, /*burst=*/1));
  LimitedTransport port(sim_, upstreams_, limiter, /*count_from=*/kStart + Milliseconds(1));
  Send(port, 1);  // allowed (the one token)
  Send(port, 2);  // denied, but sent before count_from: not counted
  sim_.RunUntil(kStart + Milliseconds(1));
  UpstreamCall retry{.api = "api", .endpoint = "e", .keys = {"k"}};
  retry.kind = CallKind::kRetry;
  port.Send(retry, [](const Response&) {});  // denied
  const Transport::CallHandle h = Send(port, 4);
  port.Cancel(h);  // cancelled while asking
  sim_.RunUntilEmpty();
  EXPECT_EQ(upstreams_.Find("api")->counters().calls, 1u);
  ASSERT_EQ(port.stopped().size(), 1u);
  const auto& counts = port.stopped().at("api");
  EXPECT_EQ(counts[static_cast<size_t>(CallKind::kFirstAttempt)], 1u);
  EXPECT_EQ(counts[static_cast<size_t>(CallKind::kRetry)], 1u);
  EXPECT_EQ(limiter.counters().denied, 3u);  // the service decided 4 too (it was asked)
}

TEST_F(SharedLimiterTest, CancelAfterSendingGoesToTheUpstreamsTransport) {
  SharedLimiter limiter(sim_, seeds_, Limiter(10, 10));
  LimitedTransport port(sim_, upstreams_, limiter);
  const Transport::CallHandle h = Send(port, 1);
  sim_.RunUntil(kStart + Milliseconds(5));
  port.Cancel(h);
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_, (std::vector<Answer>{{1, 5, kStatusCancelled, 5, ""}}));
  EXPECT_EQ(upstreams_.Find("api")->counters().calls, 1u);  // it had left
  EXPECT_EQ(upstreams_.cancelled_calls(), 1u);
}

}  // namespace
}  // namespace orchsim::world
