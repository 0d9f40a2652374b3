// orchsim fidelity --queueing (issue 18, item 20): a user's own M/M/c queue
// with non-preemptive priorities, checked against the closed form.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/fidelity/fidelity_suite.h"
#include "engine/fidelity/queueing_theory.h"

namespace orchsim::fidelity {
namespace {

TEST(QueueingTheory, PriorityMMcIsCobhamForOneServerAndErlangCForOneClass) {
  const std::vector<double> cobham = CobhamExponentialWaits({0.2, 0.3, 0.3}, 1.0);
  const std::vector<double> mm1 = PriorityMMcWaits({0.2, 0.3, 0.3}, 1.0, 1);
  ASSERT_EQ(mm1.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(mm1[k], cobham[k], 1e-12) << k;
  EXPECT_NEAR(PriorityMMcWaits({1.5}, 1.0, 2)[0], ErlangC(2, 1.5, 1.0).mean_wait_s, 1e-12);
  // Two classes on two servers: W0 = C(2, 1.1) / 2; s = 0.25, 0.55.
  const std::vector<double> two = PriorityMMcWaits({0.5, 0.6}, 1.0, 2);
  const double w0 = ErlangC(2, 1.1, 1.0).p_wait / 2.0;
  EXPECT_NEAR(two[0], w0 / 0.75, 1e-12);
  EXPECT_NEAR(two[1], w0 / (0.75 * 0.45), 1e-12);
}

TEST(QueueingCheckSpecTest, ValidationSpeaksInOptions) {
  QueueingCheckSpec spec;
  EXPECT_TRUE(spec.validate().ok());
  spec.arrival_rates_per_s = {1.0, 1.5};
  spec.servers = 2;
  EXPECT_EQ(spec.validate().message(),
            "--arrival-rates: 2.5 per second overload 2 server(s) at 1.000/s (load 1.250 >= 1): "
            "the queue grows without bound, there is no steady state to compare with");
  spec.arrival_rates_per_s = {0.1, 0.1, 0.1, 0.1, 0.1};
  EXPECT_EQ(spec.validate().message().rfind("--arrival-rates: 5 classes given", 0), 0u);
  spec = QueueingCheckSpec{};
  spec.servers = 0;
  EXPECT_EQ(spec.validate().message(), "--servers: 0 must be in 1..1000");
}

// Deterministic (seeded): the core's waits on two servers with two classes
// lie within the 95% intervals of the closed form.
TEST(FidelityQueueingCheckTest, TwoClassesOnTwoServersPass) {
  QueueingCheckSpec spec;
  spec.arrival_rates_per_s = {0.5, 0.6};
  spec.servers = 2;
  spec.measured_customers = 100000;
  const FidelitySection section = RunQueueingCheck(spec);
  ASSERT_EQ(section.lines.size(), 4u);  // CRITICAL, HIGH, P(wait), the definition
  for (const CheckLine& line : section.lines) {
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
  EXPECT_EQ(section.title, "Your queue: M/M/2 with non-preemptive priorities");
}

}  // namespace
}  // namespace orchsim::fidelity
