#include "policies/circuit_breaker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

Instant T(int64_t seconds) { return Instant::Epoch() + Seconds(seconds); }
Instant TUs(int64_t micros) { return Instant::FromUnixMicros(micros); }

const Duration kFast = Milliseconds(100);

// Records transitions as "name:from->to@micros" so sequences compare exactly.
struct TransitionLog {
  std::vector<std::string> entries;
  std::function<void(const BreakerTransition&)> Listener() {
    return [this](const BreakerTransition& t) {
      entries.push_back(t.breaker + ":" + std::string(BreakerStateName(t.from)) + "->" +
                        std::string(BreakerStateName(t.to)) + "@" +
                        std::to_string(t.at.unix_micros()));
    };
  }
};

CircuitBreakerConfig Consecutive(int threshold) {
  CircuitBreakerConfig c;
  c.trigger = BreakerTrigger::kConsecutiveFailures;
  c.failure_threshold = threshold;
  return c;
}

TEST(CircuitBreakerTest, FiveFailuresTripThenHalfOpenThenClose) {
  CircuitBreaker b("odds", Consecutive(5));
  TransitionLog log;
  b.set_transition_listener(log.Listener());
  for (int s = 1; s <= 4; ++s) {
    ASSERT_TRUE(b.AllowRequest(T(s)));
    b.RecordResult(503, kFast, T(s));
    EXPECT_EQ(b.state(), BreakerState::kClosed) << s;
  }
  ASSERT_TRUE(b.AllowRequest(T(5)));
  b.RecordResult(500, kFast, T(5));
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), T(65));
  EXPECT_EQ(b.trips(), 1u);

  EXPECT_FALSE(b.AllowRequest(T(6)));
  EXPECT_FALSE(b.AllowRequest(T(65) - Microseconds(1)));
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  // The first request at or after 65s moves it to half-open and is the probe.
  EXPECT_TRUE(b.AllowRequest(T(65)));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(b.AllowRequest(T(65)));  // one permit, in use
  b.RecordResult(200, kFast, T(66));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.AllowRequest(T(66)));

  EXPECT_EQ(log.entries,
            (std::vector<std::string>{"odds:closed->open@5000000", "odds:open->half_open@65000000",
                                      "odds:half_open->closed@66000000"}));
}

TEST(CircuitBreakerTest, HalfOpenStartsAtFirstRequestAfterTheWaitNotBefore) {
  CircuitBreaker b("odds", Consecutive(1));
  TransitionLog log;
  b.set_transition_listener(log.Listener());
  b.RecordResult(502, kFast, T(10));
  EXPECT_EQ(b.open_until(), T(70));
  EXPECT_TRUE(b.WouldAllow(T(100)));
  EXPECT_EQ(b.state(), BreakerState::kOpen);  // WouldAllow moves nothing
  EXPECT_TRUE(b.AllowRequest(T(100)));
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:closed->open@10000000",
                                                   "odds:open->half_open@100000000"}));
}

TEST(CircuitBreakerTest, SuccessResetsTheConsecutiveRun) {
  CircuitBreaker b("odds", Consecutive(5));
  for (int s = 1; s <= 4; ++s) b.RecordResult(503, kFast, T(s));
  b.RecordResult(200, kFast, T(5));
  for (int s = 6; s <= 9; ++s) b.RecordResult(503, kFast, T(s));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  b.RecordResult(503, kFast, T(10));
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), T(70));
}

