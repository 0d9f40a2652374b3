// Runs with upstream capacity and fleets (issue 17): a fleet of one and the
// overload series change no number; a fleet splits its traffic exactly and
// its totals are the sums of its replicas; key-hash splitting never calls
// one key from two replicas at once; every request still ends once and the
// upstream's books balance over seeded randomized runs; the retry storm's
// phenomenon (naive collapsed, a policy recovering) is pinned.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/experiment/comparison.h"
#include "engine/experiment/metric_catalog.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {
namespace {

const std::string kScenarios = std::string(ORCHSIM_SOURCE_DIR) + "/scenarios";

// A 10-minute run against one backend; `upstream`, `fleet`, `overload` and
// `variant` are spliced in as JSON.
scenario::Scenario Make(const std::string& upstream, const std::string& fleet,
                        const std::string& overload, const std::string& overrides,
                        uint64_t seed = 5) {
  const std::string text = R"({
    "name": "fleet-test", "seed": )" +
                           std::to_string(seed) +
                           R"(, "drain": "10s",
    "start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:10:00Z",
    "schedule": {"synthetic": [{"name": "L", "teams": 2, "season_days": 1,
                                "kickoff_times": ["20h"], "season_start": "2024-01-01T00:00:00Z",
                                "time_zone": "UTC"}]},
    "upstreams": {"backend": )" +
                           upstream +
                           R"(},
    "demand": [
      {"name": "hot", "request": {"api": "backend", "endpoint": "item", "key": "hot-{n}",
                                  "deadline": "3s"},
       "burst": {"count": 6000, "span": "10m", "at": "2024-01-01T00:00:00Z"}},
      {"name": "repeat", "request": {"api": "backend", "endpoint": "item", "key": "same",
                                     "deadline": "3s"},
       "burst": {"count": 3000, "span": "10m", "at": "2024-01-01T00:00:00Z"}}
    ],
    )" + (fleet.empty() ? "" : "\"fleet\": " + fleet + ",") +
                           (overload.empty() ? "" : "\"overload\": " + overload + ",") +
                           R"(
    "variants": [{"name": "v", "preset": "naive", "overrides": )" +
                           overrides + R"(}]
  })";
  return scenario::ParseScenario(text, "fleet-test.json", kScenarios);
}

const std::string kPlain =
    R"({"latency": {"kind": "exponential", "mean": "40ms"}, "data": {"enabled": false}})";
const std::string kCapacity = R"({"latency": {"kind": "constant", "constant": "1ms"},
    "data": {"enabled": false},
    "failures": {"enabled": true, "status_503": 0.02},
    "capacity": {"servers": 2, "queue_limit": 20, "service": {"kind": "exponential", "mean": "100ms"}}})";
const std::string kRetries =
    R"({"retry": {"enabled": true, "max_attempts": 3, "backoff": "exponential", "base": "20ms"},
        "timeouts": {"enabled": true, "per_attempt": "500ms", "overall": "3s"},
        "coalescer": {"enabled": true}})";

VariantRun RunOnly(const scenario::Scenario& s) { return RunVariant(s, s.variants[0], s.seed); }

TEST(FleetRunnerTest, AFleetOfOneAndTheOverloadSeriesChangeNoNumber) {
  const scenario::Scenario plain = Make(kPlain, "", "", kRetries);
  const scenario::Scenario one =
      Make(kPlain, R"({"replicas": 1, "split": "key_hash"})", R"({"step": "1s"})", kRetries);
  const VariantRun a = RunOnly(plain);
  const VariantRun b = RunOnly(one);
  EXPECT_EQ(FlattenMetrics(a, nullptr), FlattenMetrics(b, nullptr));
  EXPECT_EQ(a.events, b.events);
  EXPECT_FALSE(a.overload.series_enabled);
  ASSERT_TRUE(b.overload.series_enabled);
  EXPECT_EQ(b.overload.series.size(), 600u);
  uint64_t requests = 0;
  for (const OverloadBucket& bucket : b.overload.series) requests += bucket.requests;
  EXPECT_EQ(requests, b.metrics.submitted);
  EXPECT_TRUE(b.overload.per_replica.empty());
}

