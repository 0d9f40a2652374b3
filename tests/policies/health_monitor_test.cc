#include "policies/health_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace orchsim {
namespace {

Instant T(int64_t seconds) { return Instant::Epoch() + Seconds(seconds); }

const Duration kFast = Milliseconds(100);
constexpr auto kHealthy = HealthState::kHealthy;
constexpr auto kDegraded = HealthState::kDegraded;
constexpr auto kUnhealthy = HealthState::kUnhealthy;

// Records changes as "api:from->to@micros" so sequences compare exactly.
struct ChangeLog {
  std::vector<std::string> entries;
  HealthMonitor::ChangeListener Listener() {
    return [this](const std::string& api, HealthState from, HealthState to, Instant at) {
      entries.push_back(api + ":" + std::string(HealthStateName(from)) + "->" +
                        std::string(HealthStateName(to)) + "@" + std::to_string(at.unix_micros()));
    };
  }
};

TEST(HealthMonitorTest, HealthyUntilMinSamplesThenJudged) {
  HealthMonitor m(HealthConfig{});
  ChangeLog log;
  m.set_change_listener(log.Listener());
  EXPECT_EQ(m.StateAt("odds", T(0)), kHealthy);  // unknown API
  for (int s = 1; s <= 4; ++s) m.Record("odds", false, kFast, T(s));
  EXPECT_EQ(m.StateAt("odds", T(4)), kHealthy);  // 4 of 4 failed, but only 4 samples
  EXPECT_TRUE(log.entries.empty());
  m.Record("odds", false, kFast, T(5));
  EXPECT_EQ(m.StateAt("odds", T(5)), kUnhealthy);
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:healthy->unhealthy@5000000"}));
}

TEST(HealthMonitorTest, ErrorRateThresholdsAreInclusive) {
  auto judge = [](int failures, int total) {
    HealthMonitor m(HealthConfig{});
    for (int i = 0; i < total; ++i) m.Record("odds", i >= failures, kFast, T(i));
    return m.StateAt("odds", T(total));
  };
  EXPECT_EQ(judge(1, 10), kHealthy);    // 0.1
  EXPECT_EQ(judge(2, 10), kDegraded);   // 0.2 = degraded_error_rate
  EXPECT_EQ(judge(4, 10), kDegraded);   // 0.4
  EXPECT_EQ(judge(5, 10), kUnhealthy);  // 0.5 = unhealthy_error_rate
  EXPECT_EQ(judge(10, 10), kUnhealthy);
}

TEST(HealthMonitorTest, MeanLatencyStrictlyAboveThresholdDegrades) {
  HealthMonitor at_limit(HealthConfig{});
  for (int s = 0; s < 5; ++s) at_limit.Record("odds", true, Seconds(2), T(s));
  EXPECT_EQ(at_limit.StateAt("odds", T(5)), kHealthy);
  EXPECT_EQ(at_limit.Snapshot("odds", T(5)).mean_latency, Seconds(2));

  // Sum 10s + 1us over 5 samples: the mean is 1us/5 above 2s.
  HealthMonitor above(HealthConfig{});
  for (int s = 0; s < 4; ++s) above.Record("odds", true, Seconds(2), T(s));
  above.Record("odds", true, Seconds(2) + Microseconds(1), T(4));
  EXPECT_EQ(above.StateAt("odds", T(5)), kDegraded);
  EXPECT_EQ(above.Snapshot("odds", T(5)).mean_latency, Seconds(2));  // truncated

  HealthConfig no_latency_rule;
  no_latency_rule.degraded_latency = Duration::Infinite();
  HealthMonitor off(no_latency_rule);
  for (int s = 0; s < 5; ++s) off.Record("odds", true, Hours(30), T(s));
  EXPECT_EQ(off.StateAt("odds", T(5)), kHealthy);
  EXPECT_EQ(off.Snapshot("odds", T(5)).mean_latency, Days(1));  // clamped per sample
}

TEST(HealthMonitorTest, PercentileLatencyRuleUsesNearestRank) {
  HealthConfig c;
  c.min_samples = 10;
  c.latency_percentile = 90;
  c.degraded_latency = Seconds(1);
  HealthMonitor m(c);
  // Latencies 100ms..900ms and one 5s outlier: p90 = 9th smallest = 900ms.
  for (int i = 1; i <= 9; ++i) m.Record("odds", true, Milliseconds(100 * i), T(i));
  m.Record("odds", true, Seconds(5), T(10));
  EXPECT_EQ(m.Snapshot("odds", T(10)).percentile_latency, Milliseconds(900));
  EXPECT_EQ(m.Snapshot("odds", T(10)).mean_latency, Milliseconds(950));
  EXPECT_EQ(m.state("odds"), kHealthy);
  // 11 samples: rank ceil(9.9) = 10 -> the 10th smallest, 5s: slow.
  m.Record("odds", true, Seconds(6), T(11));
  EXPECT_EQ(m.Snapshot("odds", T(11)).percentile_latency, Seconds(5));
  EXPECT_EQ(m.state("odds"), kDegraded);
  // At exactly the limit is not slow.
  HealthConfig p100 = c;
  p100.latency_percentile = 100;
  p100.min_samples = 2;
  HealthMonitor max_rule(p100);
  max_rule.Record("odds", true, Seconds(1), T(0));
  max_rule.Record("odds", true, Milliseconds(10), T(1));
  EXPECT_EQ(max_rule.state("odds"), kHealthy);
  max_rule.Record("odds", true, Seconds(1) + Microseconds(1), T(2));
  EXPECT_EQ(max_rule.state("odds"), kDegraded);
  // The mean rule would not have fired on this evidence (mean ~670ms).
  EXPECT_EQ(max_rule.Snapshot("odds", T(2)).mean_latency, Microseconds(670000));
}

TEST(HealthMonitorTest, StateIsTheLastReportedJudgement) {
  HealthConfig c;
  c.min_samples = 2;
  HealthMonitor m(c);
  EXPECT_EQ(m.state("odds"), kHealthy);  // unknown
  m.Record("odds", false, kFast, T(0));
  m.Record("odds", false, kFast, T(1));
  m.Record("odds", true, kFast, T(50));
  m.Record("odds", true, kFast, T(51));
  EXPECT_EQ(m.state("odds"), kUnhealthy);  // 2/4 failed
  // At 61s the failures have aged out: StateAt sees it, state() waits for Refresh.
  EXPECT_EQ(m.StateAt("odds", T(61)), kHealthy);
  EXPECT_EQ(m.state("odds"), kUnhealthy);
  m.Refresh(T(61));
  EXPECT_EQ(m.state("odds"), kHealthy);
}

TEST(HealthMonitorTest, RecoveryAsFailuresSlideOutOfTheWindow) {
  HealthMonitor m(HealthConfig{});
  ChangeLog log;
  m.set_change_listener(log.Listener());
  for (int s = 1; s <= 5; ++s) m.Record("odds", false, kFast, T(s));
  // Window (now-60s, now]: at 61s F2..F5 + S = 4/5; 62s 3/5; 63s 2/5; 64s 1/5.
  m.Record("odds", true, kFast, T(61));
  EXPECT_EQ(m.StateAt("odds", T(61)), kUnhealthy);
  m.Record("odds", true, kFast, T(62));
  EXPECT_EQ(m.StateAt("odds", T(62)), kUnhealthy);
  m.Record("odds", true, kFast, T(63));
  EXPECT_EQ(m.StateAt("odds", T(63)), kDegraded);
  m.Record("odds", true, kFast, T(64));
  EXPECT_EQ(m.StateAt("odds", T(64)), kDegraded);
  m.Record("odds", true, kFast, T(65));
  EXPECT_EQ(m.StateAt("odds", T(65)), kHealthy);
  const HealthSnapshot snap = m.Snapshot("odds", T(65));
  EXPECT_EQ(snap.samples, 5);
  EXPECT_EQ(snap.failures, 0);
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:healthy->unhealthy@5000000",
                                                   "odds:unhealthy->degraded@63000000",
                                                   "odds:degraded->healthy@65000000"}));
}

