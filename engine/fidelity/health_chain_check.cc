#include "engine/fidelity/health_chain_check.h"

#include <Eigen/Dense>
#include <string>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/mock_upstream.h"

namespace orchsim::fidelity {

HealthFractions StationaryByGenerator(const world::HealthModelConfig& model) {
  const double means[3] = {static_cast<double>(model.mean_healthy.micros()) / 3.6e9,
                           static_cast<double>(model.mean_degraded.micros()) / 3.6e9,
                           static_cast<double>(model.mean_down.micros()) / 3.6e9};  // hours
  const double jump[3][3] = {{0.0, 1.0 - model.healthy_to_down, model.healthy_to_down},
                             {1.0 - model.degraded_to_down, 0.0, model.degraded_to_down},
                             {1.0 - model.down_to_degraded, model.down_to_degraded, 0.0}};
  Eigen::Matrix3d q;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) q(i, j) = i == j ? -1.0 / means[i] : jump[i][j] / means[i];
  }
  // pi Q = 0  <=>  Q^T pi^T = 0; one equation is redundant, replace it with
  // the normalisation sum(pi) = 1.
  Eigen::Matrix3d a = q.transpose();
  a.row(2).setOnes();
  const Eigen::Vector3d b(0.0, 0.0, 1.0);
  const Eigen::Vector3d pi = a.fullPivLu().solve(b);
  return {pi(0), pi(1), pi(2)};
}

Status HealthChainConfig::validate() const {
  if (warmup < Duration::Zero()) {
    return FieldError("health_chain.warmup", FormatDuration(warmup), "must be >= 0");
  }
  if (horizon <= warmup) {
    return FieldError("health_chain.horizon", FormatDuration(horizon), "must be > warmup");
  }
  if (replications < 2) {
    return FieldError("health_chain.replications", replications, "must be >= 2");
  }
  return Status::Ok();
}

HealthChainResult RunHealthChainCheck(const HealthChainConfig& config) {
  HealthChainResult result;
  world::UpstreamModelConfig upstream;
  upstream.name = "flaky";
  upstream.health = config.model;
  upstream.health.enabled = true;
  upstream.data.enabled = false;
  result.expected = StationaryByGenerator(upstream.health);
  result.tree_theorem = upstream.health.StationaryTimeFractions();
  std::array<std::vector<double>, world::kUpstreamHealthCount> samples;
  const kernel::SeedTree root(config.seed);
  const Instant origin = Instant::Epoch();
  const double measured_us = static_cast<double>((config.horizon - config.warmup).micros());
  for (int r = 0; r < config.replications; ++r) {
    kernel::Simulator sim(origin);
    world::MockUpstream mock(sim, root.Child("replication/" + std::to_string(r)), upstream);
    world::HealthTimeline& timeline = mock.health();
    for (int s = 0; s < world::kUpstreamHealthCount; ++s) {
      const Duration in = timeline.TimeIn(static_cast<world::UpstreamHealth>(s),
                                          origin + config.warmup, origin + config.horizon);
      samples[static_cast<size_t>(s)].push_back(static_cast<double>(in.micros()) / measured_us);
    }
    result.spans += static_cast<int64_t>(timeline.spans().size());
  }
  for (size_t s = 0; s < samples.size(); ++s) result.fraction[s] = MeanConfidence95(samples[s]);
  return result;
}

world::HealthModelConfig FastCyclingHealthModel() {
  world::HealthModelConfig model;
  model.enabled = true;
  model.mean_healthy = Hours(3);
  model.mean_degraded = Minutes(45);
  model.mean_down = Minutes(20);
  model.healthy_to_down = 0.2;
  model.degraded_to_down = 0.3;
  model.down_to_degraded = 0.5;
  return model;
}

}  // namespace orchsim::fidelity
