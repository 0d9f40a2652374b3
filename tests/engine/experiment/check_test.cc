#include "engine/experiment/check.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/scenario/scenario.h"

namespace orchsim::experiment {
namespace {

const std::string kDir = std::string(ORCHSIM_SOURCE_DIR) + "/tests/engine/experiment/check";

scenario::Scenario Load(const std::string& name) {
  return scenario::LoadScenario(kDir + "/" + name);
}

std::string ErrorOf(const scenario::Scenario& s) {
  try {
    ReadCheckSpec(s);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(CheckSpecTest, ReadsBoundsWithUnits) {
  const scenario::Scenario s = Load("mini.json");
  const CheckSpec spec = ReadCheckSpec(s);
  ASSERT_EQ(spec.expectations.size(), 4u);
  // Variants in name order, metrics in name order (JSON objects are sorted).
  EXPECT_EQ(spec.expectations[0].variant, "naive");
  EXPECT_EQ(spec.expectations[0].metric, "retries");
  EXPECT_EQ(*spec.expectations[0].max, 0.0);
  EXPECT_EQ(spec.expectations[3].metric, "wait_p99_s.HIGH");
  EXPECT_DOUBLE_EQ(*spec.expectations[3].max, 2.0);  // "2s" in seconds
  EXPECT_FALSE(spec.expectations[3].min.has_value());
  EXPECT_EQ(spec.default_tolerance.relative, 0.0);
  EXPECT_EQ(spec.default_tolerance.absolute, 0.0);
}

TEST(CheckSpecTest, UnknownMetricAndWrongUnitAreBadInput) {
  EXPECT_NE(ErrorOf(Load("bad_metric.json"))
                .find("bad_metric.json: /expect/seed-plan/no_such_metric: unknown metric"),
            std::string::npos)
      << ErrorOf(Load("bad_metric.json"));
  EXPECT_NE(ErrorOf(Load("bad_unit.json"))
                .find("/expect/seed-plan/upstream_calls/max: expected a number in count for "
                      "metric \"upstream_calls\", got \"2s\""),
            std::string::npos)
      << ErrorOf(Load("bad_unit.json"));
}

TEST(CheckSpecTest, UnknownVariantAndInvertedBounds) {
  scenario::Scenario s = Load("mini.json");
  s.expect = scenario::Json::parse(R"({"tuned": {"retries": {"max": 1}}})");
  EXPECT_NE(ErrorOf(s).find("/expect/tuned: unknown variant \"tuned\"; the scenario has: naive, "
                            "seed-plan"),
            std::string::npos)
      << ErrorOf(s);
  s.expect = scenario::Json::parse(R"({"naive": {"retries": {"min": 3, "max": 1}}})");
  EXPECT_NE(ErrorOf(s).find("/expect/naive/retries: \"min\" is greater than \"max\""),
            std::string::npos);
  s.expect = scenario::Json::parse(R"({"naive": {"retries": {"below": 3}}})");
  EXPECT_NE(ErrorOf(s).find("/expect/naive/retries/below: unknown key \"below\""),
            std::string::npos)
      << ErrorOf(s);
}

TEST(CheckTest, ExpectationsPassAndFailAtTheirBoundsWithUnits) {
  const scenario::Scenario s = Load("mini.json");
  const CheckSpec spec = ReadCheckSpec(s);
  std::map<std::string, MetricValues> values;
  values["naive"]["retries"] = 0;
  values["seed-plan"]["calls_saved_pct"] = 50;  // exactly the bound: passes
  values["seed-plan"]["client_failures_pct"] = 5.5;
  values["seed-plan"]["wait_p99_s.HIGH"] = 10.7;
  const auto results = EvaluateExpectations(s, spec, values);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].passed);
  EXPECT_TRUE(results[1].passed) << results[1].message;
  EXPECT_EQ(results[1].message, "50% is >= 50%");
  EXPECT_FALSE(results[2].passed);
  EXPECT_EQ(results[2].metric, "client_failures_pct");
  // Issue 18, item 14: units in messages.
  EXPECT_EQ(results[2].message, "5.5% is not <= 5%");
  EXPECT_FALSE(results[3].passed);
  EXPECT_EQ(results[3].message, "10.7 s is not <= 2 s");
}

// Issue 18, item 15: with several seeds every seed must hold; the failure
// names the first seed that breaks the bound.
TEST(CheckTest, ExpectationsHoldOnEverySeed) {
  const scenario::Scenario s = Load("mini.json");
  const CheckSpec spec = ReadCheckSpec(s);
  SeedValues values;
  values.seeds = {11, 12, 13};
  for (double failures : {1.0, 6.0, 2.0}) {
    std::map<std::string, MetricValues> v;
    v["naive"]["retries"] = 0;
    v["seed-plan"] = {
        {"calls_saved_pct", 60}, {"client_failures_pct", failures}, {"wait_p99_s.HIGH", 1.0}};
    values.values.push_back(v);
  }
  EXPECT_DOUBLE_EQ(values.Means()["seed-plan"]["client_failures_pct"], 3.0);
  const auto results = EvaluateExpectations(s, spec, values);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_FALSE(results[2].passed);
  EXPECT_EQ(results[2].message, "seed 12: 6% is not <= 5%");
  EXPECT_TRUE(results[1].passed);
  EXPECT_EQ(results[1].message, "60% is >= 50% (closest of 3 seeds)");
}

TEST(CheckTest, BaselineComparisonUsesTolerancesAndDirections) {
  scenario::Scenario s = Load("mini.json");
  s.tolerances = scenario::Json::parse(
      R"({"default": {"relative": 0.1}, "retries": {"absolute": 2},
          "breaker_trips": {"relative": 0.5}, "calls_saved": {"direction": "both"}})");
  const CheckSpec spec = ReadCheckSpec(s);
  std::map<std::string, MetricValues> old_values;
  old_values["naive"] = {{"upstream_calls", 1000}, {"retries", 10},      {"credits", 50},
                         {"wait_p99_s.HIGH", 1},   {"breaker_trips", 0}, {"calls_saved", 100}};
  const scenario::Json baseline = BaselineJson(s, {11}, old_values);
  std::map<std::string, MetricValues> now;
  now["naive"] = {{"upstream_calls", 1100}, {"retries", 13},      {"wait_p99_s.HIGH", 0.5},
                  {"breaker_trips", 1},     {"calls_saved", 200}, {"cost", 1}};
  const auto results = CompareWithBaseline(s, spec, baseline, {11}, now);
  std::map<std::string, CheckResult> by_metric;
  for (const CheckResult& r : results) by_metric[r.metric] = r;
  ASSERT_EQ(results.size(), 7u);
  EXPECT_FALSE(by_metric["credits"].passed);
  EXPECT_EQ(by_metric["credits"].message, "metric in the baseline is missing from the run");
  EXPECT_FALSE(by_metric["retries"].passed);  // +3 > absolute 2
  EXPECT_EQ(by_metric["retries"].message,
            "baseline 10, now 13 (+3, +30%; lower_is_better, tolerance 2)");
  EXPECT_TRUE(by_metric["upstream_calls"].passed);  // +10% is within relative 0.1
  // Issue 18, item 13: a lower-is-better metric that fell passes, reported
  // as an improvement; "both" makes any change count.
  EXPECT_TRUE(by_metric["wait_p99_s.HIGH"].passed);
  EXPECT_EQ(by_metric["wait_p99_s.HIGH"].message,
            "baseline 1 s, now 0.5 s (-0.5 s, -50%): improved (lower_is_better); update the "
            "baseline to keep it");
  EXPECT_FALSE(by_metric["calls_saved"].passed);
  // A relative tolerance allows nothing on a baseline of 0, and says so.
  EXPECT_FALSE(by_metric["breaker_trips"].passed);
  EXPECT_EQ(by_metric["breaker_trips"].message,
            "baseline 0, now 1 (+1; lower_is_better, tolerance exact; a relative tolerance "
            "allows nothing on a baseline of 0: add \"absolute\")");
  // Issue 18, item 12: a metric the baseline lacks fails.
  EXPECT_FALSE(by_metric["cost"].passed);
  EXPECT_EQ(by_metric["cost"].message,
            "metric not in the baseline (now 1): update the baseline on purpose");
  EXPECT_EQ(DescribeBaselineChanges(baseline, BaselineJson(s, {11}, now)),
            (std::vector<std::string>{
                "naive breaker_trips: 0 -> 1", "naive calls_saved: 100 -> 200",
                "naive cost: (none) -> 1", "naive credits: 50 -> (none)", "naive retries: 10 -> 13",
                "naive upstream_calls: 1000 -> 1100", "naive wait_p99_s.HIGH: 1 -> 0.5"}));
}

TEST(CheckTest, AbsoluteToleranceCoversABaselineOfZero) {
  scenario::Scenario s = Load("mini.json");
  s.tolerances = scenario::Json::parse(R"({"breaker_trips": {"relative": 0.5, "absolute": 2}})");
  const CheckSpec spec = ReadCheckSpec(s);
  std::map<std::string, MetricValues> old_values = {{"naive", {{"breaker_trips", 0}}}};
  std::map<std::string, MetricValues> now = {{"naive", {{"breaker_trips", 2}}}};
  const auto results = CompareWithBaseline(s, spec, BaselineJson(s, {11}, old_values), {11}, now);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].passed) << results[0].message;
  EXPECT_EQ(DefaultDirection("client_failures_pct"), Direction::kLowerIsBetter);
  EXPECT_EQ(DefaultDirection("outcome.timed_out"), Direction::kLowerIsBetter);
  EXPECT_EQ(DefaultDirection("outcome.cache_hit"), Direction::kBoth);
  EXPECT_EQ(DefaultDirection("calls_saved_pct"), Direction::kHigherIsBetter);
  EXPECT_EQ(DefaultDirection("latency_p99_s.HIGH"), Direction::kLowerIsBetter);
  EXPECT_EQ(DefaultDirection("requests"), Direction::kBoth);
}

