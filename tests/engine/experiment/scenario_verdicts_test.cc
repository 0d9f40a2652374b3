// The focused scenarios end in a verdict too (issue 21, item 5): each
// scenario's "slo" block picks the variant its description names, or, for
// kickoff-surge, says that none meets every objective and names the closest.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/experiment/runner.h"
#include "engine/experiment/slo.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {
namespace {

SloVerdict VerdictOf(const std::string& name) {
  const scenario::Scenario s =
      scenario::LoadScenario(std::string(ORCHSIM_SOURCE_DIR) + "/scenarios/" + name + ".json");
  return VerdictFor(s, RunComparison(s, {}, s.seed));
}

std::vector<int> NotMet(const SloVerdict& v) {
  std::vector<int> out;
  for (const VariantSlo& s : v.variants) out.push_back(s.not_met);
  return out;
}

TEST(ScenarioVerdictsTest, BreakerOutageDayChoosesTheConsecutiveFailuresBreaker) {
  const SloVerdict v = VerdictOf("breaker-outage-day");
  ASSERT_TRUE(v.chosen.has_value()) << VerdictSentence(v, false);
  EXPECT_EQ(v.variants[*v.chosen].variant, "consecutive");
  // breaker-off misses both latency objectives, failure-rate the failures.
  EXPECT_EQ(NotMet(v), (std::vector<int>{2, 0, 1}));
  EXPECT_EQ(v.spec.cheapest_by, (std::vector<std::string>{"upstream_calls"}));
}

TEST(ScenarioVerdictsTest, QuotaCrunchMonthChoosesPacing) {
  const SloVerdict v = VerdictOf("quota-crunch-month");
  ASSERT_TRUE(v.chosen.has_value()) << VerdictSentence(v, false);
  EXPECT_EQ(v.variants[*v.chosen].variant, "pace");
  // naive and seed-plan run out of quota; aimd is cheaper but fails more.
  EXPECT_EQ(NotMet(v), (std::vector<int>{1, 1, 0, 1}));
  EXPECT_LT(v.variants[3].cost[0], v.variants[2].cost[0]);
}

TEST(ScenarioVerdictsTest, KickoffSurgeHasNoVariantMeetingEveryObjective) {
  const SloVerdict v = VerdictOf("kickoff-surge");
  EXPECT_FALSE(v.chosen.has_value());
  ASSERT_TRUE(v.closest.has_value());
  // reserves miss LOW's wait, escalation CRITICAL's; escalation misses by less.
  EXPECT_EQ(NotMet(v), (std::vector<int>{4, 4, 2, 1, 1}));
  EXPECT_EQ(v.variants[*v.closest].variant, "escalation");
  EXPECT_EQ(VerdictSentence(v, false).rfind("Verdict: no variant meets every objective. Closest: "
                                            "escalation, with 1 of 4 not met (wait_p99_s.CRITICAL",
                                            0),
            0u)
      << VerdictSentence(v, false);
}

}  // namespace
}  // namespace orchsim::experiment
