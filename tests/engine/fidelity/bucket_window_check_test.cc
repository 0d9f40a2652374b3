// Fidelity check 3: no window of length T ever admits more than
// burst + rate * T, over whole season runs of every variant.
#include "engine/fidelity/bucket_window_check.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "engine/scenario/scenario.h"

namespace orchsim::fidelity {
namespace {

OrchestratorConfig OneApiBucket(double rate, double burst, double cost) {
  OrchestratorConfig config;
  config.defaults.bucket.rate_per_s = rate;
  config.defaults.bucket.burst = burst;
  config.defaults.bucket.cost_per_call = cost;
  return config;
}

UpstreamCall CallTo(const std::string& api, CallKind kind = CallKind::kFirstAttempt) {
  UpstreamCall call;
  call.api = api;
  call.kind = kind;
  return call;
}

// The source tree, wherever the build directory is.
std::string SourceRoot() {
  const std::string file = __FILE__;
  const std::string suffix = "tests/engine/fidelity/bucket_window_check_test.cc";
  return file.substr(0, file.size() - suffix.size());
}

const Instant kT0 = Instant::FromUnixMicros(1'700'000'000'000'000);

TEST(BucketWindowChecker, BoundIsExactAtTheEdge) {
  BucketWindowChecker checker(OneApiBucket(1.0, 2.0, 1.0));
  checker.OnCallSent(CallTo("a"), kT0);
  checker.OnCallSent(CallTo("a"), kT0);
  checker.OnCallSent(CallTo("a"), kT0 + Seconds(1));  // 3 tokens in 1 s: exactly 2 + 1
  ASSERT_EQ(checker.Reports().size(), 1u);
  EXPECT_TRUE(checker.AllHold());
  EXPECT_DOUBLE_EQ(checker.Reports()[0].worst_excess_tokens, 2.0);
  // One microsecond earlier would have been one nano-token-second too many.
  BucketWindowChecker early(OneApiBucket(1.0, 2.0, 1.0));
  early.OnCallSent(CallTo("a"), kT0);
  early.OnCallSent(CallTo("a"), kT0);
  early.OnCallSent(CallTo("a"), kT0 + Seconds(1) - Microseconds(1));
  EXPECT_FALSE(early.AllHold());
  const BucketWindowReport r = early.Reports()[0];
  EXPECT_EQ(r.worst_window_calls, 3u);
  EXPECT_EQ(r.worst_window_start, kT0);
  EXPECT_EQ(r.worst_window_end, kT0 + Seconds(1) - Microseconds(1));
}

TEST(BucketWindowChecker, FindsAWindowInsideALongRun) {
  // 1 call per second for 10 s, then 4 at once: the worst window is the
  // burst alone (4 calls, T = 0) or earlier calls + the burst.
  BucketWindowChecker checker(OneApiBucket(1.0, 4.0, 1.0));
  for (int i = 0; i < 10; ++i) checker.OnCallSent(CallTo("a"), kT0 + Seconds(i));
  for (int i = 0; i < 4; ++i) checker.OnCallSent(CallTo("a"), kT0 + Seconds(9) + Milliseconds(500));
  const BucketWindowReport r = checker.Reports()[0];
  EXPECT_EQ(r.calls, 14u);
  // Every window [j s, 9.5 s] admits (14 - j) - (9.5 - j) = 4.5 > 4; the
  // earliest start is reported.
  EXPECT_DOUBLE_EQ(r.worst_excess_tokens, 4.5);
  EXPECT_EQ(r.worst_window_calls, 14u);
  EXPECT_EQ(r.worst_window_start, kT0);
  EXPECT_FALSE(r.holds);
}

TEST(BucketWindowChecker, IgnoresProbesAndDisabledBuckets) {
  OrchestratorConfig config = OneApiBucket(1.0, 1.0, 1.0);
  config.Api("free").bucket.enabled = false;
  BucketWindowChecker checker(config);
  for (int i = 0; i < 5; ++i) {
    checker.OnCallSent(CallTo("a", CallKind::kProbe), kT0);
    checker.OnCallSent(CallTo("free"), kT0);
  }
  checker.OnCallSent(CallTo("a", CallKind::kRetry), kT0);
  ASSERT_EQ(checker.Reports().size(), 1u);
  EXPECT_EQ(checker.Reports()[0].api, "a");
  EXPECT_EQ(checker.Reports()[0].calls, 1u);
  EXPECT_TRUE(checker.AllHold());
}

TEST(BucketWindowFidelity, WholeSeasonEveryVariant) {
  const scenario::Scenario scenario =
      scenario::LoadScenario(SourceRoot() + "scenarios/nfl-2023.json");
  const std::vector<CheckLine> lines = RunBucketWindowChecks(scenario, scenario.seed);
  ASSERT_FALSE(lines.empty());
  for (const CheckLine& line : lines) {
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

}  // namespace
}  // namespace orchsim::fidelity