TEST(FleetRunnerTest, RoundRobinSplitsExactlyAndTotalsAreTheReplicasSums) {
  const scenario::Scenario s = Make(kPlain, R"({"replicas": 4})", "", kRetries);
  const VariantRun run = RunOnly(s);
  ASSERT_EQ(run.overload.per_replica.size(), 4u);
  uint64_t requests = 0, calls = 0, goodput = 0, failures = 0, duplicates = 0;
  for (const ReplicaMetrics& m : run.overload.per_replica) {
    EXPECT_EQ(m.requests, 9000u / 4);  // 9,000 requests in arrival order, k mod 4
    requests += m.requests;
    calls += m.calls;
    goodput += m.goodput;
    failures += m.client_failures;
    duplicates += m.duplicate_calls;
  }
  EXPECT_EQ(requests, run.metrics.submitted);
  EXPECT_EQ(calls, run.metrics.upstream_calls);
  EXPECT_EQ(failures, run.metrics.client_failures());
  EXPECT_EQ(goodput, run.metrics.outcome(Outcome::kServed) +
                         run.metrics.outcome(Outcome::kCoalesced) +
                         run.metrics.outcome(Outcome::kCacheHit));
  EXPECT_EQ(duplicates, run.overload.duplicate_calls);
  // "same" every 200 ms answered in ~40 ms by four replicas without shared
  // coalescing: some calls overlap another replica's.
  EXPECT_GT(run.overload.duplicate_calls, 0u);
  EXPECT_EQ(run.metrics.upstream_calls, run.upstreams.at("backend").calls);
}

TEST(FleetRunnerTest, KeyHashNeverCallsOneKeyFromTwoReplicasAtOnce) {
  const scenario::Scenario s =
      Make(kPlain, R"({"replicas": 4, "split": "key_hash"})", "", kRetries);
  const VariantRun run = RunOnly(s);
  EXPECT_EQ(run.overload.duplicate_calls, 0u);
  uint64_t requests = 0;
  for (const ReplicaMetrics& m : run.overload.per_replica) requests += m.requests;
  EXPECT_EQ(requests, 9000u);
}

// 15 requests/s against a shared bucket of 10/s: the limiter denies some
// calls (429 without reaching the upstream); the core's call counts still
// agree with the upstream's once those are left out.
TEST(FleetRunnerTest, ASharedLimiterKeepsCallsFromTheUpstreamAndTheBooksBalance) {
  const scenario::Scenario s = Make(kPlain, R"({"replicas": 3, "shared_limiter": {
      "rate_per_s": 10, "burst": 5, "latency": {"kind": "constant", "constant": "2ms"}}})",
                                    "", R"({"coalescer": {"enabled": true}})");
  const VariantRun run = RunOnly(s);
  ASSERT_TRUE(run.overload.limiter_enabled);
  const world::SharedLimiter::Counters& c = run.overload.limiter;
  EXPECT_EQ(c.asks, run.metrics.upstream_calls);
  EXPECT_EQ(c.asks, c.allowed + c.denied);
  EXPECT_GT(c.denied, 0u);
  EXPECT_EQ(run.upstreams.at("backend").calls, c.allowed);
  EXPECT_EQ(run.overload.StoppedBeforeUpstream("backend", CallKind::kFirstAttempt), c.denied);
  EXPECT_TRUE(CountMismatches(run).empty());
  EXPECT_EQ(run.upstreams.at("backend").statuses.count(429), 0u);  // the upstream never said 429
  EXPECT_EQ(run.metrics.outcome(Outcome::kFailed), c.denied);      // no retries: each denial fails
}

