// Fidelity check 6: with demand above the monthly quota, the pace mode never
// exhausts the quota before the reset and spends evenly day by day.
#include "engine/fidelity/quota_pacing_check.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace orchsim::fidelity {
namespace {

TEST(QuotaPacingFidelity, SeptemberAtThreeTimesTheQuota) {
  QuotaPacingConfig config;  // 1500 credits, 3 per call, ~4300 credits demanded
  ASSERT_TRUE(config.validate().ok());
  const QuotaPacingResult r = RunQuotaPacing(config);
  std::printf("requests=%llu served=%llu demanded=%.0f spent=%.0f refusals=%llu\n",
              static_cast<unsigned long long>(r.requests),
              static_cast<unsigned long long>(r.served), r.demanded_credits, r.spent,
              static_cast<unsigned long long>(r.quota_refusals));
  EXPECT_GT(r.demanded_credits, 2.5 * config.monthly_limit_credits);
  ASSERT_EQ(r.credits_by_day.size(), 30u);
  // Served in the month, plus at most the calls sent at the reset itself
  // (the next period's first slot) during the shutdown drain.
  EXPECT_GE(static_cast<double>(r.served) * config.credits_per_call, r.spent);
  for (const CheckLine& line : QuotaPacingChecks(r)) {
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

TEST(QuotaPacingConfig, ValidationNamesTheField) {
  QuotaPacingConfig config;
  config.days_in_month = 27;
  EXPECT_NE(config.validate().message().find("quota_pacing.days_in_month"), std::string::npos);
}

}  // namespace
}  // namespace orchsim::fidelity
