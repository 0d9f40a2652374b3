// The core's invariant under a hostile fake upstream, every component on:
// every submitted request ends exactly once; outcomes sum to submissions;
// nothing completes after shutdown's callback; no token-bucket window bound
// is exceeded. 100,000+ requests per seed, fixed seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"
#include "tests/policies/random_requests.h"

namespace orchsim {
namespace {

using testing::FakeClock;
using testing::FakeTimers;
using testing::FakeTransport;
using testing::SeededRandom;

const Instant kT0 = *ParseInstant("2023-09-10T12:00:00Z");

OrchestratorConfig EverythingOn() {
  OrchestratorConfig c;
  c.defaults.bucket.rate_per_s = 50;
  c.defaults.bucket.burst = 20;
  c.queue.capacity = 500;
  c.defaults.batcher.enabled = true;
  c.defaults.batcher.window = Milliseconds(100);
  c.defaults.batcher.max_batch_size = 5;
  c.defaults.cache.default_ttl = Seconds(20);
  c.cache_store.max_entries = 100;
  c.prefetch.enabled = true;
  c.prefetch.offsets = {Minutes(30), Minutes(5)};
  c.prefetch.targets = {PrefetchTarget{"odds", "odds", "{game}"}};
  c.defaults.breaker.failure_threshold = 8;
  c.defaults.breaker.open_wait = Seconds(5);
  c.defaults.retry.max_attempts = 3;
  c.defaults.retry.backoff = BackoffKind::kFullJitter;
  c.defaults.retry.base = Milliseconds(50);
  c.defaults.retry.cap = Seconds(2);
  c.defaults.concurrency.max_in_flight = 6;
  c.defaults.timeouts.per_attempt = Seconds(2);
  c.defaults.timeouts.overall = Seconds(20);
  ApiPolicy odds = c.defaults;
  odds.bucket.rate_per_s = 20;
  odds.bucket.burst = 10;
  odds.bucket.reserves = {TokenReserve{Priority::kCritical, 2}, TokenReserve{Priority::kHigh, 4}};
  odds.quota.mode = QuotaMode::kPace;
  odds.quota.critical_floor = 5;
  c.apis["odds"] = odds;
  ApiPolicy weather = c.defaults;
  weather.bucket.rate_per_s = 5;
  weather.bucket.burst = 5;
  weather.quota.mode = QuotaMode::kAimd;
  c.apis["weather"] = weather;
  // The overload policies ride along (hedges, throttling, adaptive limits).
  for (ApiPolicy* api : {&c.defaults, &c.apis["odds"], &c.apis["weather"]}) {
    api->hedging.enabled = true;
    api->hedging.delay = Milliseconds(500);
    api->hedging.budget_ratio = 0.2;
  }
  c.apis["odds"].adaptive_throttling.enabled = true;
  c.apis["weather"].retry_throttling.enabled = true;
  c.apis["weather"].adaptive_concurrency.enabled = true;
  c.apis["weather"].adaptive_concurrency.algorithm = ConcurrencyAlgorithm::kAimd;
  c.health.active_probes = true;
  c.health.probe_interval = Seconds(30);
  return c;
}

// A flaky upstream: errors, 429 with Retry-After, answers after the attempt
// timeout, and quota headers that are sometimes malformed.
std::pair<Response, Duration> HostileAnswer(const UpstreamCall& call, SeededRandom& rng,
                                            int64_t& remaining) {
  Response r;
  const double u = rng.Uniform01();
  Duration latency = Microseconds(1000 + static_cast<int64_t>(rng.Uniform01() * 400000));
  if (u < 0.65) {
    r.status = 200;
    for (size_t i = 0; i < call.keys.size(); ++i) r.payload_versions.push_back(rng.NextU64() % 50);
    r.credits_charged = static_cast<double>(call.keys.size());
  } else if (u < 0.75) {
    r.status = 503;
  } else if (u < 0.80) {
    r.status = 500;
  } else if (u < 0.85) {
    r.status = 429;
    r.headers.Set("Retry-After", rng.Uniform01() < 0.5 ? "1" : "garbage");
  } else if (u < 0.90) {
    r.status = 200;
    r.payload_versions.assign(call.keys.size(), 1);
    latency = Seconds(3);  // after the 2 s attempt timeout
  } else {
    r.status = 404;
  }
  remaining = std::max<int64_t>(0, remaining - 1);
  const double h = rng.Uniform01();
  if (h < 0.8) {
    r.headers.Set("x-requests-remaining", std::to_string(remaining));
    r.headers.Set("x-requests-used", std::to_string(100000 - remaining));
  } else if (h < 0.9) {
    r.headers.Set("x-requests-remaining", "-7");
  } else {
    r.headers.Set("X-RateLimit-Remaining", "not a number");
  }
  return {r, latency};
}

class InvariantTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(InvariantTest, EveryRequestEndsExactlyOnce) {
  const uint64_t seed = GetParam();
  FakeClock clock(kT0);
  FakeTimers timers(clock);
  FakeTransport transport(clock, timers);
  SeededRandom jitter(seed);
  SeededRandom upstream_rng(seed * 31 + 1);
  SeededRandom demand(seed * 17 + 3);
  int64_t remaining = 100000;
  transport.set_auto_responder(
      [&](const UpstreamCall& call) { return HostileAnswer(call, upstream_rng, remaining); });
  const OrchestratorConfig config = EverythingOn();
  ASSERT_TRUE(config.validate().ok()) << config.validate().message();
  std::unique_ptr<Orchestrator> core =
      Orchestrator::Create(config, clock, timers, transport, jitter).value();
  Orchestrator& orchestrator = *core;