TEST(FleetRunnerTest, FleetRunsAreDeterministic) {
  const scenario::Scenario s =
      Make(kCapacity, R"({"replicas": 3, "shared_limiter": {"rate_per_s": 12, "burst": 5,
           "failure_rate": 0.01}})",
           R"({"step": "5s"})", kRetries);
  const VariantRun a = RunOnly(s);
  const VariantRun b = RunOnly(s);
  EXPECT_EQ(FlattenMetrics(a, nullptr), FlattenMetrics(b, nullptr));
  EXPECT_EQ(a.events, b.events);
  EXPECT_TRUE(a.overload.limiter_enabled);
  EXPECT_EQ(a.overload.limiter.asks, a.overload.limiter.allowed + a.overload.limiter.denied);
  EXPECT_GT(a.overload.limiter.denied, 0u);  // 12/s for ~15 requests/s
  EXPECT_GT(a.overload.limiter.failures, 0u);
}

// Invariants over seeded randomized runs of an overloaded backend: every
// request ends once; the backend's books balance (every call refused by the
// gateway or full, dropped, or served, once all is done); wasted work is at
// most the busy time; busy time never exceeds the servers' time; every call
// the core cancelled was still being served (nothing else is wasted here but
// answers after their deadline).
TEST(FleetRunnerTest, InvariantsHoldOverSeededRuns) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    const int replicas = 1 + static_cast<int>(seed % 3);
    const scenario::Scenario s = Make(kCapacity,
                                      R"({"replicas": )" + std::to_string(replicas) +
                                          (seed % 2 == 0 ? R"(, "split": "key_hash"})" : "}"),
                                      R"({"step": "1s"})", kRetries, seed);
    const VariantRun run = RunOnly(s);
    uint64_t outcomes = 0;
    for (uint64_t n : run.metrics.outcomes) outcomes += n;
    EXPECT_EQ(outcomes, run.metrics.submitted);
    EXPECT_EQ(run.metrics.completed, run.metrics.submitted);
    ASSERT_EQ(run.overload.upstreams.count("backend"), 1u);
    const UpstreamLoad& load = run.overload.upstreams.at("backend");
    const UpstreamSummary& up = run.upstreams.at("backend");
    EXPECT_EQ(up.calls, load.served + load.refused + load.dropped);  // no gateway refusals here
    EXPECT_EQ(run.metrics.upstream_calls, up.calls);
    EXPECT_LE(load.wasted_time, load.busy_time);
    EXPECT_LE(load.busy_us, load.servers_us + 1e-6);
    EXPECT_EQ(load.busy_us, static_cast<double>(load.busy_time.micros()));
    EXPECT_GE(load.wasted, run.overload.calls_cancelled);
    EXPECT_GE(load.served, load.wasted + load.goodput);  // the rest: 503s answered in time
    EXPECT_LE(load.goodput, run.metrics.outcome(Outcome::kServed));
    // Series totals equal the run's.
    uint64_t calls = 0, refused = 0;
    for (const OverloadBucket& b : run.overload.series) {
      calls += b.calls;
      refused += b.refused;
    }
    EXPECT_EQ(calls, run.metrics.upstream_calls);
    EXPECT_EQ(refused, load.refused);
  }
}

// The shipped metastability scenario: plain retries stay collapsed after the
// trigger; the breaker and adaptive throttling recover within a minute.
TEST(FleetRunnerTest, RetryStormNaiveStaysCollapsedAndABreakerRecovers) {
  const scenario::Scenario s = scenario::LoadScenario(kScenarios + "/retry-storm.json");
  const std::vector<VariantRun> runs = RunComparison(s, {"naive-retries", "breaker"}, s.seed);
  const RecoveryResult& naive = runs[0].overload.recovery;
  const RecoveryResult& breaker = runs[1].overload.recovery;
  ASSERT_TRUE(naive.measured);
  EXPECT_FALSE(naive.recovered);
  EXPECT_LT(naive.after_per_s, 0.1 * naive.reference_per_s);
  EXPECT_TRUE(breaker.recovered);
  EXPECT_LE(breaker.recovery, Seconds(60));
  // The collapse is wasted work: the backend stays busy on abandoned calls.
  EXPECT_GT(runs[0].overload.upstreams.at("backend").utilisation(), 0.9);
  EXPECT_GT(runs[0].overload.wasted_time(), runs[1].overload.wasted_time() * 10);
}

}  // namespace
}  // namespace orchsim::experiment
