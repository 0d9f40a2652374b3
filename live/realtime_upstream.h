// realtime_upstream.h — a scenario's mocked upstream (engine/world's
// MockUpstream) answering on the real clock.
//
// The model is exactly the simulator's: the same seeded streams
// ("upstream/<name>/health", "/calls", "/data" of the scenario's seed), so
// its health timeline, outages and data versions are the ones a simulation
// of the scenario sees at the same scenario instant. Time: the model lives
// on the scenario's timeline, which starts at `scenario_start` (the origin
// of the health chain and the data processes, as in a simulated run). The
// real instant `origin` (a steady-clock reading, normally the process
// start) is mapped to the scenario instant `start_at` (>= scenario_start;
// by default scenario_start), and scenario time then advances with the
// steady clock, one real second per scenario second. A kernel::Simulator,
// never given an event, serves as the model's clock: before each call it is
// moved to the scenario instant of the call (Simulator::RunUntil), so no
// seam in the model is needed and simulations stay byte-identical.
//
// Not thread-safe: one event-loop thread calls it. Memory is the model's
// (per key asked for, per health span, per call in the rate window).
#ifndef ORCHSIM_LIVE_REALTIME_UPSTREAM_H_
#define ORCHSIM_LIVE_REALTIME_UPSTREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/kernel/simulator.h"
#include "engine/world/game_kickoffs.h"
#include "engine/world/mock_upstream.h"
#include "engine/world/schedule.h"
#include "engine/world/upstream_model.h"
#include "policies/request.h"
#include "policies/status.h"

namespace orchsim::live {

class RealTimeUpstream {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  struct Options {
    world::UpstreamModelConfig model;
    uint64_t seed = 1;               // the scenario's root seed
    std::vector<world::Game> games;  // for the data processes' kickoffs
    Instant scenario_start;          // the model's origin
    Instant start_at;                // the scenario instant `origin` maps to
  };

  // Fails when the model is invalid or start_at < scenario_start.
  static StatusOr<std::unique_ptr<RealTimeUpstream>> Create(Options options, SteadyTime origin);
  RealTimeUpstream(const RealTimeUpstream&) = delete;
  RealTimeUpstream& operator=(const RealTimeUpstream&) = delete;

  // The scenario instant of real instant `t` (never earlier than the last
  // instant a call was evaluated at).
  Instant ScenarioTime(SteadyTime t) const;
  // Evaluates `call` as sent at real instant `t` (MockUpstream::Process):
  // counters, rate window and quota move; the answer carries its latency.
  Response Process(const UpstreamCall& call, SteadyTime t);

  const world::MockUpstream& model() const { return *mock_; }
  world::MockUpstream& model() { return *mock_; }
  Instant scenario_start() const { return scenario_start_; }

 private:
  RealTimeUpstream(Options options, SteadyTime origin);

  Instant scenario_start_;
  Instant start_at_;
  SteadyTime origin_;
  world::GameKickoffs kickoffs_;
  kernel::Simulator clock_;
  std::unique_ptr<world::MockUpstream> mock_;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_REALTIME_UPSTREAM_H_