TEST(HealthMonitorTest, QuietUpstreamKeepsItsNewestMinSamples) {
  HealthMonitor m(HealthConfig{});
  for (int s = 1; s <= 5; ++s) m.Record("odds", false, kFast, T(s));
  // An hour later nothing new was seen: the last evidence still stands.
  EXPECT_EQ(m.StateAt("odds", T(3600)), kUnhealthy);
  EXPECT_EQ(m.Snapshot("odds", T(3600)).samples, 5);
  // Sparse successes (e.g. one probe every 30s) replace it one by one.
  m.Record("odds", true, kFast, T(3600));
  m.Record("odds", true, kFast, T(3630));
  EXPECT_EQ(m.StateAt("odds", T(3630)), kUnhealthy);  // F3 F4 F5 S S = 3/5
  m.Record("odds", true, kFast, T(3660));
  EXPECT_EQ(m.StateAt("odds", T(3660)), kDegraded);  // F4 F5 S S S = 2/5
  m.Record("odds", true, kFast, T(3690));
  m.Record("odds", true, kFast, T(3720));
  EXPECT_EQ(m.StateAt("odds", T(3720)), kHealthy);
}

TEST(HealthMonitorTest, RefreshReportsChangesFromAgeingAlone) {
  HealthConfig c;
  c.min_samples = 2;
  HealthMonitor m(c);
  ChangeLog log;
  m.set_change_listener(log.Listener());
  for (int s = 1; s <= 4; ++s) m.Record("odds", true, kFast, T(s));
  m.Record("odds", false, kFast, T(50));  // 1/5 = 0.2: degraded
  m.Record("odds", false, kFast, T(51));  // 2/6
  EXPECT_EQ(m.StateAt("odds", T(51)), kDegraded);
  EXPECT_EQ(m.StateAt("odds", T(61)), kDegraded);   // S@1 out: 2/5
  EXPECT_EQ(m.StateAt("odds", T(62)), kUnhealthy);  // S@2 out at exactly now-60s: 2/4
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:healthy->degraded@50000000"}));
  m.Refresh(T(61));
  EXPECT_EQ(log.entries.size(), 1u);
  m.Refresh(T(62));
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:healthy->degraded@50000000",
                                                   "odds:degraded->unhealthy@62000000"}));
  m.Refresh(T(63));
  EXPECT_EQ(log.entries.size(), 2u);  // told once per change
}

