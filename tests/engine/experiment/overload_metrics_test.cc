// The overload metrics: recovery after a trigger (exact bucket arithmetic),
// the series' time-averages, duplicate calls between replicas and the
// replica tap's renaming.
#include "engine/experiment/overload_metrics.h"

#include <gtest/gtest.h>

#include <vector>

namespace orchsim::experiment {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'704'067'200'000'000);  // 2024-01-01T00:00Z

scenario::OverloadConfig Trigger(int from_s, int until_s) {
  scenario::OverloadConfig c;
  c.series = true;
  c.step = Seconds(1);
  c.has_trigger = true;
  c.trigger_from = kStart + Seconds(from_s);
  c.trigger_until = kStart + Seconds(until_s);
  c.recovery_threshold = 0.95;
  c.recovery_hold = Seconds(5);
  c.recovery_smoothing = Seconds(2);
  c.recovery_reference = Seconds(4);
  return c;
}

TEST(RecoveryTest, RecoversWhenTheSmoothedGoodputHoldsForTheHold) {
  // Reference 10/s over [6, 10); trigger [10, 13); back at 10/s from 16 on.
  std::vector<uint64_t> g(30, 10);
  for (int b = 10; b < 16; ++b) g[static_cast<size_t>(b)] = 0;
  g[16] = 10;
  const RecoveryResult r = ComputeRecovery(g, kStart, Seconds(1), Trigger(10, 13));
  ASSERT_TRUE(r.measured);
  EXPECT_DOUBLE_EQ(r.reference_per_s, 10.0);
  EXPECT_DOUBLE_EQ(r.during_per_s, 0.0);
  // Bucket 16's 2 s window holds buckets 15 (0) and 16 (10): 5/s < 9.5; from
  // bucket 17 on it is 10/s, held through 21: recovered at 17, 4 s after 13.
  EXPECT_TRUE(r.recovered);
  EXPECT_EQ(r.recovery, Seconds(4));
  EXPECT_DOUBLE_EQ(r.recovery_s(), 4.0);
  EXPECT_NEAR(r.after_per_s, (13 * 10.0 + 10.0) / 17.0, 1e-12);
}

TEST(RecoveryTest, NeverWhenItDoesNotHoldBeforeTheEnd) {
  std::vector<uint64_t> g(30, 10);
  for (int b = 10; b < 26; ++b) g[static_cast<size_t>(b)] = 1;  // back at 26: 4 s left < hold
  const RecoveryResult r = ComputeRecovery(g, kStart, Seconds(1), Trigger(10, 13));
  EXPECT_TRUE(r.measured);
  EXPECT_FALSE(r.recovered);
  EXPECT_EQ(r.recovery_s(), kNeverRecovered);
}

TEST(RecoveryTest, ADipInsideTheHoldRestartsIt) {
  std::vector<uint64_t> g(40, 10);
  g[15] = 0;  // the 2 s windows ending at 15 and 16 fall to 5/s
  const RecoveryResult r = ComputeRecovery(g, kStart, Seconds(1), Trigger(10, 13));
  EXPECT_TRUE(r.recovered);
  EXPECT_EQ(r.recovery, Seconds(17 - 13));
}

TEST(RecoveryTest, NothingToMeasureWithoutATrigger) {
  scenario::OverloadConfig c;
  const RecoveryResult r = ComputeRecovery({1, 2, 3}, kStart, Seconds(1), c);
  EXPECT_FALSE(r.measured);
  EXPECT_EQ(r.recovery_s(), 0.0);
}

TEST(OverloadRecorderTest, TimeAveragesSplitAcrossBuckets) {
  OverloadRecorder recorder(kStart, kStart + Seconds(3), Seconds(1), {"a", "b"}, kStart);
  world::ServerQueue::Load load;
  load.waiting = 4;
  load.busy = 2;
  recorder.OnLoad("a", kStart + Milliseconds(500), load);  // 4 waiting from 0.5 s
  load.waiting = 0;
  load.busy = 1;
  recorder.OnLoad("a", kStart + Milliseconds(1250), load);  // ... to 1.25 s
  recorder.OnServed("a", kStart + Milliseconds(2100), Milliseconds(300), true, false);
  recorder.OnServed("a", kStart + Milliseconds(2200), Milliseconds(300), false, true);
  recorder.OnRefused("b", kStart + Milliseconds(2999));
  recorder.Finish();
  EXPECT_EQ(recorder.max_waiting(), (std::vector<int64_t>{4, 0}));
  const std::vector<OverloadBucket> series = recorder.TakeSeries();
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].waiting_us[0], 4 * 500'000.0);
  EXPECT_EQ(series[0].busy_us[0], 2 * 500'000.0);
  EXPECT_EQ(series[1].waiting_us[0], 4 * 250'000.0);
  EXPECT_EQ(series[1].busy_us[0], 2 * 250'000.0 + 1 * 750'000.0);
  EXPECT_EQ(series[2].busy_us[0], 1'000'000.0);  // closed at the end by Finish
  EXPECT_EQ(series[2].wasted_us, 300'000.0);
  EXPECT_EQ(series[2].refused, 1u);
  EXPECT_EQ(series[0].waiting_us[1], 0.0);
}

TEST(OverloadRecorderTest, CountsTheCoresEventsByBucket) {
  OverloadRecorder recorder(kStart, kStart + Seconds(2), Seconds(1), {}, kStart);
  Request request;
  recorder.OnSubmitted(request, kStart);
  recorder.OnSubmitted(request, kStart + Seconds(2));  // at the end: outside
  UpstreamCall call;
  call.kind = CallKind::kRetry;
  recorder.OnCallSent(call, kStart + Milliseconds(10));
  call.kind = CallKind::kHedge;
  recorder.OnCallSent(call, kStart + Milliseconds(1010));
  Result served;
  served.outcome = Outcome::kServed;
  Result stale;
  stale.outcome = Outcome::kServedStale;
  Result failed;
  failed.outcome = Outcome::kTimedOut;
  recorder.OnCompleted(request, served, kStart + Milliseconds(1500));
  recorder.OnCompleted(request, stale, kStart + Milliseconds(1500));
  recorder.OnCompleted(request, failed, kStart + Milliseconds(1600));
  recorder.Finish();
  const std::vector<OverloadBucket> s = recorder.TakeSeries();
  EXPECT_EQ(s[0].requests, 1u);
  EXPECT_EQ(s[0].calls, 1u);
  EXPECT_EQ(s[0].retries, 1u);
  EXPECT_EQ(s[1].hedges, 1u);
  EXPECT_EQ(s[1].goodput, 1u);  // stale data is not goodput
  EXPECT_EQ(s[1].failures, 1u);
}

UpstreamCall Call(std::vector<std::string> keys, CallKind kind = CallKind::kFirstAttempt) {
  return UpstreamCall{.api = "api", .endpoint = "e", .keys = std::move(keys), .kind = kind};
}

TEST(DuplicateCallTrackerTest, ACallIsADuplicateWhileAnotherReplicaHasTheKeyInFlight) {
  DuplicateCallTracker t(3);
  EXPECT_FALSE(t.OnSent(0, Call({"k"})));
  EXPECT_FALSE(t.OnSent(0, Call({"k"})));  // the same replica: not a duplicate
  EXPECT_TRUE(t.OnSent(1, Call({"k"})));
  EXPECT_TRUE(t.OnSent(2, Call({"x", "k"})));                // any key of a batch
  EXPECT_FALSE(t.OnSent(2, Call({"k"}, CallKind::kProbe)));  // probes never
  t.OnAnswered(0, Call({"k"}));
  t.OnAnswered(0, Call({"k"}));
  t.OnAnswered(1, Call({"k"}));
  EXPECT_FALSE(t.OnSent(0, Call({"y"})));
  EXPECT_TRUE(t.OnSent(1, Call({"x"})));  // replica 2's batch still has x
  t.OnAnswered(2, Call({"x", "k"}));
  t.OnAnswered(1, Call({"x"}));
  t.OnAnswered(0, Call({"y"}));
  EXPECT_EQ(t.keys_in_flight(), 0u);
}

class Capture : public OrchestratorObserver {
 public:
  void OnCallSent(const UpstreamCall& call, Instant) override { ids.push_back(call.call_id); }
  void OnBreakerTransition(const BreakerTransition& t) override { breakers.push_back(t.breaker); }
  std::vector<uint64_t> ids;
  std::vector<std::string> breakers;
};

TEST(ReplicaTapTest, RenamesCallsAndBreakersAndCountsAfterTheWarmup) {
  Capture capture;
  DuplicateCallTracker duplicates(4);
  ReplicaTap tap(3, {&capture}, &duplicates, kStart + Seconds(1));
  UpstreamCall call = Call({"k"});
  call.call_id = 7;
  tap.OnCallSent(call, kStart);  // in the warm-up: forwarded, not counted
  call.call_id = 8;
  call.kind = CallKind::kRetry;
  tap.OnCallSent(call, kStart + Seconds(2));
  tap.OnBreakerTransition({"api", BreakerState::kClosed, BreakerState::kOpen, kStart});
  EXPECT_EQ(capture.ids, (std::vector<uint64_t>{(3ULL << 56) | 7, (3ULL << 56) | 8}));
  EXPECT_EQ(capture.breakers, (std::vector<std::string>{"api@r3"}));
  EXPECT_EQ(tap.metrics().calls, 1u);
  EXPECT_EQ(tap.metrics().retries, 1u);
}

}  // namespace
}  // namespace orchsim::experiment