// Issue 18, item 12: a baseline for another scenario, seed or version, or
// missing a variant, fails and says what differs.
TEST(CheckTest, BaselineForAnotherSeedScenarioOrVersionOrMissingAVariantFails) {
  const scenario::Scenario s = Load("mini.json");
  const CheckSpec spec = ReadCheckSpec(s);
  std::map<std::string, MetricValues> values = {{"naive", {{"retries", 0}}},
                                                {"seed-plan", {{"retries", 4}}}};
  scenario::Json baseline = BaselineJson(s, {11}, values);
  EXPECT_EQ(CompareWithBaseline(s, spec, baseline, {11}, values).size(), 2u);

  auto messages = [&](const scenario::Json& b, const std::vector<uint64_t>& seeds) {
    std::vector<std::string> out;
    for (const CheckResult& r : CompareWithBaseline(s, spec, b, seeds, values)) {
      if (!r.passed) out.push_back(r.variant + ": " + r.message);
    }
    return out;
  };
  EXPECT_EQ(
      messages(baseline, {12}),
      (std::vector<std::string>{": the baseline was written for seeds [11], this run used [12]"}));
  scenario::Json other = baseline;
  other["scenario"] = "nfl-2023";
  EXPECT_EQ(messages(other, {11}),
            (std::vector<std::string>{
                ": the baseline is for scenario \"nfl-2023\", not \"check-mini\""}));
  other["baseline_version"] = 1;
  EXPECT_EQ(messages(other, {11}),
            (std::vector<std::string>{
                ": the baseline is version 1; this orchsim writes version 2: update it on "
                "purpose with orchsim check --update-baselines"}));
  scenario::Json missing = baseline;
  missing["variants"].erase("seed-plan");
  EXPECT_EQ(messages(missing, {11}),
            (std::vector<std::string>{"seed-plan: variant not in the baseline (new or renamed?): "
                                      "update the baseline on purpose"}));
  scenario::Json extra = baseline;
  extra["variants"]["tuned"] = {{"retries", 1}};
  EXPECT_EQ(messages(extra, {11}),
            (std::vector<std::string>{
                "tuned: variant in the baseline was not run (renamed or removed?)"}));
}