// Refresh skips its walk while no sample of any API can age out; a Record
// that makes old evidence evictable (more than min_samples) must wake it.
TEST(HealthMonitorTest, RefreshSeesEvidenceMadeEvictableByALaterRecord) {
  HealthConfig c;
  c.min_samples = 1;
  HealthMonitor m(c);
  ChangeLog log;
  m.set_change_listener(log.Listener());
  m.Record("weather", true, kFast, T(0));
  m.Record("odds", false, kFast, T(50));  // 1/1 failed: unhealthy
  m.Refresh(T(55));                       // nothing can age out (min_samples each)
  m.Record("odds", true, kFast, T(60));   // 1/2: F@50 may now age out
  m.Refresh(T(109));
  EXPECT_EQ(m.state("odds"), kUnhealthy);
  m.Refresh(T(110));  // F@50 is at now - 60s: out, 0/1
  EXPECT_EQ(m.state("odds"), kHealthy);
  EXPECT_EQ(log.entries, (std::vector<std::string>{"odds:healthy->unhealthy@50000000",
                                                   "odds:unhealthy->healthy@110000000"}));
}

TEST(HealthMonitorTest, ApisAreJudgedSeparately) {
  HealthMonitor m(HealthConfig{});
  for (int s = 0; s < 5; ++s) {
    m.Record("odds", false, kFast, T(s));
    m.Record("weather", true, kFast, T(s));
  }
  EXPECT_EQ(m.StateAt("odds", T(5)), kUnhealthy);
  EXPECT_EQ(m.StateAt("weather", T(5)), kHealthy);
  EXPECT_EQ(m.apis(), (std::vector<std::string>{"odds", "weather"}));
}

