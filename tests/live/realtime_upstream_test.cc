// RealTimeUpstream: the scenario's model on the real clock, with the same
// timelines as a simulation of the same seed.
#include "live/realtime_upstream.h"

#include <gtest/gtest.h>

#include <chrono>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"

namespace orchsim::live {
namespace {

using Clock = std::chrono::steady_clock;

const Instant kStart = *ParseInstant("2023-10-15T10:00:00Z");

world::UpstreamModelConfig FlakyModel() {
  world::UpstreamModelConfig m;
  m.name = "scores";
  m.health.enabled = true;
  m.health.mean_healthy = Minutes(30);
  m.health.mean_degraded = Minutes(10);
  m.health.mean_down = Minutes(5);
  m.health.healthy_to_down = 0.3;
  m.failures.enabled = true;
  m.failures.rates.status_500 = 0.2;
  return m;
}

TEST(RealTimeUpstreamTest, ScenarioTimeRunsWithTheRealClockFromStartAt) {
  RealTimeUpstream::Options o;
  o.model = FlakyModel();
  o.scenario_start = kStart;
  o.start_at = kStart + Hours(8);
  const Clock::time_point origin = Clock::now();
  auto upstream = RealTimeUpstream::Create(o, origin);
  ASSERT_TRUE(upstream.ok()) << upstream.status().message();
  EXPECT_EQ((*upstream)->ScenarioTime(origin), kStart + Hours(8));
  EXPECT_EQ((*upstream)->ScenarioTime(origin + std::chrono::milliseconds(1500)),
            kStart + Hours(8) + Milliseconds(1500));
  // Never before the instant a call was evaluated at.
  UpstreamCall call;
  call.api = "scores";
  call.endpoint = "scores";
  call.keys = {"g"};
  (*upstream)->Process(call, origin + std::chrono::seconds(2));
  EXPECT_EQ((*upstream)->ScenarioTime(origin), kStart + Hours(8) + Seconds(2));
}

TEST(RealTimeUpstreamTest, HealthTimelineIsTheSimulationsForTheSameSeed) {
  RealTimeUpstream::Options o;
  o.model = FlakyModel();
  o.seed = 1015;
  o.scenario_start = kStart;
  o.start_at = kStart + Hours(5);
  auto upstream = RealTimeUpstream::Create(o, Clock::now());
  ASSERT_TRUE(upstream.ok());

  kernel::Simulator sim(kStart);
  world::MockUpstream simulated(sim, kernel::SeedTree(1015), FlakyModel());
  const Instant until = kStart + Days(2);
  EXPECT_EQ((*upstream)->model().health().SpansUntil(until), simulated.health().SpansUntil(until));
  EXPECT_GT(simulated.health().spans().size(), 3u);
}

TEST(RealTimeUpstreamTest, RejectsAStartBeforeTheScenarioAndAnInvalidModel) {
  RealTimeUpstream::Options o;
  o.model = FlakyModel();
  o.scenario_start = kStart;
  o.start_at = kStart - Seconds(1);
  auto early = RealTimeUpstream::Create(o, Clock::now());
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("before the scenario's start"), std::string::npos);
  o.start_at = kStart;
  o.model.failures.rates.status_500 = 2.0;
  EXPECT_FALSE(RealTimeUpstream::Create(o, Clock::now()).ok());
}

}  // namespace
}  // namespace orchsim::live