TEST(CircuitBreakerTest, HalfOpenNeedsSuccessThresholdAndReleasesPermits) {
  CircuitBreakerConfig c = Consecutive(1);
  c.half_open_permitted_calls = 2;
  c.half_open_success_threshold = 3;
  CircuitBreaker b("odds", c);
  TransitionLog log;
  b.set_transition_listener(log.Listener());
  b.RecordResult(503, kFast, T(0));
  ASSERT_TRUE(b.AllowRequest(T(60)));
  ASSERT_TRUE(b.AllowRequest(T(60)));
  EXPECT_FALSE(b.AllowRequest(T(60)));
  EXPECT_FALSE(b.WouldAllow(T(60)));
  EXPECT_EQ(b.half_open_in_flight(), 2);
  b.RecordResult(200, kFast, T(61));
  EXPECT_EQ(b.half_open_in_flight(), 1);
  EXPECT_TRUE(b.WouldAllow(T(61)));
  b.RecordResult(200, kFast, T(61));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);  // 2 of 3 successes
  ASSERT_TRUE(b.AllowRequest(T(62)));
  b.RecordResult(204, kFast, T(63));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(log.entries.back(), "odds:half_open->closed@63000000");
}

TEST(CircuitBreakerTest, CancelledProbeReleasesItsPermitWithoutCounting) {
  CircuitBreaker b("odds", Consecutive(1));
  b.RecordResult(503, kFast, T(0));
  ASSERT_TRUE(b.AllowRequest(T(60)));
  EXPECT_FALSE(b.AllowRequest(T(60)));
  b.RecordCancelled(T(61));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(b.half_open_in_flight(), 0);
  EXPECT_TRUE(b.AllowRequest(T(61)));
}

TEST(CircuitBreakerTest, HalfOpenFailureReopensWithGrowingCappedWaitResetByClose) {
  CircuitBreakerConfig c = Consecutive(1);
  c.open_wait = Seconds(60);
  c.open_wait_multiplier = 2.0;
  c.max_open_wait = Minutes(3);
  CircuitBreaker b("odds", c);
  TransitionLog log;
  b.set_transition_listener(log.Listener());

  b.RecordResult(503, kFast, T(0));
  EXPECT_EQ(b.open_until(), T(60));
  // Each failed probe re-trips: waits 60s -> 120s -> 180s (cap) -> 180s.
  const std::vector<int64_t> expected_until = {180, 360, 540};
  Instant probe_at = T(60);
  for (int64_t until : expected_until) {
    ASSERT_TRUE(b.AllowRequest(probe_at));
    b.RecordResult(503, Duration::Zero(), probe_at);  // answered at once
    EXPECT_EQ(b.state(), BreakerState::kOpen);
    EXPECT_EQ(b.open_until(), T(until));
    probe_at = T(until);
  }
  EXPECT_EQ(b.current_open_wait(), Minutes(3));
  EXPECT_EQ(b.trips(), 4u);
  // A close resets the backoff: the next trip waits 60s again.
  ASSERT_TRUE(b.AllowRequest(T(540)));
  b.RecordResult(200, kFast, T(541));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  b.RecordResult(503, kFast, T(600));
  EXPECT_EQ(b.open_until(), T(660));
  EXPECT_EQ(b.trips(), 5u);
  EXPECT_EQ(log.entries, (std::vector<std::string>{
                             "odds:closed->open@0",
                             "odds:open->half_open@60000000",
                             "odds:half_open->open@60000000",
                             "odds:open->half_open@180000000",
                             "odds:half_open->open@180000000",
                             "odds:open->half_open@360000000",
                             "odds:half_open->open@360000000",
                             "odds:open->half_open@540000000",
                             "odds:half_open->closed@541000000",
                             "odds:closed->open@600000000",
                         }));
}

TEST(CircuitBreakerTest, NonIntegerMultiplierRoundsToTheMicrosecond) {
  CircuitBreakerConfig c = Consecutive(1);
  c.open_wait = Microseconds(3);
  c.open_wait_multiplier = 1.5;
  c.max_open_wait = Seconds(1);
  CircuitBreaker b("odds", c);
  b.RecordResult(503, kFast, TUs(0));
  EXPECT_EQ(b.current_open_wait(), Microseconds(3));
  ASSERT_TRUE(b.AllowRequest(TUs(3)));
  b.RecordResult(503, Duration::Zero(), TUs(3));
  EXPECT_EQ(b.current_open_wait(), Microseconds(5));  // 4.5 rounds away from zero
  ASSERT_TRUE(b.AllowRequest(TUs(8)));
  b.RecordResult(503, Duration::Zero(), TUs(8));
  EXPECT_EQ(b.current_open_wait(), Microseconds(8));  // 7.5 -> 8
}