TEST(HealthMonitorTest, ActiveProbesAreDueAtTheInterval) {
  HealthConfig c;
  c.active_probes = true;
  c.probe_interval = Seconds(30);
  HealthMonitor m(c);
  EXPECT_TRUE(m.ProbeDue("odds", T(0)));  // never probed
  m.OnProbeSent("odds", T(0));
  EXPECT_EQ(m.probes_sent("odds"), 1u);
  EXPECT_FALSE(m.ProbeDue("odds", T(30) - Microseconds(1)));
  EXPECT_TRUE(m.ProbeDue("odds", T(30)));
  EXPECT_TRUE(m.ProbeDue("weather", T(1)));  // each API on its own clock
  m.OnProbeSent("odds", T(45));
  EXPECT_FALSE(m.ProbeDue("odds", T(74)));
  EXPECT_TRUE(m.ProbeDue("odds", T(75)));
  EXPECT_EQ(m.probes_sent("odds"), 2u);
  EXPECT_EQ(m.probes_sent("weather"), 0u);
  // Probe outcomes count as evidence like any call.
  for (int s = 0; s < 5; ++s) m.Record("weather", false, kFast, T(s));
  EXPECT_EQ(m.StateAt("weather", T(5)), kUnhealthy);

  HealthMonitor passive(HealthConfig{});
  EXPECT_FALSE(passive.ProbeDue("odds", T(0)));
}

TEST(HealthMonitorTest, ProbesOnlyUnhealthyApisWhenAsked) {
  HealthConfig c;
  c.active_probes = true;
  c.probe_interval = Seconds(30);
  c.probe_only_when_unhealthy = true;
  HealthMonitor m(c);
  EXPECT_FALSE(m.ProbeDue("odds", T(0)));  // no evidence: healthy, no probe
  for (int s = 0; s < 5; ++s) m.Record("odds", false, kFast, T(s));
  EXPECT_TRUE(m.ProbeDue("odds", T(5)));
  m.OnProbeSent("odds", T(5));
  EXPECT_FALSE(m.ProbeDue("odds", T(35) - Microseconds(1)));
  EXPECT_TRUE(m.ProbeDue("odds", T(35)));
  // Recovered: successes push the error rate under the thresholds.
  for (int s = 40; s < 60; ++s) m.Record("odds", true, kFast, T(s));
  EXPECT_EQ(m.StateAt("odds", T(60)), kHealthy);
  EXPECT_FALSE(m.ProbeDue("odds", T(100)));
}

TEST(HealthMonitorTest, DisabledIsAlwaysHealthyAndSilent) {
  HealthConfig c;
  c.enabled = false;
  c.active_probes = true;
  HealthMonitor m(c);
  ChangeLog log;
  m.set_change_listener(log.Listener());
  for (int s = 0; s < 50; ++s) m.Record("odds", false, Minutes(1), T(s));
  m.Refresh(T(50));
  EXPECT_EQ(m.StateAt("odds", T(50)), kHealthy);
  EXPECT_EQ(m.Snapshot("odds", T(50)).samples, 0);
  EXPECT_EQ(m.state("odds"), kHealthy);
  EXPECT_FALSE(m.ProbeDue("odds", T(50)));
  m.OnProbeSent("odds", T(50));
  EXPECT_EQ(m.probes_sent("odds"), 0u);
  EXPECT_TRUE(log.entries.empty());
}

