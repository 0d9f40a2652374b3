#include "engine/world/mock_upstream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchsim::world {
namespace {

Instant At(std::string_view iso) {
  ParseResult<Instant> parsed = ParseInstant(iso);
  if (!parsed.ok()) throw std::invalid_argument(parsed.error());
  return *parsed;
}

const Instant kOrigin = At("2023-09-01T00:00:00Z");

UpstreamModelConfig Config() {
  UpstreamModelConfig c;
  c.name = "odds";
  return c;
}

UpstreamCall Call(std::string endpoint = "odds", std::vector<std::string> keys = {"game-1"}) {
  UpstreamCall call;
  call.api = "odds";
  call.endpoint = std::move(endpoint);
  call.keys = std::move(keys);
  return call;
}

// The header's value, or "<absent>".
std::string Header(const Response& r, std::string_view name) {
  const std::string* value = r.headers.Find(name);
  return value == nullptr ? "<absent>" : *value;
}

// A simulator at kOrigin, a seed tree and one upstream; CallAt moves virtual
// time to `t` and evaluates a call there.
struct Harness {
  explicit Harness(UpstreamModelConfig config, uint64_t seed = 42)
      : sim(kOrigin), seeds(seed), upstream(sim, seeds, std::move(config)) {}
  Response CallAt(Instant t, const UpstreamCall& call = Call()) {
    sim.RunUntil(t);
    return upstream.Process(call);
  }
  // `n` latencies drawn by calls at now().
  std::vector<int64_t> Latencies(int n) {
    std::vector<int64_t> out;
    for (int i = 0; i < n; ++i) out.push_back(upstream.Process(Call()).latency.micros());
    return out;
  }
  kernel::Simulator sim;  // declared first: outlives the upstream
  kernel::SeedTree seeds;
  MockUpstream upstream;
};

double Mean(const std::vector<int64_t>& xs) {
  double sum = 0.0;
  for (int64_t x : xs) sum += static_cast<double>(x);
  return sum / static_cast<double>(xs.size());
}

// The q-quantile (nearest rank) of xs.
int64_t Quantile(std::vector<int64_t> xs, double q) {
  std::sort(xs.begin(), xs.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(xs.size())));
  return xs[std::max<size_t>(rank, 1) - 1];
}

// Health that is healthy for about a second, then stays in `then` (degraded
// or down) for ~1000 hours.
UpstreamModelConfig HealthyThen(UpstreamHealth then) {
  UpstreamModelConfig c = Config();
  c.health.enabled = true;
  c.health.mean_healthy = Seconds(1);
  c.health.mean_degraded = Hours(1000);
  c.health.mean_down = Hours(1000);
  c.health.healthy_to_down = then == UpstreamHealth::kDown ? 1.0 : 0.0;
  c.health.degraded_to_down = 0.0;
  return c;
}

// ---- construction and delivery ----------------------------------------------

TEST(MockUpstreamTest, InvalidConfigThrowsValidatesMessage) {
  kernel::Simulator sim(kOrigin);
  UpstreamModelConfig c = Config();
  c.rate_limit.enabled = true;
  c.rate_limit.max_calls = 0;
  try {
    MockUpstream upstream(sim, kernel::SeedTree(1), c);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("upstreams.odds.rate_limit.max_calls: 0 must be >= 1"),
              std::string::npos)
        << e.what();
  }
}

TEST(MockUpstreamTest, SendAnswersThroughTheSimulatorAtNowPlusLatency) {
  Harness h(Config());  // constant 50ms, everything else off
  EXPECT_EQ(h.upstream.origin(), kOrigin);
  h.sim.RunUntil(kOrigin + Seconds(5));
  std::vector<std::pair<int64_t, int>> delivered;  // (us after origin, status)
  h.upstream.Send(Call(), [&](const Response& r) {
    delivered.emplace_back((h.sim.now() - kOrigin).micros(), r.status);
    EXPECT_EQ(r.latency, Milliseconds(50));
  });
  EXPECT_TRUE(delivered.empty());  // never from inside Send
  EXPECT_EQ(h.upstream.in_flight(), 1u);
  h.sim.RunUntilEmpty();
  EXPECT_EQ(delivered, (std::vector<std::pair<int64_t, int>>{{5'050'000, 200}}));
  EXPECT_EQ(h.upstream.in_flight(), 0u);
}

TEST(MockUpstreamTest, DestroyingTheUpstreamCancelsPendingAnswers) {
  kernel::Simulator sim(kOrigin);
  auto upstream = std::make_unique<MockUpstream>(sim, kernel::SeedTree(1), Config());
  int delivered = 0;
  upstream->Send(Call(), [&](const Response&) { ++delivered; });
  upstream.reset();
  sim.RunUntilEmpty();
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(sim.pending(), 0u);
}

TEST(MockUpstreamTest, CountsCallsByKindEndpointKeysAndStatus) {
  Harness h(Config());
  UpstreamCall retry = Call("scores", {"a", "b"});
  retry.kind = CallKind::kRetry;
  h.upstream.Process(retry);
  h.upstream.Process(Call());
  h.upstream.Process(Call("odds", {}));  // no keys: 400
  const UpstreamCounters& c = h.upstream.counters();
  EXPECT_EQ(c.calls, 3u);
  EXPECT_EQ(c.CallsOfKind(CallKind::kRetry), 1u);
  EXPECT_EQ(c.CallsOfKind(CallKind::kFirstAttempt), 2u);
  EXPECT_EQ(c.calls_by_endpoint.at("scores"), 1u);
  EXPECT_EQ(c.calls_by_endpoint.at("odds"), 2u);
  EXPECT_EQ(c.keys_requested, 3u);
  EXPECT_EQ(c.StatusCount(200), 2u);
  EXPECT_EQ(c.StatusCount(400), 1u);
  EXPECT_EQ(c.StatusCount(500), 0u);
  EXPECT_EQ(c.batch_rejected, 1u);
}

// ---- latency ----------------------------------------------------------------

