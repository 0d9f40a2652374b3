// tuning.h — turns a finished sweep into a decision: which points meet the
// constraints, the Pareto front over two metrics, the recommended setting
// (as a ready-to-paste variant and a preset file), and how sensitive each
// metric is to each parameter. Also writes the sweep's result files.
//
// Syntax (command line, or the scenario's "sweep" object):
//   objective   "min:credits", "max:calls_saved_pct"; a bare name minimizes
//   constraint  "wait_p99_s.CRITICAL<=2s", "client_failures_pct<=0.5",
//               "calls_saved_pct>=30"; operators <= and >=; a bound with a
//               duration unit is read in seconds (metrics ending in _s).
//               Prefixed "ci95:" ("ci95:client_failures_pct<=1"), it holds
//               only when the whole 95% interval does (mean + h <= bound,
//               mean - h >= bound), as service-level objectives are judged
//               (slo.h); without, the mean decides.
//   pareto      two objectives, "credits,max:calls_saved_pct"
// Metric names are those of metric_catalog.h; an unknown name is an error
// listing the known ones.
//
// Decisions use the replication mean of each metric (the CI is reported
// beside it as "mean ± h", h the 95% confidence half-width, Student t). The recommendation is the
// feasible point with the best objective mean (ties: the lower point index). The Pareto front is
// taken over the feasible points (all points when none is feasible).
//
// Sensitivity: for each metric, the least-squares coefficients of the
// standardized point means on the standardized parameter values (Eigen,
// column-pivoting QR); a coefficient is the change of the metric, in
// standard deviations, per standard deviation of the parameter. Parameters
// that do not vary get 0. R^2 says how much a linear model explains.
//
// Files (WriteSweepOutputs): results.csv (one row per point and metric:
// mean, sd, 95% CI), summary.json (the analysis), recommended.json (a policy
// preset, when there is a recommendation) and report.md. All are pure
// functions of the sweep's stored results: byte-identical for any --jobs,
// for shards merged, and for resumed runs.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_TUNING_H_
#define ORCHSIM_ENGINE_EXPERIMENT_TUNING_H_

#include <Eigen/Dense>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "engine/experiment/sweep.h"

namespace orchsim::experiment {

struct Objective {
  std::string metric;
  bool minimize = true;
  std::string Text() const { return (minimize ? "min:" : "max:") + metric; }
};
// Throws SweepError.
Objective ParseObjective(const std::string& text);

struct Constraint {
  std::string text;
  std::string metric;
  bool at_most = true;  // "<=" (else ">=")
  double bound = 0.0;
  bool whole_interval = false;  // "ci95:": judged on the interval's far end
  bool Satisfied(double value) const { return at_most ? value <= bound : value >= bound; }
  // On replication statistics: the mean, or with whole_interval the end of
  // the 95% interval on the side the bound limits.
  bool Satisfied(const MetricSummary& s) const {
    if (!whole_interval) return Satisfied(s.mean);
    return Satisfied(at_most ? s.ci95_high() : s.ci95_low());
  }
};
// Throws SweepError.
Constraint ParseConstraint(const std::string& text);

struct TuningSpec {
  Objective objective{"upstream_calls", true};
  std::vector<Constraint> constraints;
  std::array<Objective, 2> pareto{Objective{"upstream_calls", true},
                                  Objective{"client_failures_pct", true}};
};
// From a manifest's "analysis" ({"objective": "...", "constraints": [...],
// "pareto": [...]}). Without "pareto": the objective and the first
// constraint's metric (or client_failures_pct). Throws SweepError.
TuningSpec ParseTuningSpec(const Json& analysis);

// Throws UnknownMetricError unless every metric `spec` names is in `catalog`
// (so a typo fails before a sweep runs).
void CheckTuningMetrics(const TuningSpec& spec, const std::vector<MetricInfo>& catalog);

// Indices of the points no other point dominates, both coordinates to be
// minimized, sorted by the first coordinate (then the second, then index).
// Of exact duplicates only the lowest index is kept.
std::vector<size_t> ParetoFront(const std::vector<std::array<double, 2>>& values);

struct Sensitivity {
  std::vector<std::string> params;
  std::vector<std::string> metrics;
  Eigen::MatrixXd coefficients;   // metrics x params
  std::vector<double> r_squared;  // per metric
};
// x: points x parameters, y: points x metrics.
Sensitivity StandardizedSensitivity(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                    std::vector<std::string> params,
                                    std::vector<std::string> metrics);

struct TuningResult {
  TuningSpec spec;
  std::vector<std::string> metrics;  // the report's metrics (objective, constraints, pareto, ...)
  std::vector<bool> feasible;        // per point
  size_t feasible_count = 0;
  std::vector<size_t> pareto_front;  // point indices
  std::optional<size_t> recommended;
  Json recommended_overrides;  // the swept values as policy JSON
  Json recommended_variant;    // {"name", "preset", "overrides"} to paste into "variants"
  Json recommended_preset;     // a complete preset file
  Sensitivity sensitivity;
  // What the numbers cannot support (SweepWarnings): parameters that changed
  // nothing, a recommendation not significantly better than the runner-up.
  std::vector<std::string> warnings;
};

// The warnings of a finished analysis:
//  - every point gave the same metrics: the swept parameters change nothing
//    in this scenario (an API without the quota the parameter tunes, say)
//    and the recommendation is arbitrary;
//  - a parameter changed no metric among points that differ only in it;
//  - the recommended point's 95% interval of the objective overlaps the
//    runner-up's (not significantly better), or there is one seed and so no
//    interval at all while the runner-up is within 5%.
std::vector<std::string> SweepWarnings(const SweepResults& results, const TuningResult& tuning);

// Throws UnknownMetricError for a metric the sweep does not have.
TuningResult AnalyzeSweep(const SweepResults& results, const TuningSpec& spec);

// The recommendation as text for the terminal (a ready-to-paste variant).
std::string RecommendationText(const SweepResults& results, const TuningResult& tuning);

// Writes results.csv, summary.json, recommended.json and report.md into
// `dir`, each atomically. `plots` lists image files (relative to `dir`) the
// report links to.
void WriteSweepOutputs(const std::string& dir, const SweepResults& results,
                       const TuningResult& tuning, const std::vector<std::string>& plots);

// Deep merge: objects merge member by member, anything else is replaced
// (arrays replace whole arrays, as the policy overlay does).
Json MergeJson(Json base, const Json& overlay);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_TUNING_H_