TEST(HealthConfigTest, ValidateNamesFieldValueAndConstraint) {
  EXPECT_TRUE(HealthConfig{}.validate().ok());
  HealthConfig c;
  c.min_samples = 0;
  EXPECT_EQ(c.validate().message(), "health.min_samples: 0 must be >= 1");
  c = {};
  c.window = Seconds(-1);
  EXPECT_EQ(c.validate().message(), "health.window: \"-1s\" must be > 0");
  c = {};
  c.unhealthy_error_rate = 0.1;
  EXPECT_EQ(c.validate().message(),
            "health.unhealthy_error_rate: 0.1 must be >= degraded_error_rate (0.2)");
  c = {};
  c.degraded_error_rate = 1.5;
  EXPECT_EQ(c.validate().message(), "health.degraded_error_rate: 1.5 must be in (0, 1]");
  c = {};
  c.degraded_latency = Duration::Zero();
  EXPECT_EQ(c.validate().message(), "health.degraded_latency: \"0s\" must be > 0");
  c = {};
  c.latency_percentile = 100.5;
  EXPECT_EQ(c.validate().message(),
            "health.latency_percentile: 100.5 must be 0 (mean) or in (0, 100]");
  c = {};
  c.probe_interval = Duration::Zero();
  EXPECT_TRUE(c.validate().ok());  // probes off: the interval is not used
  c.active_probes = true;
  EXPECT_EQ(c.validate().message(), "health.probe_interval: \"0s\" must be > 0");
  c = {};
  c.active_probes = true;
  c.probe_endpoint = "";
  EXPECT_EQ(c.validate().message(),
            "health.probe_endpoint: \"\" must not be empty when active_probes is on");
}

// Random outcomes against a brute-force reference that rebuilds the evidence
// from the whole history at every step.
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct RefSample {
  Instant at;
  bool success;
  Duration latency;
};

HealthState Reference(const std::vector<RefSample>& all, const HealthConfig& c, Instant now) {
  std::vector<RefSample> evidence;
  for (const RefSample& s : all) {
    if (s.at > now - c.window) evidence.push_back(s);
  }
  if (static_cast<int64_t>(evidence.size()) < c.min_samples) {
    const size_t k = std::min(all.size(), static_cast<size_t>(c.min_samples));
    evidence.assign(all.end() - static_cast<int64_t>(k), all.end());
  }
  const auto n = static_cast<int64_t>(evidence.size());
  if (n < c.min_samples) return HealthState::kHealthy;
  int64_t failures = 0;
  int64_t latency_sum = 0;  // small in this test: no overflow
  for (const RefSample& s : evidence) {
    failures += s.success ? 0 : 1;
    latency_sum += s.latency.micros();
  }
  if (failures * 100 >= 50 * n) return HealthState::kUnhealthy;
  if (failures * 100 >= 20 * n) return HealthState::kDegraded;
  if (c.latency_percentile > 0) {
    // Integer percentiles only in this test: rank = ceil(p * n / 100).
    const auto p = static_cast<int64_t>(c.latency_percentile);
    const int64_t rank = std::max<int64_t>(1, (p * n + 99) / 100);
    std::vector<int64_t> sorted;
    for (const RefSample& s : evidence) sorted.push_back(s.latency.micros());
    std::sort(sorted.begin(), sorted.end());
    return sorted[static_cast<size_t>(rank - 1)] > c.degraded_latency.micros()
               ? HealthState::kDegraded
               : HealthState::kHealthy;
  }
  if (latency_sum > c.degraded_latency.micros() * n) {
    return HealthState::kDegraded;
  }
  return HealthState::kHealthy;
}