TEST(MockUpstreamLatencyTest, ConstantIsExact) {
  UpstreamModelConfig c = Config();
  c.latency.constant = Microseconds(12'345);
  Harness h(c);
  for (int64_t us : h.Latencies(100)) ASSERT_EQ(us, 12'345);
}

TEST(MockUpstreamLatencyTest, UniformStaysInRangeWithTheRightMean) {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kUniform;
  c.latency.min = Milliseconds(20);
  c.latency.max = Milliseconds(200);
  Harness h(c);
  const std::vector<int64_t> xs = h.Latencies(20'000);
  EXPECT_GE(*std::min_element(xs.begin(), xs.end()), 20'000);
  EXPECT_LE(*std::max_element(xs.begin(), xs.end()), 200'000);
  EXPECT_NEAR(Mean(xs), 110'000.0, 1'500.0);  // sd of the mean ~370us
  EXPECT_NEAR(static_cast<double>(Quantile(xs, 0.25)), 65'000.0, 2'500.0);
}

TEST(MockUpstreamLatencyTest, ExponentialHasItsMeanAndTail) {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kExponential;
  c.latency.mean = Milliseconds(100);
  Harness h(c);
  const std::vector<int64_t> xs = h.Latencies(20'000);
  EXPECT_NEAR(Mean(xs), 100'000.0, 3'500.0);  // sd of the mean ~707us
  const double above_mean = static_cast<double>(
      std::count_if(xs.begin(), xs.end(), [](int64_t x) { return x > 100'000; }));
  EXPECT_NEAR(above_mean / 20'000.0, std::exp(-1.0), 0.015);
}

TEST(MockUpstreamLatencyTest, LognormalMatchesItsMedianAndP99) {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kLognormal;
  c.latency.median = Milliseconds(80);
  c.latency.p99 = Milliseconds(800);
  Harness h(c);
  const std::vector<int64_t> xs = h.Latencies(40'000);
  EXPECT_NEAR(static_cast<double>(Quantile(xs, 0.5)), 80'000.0, 3'000.0);
  EXPECT_NEAR(static_cast<double>(Quantile(xs, 0.99)), 800'000.0, 80'000.0);
  EXPECT_GT(*std::min_element(xs.begin(), xs.end()), 0);
}

TEST(MockUpstreamLatencyTest, EmpiricalPicksRowsByWeight) {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kEmpirical;
  c.latency.table = {{Milliseconds(10), 1.0}, {Milliseconds(30), 3.0}};
  Harness h(c);
  const std::vector<int64_t> xs = h.Latencies(20'000);
  const auto slow = std::count(xs.begin(), xs.end(), 30'000);
  EXPECT_EQ(slow + std::count(xs.begin(), xs.end(), 10'000), 20'000);  // nothing else
  EXPECT_NEAR(static_cast<double>(slow) / 20'000.0, 0.75, 0.015);
}

TEST(MockUpstreamLatencyTest, EmpiricalInterpolatesBetweenCdfPoints) {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kEmpirical;
  c.latency.empirical_interpolate = true;
  // Uniform on [0, 100ms) then uniform on [100ms, 1s): 90% under 100ms.
  c.latency.table = {{Duration::Zero(), 0.0}, {Milliseconds(100), 0.9}, {Seconds(1), 1.0}};
  Harness h(c);
  const std::vector<int64_t> xs = h.Latencies(20'000);
  const double fast = static_cast<double>(
      std::count_if(xs.begin(), xs.end(), [](int64_t x) { return x < 100'000; }));
  EXPECT_NEAR(fast / 20'000.0, 0.9, 0.01);
  EXPECT_NEAR(Mean(xs), 0.9 * 50'000.0 + 0.1 * 550'000.0, 4'000.0);
  EXPECT_LE(*std::max_element(xs.begin(), xs.end()), 1'000'000);
}

TEST(MockUpstreamLatencyTest, DegradedMultipliesLatencyFromTheSpansFirstMicrosecond) {
  UpstreamModelConfig c = HealthyThen(UpstreamHealth::kDegraded);
  c.latency.constant = Milliseconds(50);
  c.latency.degraded_factor = 3.0;
  Harness h(c);
  const std::vector<HealthSpan>& spans = h.upstream.health().SpansUntil(kOrigin + Hours(1));
  ASSERT_EQ(spans.size(), 2u);
  ASSERT_EQ(spans[1].state, UpstreamHealth::kDegraded);
  const Instant degraded_from = spans[1].start;
  EXPECT_EQ(h.CallAt(degraded_from - Microseconds(1)).latency, Milliseconds(50));
  EXPECT_EQ(h.CallAt(degraded_from).latency, Milliseconds(150));
  EXPECT_EQ(h.CallAt(kOrigin + Hours(1)).latency, Milliseconds(150));
}

// ---- failures ---------------------------------------------------------------

TEST(MockUpstreamFailureTest, ErrorRatesByStatusWithinBounds) {
  UpstreamModelConfig c = Config();
  c.failures.enabled = true;
  c.failures.rates = {.status_500 = 0.10, .status_502 = 0.05, .status_503 = 0.03, .timeout = 0.02};
  c.failures.timeout_latency = Seconds(10);
  Harness h(c);
  constexpr int kCalls = 40'000;
  for (int i = 0; i < kCalls; ++i) {
    const Response r = h.upstream.Process(Call());
    if (r.status == kStatusTransportError) {
      ASSERT_EQ(r.latency, Seconds(10));
      ASSERT_TRUE(r.headers.empty());
      ASSERT_TRUE(r.payload_versions.empty());
    } else if (r.status != 200) {
      ASSERT_EQ(r.latency, Milliseconds(50));
      ASSERT_TRUE(r.payload_versions.empty());
    }
  }
  const UpstreamCounters& k = h.upstream.counters();
  // Bounds: expected count +- 5 standard deviations.
  auto expect_about = [&](int status, double p) {
    const double mean = p * kCalls;
    const double sd = std::sqrt(kCalls * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(k.StatusCount(status)), mean, 5 * sd) << status;
  };
  expect_about(500, 0.10);
  expect_about(502, 0.05);
  expect_about(503, 0.03);
  expect_about(kStatusTransportError, 0.02);
  expect_about(200, 0.80);
  EXPECT_EQ(k.timeouts, k.StatusCount(kStatusTransportError));
  EXPECT_EQ(k.injected_errors, kCalls - k.StatusCount(200));
}

TEST(MockUpstreamFailureTest, DisabledFailuresNeverFail) {
  UpstreamModelConfig c = Config();
  c.failures.enabled = false;
  c.failures.rates.status_500 = 1.0;
  Harness h(c);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(h.upstream.Process(Call()).status, 200);
}

TEST(MockUpstreamFailureTest, DegradedScalesErrorRates) {
  UpstreamModelConfig c = HealthyThen(UpstreamHealth::kDegraded);
  c.failures.enabled = true;
  c.failures.rates.status_500 = 0.1;
  c.failures.degraded_error_factor = 5.0;
  Harness h(c);
  const Instant degraded_from = h.upstream.health().SpansUntil(kOrigin + Hours(1))[1].start;
  constexpr int kCalls = 20'000;
  int healthy_errors = 0;
  for (int i = 0; i < kCalls; ++i) healthy_errors += h.CallAt(kOrigin).status == 500;
  int degraded_errors = 0;
  for (int i = 0; i < kCalls; ++i) degraded_errors += h.CallAt(degraded_from).status == 500;
  EXPECT_NEAR(healthy_errors, 0.1 * kCalls, 5 * std::sqrt(kCalls * 0.1 * 0.9));
  EXPECT_NEAR(degraded_errors, 0.5 * kCalls, 5 * std::sqrt(kCalls * 0.5 * 0.5));
}

TEST(MockUpstreamFailureTest, DegradedRatesAboveOneAreScaledToSumToOne) {
  UpstreamModelConfig c = HealthyThen(UpstreamHealth::kDegraded);
  c.failures.enabled = true;
  c.failures.rates.status_500 = 0.3;
  c.failures.rates.status_503 = 0.2;
  c.failures.degraded_error_factor = 5.0;  // 2.5 in all: scaled to 0.6 / 0.4
  Harness h(c);
  const Instant degraded_from = h.upstream.health().SpansUntil(kOrigin + Hours(1))[1].start;
  h.sim.RunUntil(degraded_from);
  constexpr int kCalls = 20'000;
  for (int i = 0; i < kCalls; ++i) h.upstream.Process(Call());
  const UpstreamCounters& k = h.upstream.counters();
  EXPECT_EQ(k.StatusCount(200), 0u);
  EXPECT_EQ(k.StatusCount(500) + k.StatusCount(503), static_cast<uint64_t>(kCalls));
  EXPECT_NEAR(static_cast<double>(k.StatusCount(500)), 0.6 * kCalls,
              5 * std::sqrt(kCalls * 0.6 * 0.4));
}

// ---- Markov health ------------------------------------------------------------

TEST(HealthTimelineTest, DisabledIsOneHealthySpanForEver) {
  HealthModelConfig config;
  HealthTimeline timeline(config, kernel::Rng(1), kOrigin);
  EXPECT_EQ(timeline.StateAt(kOrigin + Days(10'000)), UpstreamHealth::kHealthy);
  EXPECT_EQ(timeline.SpansUntil(kOrigin + Days(10'000)),
            (std::vector<HealthSpan>{{UpstreamHealth::kHealthy, kOrigin, Instant::Max()}}));
}

TEST(HealthTimelineTest, SpansAreContiguousFollowTheChainAndMatchStationaryFractions) {
  HealthModelConfig config;
  config.enabled = true;
  config.mean_healthy = Hours(1);
  config.mean_degraded = Minutes(20);
  config.mean_down = Minutes(10);
  config.healthy_to_down = 0.2;
  config.degraded_to_down = 0.3;
  config.down_to_degraded = 0.4;
  HealthTimeline timeline(config, kernel::Rng(7), kOrigin);
  const Instant end = kOrigin + Days(5'000);
  const std::vector<HealthSpan>& spans = timeline.SpansUntil(end);
  ASSERT_GT(spans.size(), 100'000u);
  EXPECT_EQ(spans.front().state, UpstreamHealth::kHealthy);
  EXPECT_EQ(spans.front().start, kOrigin);
  EXPECT_GT(spans.back().end, end);
  // jumps[from][to] and the sojourn totals per state.
  double jumps[3][3] = {};
  double sojourn_us[3] = {};
  double visits[3] = {};
  for (size_t i = 0; i < spans.size(); ++i) {
    ASSERT_LT(spans[i].start, spans[i].end);
    const int s = static_cast<int>(spans[i].state);
    sojourn_us[s] += static_cast<double>((spans[i].end - spans[i].start).micros());
    visits[s] += 1;
    if (i == 0) continue;
    ASSERT_EQ(spans[i].start, spans[i - 1].end);
    ASSERT_NE(spans[i].state, spans[i - 1].state);
    jumps[static_cast<int>(spans[i - 1].state)][s] += 1;
  }
  auto share = [&](int from, int to) {
    return jumps[from][to] / (jumps[from][0] + jumps[from][1] + jumps[from][2]);
  };
  EXPECT_NEAR(share(0, 2), 0.2, 0.01);
  EXPECT_NEAR(share(1, 2), 0.3, 0.01);
  EXPECT_NEAR(share(2, 1), 0.4, 0.01);
  EXPECT_NEAR(sojourn_us[0] / visits[0], 3.6e9, 0.02 * 3.6e9);
  EXPECT_NEAR(sojourn_us[1] / visits[1], 1.2e9, 0.02 * 1.2e9);
  EXPECT_NEAR(sojourn_us[2] / visits[2], 0.6e9, 0.02 * 0.6e9);

  const std::array<double, 3> expected = config.StationaryTimeFractions();
  Duration total;
  for (int s = 0; s < 3; ++s) {
    const Duration in = timeline.TimeIn(static_cast<UpstreamHealth>(s), kOrigin, end);
    total += in;
    EXPECT_NEAR(static_cast<double>(in.micros()) / static_cast<double>((end - kOrigin).micros()),
                expected[s], 0.01)
        << UpstreamHealthName(static_cast<UpstreamHealth>(s));
  }
  EXPECT_EQ(total, end - kOrigin);  // the spans cover [origin, end) exactly once
}

TEST(HealthTimelineTest, StateAtFollowsSpanBoundariesAndIsHealthyBeforeTheOrigin) {
  HealthModelConfig config;
  config.enabled = true;
  config.mean_healthy = Minutes(10);
  config.mean_degraded = Minutes(5);
  config.mean_down = Minutes(2);
  config.healthy_to_down = 0.5;
  HealthTimeline timeline(config, kernel::Rng(3), kOrigin);
  EXPECT_EQ(timeline.StateAt(kOrigin - Days(1)), UpstreamHealth::kHealthy);
  const std::vector<HealthSpan> spans = timeline.SpansUntil(kOrigin + Days(1));
  for (size_t i = 1; i < spans.size(); ++i) {
    ASSERT_EQ(timeline.StateAt(spans[i].start), spans[i].state);
    ASSERT_EQ(timeline.StateAt(spans[i].start - Microseconds(1)), spans[i - 1].state);
  }
}

TEST(MockUpstreamHealthTest, DownAnswersDownStatusWithoutHeadersOrCounting) {
  for (int down_status : {503, kStatusTransportError}) {
    UpstreamModelConfig c = HealthyThen(UpstreamHealth::kDown);
    c.health.down_status = down_status;
    c.failures.timeout_latency = Seconds(30);
    c.quota.enabled = true;
    c.rate_limit.enabled = true;
    c.rate_limit.max_calls = 1;
    c.rate_limit.window = Hours(1);
    Harness h(c);
    const std::vector<HealthSpan>& spans = h.upstream.health().SpansUntil(kOrigin + Hours(1));
    ASSERT_EQ(spans.size(), 2u);
    ASSERT_EQ(spans[1].state, UpstreamHealth::kDown);
    const Instant down_from = spans[1].start;
    // The call just before going down is the hour window's only admitted one.
    EXPECT_EQ(h.CallAt(down_from - Microseconds(1)).status, 200);
    EXPECT_EQ(h.upstream.HealthAt(down_from), UpstreamHealth::kDown);
    for (int i = 0; i < 3; ++i) {
      const Response r = h.CallAt(down_from + Minutes(i));
      EXPECT_EQ(r.status, down_status);  // not 429: down is answered before the rate limit
      EXPECT_EQ(r.latency, down_status == 503 ? Milliseconds(50) : Seconds(30));
      EXPECT_TRUE(r.headers.empty());
      EXPECT_EQ(r.credits_charged, 0.0);
    }
    EXPECT_EQ(h.upstream.counters().down_answers, 3u);
    EXPECT_EQ(h.upstream.counters().rate_limited, 0u);
    EXPECT_EQ(h.upstream.QuotaUsed(down_from + Minutes(2)), 1.0);
  }
}

// ---- scheduled outages ---------------------------------------------------------

TEST(MockUpstreamOutageTest, WindowsAnswerTheirStatusOnExactBoundaries) {
  UpstreamModelConfig c = Config();
  c.outages = {{kOrigin + Seconds(10), kOrigin + Seconds(20), 503},
               {kOrigin + Hours(2), kOrigin + Hours(3), 502}};
  c.quota.enabled = true;  // no headers during outages all the same
  Harness h(c);
  struct Probe {
    Duration after_origin;
    int status;
  };
  const Probe probes[] = {{Seconds(10) - Microseconds(1), 200}, {Seconds(10), 503},
                          {Seconds(20) - Microseconds(1), 503}, {Seconds(20), 200},
                          {Hours(2) - Microseconds(1), 200},    {Hours(2), 502},
                          {Hours(3) - Microseconds(1), 502},    {Hours(3), 200}};
  for (const Probe& p : probes) {
    const Response r = h.CallAt(kOrigin + p.after_origin);
    EXPECT_EQ(r.status, p.status) << FormatDuration(p.after_origin);
    EXPECT_EQ(r.headers.empty(), p.status != 200);
    const OutageWindow* w = h.upstream.OutageAt(kOrigin + p.after_origin);
    EXPECT_EQ(w != nullptr, p.status != 200);
  }
  EXPECT_EQ(h.upstream.counters().outage_answers, 4u);
}

TEST(MockUpstreamOutageTest, OutageAnswersDoNotCountTowardTheRateLimit) {
  UpstreamModelConfig c = Config();
  c.outages = {{kOrigin + Seconds(10), kOrigin + Seconds(20), 503}};
  c.rate_limit.enabled = true;
  c.rate_limit.max_calls = 1;
  c.rate_limit.window = Hours(1);  // fixed windows aligned to whole hours
  Harness h(c);
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(10)).status, 503);
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(15)).status, 503);
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(20)).status, 200);
  const Response limited = h.CallAt(kOrigin + Seconds(21));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(Header(limited, "Retry-After"), "3579");
}

// ---- scheduled health windows ------------------------------------------------

TEST(MockUpstreamHealthWindowTest, WindowsOverrideTheChainOnExactBoundaries) {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kConstant;
  c.latency.constant = Milliseconds(50);
  c.latency.degraded_factor = 4;
  c.failures.enabled = true;
  c.failures.rates.status_500 = 0.2;
  c.failures.degraded_error_factor = 5;  // 100% while degraded
  c.health.down_status = 503;
  c.health_windows = {{kOrigin + Seconds(10), kOrigin + Seconds(20), UpstreamHealth::kDegraded},
                      {kOrigin + Seconds(30), kOrigin + Seconds(40), UpstreamHealth::kDown}};
  ASSERT_TRUE(c.validate().ok()) << c.validate().message();
  Harness h(c);
  EXPECT_EQ(h.upstream.HealthAt(kOrigin + Seconds(10) - Microseconds(1)), UpstreamHealth::kHealthy);
  for (int i = 0; i < 20; ++i) {
    const Response r = h.CallAt(kOrigin + Seconds(10) + Milliseconds(i * 499));
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.latency, Milliseconds(200));
  }
  EXPECT_EQ(h.upstream.HealthAt(kOrigin + Seconds(20)), UpstreamHealth::kHealthy);
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(30)).status, 503);
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(40) - Microseconds(1)).status, 503);
  EXPECT_EQ(h.upstream.counters().down_answers, 2u);
  EXPECT_EQ(h.upstream.HealthAt(kOrigin + Seconds(40)), UpstreamHealth::kHealthy);
}

TEST(MockUpstreamHealthWindowTest, ValidateRejectsHealthyEmptyAndOverlappingWindows) {
  UpstreamModelConfig c = Config();
  c.health_windows = {{kOrigin, kOrigin, UpstreamHealth::kDegraded}};
  EXPECT_EQ(c.validate().message(),
            "upstreams.odds.health_windows[0].end: \"2023-09-01T00:00:00Z\" must be after start "
            "(\"2023-09-01T00:00:00Z\")");
  c.health_windows = {{kOrigin, kOrigin + Hours(1), UpstreamHealth::kHealthy}};
  EXPECT_EQ(c.validate().message(),
            "upstreams.odds.health_windows[0].state: \"healthy\" must be degraded or down");
  c.health_windows = {{kOrigin, kOrigin + Hours(1), UpstreamHealth::kDegraded},
                      {kOrigin + Minutes(59), kOrigin + Hours(2), UpstreamHealth::kDown}};
  EXPECT_EQ(c.validate().message(),
            "upstreams.odds.health_windows[1].start: \"2023-09-01T00:59:00Z\" must not overlap "
            "health_windows[0]");
}

// ---- server-side rate limit ------------------------------------------------------

TEST(MockUpstreamRateLimitTest, FixedWindowAnswers429WithRetryAfterRoundedUp) {
  UpstreamModelConfig c = Config();
  c.rate_limit.enabled = true;
  c.rate_limit.max_calls = 3;
  c.rate_limit.window = Seconds(10);
  Harness h(c);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.CallAt(kOrigin + Milliseconds(100)).status, 200);
  Response r = h.CallAt(kOrigin + Milliseconds(2'500));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "8");  // 7.5s to the next window
  EXPECT_EQ(r.latency, Milliseconds(50));
  r = h.CallAt(kOrigin + Seconds(10) - Microseconds(1));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "1");  // 1us, at least one second
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(10)).status, 200);
  EXPECT_EQ(Header(h.CallAt(kOrigin + Seconds(10)), "Retry-After"), "<absent>");
  EXPECT_EQ(h.upstream.counters().rate_limited, 2u);
  EXPECT_EQ(h.upstream.counters().StatusCount(429), 2u);
}

TEST(MockUpstreamRateLimitTest, SlidingWindowCountsOnlyAdmittedCalls) {
  UpstreamModelConfig c = Config();
  c.rate_limit.enabled = true;
  c.rate_limit.max_calls = 2;
  c.rate_limit.window = Seconds(10);
  c.rate_limit.kind = RateLimitWindow::kSliding;
  Harness h(c);
  EXPECT_EQ(h.CallAt(kOrigin).status, 200);
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(3)).status, 200);
  Response r = h.CallAt(kOrigin + Seconds(4));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "6");  // the call at 0s leaves at 10s
  r = h.CallAt(kOrigin + Milliseconds(9'999));
  EXPECT_EQ(Header(r, "Retry-After"), "1");
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(10)).status, 200);  // the rejected ones did not count
  r = h.CallAt(kOrigin + Seconds(12));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "1");  // the call at 3s leaves at 13s
  EXPECT_EQ(h.CallAt(kOrigin + Seconds(13)).status, 200);
}

TEST(MockUpstreamRateLimitTest, AdmittedCallsAnswered400StillCount) {
  UpstreamModelConfig c = Config();
  c.rate_limit.enabled = true;
  c.rate_limit.max_calls = 1;
  c.rate_limit.window = Seconds(1);
  Harness h(c);
  EXPECT_EQ(h.CallAt(kOrigin, Call("odds", {})).status, 400);
  EXPECT_EQ(h.CallAt(kOrigin + Milliseconds(1)).status, 429);
}

// ---- quota -------------------------------------------------------------------------

UpstreamModelConfig OddsQuota() {
  UpstreamModelConfig c = Config();
  c.quota.enabled = true;
  c.quota.limit = 20;
  c.quota.period = QuotaPeriod::kCalendarMonthUtc;
  c.quota.credits_per_endpoint = {{"odds", 6.0},     // 3 markets x 2 regions
                                  {"events", 0.0}};  // free
  c.quota.default_credits = 1.0;                     // "scores"
  c.quota.header_style = QuotaHeaderStyle::kOddsApi;
  return c;
}

// "status remaining used last" of an odds-api answer.
std::string OddsApiView(const Response& r) {
  return std::to_string(r.status) + " " + Header(r, "x-requests-remaining") + " " +
         Header(r, "x-requests-used") + " " + Header(r, "x-requests-last");
}

TEST(MockUpstreamQuotaTest, CalendarMonthWithCreditsPerEndpointInOddsApiStyle) {
  Harness h(OddsQuota());
  const Instant t = At("2023-09-10T12:00:00Z");
  EXPECT_EQ(OddsApiView(h.CallAt(t)), "200 14 6 6");
  EXPECT_EQ(OddsApiView(h.CallAt(t)), "200 8 12 6");
  EXPECT_EQ(OddsApiView(h.CallAt(t)), "200 2 18 6");
  const Response refused = h.CallAt(t);
  EXPECT_EQ(OddsApiView(refused), "401 0 18 0");  // 6 > 2 left: refused, costs nothing
  EXPECT_EQ(refused.credits_charged, 0.0);
  EXPECT_TRUE(refused.payload_versions.empty());
  EXPECT_EQ(OddsApiView(h.CallAt(t, Call("scores"))), "200 1 19 1");
  EXPECT_EQ(OddsApiView(h.CallAt(t, Call("events"))), "200 1 19 0");
  // The refusal of a 6-credit call with 2 left opened the exhausted interval
  // (cheaper calls still pass); it lasts until the month turns.
  EXPECT_EQ(h.upstream.QuotaExhaustedTime(t), Duration::Zero());
  EXPECT_EQ(h.upstream.QuotaExhaustedTime(t + Hours(1)), Hours(1));

  const Instant spent = At("2023-09-20T00:00:00Z");
  EXPECT_EQ(OddsApiView(h.CallAt(spent, Call("scores"))), "200 0 20 1");
  EXPECT_EQ(OddsApiView(h.CallAt(spent, Call("scores"))), "401 0 20 0");
  EXPECT_EQ(OddsApiView(h.CallAt(spent, Call("events"))), "200 0 20 0");  // free still works
  EXPECT_EQ(h.upstream.QuotaResetAt(spent), At("2023-10-01T00:00:00Z"));
  EXPECT_EQ(OddsApiView(h.CallAt(At("2023-10-01T00:00:00Z") - Microseconds(1))), "401 0 20 0");

  // The month turns at 00:00Z on the 1st.
  EXPECT_EQ(OddsApiView(h.CallAt(At("2023-10-01T00:00:00Z"))), "200 14 6 6");
  EXPECT_EQ(h.upstream.QuotaUsed(At("2023-10-05T00:00:00Z")), 6.0);
  EXPECT_EQ(h.upstream.QuotaRemaining(At("2023-10-05T00:00:00Z")), 14.0);
  EXPECT_EQ(h.upstream.QuotaExhaustedTime(At("2023-10-05T00:00:00Z")), Days(20) + Hours(12));
  const UpstreamCounters& k = h.upstream.counters();
  EXPECT_EQ(k.credits_charged, 6.0 * 3 + 1 + 0 + 1 + 0 + 6);
  EXPECT_EQ(k.quota_rejected, 3u);
  EXPECT_EQ(k.StatusCount(401), 3u);
}

TEST(MockUpstreamQuotaTest, CreditsAreChargedOnlyForSuccessfulCalls) {
  UpstreamModelConfig c = OddsQuota();
  c.failures.enabled = true;
  c.failures.rates.status_500 = 1.0;
  Harness h(c);
  const Response r = h.CallAt(kOrigin);
  EXPECT_EQ(OddsApiView(r), "500 20 0 0");
  EXPECT_EQ(r.credits_charged, 0.0);

  c.failures.rates = {.timeout = 1.0};
  Harness timeouts(c);
  const Response t = timeouts.CallAt(kOrigin);
  EXPECT_EQ(t.status, kStatusTransportError);
  EXPECT_TRUE(t.headers.empty());  // no answer, no headers
  EXPECT_EQ(timeouts.upstream.QuotaUsed(kOrigin), 0.0);
}

// Issue 18, item 17: charge "all" makes every admitted call cost, errors
// and timeouts too (as GitHub counts every request).
TEST(MockUpstreamQuotaTest, ChargeAllCostsErrorsAndTimeoutsToo) {
  UpstreamModelConfig c = OddsQuota();
  c.quota.charge = QuotaCharge::kAll;
  c.failures.enabled = true;
  c.failures.rates.status_500 = 1.0;
  Harness h(c);
  const Response r = h.CallAt(kOrigin);
  EXPECT_EQ(OddsApiView(r), "500 14 6 6");
  EXPECT_EQ(r.credits_charged, 6.0);
  c.failures.rates = {.timeout = 1.0};
  Harness timeouts(c);
  const Response t = timeouts.CallAt(kOrigin);
  EXPECT_EQ(t.status, kStatusTransportError);
  EXPECT_EQ(t.credits_charged, 6.0);
  EXPECT_EQ(timeouts.upstream.QuotaUsed(kOrigin), 6.0);
  EXPECT_EQ(timeouts.upstream.counters().credits_charged, 6.0);
}

// Issue 18, item 17: a fixed period of any length resets at multiples of
// its length since the epoch (an hourly quota on the hour, GitHub-style),
// and the observer sees every charge and refusal with the period's use.
TEST(MockUpstreamQuotaTest, FixedHourlyWindowResetsOnTheHour) {
  UpstreamModelConfig c = Config();
  c.quota.enabled = true;
  c.quota.limit = 2;
  c.quota.period = QuotaPeriod::kFixedWindow;
  c.quota.window = Hours(1);
  c.quota.header_style = QuotaHeaderStyle::kGithub;
  Harness h(c);
  std::vector<std::string> seen;
  h.upstream.SetQuotaObserver([&](Instant at, double used, bool refused) {
    seen.push_back(FormatInstant(at) + " " + std::to_string(static_cast<int>(used)) +
                   (refused ? " refused" : ""));
  });
  auto view = [](const Response& r) {
    return std::to_string(r.status) + " " + Header(r, "x-ratelimit-remaining") + " " +
           Header(r, "x-ratelimit-reset");
  };
  const Instant t = At("2023-09-10T12:40:00Z");
  EXPECT_EQ(view(h.CallAt(t)), "200 1 1694350800");  // reset 13:00Z
  EXPECT_EQ(view(h.CallAt(t + Minutes(5))), "200 0 1694350800");
  EXPECT_EQ(view(h.CallAt(t + Minutes(10))), "403 0 1694350800");
  EXPECT_EQ(view(h.CallAt(At("2023-09-10T13:00:00Z"))), "200 1 1694354400");
  EXPECT_EQ(h.upstream.QuotaExhaustedTime(At("2023-09-10T14:00:00Z")), Minutes(15));
  EXPECT_EQ(seen,
            (std::vector<std::string>{"2023-09-10T12:40:00Z 1", "2023-09-10T12:45:00Z 2",
                                      "2023-09-10T12:50:00Z 2 refused", "2023-09-10T13:00:00Z 1"}));
  // A minute-long window.
  c.quota.window = Minutes(1);
  Harness minute(c);
  EXPECT_EQ(minute.CallAt(At("2023-09-10T12:00:59Z")).status, 200);
  EXPECT_EQ(minute.CallAt(At("2023-09-10T12:00:59Z")).status, 200);
  EXPECT_EQ(minute.CallAt(At("2023-09-10T12:00:59Z")).status, 403);
  EXPECT_EQ(minute.CallAt(At("2023-09-10T12:01:00Z")).status, 200);
}

TEST(MockUpstreamQuotaTest, ChargePerKeyMultipliesByTheCallsKeys) {
  UpstreamModelConfig c = OddsQuota();
  c.quota.charge_per_key = true;
  Harness h(c);
  const Response r = h.CallAt(kOrigin, Call("weather", {"a", "b", "c", "d", "e"}));
  EXPECT_EQ(OddsApiView(r), "200 15 5 5");
  EXPECT_EQ(r.credits_charged, 5.0);
}

TEST(MockUpstreamQuotaTest, CalendarDayInGithubStyleAnswers403AtExhaustion) {
  UpstreamModelConfig c = Config();
  c.quota.enabled = true;
  c.quota.limit = 3;
  c.quota.period = QuotaPeriod::kCalendarDayUtc;
  c.quota.header_style = QuotaHeaderStyle::kGithub;
  Harness h(c);
  auto view = [](const Response& r) {
    return std::to_string(r.status) + " " + Header(r, "x-ratelimit-limit") + " " +
           Header(r, "x-ratelimit-remaining") + " " + Header(r, "x-ratelimit-used") + " " +
           Header(r, "x-ratelimit-reset");
  };
  const Instant t = At("2023-09-10T12:00:00Z");
  EXPECT_EQ(view(h.CallAt(t)), "200 3 2 1 1694390400");  // reset: 2023-09-11T00:00Z
  EXPECT_EQ(view(h.CallAt(t)), "200 3 1 2 1694390400");
  EXPECT_EQ(view(h.CallAt(t)), "200 3 0 3 1694390400");
  EXPECT_EQ(view(h.CallAt(t)), "403 3 0 3 1694390400");
  EXPECT_EQ(view(h.CallAt(At("2023-09-10T23:59:59.999999Z"))), "403 3 0 3 1694390400");
  EXPECT_EQ(view(h.CallAt(At("2023-09-11T00:00:00Z"))), "200 3 2 1 1694476800");
  EXPECT_EQ(h.upstream.QuotaExhaustedTime(At("2023-09-12T00:00:00Z")), Hours(12));
  EXPECT_EQ(Header(h.CallAt(t + Days(1)), "Retry-After"), "<absent>");
}

TEST(MockUpstreamQuotaTest, RollingWindowInIetfStyle) {
  UpstreamModelConfig c = Config();
  c.quota.enabled = true;
  c.quota.limit = 3;
  c.quota.period = QuotaPeriod::kRollingWindow;
  c.quota.rolling_window = Hours(1);
  c.quota.header_style = QuotaHeaderStyle::kIetf;
  Harness h(c);
  auto view = [](const Response& r) {
    return std::to_string(r.status) + " " + Header(r, "RateLimit") + " " +
           Header(r, "RateLimit-Policy") + " " + Header(r, "Retry-After");
  };
  const Instant t = At("2023-09-10T12:00:00Z");
  EXPECT_EQ(view(h.CallAt(t)), "200 \"default\";r=2;t=3600 \"default\";q=3;w=3600 <absent>");
  EXPECT_EQ(view(h.CallAt(t + Minutes(10))),
            "200 \"default\";r=1;t=3000 \"default\";q=3;w=3600 <absent>");
  EXPECT_EQ(view(h.CallAt(t + Minutes(20))),
            "200 \"default\";r=0;t=2400 \"default\";q=3;w=3600 <absent>");
  EXPECT_EQ(view(h.CallAt(t + Minutes(30))),
            "429 \"default\";r=0;t=1800 \"default\";q=3;w=3600 1800");
  EXPECT_EQ(view(h.CallAt(t + Hours(1) - Microseconds(1))),
            "429 \"default\";r=0;t=1 \"default\";q=3;w=3600 1");
  // The first charge leaves the window: one credit back, spent at once.
  EXPECT_EQ(view(h.CallAt(t + Hours(1))),
            "200 \"default\";r=0;t=600 \"default\";q=3;w=3600 <absent>");
  EXPECT_EQ(h.upstream.QuotaResetAt(t + Hours(1)), t + Minutes(70));
  // Exhausted [12:20, 13:00) and [13:00, 13:10).
  EXPECT_EQ(h.upstream.QuotaExhaustedTime(t + Hours(2)), Minutes(50));
  EXPECT_EQ(h.upstream.QuotaUsed(t + Hours(3)), 0.0);
  EXPECT_EQ(h.upstream.QuotaResetAt(t + Hours(3)), t + Hours(4));  // nothing charged: now + window
}

TEST(MockUpstreamQuotaTest, IetfCalendarMonthPolicyWindowIsTheMonthsLength) {
  UpstreamModelConfig c = Config();
  c.quota.enabled = true;
  c.quota.limit = 500;
  c.quota.header_style = QuotaHeaderStyle::kIetf;
  Harness h(c);
  const Response r = h.CallAt(At("2023-09-30T23:00:00Z"));
  EXPECT_EQ(Header(r, "RateLimit"), "\"default\";r=499;t=3600");
  EXPECT_EQ(Header(r, "RateLimit-Policy"), "\"default\";q=500;w=2592000");  // 30 days
}

TEST(MockUpstreamQuotaTest, NoneStyleSendsNoHeadersAndAnswers429) {
  UpstreamModelConfig c = Config();
  c.quota.enabled = true;
  c.quota.limit = 1;
  c.quota.header_style = QuotaHeaderStyle::kNone;
  Harness h(c);
  const Response ok = h.CallAt(kOrigin);
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(ok.headers.empty());
  const Response refused = h.CallAt(kOrigin);
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(refused.headers.empty());
}

TEST(MockUpstreamQuotaTest, ExhaustedStatusOverridesTheStylesDefault) {
  UpstreamModelConfig c = OddsQuota();
  c.quota.limit = 1;
  c.quota.exhausted_status = 429;
  Harness h(c);
  EXPECT_EQ(h.CallAt(kOrigin, Call("scores")).status, 200);
  EXPECT_EQ(h.CallAt(kOrigin, Call("scores")).status, 429);
}

// ---- batch capacity ---------------------------------------------------------------------

TEST(MockUpstreamBatchTest, MoreKeysThanCapacityAnswer400AndEachKeyGetsItsVersion) {
  UpstreamModelConfig c = OddsQuota();
  c.batch.enabled = true;
  c.batch.max_keys = 3;
  Harness h(c);
  h.upstream.AddKickoff("b", kOrigin + Hours(1));  // b changes fast, a and c slowly
  const Instant t = kOrigin + Hours(2);
  const Response over = h.CallAt(t, Call("scores", {"a", "b", "c", "d"}));
  EXPECT_EQ(over.status, 400);
  EXPECT_TRUE(over.payload_versions.empty());
  EXPECT_EQ(over.credits_charged, 0.0);
  EXPECT_EQ(Header(over, "x-requests-used"), "0");
  EXPECT_EQ(h.CallAt(t, Call("scores", {})).status, 400);
  const Response ok = h.CallAt(t, Call("scores", {"a", "b", "c"}));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.payload_versions, (std::vector<uint64_t>{h.upstream.PayloadVersionAt("a", t),
                                                        h.upstream.PayloadVersionAt("b", t),
                                                        h.upstream.PayloadVersionAt("c", t)}));
  EXPECT_GT(ok.payload_versions[1], 10u);  // an hour of live play at 60/h
  EXPECT_EQ(h.upstream.counters().batch_rejected, 2u);

  c.batch.enabled = false;
  Harness unlimited(c);
  EXPECT_EQ(unlimited.CallAt(t, Call("scores", std::vector<std::string>(50, "k"))).status, 200);
}

// ---- data versions ----------------------------------------------------------------------

TEST(MockUpstreamDataTest, DisabledDataStaysAtVersionOne) {
  UpstreamModelConfig c = Config();
  c.data.enabled = false;
  Harness h(c);
  h.upstream.AddKickoff("k", kOrigin + Hours(1));
  EXPECT_EQ(h.upstream.PayloadVersionAt("k", kOrigin + Days(100)), 1u);
  EXPECT_EQ(h.CallAt(kOrigin + Hours(2), Call("odds", {"k"})).payload_versions,
            (std::vector<uint64_t>{1}));
}

TEST(MockUpstreamDataTest, ChangesOnlyDuringTheGameWhenOtherRatesAreZero) {
  UpstreamModelConfig c = Config();
  c.data.base_per_hour = 0;
  c.data.pregame_per_hour = 0;
  c.data.live_per_hour = 60;
  c.data.game_duration = Hours(3);
  Harness h(c);
  const Instant kickoff = kOrigin + Days(3);
  h.upstream.AddKickoff("game", kickoff);
  EXPECT_EQ(h.upstream.PayloadVersionAt("game", kOrigin - Hours(1)), 1u);
  EXPECT_EQ(h.upstream.PayloadVersionAt("game", kOrigin), 1u);
  EXPECT_EQ(h.upstream.PayloadVersionAt("game", kickoff - Microseconds(1)), 1u);
  const uint64_t at_end = h.upstream.PayloadVersionAt("game", kickoff + Hours(3));
  EXPECT_EQ(h.upstream.PayloadVersionAt("game", kickoff + Days(30)), at_end);
  EXPECT_GT(at_end, 120u);  // ~181 expected
  EXPECT_LT(at_end, 250u);
  // Versions never go down, step by one, and every step is inside the game.
  uint64_t previous = 1;
  for (Instant t = kickoff - Minutes(10); t <= kickoff + Hours(3) + Minutes(10); t += Seconds(1)) {
    const uint64_t v = h.upstream.PayloadVersionAt("game", t);
    ASSERT_GE(v, previous);
    ASSERT_LE(v, previous + 3);  // 60/h: more than 3 changes in 1s is absurd
    if (v != previous) {
      ASSERT_GT(t, kickoff);
      ASSERT_LT(t - Seconds(1), kickoff + Hours(3));
    }
    previous = v;
  }
  EXPECT_EQ(previous, at_end);
}

TEST(MockUpstreamDataTest, RateRisesTowardAndDuringGames) {
  UpstreamModelConfig c = Config();
  c.data.base_per_hour = 0.5;
  c.data.pregame_per_hour = 6;
  c.data.pregame_window = Hours(2);
  c.data.live_per_hour = 60;
  c.data.game_duration = Hours(3);
  Harness h(c);
  const Instant kickoff = kOrigin + Hours(24);
  constexpr int kKeys = 400;
  double base = 0, pregame = 0, live = 0, after = 0, live_sq = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "game-" + std::to_string(i);
    h.upstream.AddKickoff(key, kickoff);
    const double v22 = static_cast<double>(h.upstream.PayloadVersionAt(key, kickoff - Hours(2)));
    const double v24 = static_cast<double>(h.upstream.PayloadVersionAt(key, kickoff));
    const double v27 = static_cast<double>(h.upstream.PayloadVersionAt(key, kickoff + Hours(3)));
    const double v51 = static_cast<double>(h.upstream.PayloadVersionAt(key, kickoff + Hours(27)));
    base += v22 - 1;
    pregame += v24 - v22;
    live += v27 - v24;
    live_sq += (v27 - v24) * (v27 - v24);
    after += v51 - v27;
  }
  // Expected changes per key: 0.5/h x 22h, 6/h x 2h, 60/h x 3h, 0.5/h x 24h.
  // Bounds: +- 5 sd of the Poisson total over 400 keys.
  auto expect_total = [&](double total, double per_key) {
    const double mean = per_key * kKeys;
    EXPECT_NEAR(total, mean, 5 * std::sqrt(mean)) << per_key;
  };
  expect_total(base, 11);
  expect_total(pregame, 12);
  expect_total(live, 180);
  expect_total(after, 12);
  // Poisson: the live count's variance is its mean.
  const double live_mean = live / kKeys;
  const double live_var = live_sq / kKeys - live_mean * live_mean;
  EXPECT_NEAR(live_var / live_mean, 1.0, 0.25);
}

TEST(MockUpstreamDataTest, VersionsDependOnlyOnSeedKeyKickoffsAndInstant) {
  UpstreamModelConfig c = Config();
  const Instant kickoff = kOrigin + Hours(5);
  Harness forward(c);
  Harness backward(c);
  Harness lookup(c);
  forward.upstream.AddKickoff("k", kickoff);
  backward.upstream.AddKickoff("k", kickoff);
  lookup.upstream.SetKickoffLookup([&](const std::string& key) {
    return key == "k" ? std::vector<Instant>{kickoff} : std::vector<Instant>{};
  });
  std::vector<Instant> instants;
  for (int m = 0; m < 10 * 60; m += 7) instants.push_back(kOrigin + Minutes(m));
  std::vector<uint64_t> f, b, l;
  for (Instant t : instants) {
    f.push_back(forward.upstream.PayloadVersionAt("k", t));
    // Other keys asked about in between change nothing.
    forward.upstream.PayloadVersionAt("other-" + std::to_string(f.size()), t);
  }
  for (auto it = instants.rbegin(); it != instants.rend(); ++it) {
    b.push_back(backward.upstream.PayloadVersionAt("k", *it));  // asks about the past
  }
  std::reverse(b.begin(), b.end());
  for (Instant t : instants) l.push_back(lookup.upstream.PayloadVersionAt("k", t));
  EXPECT_EQ(f, b);
  EXPECT_EQ(f, l);
  EXPECT_GT(f.back(), 100u);  // the game ran: not a vacuous comparison
  Harness other_seed(c, 43);
  other_seed.upstream.AddKickoff("k", kickoff);
  std::vector<uint64_t> o;
  for (Instant t : instants) o.push_back(other_seed.upstream.PayloadVersionAt("k", t));
  EXPECT_NE(o, f);
}

// Issue 18, item 21: per-key state is bounded. With room for 2 keys, 50 keys
// asked in turn keep at most 2 processes, and every version equals the one
// an unbounded upstream gives (a dropped key is recomputed from its start).
// Without data changes no key is kept at all.
TEST(MockUpstreamDataTest, PerKeyStateIsBoundedAndTheBoundChangesNoVersion) {
  UpstreamModelConfig c = Config();
  c.data.base_per_hour = 2;
  Harness bounded(c);
  Harness unbounded(c);
  bounded.upstream.set_max_keys_with_data(2);
  unbounded.upstream.set_max_keys_with_data(1000);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 50; ++k) {
      const std::string key = "key-" + std::to_string(k);
      const Instant t = kOrigin + Hours(round * 24 + k);
      ASSERT_EQ(bounded.upstream.PayloadVersionAt(key, t),
                unbounded.upstream.PayloadVersionAt(key, t))
          << key << " round " << round;
      ASSERT_LE(bounded.upstream.keys_with_data(), 2u);
    }
  }
  EXPECT_EQ(unbounded.upstream.keys_with_data(), 50u);
  EXPECT_EQ(bounded.upstream.max_keys_with_data(), 2u);
  EXPECT_EQ(MockUpstream::kDefaultMaxKeysWithData, 16384u);
  c.data.enabled = false;
  Harness off(c);
  for (int k = 0; k < 100; ++k) off.CallAt(kOrigin + Seconds(k), Call("odds", {std::to_string(k)}));
  EXPECT_EQ(off.upstream.keys_with_data(), 0u);
}

// ---- common random numbers -----------------------------------------------------------

// A flaky upstream: Markov health, outages, errors, rate limit, quota, data.
UpstreamModelConfig Flaky() {
  UpstreamModelConfig c = Config();
  c.latency.kind = LatencyKind::kLognormal;
  c.health.enabled = true;
  c.health.mean_healthy = Minutes(20);
  c.health.mean_degraded = Minutes(5);
  c.health.mean_down = Minutes(3);
  c.health.healthy_to_down = 0.3;
  c.health.degraded_to_down = 0.3;
  c.health.down_status = kStatusTransportError;  // 599: only down answers it
  c.failures.enabled = true;
  c.failures.rates.status_500 = 0.05;
  c.outages = {{kOrigin + Hours(2), kOrigin + Hours(2) + Minutes(15), 502}};
  c.rate_limit.enabled = true;
  c.rate_limit.max_calls = 100;
  c.quota.enabled = true;
  c.quota.limit = 1e9;
  return c;
}

struct Observation {
  int status;
  uint64_t version;  // 0 unless 200
};

// Calls every `period` for 6 hours; returns what each call at a multiple of
// 7s saw, keyed by its offset in seconds.
std::map<int64_t, Observation> CallEvery(Harness& h, Duration period) {
  h.upstream.AddKickoff("game", kOrigin + Hours(3));
  std::map<int64_t, Observation> seen;
  for (Instant t = kOrigin; t < kOrigin + Hours(6); t += period) {
    const Response r = h.CallAt(t, Call("odds", {"game"}));
    const int64_t s = (t - kOrigin).micros() / 1'000'000;
    if (s % 7 == 0) seen[s] = {r.status, r.status == 200 ? r.payload_versions[0] : 0};
  }
  return seen;
}

TEST(MockUpstreamCommonRandomNumbersTest, CallPatternsSeeTheSameHealthOutagesAndData) {
  Harness every_second(Flaky(), 2024);
  Harness every_seven(Flaky(), 2024);
  Harness never_called(Flaky(), 2024);
  never_called.upstream.AddKickoff("game", kOrigin + Hours(3));
  const std::map<int64_t, Observation> a = CallEvery(every_second, Seconds(1));
  const std::map<int64_t, Observation> b = CallEvery(every_seven, Seconds(7));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(every_second.upstream.counters().calls, 21'600u);
  EXPECT_EQ(every_seven.upstream.counters().calls, 3'086u);

  const Instant end = kOrigin + Hours(6);
  const std::vector<HealthSpan> spans = never_called.upstream.health().SpansUntil(end);
  EXPECT_EQ(every_second.upstream.health().SpansUntil(end), spans);
  EXPECT_EQ(every_seven.upstream.health().SpansUntil(end), spans);

  int down = 0, outage = 0, both_ok = 0;
  for (const auto& [s, seen_a] : a) {
    const Observation& seen_b = b.at(s);
    const Instant t = kOrigin + Seconds(s);
    // Down (599) and outage (502) answers come from the shared timelines.
    const bool is_down = never_called.upstream.HealthAt(t) == UpstreamHealth::kDown;
    const bool in_outage = never_called.upstream.OutageAt(t) != nullptr;
    const int expected_forced = in_outage ? 502 : (is_down ? kStatusTransportError : 0);
    if (expected_forced != 0) {
      ASSERT_EQ(seen_a.status, expected_forced) << s;
      ASSERT_EQ(seen_b.status, expected_forced) << s;
      down += expected_forced == kStatusTransportError;
      outage += expected_forced == 502;
      continue;
    }
    ASSERT_TRUE(seen_a.status == 200 || seen_a.status == 500) << s << " " << seen_a.status;
    ASSERT_TRUE(seen_b.status == 200 || seen_b.status == 500) << s << " " << seen_b.status;
    if (seen_a.status == 200 && seen_b.status == 200) {
      ++both_ok;
      ASSERT_EQ(seen_a.version, seen_b.version) << s;
      ASSERT_EQ(seen_a.version, never_called.upstream.PayloadVersionAt("game", t)) << s;
    }
  }
  // Not vacuous: the shared timelines held downs, an outage and changing data.
  EXPECT_GT(down, 10);
  EXPECT_EQ(outage, 129);  // multiples of 7s in [2h, 2h15m)
  EXPECT_GT(both_ok, 1'000);
  EXPECT_GT(never_called.upstream.PayloadVersionAt("game", end), 100u);
  // The per-call draws did differ: the runs are not copies of each other.
  EXPECT_NE(every_second.upstream.counters().StatusCount(500),
            every_seven.upstream.counters().StatusCount(500));
}

}  // namespace
}  // namespace orchsim::world