TEST(CircuitBreakerTest, TooManyRequestsIsNotAFailureByDefault) {
  CircuitBreaker b("odds", Consecutive(3));
  for (int s = 0; s < 20; ++s) b.RecordResult(429, kFast, T(s));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_FALSE(b.IsFailure(429, kFast));
  EXPECT_FALSE(b.IsFailure(404, kFast));
  EXPECT_TRUE(b.IsFailure(kStatusTransportError, kFast));

  CircuitBreakerConfig counts_429 = Consecutive(3);
  counts_429.failure_statuses.push_back(429);
  CircuitBreaker strict("odds", counts_429);
  for (int s = 0; s < 3; ++s) strict.RecordResult(429, kFast, T(s));
  EXPECT_EQ(strict.state(), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, SlowCallsCountOnlyWhenConfiguredAndStrictlyAboveThreshold) {
  CircuitBreakerConfig c = Consecutive(2);
  c.slow_call_threshold = Seconds(2);
  CircuitBreaker ignores_slow("odds", c);
  EXPECT_FALSE(ignores_slow.IsFailure(200, Seconds(30)));
  for (int s = 0; s < 5; ++s) ignores_slow.RecordResult(200, Seconds(30), T(s));
  EXPECT_EQ(ignores_slow.state(), BreakerState::kClosed);

  c.slow_calls_are_failures = true;
  CircuitBreaker b("odds", c);
  EXPECT_FALSE(b.IsFailure(200, Seconds(2)));
  EXPECT_TRUE(b.IsFailure(200, Seconds(2) + Microseconds(1)));
  b.RecordResult(200, Seconds(2), T(1));  // exactly at the threshold: not slow
  b.RecordResult(200, Seconds(3), T(2));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  b.RecordResult(200, Seconds(3), T(3));
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), T(63));
}

CircuitBreakerConfig Rate(double threshold, int minimum_calls, Duration window) {
  CircuitBreakerConfig c;
  c.trigger = BreakerTrigger::kFailureRate;
  c.failure_rate_threshold = threshold;
  c.minimum_calls = minimum_calls;
  c.window = window;
  return c;
}

TEST(CircuitBreakerTest, RateTriggerWaitsForMinimumCalls) {
  CircuitBreaker b("odds", Rate(0.5, 10, Seconds(60)));
  for (int s = 1; s <= 9; ++s) b.RecordResult(503, kFast, T(s));
  EXPECT_EQ(b.state(), BreakerState::kClosed);  // 9 of 9 failed, but only 9 calls
  b.RecordResult(200, kFast, T(10));            // 9 of 10 >= 0.5
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), T(70));
}

TEST(CircuitBreakerTest, RateTriggerTripsAtExactlyTheThresholdNotBelow) {
  CircuitBreaker b("odds", Rate(0.5, 4, Seconds(60)));
  b.RecordResult(503, kFast, T(1));
  b.RecordResult(200, kFast, T(2));
  b.RecordResult(200, kFast, T(3));
  b.RecordResult(200, kFast, T(4));  // 1 of 4
  b.RecordResult(503, kFast, T(5));  // 2 of 5 < 0.5
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  b.RecordResult(503, kFast, T(6));  // 3 of 6 = 0.5
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), T(66));
}

TEST(CircuitBreakerTest, RateWindowSlidesAndOldResultsAgeOut) {
  CircuitBreaker b("odds", Rate(0.5, 4, Seconds(60)));
  b.RecordResult(503, kFast, T(1));
  b.RecordResult(503, kFast, T(2));
  b.RecordResult(200, kFast, T(61));            // window (1s, 61s]: F@2, S@61
  b.RecordResult(200, kFast, T(62));            // window (2s, 62s]: S, S
  b.RecordResult(503, kFast, T(63));            // S, S, F: 3 calls
  EXPECT_EQ(b.state(), BreakerState::kClosed);  // without aging: 2 of 4 at 62s
  b.RecordResult(503, kFast, T(64));            // S, S, F, F = 2 of 4
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), T(124));
}

