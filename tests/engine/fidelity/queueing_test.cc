// Fidelity checks 1 and 2: the production Orchestrator (priority queue +
// concurrency limit, everything else off) against Cobham's non-preemptive
// priority formula (one server) and Erlang C (two servers).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/experiment/sweep.h"
#include "engine/fidelity/queueing_experiment.h"
#include "engine/fidelity/queueing_theory.h"
#include "engine/fidelity/statistics.h"

namespace orchsim::fidelity {
namespace {

TEST(QueueingTheory, CobhamMatchesThePublishedExample) {
  const std::vector<double> waits = CobhamExponentialWaits({0.2, 0.3, 0.3}, 1.0);
  ASSERT_EQ(waits.size(), 3u);
  EXPECT_NEAR(waits[0], 1.0, 1e-12);
  EXPECT_NEAR(waits[1], 2.0, 1e-12);
  EXPECT_NEAR(waits[2], 8.0, 1e-12);
}

TEST(QueueingTheory, ErlangCForTwoServers) {
  // a = 1.5, rho = 0.75: C = (1.125 / 0.25) / (1 + 1.5 + 4.5) = 9/14.
  const ErlangCResult r = ErlangC(2, 1.5, 1.0);
  EXPECT_NEAR(r.p_wait, 9.0 / 14.0, 1e-12);
  EXPECT_NEAR(r.mean_wait_s, 9.0 / 14.0 / 0.5, 1e-12);
  // One server: Erlang C is rho and the M/M/1 wait rho / (mu - lambda).
  const ErlangCResult one = ErlangC(1, 0.5, 1.0);
  EXPECT_NEAR(one.p_wait, 0.5, 1e-12);
  EXPECT_NEAR(one.mean_wait_s, 1.0, 1e-12);
}

TEST(Statistics, StudentQuantilesAndInterval) {
  EXPECT_NEAR(experiment::StudentT975(9), 2.2621571627982, 1e-9);
  EXPECT_NEAR(experiment::StudentT975(120), 1.9799, 1e-4);
  const ConfidenceInterval ci = MeanConfidence95({1.0, 2.0, 3.0});
  EXPECT_DOUBLE_EQ(ci.mean, 2.0);
  EXPECT_DOUBLE_EQ(ci.stddev, 1.0);
  EXPECT_NEAR(ci.half_width, experiment::StudentT975(2) / std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(ci.half_width, 4.302652729911275 / std::sqrt(3.0), 1e-9);
  EXPECT_TRUE(ci.Contains(4.48));
  EXPECT_FALSE(ci.Contains(4.49));
}

TEST(QueueingExperiment, ConfigValidationNamesTheField) {
  QueueingExperimentConfig config;
  EXPECT_TRUE(config.validate().ok());
  config.arrival_rates_per_s = {0.5, 0.6};
  EXPECT_NE(config.validate().message().find("queueing.arrival_rates_per_s"), std::string::npos);
  config = QueueingExperimentConfig{};
  config.replications = 1;
  EXPECT_NE(config.validate().message().find("queueing.replications"), std::string::npos);
}

struct CobhamCase {
  const char* name;
  std::vector<double> rates;
  int64_t measured;
};

class CobhamFidelity : public testing::TestWithParam<CobhamCase> {};

TEST_P(CobhamFidelity, MeanWaitPerClassInsideTheConfidenceInterval) {
  const CobhamCase& c = GetParam();
  QueueingExperimentConfig config;
  config.arrival_rates_per_s = c.rates;
  config.servers = 1;
  config.warmup_customers = c.measured / 10;
  config.measured_customers = c.measured;
  config.replications = 10;
  config.seed = 8;
  ASSERT_TRUE(config.validate().ok());
  const QueueingExperimentResult result = RunQueueingExperiment(config);
  // The core's queue_wait is submit -> first send, for every request.
  EXPECT_EQ(result.queue_wait_mismatches, 0);
  EXPECT_EQ(result.not_served, 0);
  const std::vector<double> expected = CobhamExponentialWaits(c.rates, 1.0);
  for (size_t k = 0; k < expected.size(); ++k) {
    const CheckLine line =
        CiCheck(std::string("cobham/") + c.name,
                "wait " + std::string(PriorityName(static_cast<Priority>(k))) + " (s)",
                result.wait_by_class_s[k], expected[k]);
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

INSTANTIATE_TEST_SUITE_P(Loads, CobhamFidelity,
                         testing::Values(CobhamCase{"load0.3", {0.1, 0.1, 0.1}, 20000},
                                         CobhamCase{"load0.8", {0.2, 0.3, 0.3}, 40000},
                                         CobhamCase{"load0.9", {0.2, 0.3, 0.4}, 100000}),
                         [](const testing::TestParamInfo<CobhamCase>& info) {
                           std::string name = info.param.name;
                           for (char& ch : name) {
                             if (ch == '.') ch = '_';
                           }
                           return name;
                         });

TEST(ErlangCFidelity, TwoServersWaitProbabilityAndMeanWait) {
  for (double lambda : {1.0, 1.6}) {
    QueueingExperimentConfig config;
    config.arrival_rates_per_s = {lambda};
    config.servers = 2;
    config.warmup_customers = 5000;
    config.measured_customers = 50000;
    config.replications = 10;
    config.seed = 1;
    ASSERT_TRUE(config.validate().ok());
    const QueueingExperimentResult result = RunQueueingExperiment(config);
    EXPECT_EQ(result.queue_wait_mismatches, 0);
    const ErlangCResult theory = ErlangC(2, lambda, 1.0);
    const std::string name = "erlang_c/lambda" + std::to_string(lambda).substr(0, 3);
    for (const CheckLine& line :
         {CiCheck(name, "P(wait)", result.p_wait, theory.p_wait),
          CiCheck(name, "mean wait (s)", result.wait_all_s, theory.mean_wait_s)}) {
      std::printf("%s\n", FormatCheckLine(line).c_str());
      EXPECT_TRUE(line.pass) << FormatCheckLine(line);
    }
  }
}

}  // namespace
}  // namespace orchsim::fidelity
