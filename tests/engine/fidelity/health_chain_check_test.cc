// Fidelity check 5: the Markov-modulated upstream spends the stationary
// fraction of time in each health state (pi Q = 0 solved with Eigen).
#include "engine/fidelity/health_chain_check.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace orchsim::fidelity {
namespace {

TEST(StationaryByGenerator, TwoStateChainByHand) {
  // healthy <-> down only (degraded unreachable): pi proportional to the means.
  world::HealthModelConfig model;
  model.mean_healthy = Hours(3);
  model.mean_degraded = Hours(1);
  model.mean_down = Hours(1);
  model.healthy_to_down = 1.0;
  model.degraded_to_down = 0.5;
  model.down_to_degraded = 0.0;
  const HealthFractions pi = StationaryByGenerator(model);
  EXPECT_NEAR(pi[0], 0.75, 1e-12);
  EXPECT_NEAR(pi[1], 0.0, 1e-12);
  EXPECT_NEAR(pi[2], 0.25, 1e-12);
}

TEST(StationaryByGenerator, AgreesWithTheTreeTheorem) {
  const world::HealthModelConfig model = FastCyclingHealthModel();
  const HealthFractions pi = StationaryByGenerator(model);
  const auto tree = model.StationaryTimeFractions();
  for (size_t s = 0; s < 3; ++s) EXPECT_NEAR(pi[s], tree[s], 1e-12);
  EXPECT_NEAR(pi[0] + pi[1] + pi[2], 1.0, 1e-12);
}

TEST(HealthChainFidelity, TimeFractionsInsideTheConfidenceInterval) {
  HealthChainConfig config;
  config.model = FastCyclingHealthModel();
  config.horizon = Days(1000);
  config.replications = 10;
  ASSERT_TRUE(config.validate().ok());
  const HealthChainResult r = RunHealthChainCheck(config);
  EXPECT_GT(r.spans, 10 * 5000);
  for (int s = 0; s < world::kUpstreamHealthCount; ++s) {
    const CheckLine line = CiCheck(
        "health_chain/fast",
        "time " + std::string(world::UpstreamHealthName(static_cast<world::UpstreamHealth>(s))),
        r.fraction[static_cast<size_t>(s)], r.expected[static_cast<size_t>(s)]);
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

TEST(HealthChainConfig, ValidationNamesTheField) {
  HealthChainConfig config;
  config.horizon = config.warmup;
  EXPECT_NE(config.validate().message().find("health_chain.horizon"), std::string::npos);
}

}  // namespace
}  // namespace orchsim::fidelity