TEST(CircuitBreakerTest, RateWindowIsOpenAtItsOldEnd) {
  CircuitBreaker edge("odds", Rate(1.0, 2, Seconds(60)));
  edge.RecordResult(503, kFast, T(10));
  edge.RecordResult(503, kFast, T(70));  // the failure at exactly now - window is out
  EXPECT_EQ(edge.state(), BreakerState::kClosed);

  CircuitBreaker inside("odds", Rate(1.0, 2, Seconds(60)));
  inside.RecordResult(503, kFast, T(10));
  inside.RecordResult(503, kFast, T(70) - Microseconds(1));
  EXPECT_EQ(inside.state(), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, RateWindowStartsEmptyAfterAClose) {
  CircuitBreakerConfig c = Rate(0.5, 2, Seconds(600));
  CircuitBreaker b("odds", c);
  b.RecordResult(503, kFast, T(1));
  b.RecordResult(503, kFast, T(2));
  ASSERT_EQ(b.state(), BreakerState::kOpen);
  ASSERT_TRUE(b.AllowRequest(T(62)));
  b.RecordResult(200, kFast, T(63));
  ASSERT_EQ(b.state(), BreakerState::kClosed);
  b.RecordResult(503, kFast, T(64));  // 1 call in the fresh window
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, LateAnswersFromBeforeTheTripAreIgnored) {
  CircuitBreaker b("odds", Consecutive(1));
  b.RecordResult(503, kFast, T(5));
  // Answers to calls sent before the trip arrive while open: ignored.
  b.RecordResult(200, kFast, T(6));
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  ASSERT_TRUE(b.AllowRequest(T(65)));
  // Sent at 4s, answered at 66s: not the probe.
  b.RecordResult(200, Seconds(62), T(66));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(b.half_open_in_flight(), 1);
  b.RecordResult(503, Seconds(62), T(66));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  // The probe itself, sent at 65s.
  b.RecordResult(200, Seconds(1), T(66));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, TimeOpenCountsOnlyTheRefusingPart) {
  CircuitBreaker b("odds", Consecutive(1));
  EXPECT_EQ(b.time_open(T(100)), Duration::Zero());
  b.RecordResult(503, kFast, T(10));
  EXPECT_EQ(b.time_open(T(10)), Duration::Zero());
  EXPECT_EQ(b.time_open(T(40)), Seconds(30));
  EXPECT_EQ(b.time_open(T(500)), Seconds(60));  // open_until 70s, then it would allow
  ASSERT_TRUE(b.AllowRequest(T(90)));
  b.RecordResult(503, kFast, T(91));  // second open period 91s..151s
  EXPECT_EQ(b.time_open(T(100)), Seconds(60 + 9));
  ASSERT_TRUE(b.AllowRequest(T(151)));
  b.RecordResult(200, kFast, T(152));
  EXPECT_EQ(b.time_open(T(1000)), Seconds(120));
}

TEST(CircuitBreakerTest, DisabledPassesEverythingAndNeverTrips) {
  CircuitBreakerConfig c = Consecutive(1);
  c.enabled = false;
  CircuitBreaker b("odds", c);
  TransitionLog log;
  b.set_transition_listener(log.Listener());
  for (int s = 0; s < 100; ++s) {
    EXPECT_TRUE(b.AllowRequest(T(s)));
    EXPECT_TRUE(b.WouldAllow(T(s)));
    b.RecordResult(503, Minutes(5), T(s));
  }
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.trips(), 0u);
  EXPECT_EQ(b.time_open(T(100)), Duration::Zero());
  EXPECT_TRUE(log.entries.empty());
}

