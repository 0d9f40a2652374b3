// check.h — the CI gate: a scenario's expectations and its committed
// baseline, evaluated against fresh runs on one or more seeds.
//
// Expectations live in the scenario's "expect" block, per variant and metric
// (metric names from metric_catalog.h):
//   "expect": {"tuned": {"calls_saved_pct": {"min": 60},
//                        "wait_p99_s.CRITICAL": {"max": "2s"},
//                        "breaker_trips": {"max": 12}}}
// A bound is a number in the metric's unit, or, for metrics in seconds, a
// duration string ("2s", "250ms"). Unknown variants, unknown metrics, a
// duration on a metric that is not a time, or min > max are bad input
// (ConfigError naming the JSON path). With several seeds (check --seeds N)
// an expectation must hold on every seed; a failure names the seed.
//
// Baselines are the flat metrics of every variant (the mean over the seeds
// when there are several), written by `orchsim check --update-baselines` to
// <dir>/<scenario name>.json with the scenario's name, the seeds and
// kBaselineVersion. A baseline written for another scenario, other seeds or
// another version fails the check as a whole; a variant or metric that one
// side has and the other lacks fails, named. A metric passes when its change
// new - old is allowed by its tolerance:
//   "tolerances": {"default": {"relative": 0.01},
//                  "wait_p99_s.LOW": {"relative": 0.05, "absolute": 0.01},
//                  "calls_saved_pct": {"direction": "both"}}
// allowed = max(absolute, relative * |old|) (default: relative 0, absolute
// 1e-9: runs are deterministic, so any change is reported). A relative
// tolerance allows nothing on a baseline of 0: give "absolute" there.
// "direction" says which changes count: "lower_is_better" (only an increase
// beyond the tolerance fails; a decrease passes as an improvement),
// "higher_is_better", or "both". Defaults per metric (DefaultDirection):
// failures, waits, latencies, calls, credits, cost, retries, breaker time and
// staleness are lower-is-better; calls saved and avoided higher-is-better;
// anything else (requests, success outcomes) both. An improvement is
// reported (and passes): update the baseline to keep it.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_CHECK_H_
#define ORCHSIM_ENGINE_EXPERIMENT_CHECK_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/experiment/metric_catalog.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

// Version 2: seeds as a list, directional checks, the call-balance and
// latency metrics (issue 18).
inline constexpr int kBaselineVersion = 2;

enum class Direction { kBoth, kLowerIsBetter, kHigherIsBetter };
// "both", "lower_is_better", "higher_is_better".
std::string DirectionName(Direction d);
// The default direction of a catalog metric (see above).
Direction DefaultDirection(const std::string& metric);

struct Tolerance {
  double relative = 0.0;
  double absolute = 1e-9;
  std::optional<Direction> direction;  // unset: the default's, else the metric's default
};

struct Expectation {
  std::string variant;
  std::string metric;
  std::optional<double> min;
  std::optional<double> max;
  std::string where;  // JSON path, for messages
};

struct CheckSpec {
  std::vector<Expectation> expectations;
  Tolerance default_tolerance;
  std::map<std::string, Tolerance> tolerances;  // by metric name
  std::vector<MetricInfo> catalog;              // of the scenario's APIs, for units
  const Tolerance& ToleranceFor(const std::string& metric) const;
  Direction DirectionFor(const std::string& metric) const;
  // The metric's unit ("" when the catalog does not know it).
  std::string UnitOf(const std::string& metric) const;
};

// A bound on one catalog metric, as `expect` and `slo` (slo.h) write it:
// {"min": N, "max": N}, either or both, numbers in the metric's unit or, for
// metrics in seconds, duration strings ("2s").
struct MetricBound {
  std::optional<double> min;
  std::optional<double> max;
};
// Reads `bound` for `metric` at JSON path `path` of `file`. Throws
// ConfigError naming file and path: an unknown metric (listing the known
// ones), a duration on a metric that is not a time, neither "min" nor
// "max", min > max, or another key.
MetricBound ReadMetricBound(const scenario::Json& bound, const std::vector<MetricInfo>& catalog,
                            const std::string& metric, const std::string& path,
                            const std::string& file);

// Reads scenario.expect and scenario.tolerances. Throws ConfigError.
CheckSpec ReadCheckSpec(const scenario::Scenario& scenario);

// Flat metrics of each run (by variant), calls saved against the scenario's
// baseline variant when it was run.
std::map<std::string, MetricValues> FlattenRuns(const scenario::Scenario& scenario,
                                                const std::vector<VariantRun>& runs);

// The flat metrics of one scenario on each of its seeds.
struct SeedValues {
  std::vector<uint64_t> seeds;
  std::vector<std::map<std::string, MetricValues>> values;  // one per seed, by variant
  // Per variant and metric, the mean over the seeds (the value itself for one).
  std::map<std::string, MetricValues> Means() const;
};

struct CheckResult {
  std::string scenario;
  std::string variant;
  std::string metric;
  std::string kind;  // "expect" or "baseline"
  bool passed = false;
  std::string message;  // what was found against what was expected, with units
};

// "10.7 s", "12.5%", "1,234", "3.5 credits": a metric value for messages.
std::string FormatWithUnit(double value, const std::string& unit);

// Every expectation on every seed: one result per expectation, failing with
// the first seed (in order) that breaks it.
std::vector<CheckResult> EvaluateExpectations(const scenario::Scenario& scenario,
                                              const CheckSpec& spec, const SeedValues& values);
// One seed (the scenario's).
std::vector<CheckResult> EvaluateExpectations(const scenario::Scenario& scenario,
                                              const CheckSpec& spec,
                                              const std::map<std::string, MetricValues>& values);

// The baseline document for `values` (what --update-baselines writes).
scenario::Json BaselineJson(const scenario::Scenario& scenario, const std::vector<uint64_t>& seeds,
                            const std::map<std::string, MetricValues>& values);

// Compares `values` (run on `seeds`) with a baseline document, as described
// above.
std::vector<CheckResult> CompareWithBaseline(const scenario::Scenario& scenario,
                                             const CheckSpec& spec, const scenario::Json& baseline,
                                             const std::vector<uint64_t>& seeds,
                                             const std::map<std::string, MetricValues>& values);

// Human-readable summary of what changed between two baseline documents.
std::vector<std::string> DescribeBaselineChanges(const scenario::Json& before,
                                                 const scenario::Json& after);

// The headline numbers of one checked scenario, for the Markdown summary.
struct CheckedScenario {
  std::string name;
  std::vector<uint64_t> seeds;
  std::vector<std::string> variants;          // in the scenario's order
  std::map<std::string, MetricValues> means;  // by variant
  std::string verdict;  // under the scenario's "slo" (slo.h), Markdown; "" without one
};

// JUnit XML (one testsuite per scenario, one testcase per check) and a
// Markdown summary fit for a pull-request comment: the verdict, the
// headline numbers of every variant (also when all pass), the failures and
// the improvements.
std::string JUnitXml(const std::vector<CheckResult>& results);
std::string MarkdownSummary(const std::vector<CheckResult>& results,
                            const std::vector<CheckedScenario>& scenarios);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_CHECK_H_
