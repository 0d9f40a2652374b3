// A hand-scripted micro-scenario of 13 requests on three APIs, fed to the
// MetricsRecorder event by event; every metric is checked against values
// computed by hand (see the comments next to each expectation).
#include "engine/experiment/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace orchsim::experiment {
namespace {

Instant At(const char* text) {
  auto parsed = ParseInstant(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return *parsed;
}

class MicroScenario : public ::testing::Test {
 protected:
  // Bucket 0 starts at 2023-09-30T00:00Z; t0 is in hour 22.
  const Instant t0 = At("2023-09-30T22:30:00Z");
  const Instant october = At("2023-10-01T00:00:00Z");

  MicroScenario() : recorder_(t0, Hours(1), Lookup()) {}

  MetricsRecorder::VersionLookup Lookup() {
    return [this](const Request& r, Instant now) -> uint64_t {
      if (r.api != "odds") return 1;
      if (now < t0 + Milliseconds(500)) return 3;
      return now < october ? 4 : 5;
    };
  }
  // The same scenario with a warm-up until `steady_from`.
  void WarmUpUntil(Instant steady_from) {
    recorder_ = MetricsRecorder(t0, Hours(1), Lookup(), steady_from);
  }

  Request Make(uint64_t id, const std::string& api, Priority p, Instant submitted) {
    Request r;
    r.id = id;
    r.api = api;
    r.endpoint = api == "weather" ? "forecast" : api;
    r.key = "g1";
    r.priority = p;
    r.submitted_at = submitted;
    return r;
  }
  UpstreamCall Call(uint64_t id, const std::string& api, CallKind kind, int keys = 1) {
    UpstreamCall c;
    c.call_id = id;
    c.api = api;
    c.endpoint = api == "weather" ? "forecast" : api;
    c.kind = kind;
    for (int i = 0; i < keys; ++i) c.keys.push_back(std::string(1, static_cast<char>('a' + i)));
    return c;
  }
  static Response Answer(int status, double credits) {
    Response r;
    r.status = status;
    r.credits_charged = credits;
    return r;
  }
  static Result Done(Outcome o, uint64_t version, Instant fetched, Duration wait, int attempts) {
    Result r;
    r.outcome = o;
    r.payload_version = version;
    r.fetched_at = fetched;
    r.queue_wait = wait;
    r.attempts = attempts;
    return r;
  }

  void Play() {
    MetricsRecorder& m = recorder_;
    // 1: HIGH, its own call, 200 with 6 credits, served version 3 (current 3).
    Request r1 = Make(1, "odds", Priority::kHigh, t0);
    m.OnSubmitted(r1, t0);
    m.OnCallSent(Call(1, "odds", CallKind::kFirstAttempt), t0);
    m.OnCallAnswered(Call(1, "odds", CallKind::kFirstAttempt), Answer(200, 6), false,
                     t0 + Milliseconds(100));
    m.OnCompleted(r1, Done(Outcome::kServed, 3, t0 + Milliseconds(100), Duration::Zero(), 1),
                  t0 + Milliseconds(100));
    // 2-4: cache hits of version 3 while the upstream is at 4 (1 behind each).
    const Priority hit_priority[] = {Priority::kNormal, Priority::kNormal, Priority::kLow};
    for (int i = 0; i < 3; ++i) {
      const Instant at = t0 + Seconds(1 + i);
      Request r = Make(2 + i, "odds", hit_priority[i], at);
      m.OnSubmitted(r, at);
      m.OnCompleted(r, Done(Outcome::kCacheHit, 3, t0 + Milliseconds(100), Duration::Zero(), 0),
                    at);
    }
    // 5: HIGH leader; 503, one retry, 200 (6 credits). 6 (HIGH) and 7
    // (NORMAL) coalesce onto it and wait for the retry's send.
    const Instant t5 = t0 + Seconds(10);
    Request r5 = Make(5, "odds", Priority::kHigh, t5);
    Request r6 = Make(6, "odds", Priority::kHigh, t5 + Milliseconds(500));
    Request r7 = Make(7, "odds", Priority::kNormal, t5 + Milliseconds(600));
    m.OnSubmitted(r5, t5);
    m.OnCallSent(Call(2, "odds", CallKind::kFirstAttempt), t5);
    m.OnCallAnswered(Call(2, "odds", CallKind::kFirstAttempt), Answer(503, 0), false,
                     t5 + Milliseconds(50));
    m.OnRetryScheduled(r5, 2, Seconds(1) - Milliseconds(50), t5 + Milliseconds(50));
    m.OnSubmitted(r6, t5 + Milliseconds(500));
    m.OnSubmitted(r7, t5 + Milliseconds(600));
    m.OnCallSent(Call(3, "odds", CallKind::kRetry), t5 + Seconds(1));
    const Instant t5_done = t5 + Milliseconds(1200);
    m.OnCallAnswered(Call(3, "odds", CallKind::kRetry), Answer(200, 6), false, t5_done);
    m.OnCompleted(r5, Done(Outcome::kServed, 4, t5_done, Duration::Zero(), 2), t5_done);
    m.OnCompleted(r6, Done(Outcome::kCoalesced, 4, t5_done, Milliseconds(500), 1), t5_done);
    m.OnCompleted(r7, Done(Outcome::kCoalesced, 4, t5_done, Milliseconds(400), 1), t5_done);
    // 8, 9: weather LOW, one batch call with 2 keys at 23:10:02, no credits.
    const Instant t8 = At("2023-09-30T23:10:00Z");
    Request r8 = Make(8, "weather", Priority::kLow, t8);
    Request r9 = Make(9, "weather", Priority::kLow, t8 + Seconds(1));
    m.OnSubmitted(r8, t8);
    m.OnSubmitted(r9, t8 + Seconds(1));
    m.OnCallSent(Call(4, "weather", CallKind::kBatch, 2), t8 + Seconds(2));
    const Instant t8_done = t8 + Seconds(2) + Milliseconds(100);
    m.OnCallAnswered(Call(4, "weather", CallKind::kBatch, 2), Answer(200, 0), false, t8_done);
    m.OnCompleted(r8, Done(Outcome::kServed, 1, t8_done, Seconds(2), 1), t8_done);
    m.OnCompleted(r9, Done(Outcome::kServed, 1, t8_done, Seconds(1), 1), t8_done);
    // 10: the scores breaker trips at 23:15, rejects 10 at 23:20, half-opens
    // at 23:25, a probe at 23:26 succeeds and closes it 50 ms later.
    m.OnBreakerTransition(
        {"scores", BreakerState::kClosed, BreakerState::kOpen, At("2023-09-30T23:15:00Z")});
    const Instant t10 = At("2023-09-30T23:20:00Z");
    Request r10 = Make(10, "scores", Priority::kHigh, t10);
    m.OnSubmitted(r10, t10);
    m.OnCompleted(r10, Done(Outcome::kRejectedCircuitOpen, 0, Instant(), Duration::Zero(), 0), t10);
    m.OnBreakerTransition(
        {"scores", BreakerState::kOpen, BreakerState::kHalfOpen, At("2023-09-30T23:25:00Z")});
    const Instant probe = At("2023-09-30T23:26:00Z");
    m.OnCallSent(Call(5, "scores", CallKind::kProbe), probe);
    m.OnCallAnswered(Call(5, "scores", CallKind::kProbe), Answer(200, 0), false,
                     probe + Milliseconds(50));
    m.OnBreakerTransition(
        {"scores", BreakerState::kHalfOpen, BreakerState::kClosed, probe + Milliseconds(50)});
    // 11: scores NORMAL, 500, the retry budget says no: failed.
    const Instant t11 = At("2023-09-30T23:40:00Z");
    Request r11 = Make(11, "scores", Priority::kNormal, t11);
    m.OnSubmitted(r11, t11);
    m.OnCallSent(Call(6, "scores", CallKind::kFirstAttempt), t11);
    m.OnCallAnswered(Call(6, "scores", CallKind::kFirstAttempt), Answer(500, 0), false,
                     t11 + Milliseconds(100));
    m.OnRetryBudgetDenied(r11, t11 + Milliseconds(100));
    m.OnCompleted(r11, Done(Outcome::kFailed, 0, Instant(), Duration::Zero(), 1),
                  t11 + Milliseconds(100));
    // 12: odds LOW held by quota pacing from 23:50:00 until 00:00:10 (next
    // day and month): rejected for quota without a call.
    const Instant t12 = At("2023-09-30T23:50:00Z");
    Request r12 = Make(12, "odds", Priority::kLow, t12);
    m.OnSubmitted(r12, t12);
    m.OnCompleted(r12, Done(Outcome::kRejectedQuota, 0, Instant(), Seconds(610), 0),
                  t12 + Seconds(610));
    // 13: odds HIGH on October 1st, served with 6 credits (version 5, current 5).
    const Instant t13 = At("2023-10-01T00:00:30Z");
    Request r13 = Make(13, "odds", Priority::kHigh, t13);
    m.OnSubmitted(r13, t13);
    m.OnCallSent(Call(7, "odds", CallKind::kFirstAttempt), t13);
    m.OnCallAnswered(Call(7, "odds", CallKind::kFirstAttempt), Answer(200, 6), false,
                     t13 + Milliseconds(200));
    m.OnCompleted(r13, Done(Outcome::kServed, 5, t13 + Milliseconds(200), Duration::Zero(), 1),
                  t13 + Milliseconds(200));
    m.Finish(At("2023-10-01T01:00:00Z"));
  }

  MetricsRecorder recorder_;
};

TEST_F(MicroScenario, OutcomesAndRequests) {
  Play();
  const VariantMetrics& m = recorder_.metrics();
  EXPECT_EQ(m.submitted, 13u);
  EXPECT_EQ(m.completed, 13u);
  EXPECT_EQ(m.outcome(Outcome::kServed), 5u);  // 1, 5, 8, 9, 13
  EXPECT_EQ(m.outcome(Outcome::kCacheHit), 3u);
  EXPECT_EQ(m.outcome(Outcome::kCoalesced), 2u);
  EXPECT_EQ(m.outcome(Outcome::kRejectedCircuitOpen), 1u);
  EXPECT_EQ(m.outcome(Outcome::kFailed), 1u);
  EXPECT_EQ(m.outcome(Outcome::kRejectedQuota), 1u);
  EXPECT_EQ(m.client_failures(), 3u);
  EXPECT_EQ(m.requests_by_priority[PriorityIndex(Priority::kHigh)], 5u);    // 1 5 6 10 13
  EXPECT_EQ(m.requests_by_priority[PriorityIndex(Priority::kNormal)], 4u);  // 2 3 7 11
  EXPECT_EQ(m.requests_by_priority[PriorityIndex(Priority::kLow)], 4u);     // 4 8 9 12
}

TEST_F(MicroScenario, CallsByApiAndKindAndAvoidedCalls) {
  Play();
  const VariantMetrics& m = recorder_.metrics();
  EXPECT_EQ(m.upstream_calls, 7u);
  EXPECT_EQ(m.calls_of_kind(CallKind::kFirstAttempt), 4u);  // calls 1 2 6 7
  EXPECT_EQ(m.calls_of_kind(CallKind::kRetry), 1u);
  EXPECT_EQ(m.calls_of_kind(CallKind::kBatch), 1u);
  EXPECT_EQ(m.calls_of_kind(CallKind::kProbe), 1u);
  EXPECT_EQ(m.calls_of_kind(CallKind::kPrefetch), 0u);
  ASSERT_EQ(m.apis.size(), 3u);
  const ApiCallMetrics& odds = m.apis.at("odds");
  EXPECT_EQ(odds.calls, 4u);
  EXPECT_EQ(odds.calls_by_kind[static_cast<int>(CallKind::kFirstAttempt)], 3u);
  EXPECT_EQ(odds.calls_by_kind[static_cast<int>(CallKind::kRetry)], 1u);
  EXPECT_EQ(odds.statuses.at(200), 3u);  // calls 1, 3, 7
  EXPECT_EQ(odds.statuses.at(503), 1u);
  EXPECT_EQ(m.apis.at("weather").calls, 1u);
  EXPECT_EQ(m.apis.at("scores").calls, 2u);
  EXPECT_EQ(m.apis.at("scores").statuses.at(500), 1u);
  // The call balance (issue 18, items 2 and 3): served without a call (cache
  // 3, coalesced 2, batched 1 key) apart from failed without a call (the
  // breaker's rejection of 10, the quota's of 12: not savings).
  const RequestAccounting& a = m.accounting;
  EXPECT_EQ(a.requests, 13u);
  EXPECT_EQ(a.cache_hits, 3u);
  EXPECT_EQ(a.coalesced, 2u);
  EXPECT_EQ(a.batched_keys, 1u);  // 2 keys, 1 call
  EXPECT_EQ(a.stale_without_call, 0u);
  EXPECT_EQ(a.failed_without_call[static_cast<int>(Outcome::kRejectedCircuitOpen)], 1u);
  EXPECT_EQ(a.failed_without_call[static_cast<int>(Outcome::kRejectedQuota)], 1u);
  EXPECT_EQ(a.failed_without_call[static_cast<int>(Outcome::kFailed)], 0u);  // 11 made a call
  // 7 calls = 13 requests - 6 served without a call - 2 failed without a
  // call + 2 added (a retry, a probe) + 0 other; every term >= 0.
  const CallBalance b = m.balance();
  EXPECT_EQ(b.served_without_call, 6u);
  EXPECT_EQ(b.failed_without_call, 2u);
  EXPECT_EQ(b.added, 2u);
  EXPECT_EQ(b.calls, 7u);
  EXPECT_EQ(b.other, 0);
  // Per API: odds 9 requests (1, 5 and 13 with calls of their own, a retry
  // for 5, 3 cache hits, 2 coalesced, 12 refused for quota); weather 2
  // requests in 1 batch call; scores 2 requests, 11's call and a probe, 10
  // rejected by the breaker.
  const CallBalance odds_b = m.apis.at("odds").balance();
  EXPECT_EQ(odds_b.requests, 9u);
  EXPECT_EQ(odds_b.served_without_call, 5u);
  EXPECT_EQ(odds_b.failed_without_call, 1u);
  EXPECT_EQ(odds_b.added, 1u);
  EXPECT_EQ(odds_b.calls, 4u);
  EXPECT_EQ(odds_b.other, 0);
  EXPECT_EQ(m.apis.at("weather").balance().other, 0);
  EXPECT_EQ(m.apis.at("scores").balance().other, 0);
}

TEST_F(MicroScenario, CreditsPerMonthBreakersRetries) {
  Play();
  const VariantMetrics& m = recorder_.metrics();
  EXPECT_DOUBLE_EQ(m.credits, 18.0);
  const ApiCallMetrics& odds = m.apis.at("odds");
  EXPECT_DOUBLE_EQ(odds.credits, 18.0);
  ASSERT_EQ(odds.credits_by_month.size(), 2u);
  EXPECT_DOUBLE_EQ(odds.credits_by_month.at("2023-09"), 12.0);
  EXPECT_DOUBLE_EQ(odds.credits_by_month.at("2023-10"), 6.0);
  EXPECT_TRUE(m.apis.at("weather").credits_by_month.empty());

  EXPECT_EQ(m.breaker_trips, 1u);
  ASSERT_EQ(m.breakers.size(), 1u);
  const BreakerMetrics& b = m.breakers.at("scores");
  EXPECT_EQ(b.trips, 1u);
  EXPECT_EQ(b.open_time, Minutes(10));                          // 23:15 -> 23:25
  EXPECT_EQ(b.half_open_time, Seconds(60) + Milliseconds(50));  // 23:25 -> 23:26:00.05
  EXPECT_EQ(b.half_open_calls, 1u);                             // the probe
  EXPECT_EQ(m.half_open_calls, 1u);
  EXPECT_EQ(m.breaker_open_time, Minutes(11) + Milliseconds(50));
  ASSERT_EQ(m.breaker_transitions.size(), 3u);
  EXPECT_EQ(m.breaker_transitions[1].to, BreakerState::kHalfOpen);

  EXPECT_EQ(m.retries, 1u);
  EXPECT_EQ(m.retry_budget_denied, 1u);
}

TEST_F(MicroScenario, WaitLatencyAndStaleness) {
  Play();
  const VariantMetrics& m = recorder_.metrics();
  const Histogram& high = m.wait_by_priority[PriorityIndex(Priority::kHigh)];
  // HIGH waits: 0 0 0 0 500ms (6 waited for the retry's send).
  EXPECT_EQ(high.count(), 5u);
  EXPECT_EQ(high.Quantile(0.5), Duration::Zero());
  EXPECT_EQ(high.Quantile(0.9), Milliseconds(500));
  EXPECT_EQ(high.max(), Milliseconds(500));
  // NORMAL waits: 0 0 0 400ms.
  const Histogram& normal = m.wait_by_priority[PriorityIndex(Priority::kNormal)];
  EXPECT_EQ(normal.Quantile(0.5), Duration::Zero());
  EXPECT_EQ(normal.Quantile(0.99), Milliseconds(400));
  // LOW waits: 0, 1s, 2s, 610s. p50 is the 2nd sample (1s) reported as its
  // bucket's upper bound: [999424, 1003519] us (width 4096 in [2^19, 2^20)).
  const Histogram& low = m.wait_by_priority[PriorityIndex(Priority::kLow)];
  EXPECT_EQ(low.Quantile(0.5), Microseconds(1003519));
  EXPECT_EQ(low.Quantile(0.99), Seconds(610));  // clamped to the exact max
  EXPECT_EQ(low.max(), Seconds(610));

  // End to end: 100ms 0 0 0 1.2s 0.7s 0.6s 2.1s 1.1s 0 100ms 610s 200ms.
  EXPECT_EQ(m.latency.count(), 13u);
  EXPECT_EQ(m.latency.max(), Seconds(610));
  EXPECT_EQ(m.latency.sum(),
            Milliseconds(100 + 1200 + 700 + 600 + 2100 + 1100 + 100 + 200).micros() +
                Seconds(610).micros());
  EXPECT_EQ(m.latency_by_priority[PriorityIndex(Priority::kHigh)].max(), Milliseconds(1200));

  // Issue 18, item 5: mean wait and the share that waited at all, per class;
  // latency per API. HIGH: mean 100ms, 1 of 5 waited; LOW: mean (1+2+610)/4 s.
  EXPECT_DOUBLE_EQ(high.mean(), 100000.0);
  EXPECT_EQ(m.waited_by_priority[PriorityIndex(Priority::kHigh)], 1u);
  EXPECT_EQ(m.waited_by_priority[PriorityIndex(Priority::kNormal)], 1u);
  EXPECT_EQ(m.waited_by_priority[PriorityIndex(Priority::kLow)], 3u);
  EXPECT_DOUBLE_EQ(low.mean(), 153250000.0);
  // odds: 100ms 0 0 0 1.2s 0.7s 0.6s 610s 200ms; weather 2.1s 1.1s;
  // scores 0 100ms.
  EXPECT_EQ(m.apis.at("odds").latency.count(), 9u);
  EXPECT_EQ(m.apis.at("odds").latency.max(), Seconds(610));
  EXPECT_EQ(m.apis.at("weather").latency.sum(), Milliseconds(3200).micros());
  EXPECT_EQ(m.apis.at("scores").latency.max(), Milliseconds(100));

  // Staleness: 10 answered with data; 2, 3, 4 served version 3 at version 4.
  EXPECT_EQ(m.answered_with_data, 10u);
  EXPECT_EQ(m.answered_outdated, 3u);
  EXPECT_DOUBLE_EQ(m.outdated_fraction(), 0.3);
  EXPECT_EQ(m.versions_behind.count(), 10u);
  EXPECT_EQ(m.versions_behind.max_value(), 1);
  EXPECT_EQ(m.versions_behind.sum(), 3);
  // Ages: seven 0s, then 0.9s 1.9s 2.9s. p90 = 1.9s in [1892352, 1900543].
  EXPECT_EQ(m.data_age.Quantile(0.5), Duration::Zero());
  EXPECT_EQ(m.data_age.Quantile(0.9), Microseconds(1900543));
  EXPECT_EQ(m.data_age.max(), Milliseconds(2900));
}

TEST_F(MicroScenario, HourlyTimelineAlignedToUtcDays) {
  Play();
  const VariantMetrics& m = recorder_.metrics();
  EXPECT_EQ(m.start, At("2023-09-30T00:00:00Z"));
  const std::vector<TimeBucket> timeline = m.timeline.ToVector();
  ASSERT_EQ(timeline.size(), 25u);  // hours 0..23 of Sep 30, then 00:00Z Oct 1
  const TimeBucket& h22 = timeline[22];
  EXPECT_EQ(h22.requests, 7u);
  EXPECT_EQ(h22.completed, 7u);
  EXPECT_EQ(h22.upstream_calls, 3u);
  EXPECT_EQ(h22.retry_calls, 1u);
  EXPECT_EQ(h22.cache_hits, 3u);
  EXPECT_EQ(h22.coalesced, 2u);
  EXPECT_EQ(h22.outdated, 3u);
  EXPECT_DOUBLE_EQ(h22.credits, 12.0);
  EXPECT_DOUBLE_EQ(h22.credits_by_api.at("odds"), 12.0);
  EXPECT_EQ(h22.wait_max_us, 500000);
  EXPECT_EQ(h22.wait_sum_us, 900000);
  const TimeBucket& h23 = timeline[23];
  EXPECT_EQ(h23.requests, 5u);   // 8 9 10 11 12
  EXPECT_EQ(h23.completed, 4u);  // 12 ends after midnight
  EXPECT_EQ(h23.upstream_calls, 3u);
  EXPECT_EQ(h23.breaker_trips, 1u);
  EXPECT_EQ(h23.retry_budget_denied, 1u);
  EXPECT_EQ(h23.client_failures, 2u);
  const TimeBucket& h24 = timeline[24];
  EXPECT_EQ(h24.requests, 1u);
  EXPECT_EQ(h24.completed, 2u);
  EXPECT_EQ(h24.client_failures, 1u);
  EXPECT_DOUBLE_EQ(h24.credits, 6.0);
  EXPECT_EQ(h24.latency_max_us, Seconds(610).micros());
  EXPECT_EQ(m.BucketStart(24), october);
  for (size_t i = 0; i < 22; ++i) EXPECT_EQ(timeline[i].requests, 0u) << i;

  TimeBucket day;
  for (size_t i = 0; i < 24; ++i) day.Add(timeline[i]);
  EXPECT_EQ(day.requests, 12u);
  EXPECT_EQ(day.upstream_calls, 6u);
  EXPECT_EQ(day.wait_max_us, 2000000);
}

// Issue 18, item 16: with a warm-up until 23:00Z, the requests submitted
// and the calls sent in hour 22 leave every total, but not the time series.
TEST_F(MicroScenario, WarmupIsLeftOutOfTheTotals) {
  WarmUpUntil(At("2023-09-30T23:00:00Z"));
  Play();
  const VariantMetrics& m = recorder_.metrics();
  EXPECT_EQ(m.steady_from, At("2023-09-30T23:00:00Z"));
  EXPECT_EQ(m.submitted, 6u);  // 8 .. 13
  EXPECT_EQ(m.completed, 6u);
  EXPECT_EQ(m.outcome(Outcome::kCacheHit), 0u);
  EXPECT_EQ(m.outcome(Outcome::kServed), 3u);  // 8 9 13
  EXPECT_EQ(m.upstream_calls, 4u);             // the batch, the probe, 11's and 13's
  EXPECT_EQ(m.calls_of_kind(CallKind::kRetry), 0u);
  EXPECT_EQ(m.retries, 0u);
  EXPECT_DOUBLE_EQ(m.credits, 6.0);
  EXPECT_EQ(m.apis.at("odds").credits_by_month.count("2023-09"), 0u);
  EXPECT_EQ(m.breaker_trips, 1u);  // at 23:15
  EXPECT_EQ(m.breakers.at("scores").open_time, Minutes(10));
  EXPECT_EQ(m.wait_by_priority[PriorityIndex(Priority::kHigh)].count(), 2u);  // 10 13
  EXPECT_EQ(m.answered_with_data, 3u);
  EXPECT_EQ(m.answered_outdated, 0u);
  const CallBalance b = m.balance();
  EXPECT_EQ(b.requests, 6u);
  EXPECT_EQ(b.served_without_call, 1u);  // the second key of the batch
  EXPECT_EQ(b.failed_without_call, 2u);
  EXPECT_EQ(b.other, 0);
  // The time series keeps the warm-up hour.
  const std::vector<TimeBucket> timeline = m.timeline.ToVector();
  EXPECT_EQ(timeline[22].requests, 7u);
  EXPECT_EQ(timeline[22].upstream_calls, 3u);
  EXPECT_DOUBLE_EQ(timeline[22].credits, 12.0);
}

TEST(MonthOfTest, UtcCalendarMonths) {
  EXPECT_EQ(MonthOf(At("2023-09-30T23:59:59Z")), "2023-09");
  EXPECT_EQ(MonthOf(At("2023-10-01T00:00:00Z")), "2023-10");
  EXPECT_EQ(MonthOf(At("2024-02-29T12:00:00Z")), "2024-02");
}

}  // namespace
}  // namespace orchsim::experiment
