// random_requests.h — the randomized client workload of the orchestrator's
// invariant and abuse tests: games every 15 minutes and requests over a few
// APIs, 40 keys, four priorities, optional kickoffs and deadlines, all drawn
// from one SeededRandom in a fixed order (same seed, same workload).
#ifndef ORCHSIM_TESTS_POLICIES_RANDOM_REQUESTS_H_
#define ORCHSIM_TESTS_POLICIES_RANDOM_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"

namespace orchsim::testing {

struct RandomRequestMix {
  std::vector<std::string> apis;       // each request picks one uniformly
  std::vector<std::string> batchable;  // the APIs whose requests are batchable
  int64_t max_gap_us = 6000;           // gap to the previous request: 1 + U*max_gap_us
  // A deadline (30% of requests): deadline_base + deadline_step * (n % deadline_steps).
  Duration deadline_base = Seconds(1);
  Duration deadline_step = Seconds(1);
  uint64_t deadline_steps = 10;
};

// Registers game0..game19 with kickoffs at start + 10, 25, 40, ... minutes.
inline void AddTwentyGames(Orchestrator& orchestrator, Instant start) {
  for (int g = 0; g < 20; ++g) {
    orchestrator.AddGame("game" + std::to_string(g), start + Minutes(10 + 15 * g));
  }
}

// Draws request `id`, advancing `t` by its gap. Kickoffs fall within 300
// minutes of `start`.
inline Request NextRandomRequest(SeededRandom& demand, const RandomRequestMix& mix, uint64_t id,
                                 Instant start, Instant& t) {
  t += Microseconds(1 + static_cast<int64_t>(demand.Uniform01() * mix.max_gap_us));
  Request r;
  r.id = id;
  r.api = mix.apis[demand.NextU64() % mix.apis.size()];
  r.endpoint = r.api;
  r.key = "game" + std::to_string(demand.NextU64() % 40);
  r.priority = kAllPriorities[demand.NextU64() % 4];
  r.batchable = false;
  for (const std::string& api : mix.batchable) r.batchable = r.batchable || r.api == api;
  r.cacheable = demand.Uniform01() < 0.9;
  if (demand.Uniform01() < 0.5) {
    r.game_start = start + Minutes(static_cast<int64_t>(demand.NextU64() % 300));
  }
  if (demand.Uniform01() < 0.3) {
    const int64_t steps = static_cast<int64_t>(demand.NextU64() % mix.deadline_steps);
    r.deadline = t + mix.deadline_base + mix.deadline_step * steps;
  }
  return r;
}

}  // namespace orchsim::testing

#endif  // ORCHSIM_TESTS_POLICIES_RANDOM_REQUESTS_H_
