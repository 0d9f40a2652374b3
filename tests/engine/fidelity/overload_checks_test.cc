// Fidelity checks 7 and 8: an upstream with capacity against the M/M/c/K
// closed form, and retries against the expected number of attempts under
// independent failures.
#include "engine/fidelity/overload_checks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

namespace orchsim::fidelity {
namespace {

TEST(MmcKTheory, OneServerIsTheTruncatedGeometric) {
  // M/M/1/K: p_n = (1 - a) a^n / (1 - a^(K+1)). a = 0.8, K = 3.
  const double a = 0.8;
  const double norm = (1 - a) / (1 - std::pow(a, 4));
  const MmcKTheory t = MmcK(1, 3, 0.8, 1.0);
  EXPECT_NEAR(t.blocking, norm * std::pow(a, 3), 1e-12);
  // L_q = 1 p_2 + 2 p_3.
  const double lq = norm * (a * a + 2 * a * a * a);
  EXPECT_NEAR(t.mean_queue, lq, 1e-12);
  EXPECT_NEAR(t.mean_wait_s, lq / (0.8 * (1 - t.blocking)), 1e-12);
}

TEST(MmcKTheory, NoWaitingRoomIsErlangB) {
  // c = K = 2, a = 1.5: Erlang B = (a^2/2) / (1 + a + a^2/2) = 1.125 / 3.625.
  const MmcKTheory t = MmcK(2, 2, 1.5, 1.0);
  EXPECT_NEAR(t.blocking, 1.125 / 3.625, 1e-12);
  EXPECT_DOUBLE_EQ(t.mean_queue, 0.0);
  EXPECT_DOUBLE_EQ(t.mean_wait_s, 0.0);
}

TEST(ExpectedAttempts, GeometricSum) {
  EXPECT_DOUBLE_EQ(ExpectedAttempts(0.0, 3), 1.0);
  EXPECT_NEAR(ExpectedAttempts(0.5, 3), 1.75, 1e-12);
  EXPECT_NEAR(ExpectedAttempts(0.3, 3), 1.0 + 0.3 + 0.09, 1e-12);
  EXPECT_DOUBLE_EQ(ExpectedAttempts(1.0, 4), 4.0);
}

// The fast checks `orchsim fidelity` prints: every line passes.
TEST(OverloadChecks, MmcKMatchesTheClosedForm) {
  for (const CheckLine& line : MmcKChecks(false)) {
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

TEST(OverloadChecks, RetriesMatchTheExpectedAttempts) {
  for (const CheckLine& line : AttemptsChecks(false)) {
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

// Same seed, same numbers.
TEST(OverloadChecks, Deterministic) {
  MmcKConfig config;
  config.measured_arrivals = 5000;
  config.replications = 3;
  const MmcKResult a = RunMmcK(config);
  const MmcKResult b = RunMmcK(config);
  EXPECT_EQ(a.blocking.mean, b.blocking.mean);
  EXPECT_EQ(a.mean_wait_s.mean, b.mean_wait_s.mean);
}

}  // namespace
}  // namespace orchsim::fidelity