TEST(BreakerRegistryTest, OneBreakerPerKeyCreatedWithTheFirstConfig) {
  BreakerRegistry r;
  TransitionLog log;
  r.set_transition_listener(log.Listener());
  r.For("odds", Consecutive(2)).RecordResult(503, kFast, T(1));
  // A later config for the same key is not looked at: it is the same breaker.
  r.For("odds", Consecutive(5)).RecordResult(503, kFast, T(2));
  EXPECT_EQ(r.breakers().size(), 1u);
  EXPECT_EQ(r.For("odds", Consecutive(5)).state(), BreakerState::kOpen);
  ASSERT_NE(r.Find("odds"), nullptr);
  EXPECT_EQ(r.Find("odds/scores"), nullptr);
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:closed->open@2000000"}));
}

TEST(BreakerRegistryTest, KeysKeepBreakersApartEachWithItsOwnConfig) {
  BreakerRegistry r;
  r.For("odds/odds", Consecutive(2)).RecordResult(503, kFast, T(1));
  r.For("odds/scores", Consecutive(1)).RecordResult(503, kFast, T(2));
  EXPECT_EQ(r.For("odds/odds", Consecutive(2)).state(), BreakerState::kClosed);
  EXPECT_EQ(r.For("odds/scores", Consecutive(1)).state(), BreakerState::kOpen);
  r.For("odds/odds", Consecutive(2)).RecordResult(503, kFast, T(3));
  EXPECT_EQ(r.For("odds/odds", Consecutive(2)).state(), BreakerState::kOpen);
  std::vector<std::string> keys;
  for (const auto& [key, breaker] : r.breakers()) {
    keys.push_back(key);
    EXPECT_EQ(breaker.name(), key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"odds/odds", "odds/scores"}));
}

TEST(BreakerNameTest, TheFirstSlashAlwaysEndsTheApi) {
  EXPECT_EQ(BreakerName("odds"), "odds");
  EXPECT_EQ(BreakerName("odds", "scores/live"), "odds/scores/live");
  EXPECT_EQ(BreakerName("a/b", "c"), "a%2Fb/c");
  EXPECT_NE(BreakerName("a/b", "c"), BreakerName("a", "b/c"));
  EXPECT_NE(BreakerName("a%2Fb"), BreakerName("a/b"));  // '%' is encoded too
  EXPECT_EQ(BreakerName("a%2Fb"), "a%252Fb");
  EXPECT_NE(BreakerName("a/b"), BreakerName("a", "b"));  // an API vs an endpoint's
}

TEST(BreakerRegistryTest, ListenerReachesExistingAndFutureBreakers) {
  BreakerRegistry r;
  CircuitBreaker& existing = r.For("odds", Consecutive(1));
  TransitionLog log;
  r.set_transition_listener(log.Listener());
  existing.RecordResult(503, kFast, T(1));
  r.For("weather", Consecutive(1)).RecordResult(503, kFast, T(2));
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:closed->open@1000000",
                                                   "weather:closed->open@2000000"}));
}

TEST(CircuitBreakerConfigTest, ValidateNamesFieldValueAndConstraint) {
  EXPECT_TRUE(CircuitBreakerConfig{}.validate().ok());
  CircuitBreakerConfig c;
  c.failure_threshold = 0;
  EXPECT_EQ(c.validate().message(), "breaker.failure_threshold: 0 must be >= 1");
  c = {};
  c.window = Duration::Zero();
  EXPECT_EQ(c.validate().message(), "breaker.window: \"0s\" must be > 0");
  c = {};
  c.max_open_wait = Seconds(10);
  EXPECT_EQ(c.validate().message(), "breaker.max_open_wait: \"10s\" must be >= open_wait (1m)");
  c = {};
  c.failure_statuses = {500, 700};
  EXPECT_EQ(c.validate().message(),
            "breaker.failure_statuses[1]: 700 must be an HTTP status in 100..599");
  c = {};
  c.failure_rate_threshold = 0.0;
  EXPECT_NE(c.validate().message().find("breaker.failure_rate_threshold"), std::string::npos);
  c = {};
  c.open_wait_multiplier = 0.5;
  EXPECT_NE(c.validate().message().find("breaker.open_wait_multiplier"), std::string::npos);
  c = {};
  c.half_open_permitted_calls = 0;
  EXPECT_EQ(c.validate().message(), "breaker.half_open_permitted_calls: 0 must be >= 1");
  c = {};
  c.half_open_success_threshold = 0;
  EXPECT_EQ(c.validate().message(), "breaker.half_open_success_threshold: 0 must be >= 1");
  c = {};
  c.minimum_calls = 0;
  EXPECT_EQ(c.validate().message(), "breaker.minimum_calls: 0 must be >= 1");
}

