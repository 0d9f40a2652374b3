// Service-level objectives and the verdict (engine/experiment/slo.h): the
// "slo" block, judging one seed and several (the 95% interval rule), the
// cheapest variant and the closest one, the texts, summary.json's "slo",
// the report opening with the verdict, and the bad-input corpus slo_bad/.
#include "engine/experiment/slo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/experiment/report.h"
#include "engine/experiment/results_writer.h"
#include "engine/experiment/tuning.h"

namespace orchsim::experiment {
namespace {

namespace fs = std::filesystem;
using scenario::Json;

scenario::Scenario WithSlo(const std::string& slo) {
  scenario::Scenario s;
  s.file = "x.json";
  s.name = "mini";
  world::UpstreamModelConfig odds;
  odds.name = "odds";
  s.upstreams.push_back(odds);
  s.slo = Json::parse(slo);
  return s;
}

std::string ErrorOf(const scenario::Scenario& s) {
  try {
    ReadSloSpec(s);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

MetricSummary One(double v) {
  MetricSummary s;
  s.n = 1;
  s.mean = v;
  return s;
}

MetricSummary Interval(double mean, double half) {
  MetricSummary s;
  s.n = 3;
  s.mean = mean;
  s.ci95_half = half;
  return s;
}

// Three variants on one seed: a (fails, cheapest), b (meets, dear), c
// (meets, cheaper than b).
VariantMetricSummaries ThreeVariants() {
  VariantMetricSummaries v;
  v["a"] = {{"client_failures_pct", One(5)},
            {"wait_p99_s.CRITICAL", One(2.5)},
            {"credits", One(100)},
            {"upstream_calls", One(1000)}};
  v["b"] = {{"client_failures_pct", One(0.5)},
            {"wait_p99_s.CRITICAL", One(0.1)},
            {"credits", One(300)},
            {"upstream_calls", One(900)}};
  v["c"] = {{"client_failures_pct", One(1.0)},
            {"wait_p99_s.CRITICAL", One(0.5)},
            {"credits", One(200)},
            {"upstream_calls", One(800)}};
  return v;
}

SloSpec TwoObjectives() {
  return ReadSloSpec(WithSlo(
      R"({"objectives": {"wait_p99_s.CRITICAL": {"max": "500ms"}, "client_failures_pct": {"max": 1}}})"));
}

TEST(SloSpecTest, ReadsObjectivesInCatalogOrderWithUnitsAndTheDefaultCost) {
  const SloSpec spec = ReadSloSpec(WithSlo(
      R"({"objectives": {"wait_p99_s.CRITICAL": {"max": "500ms"}, "calls_saved_pct": {"min": 50},
                         "client_failures_pct": {"min": 0, "max": 1}}})"));
  ASSERT_EQ(spec.objectives.size(), 3u);
  // Catalog order, not the file's (nor the JSON library's alphabetical one).
  EXPECT_EQ(spec.objectives[0].metric, "calls_saved_pct");
  EXPECT_EQ(spec.objectives[1].metric, "client_failures_pct");
  EXPECT_EQ(spec.objectives[2].metric, "wait_p99_s.CRITICAL");
  EXPECT_DOUBLE_EQ(*spec.objectives[2].max, 0.5);  // "500ms" in seconds
  EXPECT_EQ(spec.objectives[2].unit, "s");
  EXPECT_EQ(spec.objectives[2].where, "/slo/objectives/wait_p99_s.CRITICAL");
  EXPECT_EQ(spec.objectives[0].Text(), "calls_saved_pct >= 50%");
  EXPECT_EQ(spec.objectives[1].Text(), "client_failures_pct in [0%, 1%]");
  EXPECT_EQ(spec.objectives[2].Text(), "wait_p99_s.CRITICAL <= 500 ms");
  EXPECT_EQ(spec.cheapest_by, (std::vector<std::string>{"credits", "upstream_calls"}));
  EXPECT_TRUE(ReadSloSpec(scenario::Scenario{}).empty());
  const SloSpec custom = ReadSloSpec(
      WithSlo(R"({"objectives": {"retries": {"max": 5}}, "cheapest_by": ["cost", "calls.odds"]})"));
  EXPECT_EQ(custom.cheapest_by, (std::vector<std::string>{"cost", "calls.odds"}));
  // Costs print in their catalog unit: money with cents, counts whole.
  EXPECT_EQ(custom.cheapest_by_units, (std::vector<std::string>{"money", "count"}));
  VariantMetricSummaries values;
  values["v"] = {{"retries", One(2)}, {"cost", One(12.5)}, {"calls.odds", One(1234)}};
  const SloVerdict v = JudgeSlo(custom, {1}, {"v"}, values);
  const std::string table = SloTable(v);
  EXPECT_NE(table.find("cost: cost                         12.50\n"), std::string::npos) << table;
  EXPECT_NE(table.find("cost: calls.odds                   1,234\n"), std::string::npos) << table;
  EXPECT_NE(
      VerdictSentence(v, false).find("(cost: cost, then calls.odds; 12.50 cost, 1,234 calls.odds)"),
      std::string::npos)
      << VerdictSentence(v, false);
}

TEST(SloSpecTest, BadObjectivesNameTheFileAndTheJsonPath) {
  EXPECT_NE(
      ErrorOf(WithSlo(R"({"objectives": {"no_such": {"max": 1}}})"))
          .find("x.json: /slo/objectives/no_such: unknown metric \"no_such\"; known metrics: "),
      std::string::npos);
  EXPECT_EQ(ErrorOf(WithSlo(R"({"objectives": {"retries": {"max": "2s"}}})")),
            "x.json: /slo/objectives/retries/max: expected a number in count for metric "
            "\"retries\", got \"2s\"");
  EXPECT_EQ(ErrorOf(WithSlo(R"({"objectives": {"retries": {"min": 3, "max": 1}}})")),
            "x.json: /slo/objectives/retries: \"min\" is greater than \"max\"");
  EXPECT_EQ(ErrorOf(WithSlo(R"({"objectives": {"retries": {"max": -1}}})")),
            "x.json: /slo/objectives/retries/max: a maximum of -1 can never hold: retries is never "
            "below 0");
  EXPECT_EQ(
      ErrorOf(WithSlo(R"({"objectives": {"outdated_fraction": {"max": 30}}})")),
      "x.json: /slo/objectives/outdated_fraction/max: expected a fraction from 0 to 1 (0.3 for "
      "30%), got 30");
  EXPECT_EQ(ErrorOf(WithSlo(R"({"objectives": {}})")),
            "x.json: /slo/objectives: expected a non-empty object of objectives by metric, got {}");
  EXPECT_EQ(ErrorOf(WithSlo(R"({"objectives": {"retries": {"max": 1}}, "cheapest_by": ["x"]})"))
                .rfind("x.json: /slo/cheapest_by/0: unknown metric \"x\"", 0),
            0u);
  // calls_saved may be negative (a variant that makes more calls).
  EXPECT_EQ(ErrorOf(WithSlo(R"({"objectives": {"calls_saved": {"max": -1}}})")), "");
  // A sweep under the objectives needs some.
  scenario::Scenario none = WithSlo("null");
  none.sweep = Json::parse(R"({"slo": true})");
  EXPECT_EQ(ErrorOf(none),
            "x.json: /sweep/slo: true needs the scenario's service-level objectives (\"slo\"); it "
            "has none");
}

TEST(SloVerdictTest, TheCheapestVariantThatMeetsEveryObjective) {
  const SloVerdict v = JudgeSlo(TwoObjectives(), {7}, {"a", "b", "c"}, ThreeVariants());
  ASSERT_EQ(v.variants.size(), 3u);
  // Objectives in catalog order: client_failures_pct, then wait_p99_s.CRITICAL.
  EXPECT_EQ(v.variants[0].results[0].status, SloStatus::kMissed);
  EXPECT_EQ(v.variants[0].results[1].status, SloStatus::kMissed);
  EXPECT_EQ(v.variants[0].not_met, 2);
  // 5% against at most 1%: (5 - 1) / 5; 2.5 s against 0.5 s: 2 / 2.5.
  EXPECT_DOUBLE_EQ(v.variants[0].results[0].shortfall, 0.8);
  EXPECT_DOUBLE_EQ(v.variants[0].results[1].shortfall, 0.8);
  // c's values sit on the bounds: met (bounds are inclusive).
  EXPECT_TRUE(v.variants[2].meets_all());
  ASSERT_TRUE(v.chosen.has_value());
  EXPECT_EQ(v.variants[*v.chosen].variant, "c");  // 200 credits < b's 300
  EXPECT_FALSE(v.closest.has_value());
  EXPECT_EQ(
      VerdictSentence(v, false),
      "Verdict: c. It meets all 2 objectives and is the cheapest variant that does (cost: "
      "credits, then upstream calls; 200 credits, 800 upstream calls). Also meeting every "
      "objective, at a higher cost: b (300 credits). Not meeting every objective: a (2 of 2).");
  EXPECT_EQ(VerdictSentence(v, true).rfind("**Verdict: `c`.** It meets all 2 objectives", 0), 0u);
  const std::string table = SloTable(v);
  EXPECT_NE(table.find("client_failures_pct <= 1%"), std::string::npos) << table;
  EXPECT_NE(table.find("MISS 5%"), std::string::npos) << table;
  EXPECT_NE(table.find("ok 500 ms"), std::string::npos) << table;
  EXPECT_NE(table.find("no (2 not met)"), std::string::npos) << table;
  const std::string md = SloMarkdownTable(v);
  EXPECT_NE(md.find("| `client_failures_pct` ≤ 1% | ❌ 5% | ✅ 0.5% | ✅ 1% |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| cost: credits | 100 | 300 | 200 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **meets every objective** | no | yes | **yes: chosen** |"),
            std::string::npos)
      << md;
}

TEST(SloVerdictTest, TiesInTheFirstCostGoToTheNextThenToRunOrder) {
  VariantMetricSummaries values = ThreeVariants();
  values["b"]["credits"] = One(200);  // as c; b makes more calls (900 > 800)
  SloVerdict v = JudgeSlo(TwoObjectives(), {7}, {"a", "b", "c"}, values);
  EXPECT_EQ(v.variants[*v.chosen].variant, "c");
  values["b"]["upstream_calls"] = One(800);  // an exact tie: the earlier variant
  v = JudgeSlo(TwoObjectives(), {7}, {"a", "b", "c"}, values);
  EXPECT_EQ(v.variants[*v.chosen].variant, "b");
}

TEST(SloVerdictTest, WhenNoneMeetsEveryObjectiveTheClosestIsNamed) {
  VariantMetricSummaries values = ThreeVariants();
  values["b"]["wait_p99_s.CRITICAL"] = One(0.6);  // 1 missed, shortfall 0.1/0.6
  values["c"]["client_failures_pct"] = One(1.5);  // 1 missed, shortfall 0.5/1.5
  const SloVerdict v = JudgeSlo(TwoObjectives(), {7}, {"a", "b", "c"}, values);
  EXPECT_FALSE(v.chosen.has_value());
  ASSERT_TRUE(v.closest.has_value());
  // Both miss one objective; b's shortfall is smaller, though c is cheaper.
  EXPECT_EQ(v.variants[*v.closest].variant, "b");
  EXPECT_EQ(VerdictSentence(v, false),
            "Verdict: no variant meets every objective. Closest: b, with 1 of 2 not met "
            "(wait_p99_s.CRITICAL 600 ms > 500 ms).");
  const Json j = SloJson(v);
  EXPECT_TRUE(j["verdict"]["variant"].is_null());
  EXPECT_EQ(j["verdict"]["closest"], "b");
  EXPECT_EQ(j["variants"]["b"]["objectives"]["wait_p99_s.CRITICAL"]["status"], "missed");
  EXPECT_EQ(j["variants"]["b"]["not_met"], 1);
  EXPECT_FALSE(j["variants"]["b"]["meets_all"].get<bool>());
  EXPECT_EQ(j["objectives"][1]["metric"], "wait_p99_s.CRITICAL");
  EXPECT_EQ(j["cheapest_by"], Json::parse(R"(["credits", "upstream_calls"])"));
  EXPECT_NE(VerdictRules(v).find("the closest is the one with the fewest objectives not met, "
                                 "then the smallest summed shortfall"),
            std::string::npos);
}

TEST(SloVerdictTest, WithSeedsAnObjectiveIsMetOnlyWhenItsIntervalLiesInsideTheBound) {
  VariantMetricSummaries values = ThreeVariants();
  for (auto& [variant, metrics] : values) {
    for (auto& [metric, s] : metrics) s = Interval(s.mean, 0.0);
  }
  values["b"]["client_failures_pct"] = Interval(0.8, 0.3);  // [0.5, 1.1]: crosses 1
  values["c"]["client_failures_pct"] = Interval(0.8, 0.2);  // [0.6, 1.0]: inside
  values["a"]["client_failures_pct"] = Interval(5, 3);      // [2, 8]: wholly outside
  const SloVerdict v = JudgeSlo(TwoObjectives(), {7, 8, 9}, {"a", "b", "c"}, values);
  EXPECT_EQ(v.variants[0].results[0].status, SloStatus::kMissed);
  EXPECT_EQ(v.variants[1].results[0].status, SloStatus::kUnsure);
  EXPECT_EQ(v.variants[2].results[0].status, SloStatus::kMet);
  EXPECT_FALSE(v.variants[1].meets_all());  // unsure is not met
  EXPECT_EQ(v.variants[*v.chosen].variant, "c");
  // The shortfall of an interval that crosses the bound: its upper end, 1.1.
  EXPECT_NEAR(v.variants[1].results[0].shortfall, 0.1 / 1.1, 1e-12);
  EXPECT_NE(VerdictRules(v).find("judged over 3 seeds (7–9): an objective counts as met only when "
                                 "the whole 95% confidence interval of the mean"),
            std::string::npos);
  EXPECT_EQ(VerdictSentence(v, false),
            "Verdict: c. It meets all 2 objectives and is the cheapest variant that does (cost: "
            "credits, then upstream calls; 200 credits, 800 upstream calls). Not meeting every "
            "objective: a (2 of 2), b (1 of 2). Judged over 3 seeds (7–9): an objective counts "
            "as met only when its whole 95% interval lies inside the bound.");
  const std::string table = SloTable(v);
  EXPECT_NE(table.find("?? 0.8% ± 0.3%"), std::string::npos) << table;
  EXPECT_NE(SloMarkdownTable(v).find("❔ 0.8% ± 0.3%"), std::string::npos);
  EXPECT_EQ(SloJson(v)["variants"]["b"]["objectives"]["client_failures_pct"]["status"], "unsure");
  EXPECT_EQ(SloJson(v)["variants"]["b"]["objectives"]["client_failures_pct"]["ci95_half"], 0.3);
}

TEST(SloVerdictTest, ObjectivesBecomeIntervalConstraintsForSweeps) {
  const SloSpec spec = ReadSloSpec(WithSlo(
      R"({"objectives": {"wait_p99_s.CRITICAL": {"max": "500ms"}, "calls_saved_pct": {"min": 50, "max": 90}}})"));
  EXPECT_EQ(SloConstraints(spec),
            (std::vector<std::string>{"ci95:calls_saved_pct>=50", "ci95:calls_saved_pct<=90",
                                      "ci95:wait_p99_s.CRITICAL<=0.5"}));
  const Constraint c = ParseConstraint("ci95:wait_p99_s.CRITICAL<=0.5");
  EXPECT_TRUE(c.whole_interval);
  EXPECT_EQ(c.metric, "wait_p99_s.CRITICAL");
  EXPECT_TRUE(c.Satisfied(Interval(0.4, 0.1)));
  EXPECT_FALSE(c.Satisfied(Interval(0.4, 0.11)));  // the mean alone would pass
  EXPECT_TRUE(ParseConstraint("wait_p99_s.CRITICAL<=0.5").Satisfied(Interval(0.4, 0.11)));
  const Constraint at_least = ParseConstraint("ci95: calls_saved_pct >= 50");
  EXPECT_FALSE(at_least.Satisfied(Interval(55, 6)));
  EXPECT_TRUE(at_least.Satisfied(Interval(55, 5)));
}

TEST(SloVerdictTest, ValueTextsFollowTheUnit) {
  EXPECT_EQ(SloValueText(One(0.35), "s"), "350 ms");
  EXPECT_EQ(SloValueText(One(2.5), "s"), "2.5 s");
  EXPECT_EQ(SloValueText(One(750), "s"), "12.5 min");
  EXPECT_EQ(SloValueText(One(0), "s"), "0 s");
  EXPECT_EQ(SloValueText(One(0.323), "fraction"), "32.3%");
  EXPECT_EQ(SloValueText(One(1234567), "credits"), "1,234,567");
  EXPECT_EQ(SloValueText(Interval(0.71, 0.05), "%"), "0.71% ± 0.05%");
}

// Report and summary.json: the verdict first, then the overview.
std::vector<VariantRun> Runs() {
  std::vector<VariantRun> runs(2);
  runs[0].variant = "naive";
  runs[1].variant = "policy";
  for (VariantRun& r : runs) {
    r.seed = 7;
    r.metrics.submitted = 10;
    r.metrics.accounting.requests = 10;
    r.metrics.outcomes[static_cast<int>(Outcome::kServed)] = 10;
    r.metrics.upstream_calls = 10;
    r.metrics.wait_by_priority[PriorityIndex(Priority::kCritical)].Record(Milliseconds(5));
  }
  runs[0].metrics.credits = 60;
  runs[1].metrics.credits = 30;
  runs[1].metrics.upstream_calls = 4;
  return runs;
}

TEST(SloReportTest, TheReportOpensWithTheVerdictAndTheOverview) {
  scenario::Scenario s = WithSlo(R"({"objectives": {"credits": {"max": 40}}})");
  s.baseline = "naive";
  const std::string md = ReportMarkdown(s, Runs());
  const size_t verdict = md.find("## Verdict\n\n**Verdict: `policy`.** It meets the objective");
  const size_t overview = md.find("## Overview\n\n![Overview");
  const size_t scenario = md.find("## Scenario");
  const size_t comparison = md.find("## Comparison");
  ASSERT_NE(verdict, std::string::npos) << md;
  EXPECT_LT(verdict, overview);
  EXPECT_LT(overview, scenario);
  EXPECT_LT(scenario, comparison);
  EXPECT_NE(md.find("| `credits` ≤ 40 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `policy` | 6 (60.0%) | 0 | 5 ms | – | – | – | – |"), std::string::npos)
      << md;
  // Without plots the figure link becomes a note; with them it comes back.
  const std::string without = WithPlotsSection(md, false);
  EXPECT_EQ(without.find("](overview.png)"), std::string::npos);
  EXPECT_NE(without.find("The overview figure was not drawn"), std::string::npos);
  EXPECT_EQ(WithPlotsSection(without, true), md);
  // summary.json carries every objective per variant and the verdict.
  const Json j = SummaryJson(s, Runs());
  EXPECT_EQ(j["slo"]["verdict"]["variant"], "policy");
  EXPECT_EQ(j["slo"]["variants"]["naive"]["objectives"]["credits"]["status"], "missed");
  EXPECT_EQ(j["slo"]["variants"]["naive"]["objectives"]["credits"]["value"], 60.0);
  // No objectives: no verdict section, no "slo" in summary.json, but the overview.
  s.slo = Json();
  const std::string plain = ReportMarkdown(s, Runs());
  EXPECT_EQ(plain.find("## Verdict"), std::string::npos);
  EXPECT_NE(plain.find("## Overview"), std::string::npos);
  EXPECT_FALSE(SummaryJson(s, Runs()).contains("slo"));
}

// The bad-input corpus slo_bad/: each case must fail to load or to read its
// objectives with exactly the message in <case>.expected (the CLI prints it
// after "orchsim validate: " / "orchsim run: " and exits 2).
TEST(SloBadInputTest, EveryCaseFailsWithItsMessage) {
  const fs::path dir = fs::path(ORCHSIM_SOURCE_DIR) / "tests/engine/experiment/slo_bad";
  std::vector<std::string> cases;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") cases.push_back(e.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  ASSERT_GE(cases.size(), 10u);
  const fs::path before = fs::current_path();
  fs::current_path(dir);
  for (const std::string& name : cases) {
    std::ifstream in(name + ".expected");
    ASSERT_TRUE(in.good()) << name << ".expected is missing";
    std::stringstream text;
    text << in.rdbuf();
    std::string expected = text.str();
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    std::string got;
    try {
      ReadSloSpec(scenario::LoadScenario(name + ".json"));
    } catch (const config::ConfigError& e) {
      got = e.what();
      EXPECT_EQ(e.file(), name + ".json");
      EXPECT_FALSE(e.path().empty()) << name;
    }
    EXPECT_EQ(got, expected) << name;
  }
  fs::current_path(before);
}

}  // namespace
}  // namespace orchsim::experiment
