#include "engine/experiment/tuning.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "policies/config/policy_reader.h"
#include "tests/engine/experiment/sweep_test_util.h"

namespace orchsim::experiment {
namespace {

namespace fs = std::filesystem;

TEST(TuningParseTest, ObjectivesAndConstraints) {
  EXPECT_EQ(ParseObjective("credits").Text(), "min:credits");
  EXPECT_EQ(ParseObjective("max:calls_saved_pct").Text(), "max:calls_saved_pct");
  EXPECT_THROW(ParseObjective("best:credits"), SweepError);
  const Constraint wait = ParseConstraint("wait_p99_s.CRITICAL <= 2s");
  EXPECT_EQ(wait.metric, "wait_p99_s.CRITICAL");
  EXPECT_TRUE(wait.at_most);
  EXPECT_EQ(wait.bound, 2.0);
  EXPECT_EQ(ParseConstraint("data_age_p90_s<=5m").bound, 300.0);
  const Constraint saved = ParseConstraint("calls_saved_pct>=30");
  EXPECT_FALSE(saved.at_most);
  EXPECT_TRUE(saved.Satisfied(30.0));
  EXPECT_FALSE(saved.Satisfied(29.9));
  EXPECT_TRUE(ParseConstraint("client_failures_pct<=0.5").Satisfied(0.5));
  EXPECT_THROW(ParseConstraint("credits<1000"), SweepError);
  EXPECT_THROW(ParseConstraint("credits<=lots"), SweepError);
  EXPECT_THROW(ParseConstraint("credits<=5m"), SweepError);  // duration bound, metric not in s
}

TEST(TuningParseTest, ParetoDefaultsToObjectiveAndFirstConstraint) {
  const TuningSpec spec = ParseTuningSpec(
      Json::parse(R"({"objective": "credits", "constraints": ["wait_p99_s.CRITICAL<=2s"]})"));
  EXPECT_EQ(spec.pareto[0].Text(), "min:credits");
  EXPECT_EQ(spec.pareto[1].Text(), "min:wait_p99_s.CRITICAL");
  EXPECT_EQ(ParseTuningSpec(Json::object()).objective.Text(), "min:upstream_calls");
  EXPECT_THROW(ParseTuningSpec(Json::parse(R"({"pareto": ["credits"]})")), SweepError);
}

TEST(TuningParseTest, MetricNamesAreCheckedAgainstTheCatalog) {
  const auto catalog = MetricCatalog({"odds"});
  TuningSpec spec = ParseTuningSpec(
      Json::parse(R"({"objective": "credits", "constraints": ["wait_p99_s.CRITICAL<=2s"]})"));
  EXPECT_NO_THROW(CheckTuningMetrics(spec, catalog));
  spec.constraints.push_back(ParseConstraint("calls.weather<=5"));
  EXPECT_THROW(CheckTuningMetrics(spec, catalog), UnknownMetricError);
}

TEST(TuningParetoTest, KeepsExactlyTheNonDominatedPoints) {
  // 0 (1,9) front; 1 (2,7) front; 2 (3,8) dominated by 1; 3 (4,3) front;
  // 4 (4,5) dominated by 3; 5 (6,3) dominated by 3; 6 (2,7) duplicate of 1;
  // 7 (0.5,10) front.
  const std::vector<std::array<double, 2>> v = {{1, 9}, {2, 7}, {3, 8}, {4, 3},
                                                {4, 5}, {6, 3}, {2, 7}, {0.5, 10}};
  EXPECT_EQ(ParetoFront(v), (std::vector<size_t>{7, 0, 1, 3}));
  EXPECT_EQ(ParetoFront({}), (std::vector<size_t>{}));
  EXPECT_EQ(ParetoFront({{5, 5}}), (std::vector<size_t>{0}));
}

TEST(TuningSensitivityTest, RecoversStandardizedCoefficientsOfALinearModel) {
  // y = 3 x1 + x2 on a 2x2 design; x3 is constant. sd(x1) = sd(x2) =
  // sqrt(1/3), sd(y) = sqrt(10/3): standardized betas 3/sqrt(10), 1/sqrt(10).
  Eigen::MatrixXd x(4, 3);
  x << 0, 0, 7, 0, 1, 7, 1, 0, 7, 1, 1, 7;
  Eigen::MatrixXd y(4, 2);
  y << 0, 5, 1, 5, 3, 5, 4, 5;
  const Sensitivity s = StandardizedSensitivity(x, y, {"x1", "x2", "x3"}, {"y", "flat"});
  EXPECT_NEAR(s.coefficients(0, 0), 3 / std::sqrt(10.0), 1e-12);
  EXPECT_NEAR(s.coefficients(0, 1), 1 / std::sqrt(10.0), 1e-12);
  EXPECT_EQ(s.coefficients(0, 2), 0.0);
  EXPECT_NEAR(s.r_squared[0], 1.0, 1e-12);
  EXPECT_EQ(s.coefficients(1, 0), 0.0);  // a metric that never moves
  EXPECT_EQ(s.r_squared[1], 0.0);
}

TEST(TuningMergeTest, ObjectsMergeArraysReplace) {
  const Json merged = MergeJson(Json::parse(R"({"a": {"x": 1, "y": [1, 2]}, "b": 2})"),
                                Json::parse(R"({"a": {"y": [3], "z": true}})"));
  EXPECT_EQ(merged, Json::parse(R"({"a": {"x": 1, "y": [3], "z": true}, "b": 2})"));
}

// A hand-made sweep result: one parameter, three points, two metrics.
SweepResults HandMadeResults() {
  SweepResults r;
  r.manifest = Json::parse(R"({"scenario": "s", "variant": "tuned", "baseline": "",
      "sample": "grid", "seeds": [1, 2], "params": ["retry.max_attempts=1..3"],
      "variant_policy": {"preset": "tuned", "preset_policy": {"retry": {"enabled": true}},
                         "overrides": {"cache": {"default_ttl": "1m"}}}})");
  r.params = {ParseParameter("retry.max_attempts=1..3")};
  const double credits[] = {100, 80, 90};
  const double failures[] = {2.0, 0.4, 0.1};
  for (size_t i = 0; i < 3; ++i) {
    PointResult p;
    p.index = i;
    p.values = {static_cast<int64_t>(i + 1)};
    for (const auto& [name, value] : std::map<std::string, double>{
             {"credits", credits[i]}, {"client_failures_pct", failures[i]}}) {
      p.summary[name] = Summarize({value - 1, value + 1});
    }
    r.points.push_back(p);
  }
  return r;
}

TEST(TuningAnalyzeTest, FeasibleSetParetoAndRecommendation) {
  const SweepResults r = HandMadeResults();
  TuningSpec spec;
  spec.objective = ParseObjective("credits");
  spec.constraints = {ParseConstraint("client_failures_pct<=0.5")};
  spec.pareto = {ParseObjective("credits"), ParseObjective("client_failures_pct")};
  const TuningResult t = AnalyzeSweep(r, spec);
  EXPECT_EQ(t.feasible, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(t.feasible_count, 2u);
  ASSERT_TRUE(t.recommended.has_value());
  EXPECT_EQ(*t.recommended, 1u);  // 80 credits beats 90
  EXPECT_EQ(t.pareto_front, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(t.recommended_overrides, Json::parse(R"({"retry": {"max_attempts": 2}})"));
  EXPECT_EQ(t.recommended_variant, Json::parse(R"({"name": "tuned-recommended", "preset": "tuned",
      "overrides": {"cache": {"default_ttl": "1m"}, "retry": {"max_attempts": 2}}})"));
  EXPECT_EQ(t.recommended_preset["retry"], Json::parse(R"({"enabled": true, "max_attempts": 2})"));
  EXPECT_EQ(t.recommended_preset["cache"], Json::parse(R"({"default_ttl": "1m"})"));
  // The preset reads back as a valid policy.
  const OrchestratorConfig config = config::ResolvePolicy(t.recommended_preset, "recommended.json");
  EXPECT_EQ(config.defaults.retry.max_attempts, 2);

  spec.objective = ParseObjective("max:credits");
  EXPECT_EQ(*AnalyzeSweep(r, spec).recommended, 2u);
  spec.constraints = {ParseConstraint("client_failures_pct<=0.01")};
  const TuningResult none = AnalyzeSweep(r, spec);
  EXPECT_FALSE(none.recommended.has_value());
  // Nothing is feasible: the front is over all points (0 is dominated by 1).
  EXPECT_EQ(none.pareto_front, (std::vector<size_t>{1, 2}));
  EXPECT_NE(RecommendationText(r, none).find("no recommendation"), std::string::npos);
  spec.objective = ParseObjective("credit");
  EXPECT_THROW(AnalyzeSweep(r, spec), UnknownMetricError);
}

// Issue 18, item 19: a sweep warns when the parameters change nothing (the
// GitHub case: every point the same) and when the recommendation is not
// significantly better than the runner-up; counts print without exponents.
TEST(TuningWarningsTest, NothingChangesAndOverlappingIntervals) {
  SweepResults r = HandMadeResults();
  TuningSpec spec;
  spec.objective = ParseObjective("credits");
  spec.pareto = {ParseObjective("credits"), ParseObjective("client_failures_pct")};
  // Points 1 and 2: 80 ± 12.7 and 90 ± 12.7 over 2 seeds overlap.
  TuningResult t = AnalyzeSweep(r, spec);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_EQ(t.warnings[0],
            "the recommendation is not significantly better than the runner-up: point 1 "
            "(credits 80 ± 12.71) over point 2 (90 ± 12.71); their 95% intervals overlap (run "
            "more --seeds, or treat them as equal)");
  EXPECT_NE(RecommendationText(r, t).find("warning: the recommendation is not significantly"),
            std::string::npos);
  EXPECT_NE(RecommendationText(r, t).find("(mean ± 95% confidence half-width over 2 seeds)"),
            std::string::npos);

  for (PointResult& p : r.points) {
    p.summary["credits"] = Summarize({71322, 71322});
    p.summary["client_failures_pct"] = Summarize({1, 1});
  }
  t = AnalyzeSweep(r, spec);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_EQ(t.warnings[0],
            "every point gave the same numbers: retry.max_attempts changed no metric in this "
            "scenario (does the scenario use what they tune?), so any point could be "
            "\"recommended\"");
  // Counts without exponents.
  EXPECT_NE(RecommendationText(r, t).find("credits = 71322"), std::string::npos)
      << RecommendationText(r, t);
}

TEST(TuningWarningsTest, AParameterThatChangesNothingIsNamed) {
  SweepResults r;
  r.manifest = Json::parse(R"({"scenario": "s", "variant": "v", "baseline": ""})");
  r.params = {ParseParameter("a=1,2"), ParseParameter("b=1,2")};
  // Metrics follow a only.
  for (int a = 1; a <= 2; ++a) {
    for (int b = 1; b <= 2; ++b) {
      PointResult p;
      p.index = r.points.size();
      p.values = {a, b};
      p.summary["credits"] = Summarize({10.0 * a});
      r.points.push_back(p);
    }
  }
  TuningSpec spec;
  spec.objective = ParseObjective("credits");
  spec.pareto = {ParseObjective("credits"), ParseObjective("credits")};
  const TuningResult t = AnalyzeSweep(r, spec);
  ASSERT_GE(t.warnings.size(), 1u);
  EXPECT_EQ(t.warnings[0],
            "parameter b changed no metric: points that differ only in it gave the same numbers");
}

std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    files[fs::relative(e.path(), dir).string()] = s.str();
  }
  return files;
}

TEST(TuningOutputsTest, ReportFilesAreIdenticalForJobsShardsAndMerge) {
  const fs::path root = fs::path(::testing::TempDir()) / "tuning_outputs";
  fs::remove_all(root);
  const scenario::Scenario s =
      scenario::ParseScenario(testing::SmallScenarioText(), "small.json", "");
  SweepSpec spec;
  spec.params = {"retry.max_attempts=1..2", "cache.default_ttl=30s..5m:3"};
  spec.seeds = 2;
  spec.analysis = Json::parse(R"({"objective": "upstream_calls",
      "constraints": ["client_failures_pct<=50"]})");
  const SweepPlan plan = PlanSweep(s, testing::SmallScenarioText(), spec);
  RunSweepOptions jobs2;
  jobs2.jobs = 2;
  RunSweep(s, plan, (root / "whole").string(), jobs2);
  std::vector<std::string> shards;
  for (int k = 1; k <= 3; ++k) {
    RunSweepOptions o;
    o.shard = ShardSpec{k, 3};
    shards.push_back((root / ("shard" + std::to_string(k))).string());
    RunSweep(s, plan, shards.back(), o);
  }
  auto finish = [](const std::vector<std::string>& dirs, const std::string& out) {
    const SweepResults r = LoadSweep(dirs);
    StoreSweep(out, r);
    WriteSweepOutputs(out, r, AnalyzeSweep(r, ParseTuningSpec(r.manifest["analysis"])), {});
  };
  finish({(root / "whole").string()}, (root / "whole").string());
  finish(shards, (root / "merged").string());
  const auto whole = Snapshot(root / "whole");
  EXPECT_EQ(whole, Snapshot(root / "merged"));
  ASSERT_EQ(whole.count("report.md"), 1u);
  EXPECT_NE(whole.at("report.md").find("## Sensitivity"), std::string::npos);
  EXPECT_NE(whole.at("report.md").find("## Pareto front"), std::string::npos);
  EXPECT_EQ(whole.count("recommended.json"), 1u);
  // One results.csv row per point and metric, plus the header.
  const std::string& csv = whole.at("results.csv");
  const size_t rows = static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n'));
  const size_t metrics = LoadSweep({(root / "whole").string()}).points[0].summary.size();
  EXPECT_EQ(rows, 1 + 6 * metrics);
  fs::remove_all(root);
}

}  // namespace
}  // namespace orchsim::experiment