// Random traffic against every trigger: the transition log must be a valid
// chain, permits must never exceed the limit, and refusals happen only when
// the breaker is not closed.
TEST(CircuitBreakerPropertyTest, RandomTrafficKeepsInvariants) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    testing::SeededRandom rng(seed);
    CircuitBreakerConfig c = seed % 2 ? Consecutive(3) : Rate(0.4, 5, Seconds(30));
    c.half_open_permitted_calls = 1 + static_cast<int>(seed % 3);
    c.half_open_success_threshold = 1 + static_cast<int>(seed % 4);
    c.open_wait = Seconds(20);
    c.open_wait_multiplier = 1.5;
    c.max_open_wait = Seconds(100);
    CircuitBreaker b("odds", c);
    std::vector<BreakerTransition> log;
    b.set_transition_listener([&](const BreakerTransition& t) { log.push_back(t); });
    std::vector<Instant> in_flight_sent;  // calls permitted and not yet answered
    Instant now = T(0);
    for (int step = 0; step < 5000; ++step) {
      now += Milliseconds(static_cast<int64_t>(rng.NextU64() % 2000));
      const uint64_t action = rng.NextU64() % 3;
      if (action == 0 || in_flight_sent.empty()) {
        const BreakerState before = b.state();
        const bool would = b.WouldAllow(now);
        const bool allowed = b.AllowRequest(now);
        ASSERT_EQ(would, allowed) << "seed " << seed << " step " << step;
        if (before == BreakerState::kClosed) {
          ASSERT_TRUE(allowed);
        }
        if (allowed) in_flight_sent.push_back(now);
      } else {
        const size_t i = rng.NextU64() % in_flight_sent.size();
        const Instant sent = in_flight_sent[i];
        in_flight_sent.erase(in_flight_sent.begin() + static_cast<int64_t>(i));
        const uint64_t roll = rng.NextU64() % 10;
        if (roll == 0) {
          b.RecordCancelled(now);
        } else {
          b.RecordResult(roll <= 4 ? 503 : 200, now - sent, now);
        }
      }
      ASSERT_LE(b.half_open_in_flight(), c.half_open_permitted_calls);
      ASSERT_LE(b.current_open_wait(), c.max_open_wait);
    }
    uint64_t opens = 0;
    BreakerState state = BreakerState::kClosed;
    Instant last = T(0);
    for (const BreakerTransition& t : log) {
      ASSERT_EQ(t.from, state) << "seed " << seed;
      ASSERT_NE(t.from, t.to);
      ASSERT_GE(t.at, last);
      if (t.from == BreakerState::kClosed) {
        ASSERT_EQ(t.to, BreakerState::kOpen);
      }
      if (t.from == BreakerState::kOpen) {
        ASSERT_EQ(t.to, BreakerState::kHalfOpen);
      }
      if (t.to == BreakerState::kOpen) ++opens;
      state = t.to;
      last = t.at;
    }
    EXPECT_EQ(state, b.state());
    EXPECT_EQ(opens, b.trips());
    EXPECT_GT(b.trips(), 2u) << "seed " << seed << " exercised too little";
  }
}

}  // namespace
}  // namespace orchsim