TEST(CheckTest, JUnitAndMarkdownNameTheFailures) {
  std::vector<CheckResult> results = {
      {"nfl", "tuned", "retries", "expect", true, "3 is <= 5"},
      {"nfl", "tuned", "wait_p99_s.LOW", "baseline", false, "baseline 1, now 2 <&>"},
  };
  const std::string xml = JUnitXml(results);
  EXPECT_NE(xml.find("<testsuites name=\"orchsim check\" tests=\"2\" failures=\"1\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"nfl.tuned\" name=\"expect tuned retries\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"baseline 1, now 2 &lt;&amp;&gt;\"/>"), std::string::npos);
  const std::string md = MarkdownSummary(results, {});
  EXPECT_NE(md.find("## orchsim check: 1 of 2 checks fail"), std::string::npos);
  EXPECT_NE(md.find("| nfl | tuned | `wait_p99_s.LOW` | baseline | baseline 1, now 2 <&> |"),
            std::string::npos);
  EXPECT_NE(md.find("| nfl | 1 / 2 |"), std::string::npos);
}

// Issue 18, item 14: the summary starts with headline numbers per variant,
// also when every check passes.
TEST(CheckTest, MarkdownLeadsWithHeadlineNumbersEvenWhenAllPass) {
  const std::vector<CheckResult> results = {
      {"nfl", "tuned", "retries", "expect", true, "3 is <= 5"}};
  CheckedScenario nfl{"nfl", {2023}, {"naive", "tuned"}, {}, ""};
  nfl.means["naive"] = {{"requests", 234795}, {"upstream_calls", 234795}, {"credits", 469200}};
  nfl.means["tuned"] = {{"requests", 234795},      {"upstream_calls", 71322},
                        {"calls_saved_pct", 69.6}, {"client_failures_pct", 1.4},
                        {"latency_p99_s", 2.5},    {"credits", 135756}};
  const std::string md = MarkdownSummary(results, {nfl});
  EXPECT_EQ(md.rfind("## orchsim check: all 1 checks pass\n\n### nfl (seed 2023)\n", 0), 0u) << md;
  EXPECT_NE(md.find("| tuned | 234,795 | 71,322 | 69.6% | 1.4% | 2.5 s | 135,756 credits |"),
            std::string::npos)
      << md;
  // With service-level objectives (slo.h), the verdict follows the table.
  nfl.verdict = "**Verdict: `tuned`.** It meets the objective.";
  const std::string with_verdict = MarkdownSummary(results, {nfl});
  EXPECT_NE(
      with_verdict.find("135,756 credits |\n\n**Verdict: `tuned`.** It meets the objective.\n"),
      std::string::npos)
      << with_verdict;
}

}  // namespace
}  // namespace orchsim::experiment
