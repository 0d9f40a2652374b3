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

TEST(CheckTest, ExpectationsPassAndFailAtTheirBounds) {
  const scenario::Scenario s = Load("mini.json");
  const CheckSpec spec = ReadCheckSpec(s);
  std::map<std::string, MetricValues> values;
  values["naive"]["retries"] = 0;
  values["seed-plan"]["calls_saved_pct"] = 50;  // exactly the bound: passes
  values["seed-plan"]["client_failures_pct"] = 5.5;
  values["seed-plan"]["wait_p99_s.HIGH"] = 2.0;
  const auto results = EvaluateExpectations(s, spec, values);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].passed);
  EXPECT_TRUE(results[1].passed) << results[1].message;
  EXPECT_FALSE(results[2].passed);
  EXPECT_EQ(results[2].metric, "client_failures_pct");
  EXPECT_EQ(results[2].message, "5.5 is not <= 5");
  EXPECT_TRUE(results[3].passed);
}

TEST(CheckTest, BaselineComparisonUsesTolerances) {
  scenario::Scenario s = Load("mini.json");
  s.tolerances =
      scenario::Json::parse(R"({"default": {"relative": 0.1}, "retries": {"absolute": 2}})");
  const CheckSpec spec = ReadCheckSpec(s);
  std::map<std::string, MetricValues> old_values;
  old_values["naive"] = {{"upstream_calls", 1000}, {"retries", 10}, {"credits", 50}};
  const scenario::Json baseline = BaselineJson(s, 11, old_values);
  std::map<std::string, MetricValues> now;
  now["naive"] = {{"upstream_calls", 1100}, {"retries", 13}, {"cost", 1}};
  const auto results = CompareWithBaseline(s, spec, baseline, now);
  ASSERT_EQ(results.size(), 4u);
  // Baseline metrics in name order, then metrics new to the baseline.
  EXPECT_EQ(results[0].metric, "credits");
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].message, "metric in the baseline is missing from the run");
  EXPECT_EQ(results[1].metric, "retries");
  EXPECT_FALSE(results[1].passed);  // +3 > absolute 2
  EXPECT_EQ(results[1].message, "baseline 10, now 13 (+3, 30%; tolerance 2)");
  EXPECT_EQ(results[2].metric, "upstream_calls");
  EXPECT_TRUE(results[2].passed);  // +10% is within relative 0.1
  EXPECT_EQ(results[3].metric, "cost");
  EXPECT_TRUE(results[3].passed);
  EXPECT_EQ(
      DescribeBaselineChanges(baseline, BaselineJson(s, 11, now)),
      (std::vector<std::string>{"naive cost: (none) -> 1", "naive credits: 50 -> (none)",
                                "naive retries: 10 -> 13", "naive upstream_calls: 1000 -> 1100"}));
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
  const std::string md = MarkdownSummary(results);
  EXPECT_NE(md.find("## orchsim check: 1 of 2 checks fail"), std::string::npos);
  EXPECT_NE(md.find("| nfl | tuned | `wait_p99_s.LOW` | baseline | baseline 1, now 2 <&> |"),
            std::string::npos);
  EXPECT_NE(md.find("| nfl | 1 / 2 |"), std::string::npos);
}

}  // namespace
}  // namespace orchsim::experiment