  constexpr uint64_t kRequests = 100000;
  std::vector<int> completions(kRequests + 1, 0);
  std::array<uint64_t, kOutcomeCount> outcomes{};
  bool stopped = false;
  uint64_t completed_after_stop = 0;
  const testing::RandomRequestMix workload{{"odds", "weather", "scores"}, {"weather"}};
  testing::AddTwentyGames(orchestrator, kT0);
  Instant t = kT0;
  for (uint64_t id = 1; id <= kRequests; ++id) {
    const Request r = testing::NextRandomRequest(demand, workload, id, kT0, t);
    timers.AdvanceTo(t);
    orchestrator.Submit(r, [&, id](const Result& result) {
      ++completions[id];
      ++outcomes[static_cast<int>(result.outcome)];
      if (stopped) ++completed_after_stop;
    });
  }
  orchestrator.Shutdown(Milliseconds(500), [&] { stopped = true; });
  timers.RunAll();

  ASSERT_TRUE(stopped);
  EXPECT_EQ(completed_after_stop, 0u);
  for (uint64_t id = 1; id <= kRequests; ++id) ASSERT_EQ(completions[id], 1) << "request " << id;
  uint64_t total = 0;
  for (uint64_t n : outcomes) total += n;
  EXPECT_EQ(total, kRequests);
  EXPECT_EQ(orchestrator.stats().submitted, kRequests);
  EXPECT_EQ(orchestrator.stats().completed, kRequests);
  EXPECT_EQ(orchestrator.pending_requests(), 0u);
  // The mix must exercise the mechanisms, or the test proves little.
  for (Outcome o : {Outcome::kServed, Outcome::kCacheHit, Outcome::kCoalesced, Outcome::kFailed,
                    Outcome::kTimedOut, Outcome::kCancelled}) {
    EXPECT_GT(outcomes[static_cast<int>(o)], 0u) << OutcomeName(o);
  }
  EXPECT_GT(orchestrator.stats().retries, 0u);
  EXPECT_GT(orchestrator.stats().late_answers_discarded, 0u);
  EXPECT_GT(orchestrator.stats().batched_requests, 0u);

  // Token bucket: in any window [t_i, t_j] the calls admitted (cost 1 each)
  // never exceed burst + rate * (t_j - t_i). Probes bypass the bucket.
  std::map<std::string, std::vector<Instant>> sends;
  for (size_t i = 0; i < transport.calls().size(); ++i) {
    if (transport.calls()[i].kind != CallKind::kProbe) {
      sends[transport.calls()[i].api].push_back(transport.send_times()[i]);
    }
  }
  for (const auto& [api, times] : sends) {
    const TokenBucketConfig& bucket = config.ForApi(api).bucket;
    // max over i <= j of (j - i + 1) - rate * (t_j - t_i), in one pass.
    double best_start = -1e300;
    double worst = 0;
    for (size_t j = 0; j < times.size(); ++j) {
      const double tj = static_cast<double>((times[j] - kT0).micros()) / 1e6;
      best_start = std::max(best_start, bucket.rate_per_s * tj - static_cast<double>(j));
      worst = std::max(worst, static_cast<double>(j + 1) - bucket.rate_per_s * tj + best_start);
    }
    EXPECT_LE(worst, bucket.burst + 1e-6) << api << " exceeded its bucket";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, InvariantTest, ::testing::Values(1u, 2u));

}  // namespace
}  // namespace orchsim
