// check.h — the CI gate: a scenario's expectations and its committed
// baseline, evaluated against a fresh run.
//
// Expectations live in the scenario's "expect" block, per variant and metric
// (metric names from metric_catalog.h):
//   "expect": {"tuned": {"calls_saved_pct": {"min": 60},
//                        "wait_p99_s.CRITICAL": {"max": "2s"},
//                        "breaker_trips": {"max": 12}}}
// A bound is a number in the metric's unit, or, for metrics in seconds, a
// duration string ("2s", "250ms"). Unknown variants, unknown metrics, a
// duration on a metric that is not a time, or min > max are bad input
// (ConfigError naming the JSON path).
//
// Baselines are the flat metrics of every variant, written by
// `orchsim check --update-baselines` to <dir>/<scenario name>.json. A metric
// passes the baseline check when |new - old| <= max(absolute, relative *
// |old|); tolerances come from the scenario's "tolerances" block:
//   "tolerances": {"default": {"relative": 0.01},
//                  "wait_p99_s.LOW": {"relative": 0.05, "absolute": 0.01}}
// (default: relative 0, absolute 1e-9: runs are deterministic, so any change
// is reported and the baseline is updated on purpose). Both directions count:
// an improvement also changes the baseline, which a reviewer should see.
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

struct Tolerance {
  double relative = 0.0;
  double absolute = 1e-9;
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
  const Tolerance& ToleranceFor(const std::string& metric) const;
};

// Reads scenario.expect and scenario.tolerances. Throws ConfigError.
CheckSpec ReadCheckSpec(const scenario::Scenario& scenario);

// Flat metrics of each run (by variant), calls saved against the scenario's
// baseline variant when it was run.
std::map<std::string, MetricValues> FlattenRuns(const scenario::Scenario& scenario,
                                                const std::vector<VariantRun>& runs);

struct CheckResult {
  std::string scenario;
  std::string variant;
  std::string metric;
  std::string kind;  // "expect" or "baseline"
  bool passed = false;
  std::string message;  // what was found against what was expected
};

std::vector<CheckResult> EvaluateExpectations(const scenario::Scenario& scenario,
                                              const CheckSpec& spec,
                                              const std::map<std::string, MetricValues>& values);

// The baseline document for `values` (what --update-baselines writes).
scenario::Json BaselineJson(const scenario::Scenario& scenario, uint64_t seed,
                            const std::map<std::string, MetricValues>& values);

// Compares with a baseline document; a variant or metric missing from the
// run fails; metrics the baseline does not know yet are reported as passing
// ("new metric").
std::vector<CheckResult> CompareWithBaseline(const scenario::Scenario& scenario,
                                             const CheckSpec& spec, const scenario::Json& baseline,
                                             const std::map<std::string, MetricValues>& values);

// Human-readable summary of what changed between two baseline documents.
std::vector<std::string> DescribeBaselineChanges(const scenario::Json& before,
                                                 const scenario::Json& after);

// JUnit XML (one testsuite per scenario, one testcase per check) and a
// Markdown summary fit for a pull-request comment.
std::string JUnitXml(const std::vector<CheckResult>& results);
std::string MarkdownSummary(const std::vector<CheckResult>& results);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_CHECK_H_
