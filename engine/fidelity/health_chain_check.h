// health_chain_check.h — the Markov-modulated upstream against its
// stationary law.
//
// A MockUpstream's health (HealthModelConfig) is a continuous-time Markov
// chain on {healthy, degraded, down}: it leaves state i at rate 1 / mean_i
// and jumps by the embedded table P. Its generator is
//   Q[i][j] = P[i][j] / mean_i (i != j),   Q[i][i] = -1 / mean_i,
// and the long-run fraction of time in each state is the pi with pi Q = 0,
// sum(pi) = 1, solved here with Eigen (independently of
// HealthModelConfig::StationaryTimeFractions, which uses the tree theorem).
//
// The experiment builds the upstream's timeline (replication r: seed tree
// Child("replication/<r>") of the seed, the upstream's own stream) and
// measures the fraction of [origin + warmup, origin + horizon) spent in each
// state; the expected pi must lie inside the 95% CI over replications.
#ifndef ORCHSIM_ENGINE_FIDELITY_HEALTH_CHAIN_CHECK_H_
#define ORCHSIM_ENGINE_FIDELITY_HEALTH_CHAIN_CHECK_H_

#include <array>
#include <cstdint>
#include <vector>

#include "engine/fidelity/statistics.h"
#include "engine/world/upstream_model.h"
#include "policies/status.h"

namespace orchsim::fidelity {

using HealthFractions = std::array<double, world::kUpstreamHealthCount>;

// Solves pi Q = 0, sum(pi) = 1 for the model's generator (Eigen, full-pivot LU).
HealthFractions StationaryByGenerator(const world::HealthModelConfig& model);

struct HealthChainConfig {
  world::HealthModelConfig model;  // enabled is forced on
  Duration warmup = Days(10);      // >= 0, not measured (the chain starts healthy)
  Duration horizon = Days(1000);   // > warmup
  int replications = 10;           // >= 2
  uint64_t seed = 5;

  Status validate() const;
};

struct HealthChainResult {
  std::array<ConfidenceInterval, world::kUpstreamHealthCount> fraction;  // by state
  HealthFractions expected{};                                            // StationaryByGenerator
  HealthFractions tree_theorem{};  // HealthModelConfig::StationaryTimeFractions
  int64_t spans = 0;               // health spans generated, all replications
};

// REQUIRES: config.validate().ok().
HealthChainResult RunHealthChainCheck(const HealthChainConfig& config);

// A model with short sojourns (hours) and every jump possible, so a few
// thousand simulated days hold many thousands of cycles.
world::HealthModelConfig FastCyclingHealthModel();

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_HEALTH_CHAIN_CHECK_H_