// Recording through an ApiRef tells the listener the same changes, at the
// same instants, as recording by name; the API exists only once recorded.
TEST(HealthMonitorTest, ApiRefRecordsLikeNames) {
  HealthConfig c;
  c.window = Seconds(20);
  HealthMonitor by_name(c);
  HealthMonitor by_ref(c);
  ChangeLog name_log, ref_log;
  by_name.set_change_listener(name_log.Listener());
  by_ref.set_change_listener(ref_log.Listener());
  HealthMonitor::ApiRef odds, scores;
  EXPECT_TRUE(by_ref.apis().empty());
  uint64_t rng = 5;
  Instant now = T(0);
  for (int step = 0; step < 2000; ++step) {
    now += Milliseconds(static_cast<int64_t>(SplitMix64(rng) % 3000));
    const bool success = SplitMix64(rng) % 100 >= 35;
    const Duration latency = Milliseconds(static_cast<int64_t>(SplitMix64(rng) % 3000));
    const bool to_odds = SplitMix64(rng) % 3 != 0;
    if (SplitMix64(rng) % 7 == 0) {
      by_name.Refresh(now);
      by_ref.Refresh(now);
    } else if (to_odds) {
      by_name.Record("odds", success, latency, now);
      by_ref.Record(odds, "odds", success, latency, now);
    } else {
      by_name.Record("scores", success, latency, now);
      by_ref.Record(scores, "scores", success, latency, now);
    }
    ASSERT_EQ(by_ref.state("odds"), by_name.state("odds")) << step;
    ASSERT_EQ(by_ref.StateAt("scores", now), by_name.StateAt("scores", now)) << step;
  }
  EXPECT_EQ(ref_log.entries, name_log.entries);
  EXPECT_GT(name_log.entries.size(), 10u);
  EXPECT_EQ(by_ref.apis(), (std::vector<std::string>{"odds", "scores"}));
}

TEST(HealthMonitorPropertyTest, MatchesBruteForceReference) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    uint64_t rng = seed;
    HealthConfig c;
    c.window = Seconds(10 + static_cast<int64_t>(seed % 4) * 20);
    c.min_samples = 1 + static_cast<int>(seed % 7);
    // Odd seeds judge latency by the mean, even seeds by p50 / p90 / p100.
    if (seed % 2 == 0) c.latency_percentile = seed % 3 == 0 ? 50 : (seed % 4 == 0 ? 90 : 100);
    if (seed % 2 == 0) c.degraded_latency = Milliseconds(3500);
    HealthMonitor m(c);
    HealthState told = kHealthy;
    int changes = 0;
    m.set_change_listener([&](const std::string&, HealthState from, HealthState to, Instant) {
      ASSERT_EQ(from, told);
      told = to;
      ++changes;
    });
    std::vector<RefSample> history;
    Instant now = T(0);
    const uint64_t failure_percent = 5 + seed * 5;
    for (int step = 0; step < 3000; ++step) {
      now += Milliseconds(static_cast<int64_t>(SplitMix64(rng) % 4000));
      if (SplitMix64(rng) % 5 == 0) {
        m.Refresh(now);
        ASSERT_EQ(told, Reference(history, c, now)) << "seed " << seed << " step " << step;
        ASSERT_EQ(m.state("odds"), told);
        continue;
      }
      const bool success = SplitMix64(rng) % 100 >= failure_percent;
      const Duration latency = Milliseconds(static_cast<int64_t>(SplitMix64(rng) % 4500));
      m.Record("odds", success, latency, now);
      history.push_back({now, success, latency});
      const HealthState expected = Reference(history, c, now);
      ASSERT_EQ(m.StateAt("odds", now), expected) << "seed " << seed << " step " << step;
      ASSERT_EQ(m.state("odds"), expected);
      ASSERT_EQ(told, expected);
      // Also judged ahead of time, without Record: ageing alone.
      const Instant later = now + Seconds(static_cast<int64_t>(SplitMix64(rng) % 90));
      ASSERT_EQ(m.StateAt("odds", later), Reference(history, c, later));
    }
    EXPECT_GT(changes, 3) << "seed " << seed << " exercised too little";
  }
}

}  // namespace
}  // namespace orchsim
