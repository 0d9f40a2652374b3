// slo.h — service-level objectives and the verdict: which variant of a
// comparison to deploy.
//
// A scenario's "slo" block bounds catalog metrics (metric_catalog.h) with the
// syntax and units of "expect" (check.h), for every variant at once, and
// says how variants are ranked by cost:
//   "slo": {"objectives": {"client_failures_pct": {"max": 1},
//                          "wait_p99_s.CRITICAL": {"max": "1s"},
//                          "calls_saved_pct": {"min": 50}},
//           "cheapest_by": ["credits", "upstream_calls"]}
// "cheapest_by" (optional; default credits, then upstream calls) lists catalog
// metrics, lower is cheaper, compared in order (the next breaks a tie).
// Objectives are listed in catalog order, whatever the file's order.
//
// Judging one variant's objective:
//   - one seed: met when the value lies within the bound (min <= v <= max),
//     else missed;
//   - several seeds (run --seeds N): met only when the whole 95% confidence
//     interval of the mean (mean ± ci95_half, Student t) lies within the
//     bound; missed when the whole interval lies outside; "unsure" when it
//     crosses the bound (more seeds may decide). Only "met" counts as met.
//   The shortfall of an objective not met is how far its judged value (the
//   interval's end on the wrong side: mean + h for a max, mean − h for a
//   min) lies past the bound, divided by the larger of |bound| and |judged
//   value|: between 0 and 1, scale-free (1 when the bound is 0).
//
// The verdict:
//   - the chosen variant is the cheapest (by cheapest_by, means; ties in
//     scenario run order) of those that meet every objective;
//   - when none does: "no variant meets every objective", and the closest
//     is the one with the fewest objectives not met, then the smallest
//     summed shortfall, then the lowest cost, then run order.
//
// Contract: everything here is a pure function of its inputs (byte-identical
// text for the same numbers). ReadSloSpec throws ConfigError naming the
// scenario file and the JSON path (exit status 2 in the CLI): an unknown
// metric, a duration on a metric that is not a time, min > max, an empty
// objective, an unknown key.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_SLO_H_
#define ORCHSIM_ENGINE_EXPERIMENT_SLO_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/experiment/metric_catalog.h"
#include "engine/experiment/runner.h"
#include "engine/experiment/sweep.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

struct ReplicationSummary;  // replications.h

struct SloObjective {
  std::string metric;
  std::string unit;  // the catalog's: "s", "%", "count", "credits", "fraction", "money"
  std::optional<double> min;
  std::optional<double> max;
  std::string where;  // JSON path, for messages
  // "wait_p99_s.CRITICAL <= 1 s", "calls_saved_pct >= 50%", "x in [1, 2]".
  std::string Text() const;
};

struct SloSpec {
  std::vector<SloObjective> objectives;  // catalog order
  std::vector<std::string> cheapest_by = {"credits", "upstream_calls"};
  // The catalog units of cheapest_by, for printing ("credits", "count",
  // "money", ...); ReadSloSpec fills them.
  std::vector<std::string> cheapest_by_units = {"credits", "count"};
  bool empty() const { return objectives.empty(); }
  // The unit of cheapest_by[k] ("count" when not known).
  std::string CostUnit(size_t k) const {
    return k < cheapest_by_units.size() ? cheapest_by_units[k] : "count";
  }
};

// Reads scenario.slo (an empty spec when absent). Throws ConfigError, also
// for a "sweep" with "slo": true in a scenario without objectives.
SloSpec ReadSloSpec(const scenario::Scenario& scenario);

// The objectives as sweep constraints (tuning.h), each judged on its whole
// 95% interval as here: "ci95:client_failures_pct<=1", one per bound.
std::vector<std::string> SloConstraints(const SloSpec& spec);

enum class SloStatus { kMet, kMissed, kUnsure };
// "met", "missed", "unsure".
const char* SloStatusName(SloStatus status);

struct ObjectiveResult {
  SloStatus status = SloStatus::kMissed;
  MetricSummary value;     // n = 1 for one seed
  double shortfall = 0.0;  // 0 when met; see above
};

struct VariantSlo {
  std::string variant;
  std::vector<ObjectiveResult> results;  // one per objective, in spec order
  int not_met = 0;                       // missed or unsure
  double shortfall = 0.0;                // summed over the objectives not met
  std::vector<double> cost;              // the means of cheapest_by, in order
  bool meets_all() const { return not_met == 0; }
};

struct SloVerdict {
  SloSpec spec;
  std::vector<uint64_t> seeds;       // one, or the replications' seeds
  std::vector<VariantSlo> variants;  // in run order
  std::optional<size_t> chosen;      // index into variants: cheapest meeting every objective
  std::optional<size_t> closest;     // when none meets every objective
  bool empty() const { return spec.empty(); }
};

// Per variant (in `variants` order) and metric, the statistics to judge.
using VariantMetricSummaries = std::map<std::string, std::map<std::string, MetricSummary>>;

// Judges every variant. REQUIRES: every objective's and cost metric's name
// is in `values` for each variant (names come from the catalog).
SloVerdict JudgeSlo(const SloSpec& spec, const std::vector<uint64_t>& seeds,
                    const std::vector<std::string>& variants, const VariantMetricSummaries& values);

// The verdict of a comparison: on the runs' seed, or, with `replications`,
// on the means and intervals over its seeds. Empty when the scenario has no
// "slo". Throws ConfigError for a bad "slo".
SloVerdict VerdictFor(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                      const ReplicationSummary* replications = nullptr);

// A metric value for people: "350 ms", "2.5 s", "0.71%", "12,345", "35.2%"
// (fractions as percentages); with n >= 2, "mean ± half-width".
std::string SloValueText(const MetricSummary& value, const std::string& unit);

// The verdict in one or two sentences (Markdown emphasis when `markdown`);
// judged over several seeds, it ends saying so and that only whole 95%
// intervals inside the bounds count.
std::string VerdictSentence(const SloVerdict& verdict, bool markdown);
// How objectives are judged and what "closest" means, one paragraph.
std::string VerdictRules(const SloVerdict& verdict);

// The terminal table: one row per objective, one column per variant
// ("ok 0.71%", "MISS 2.1 s", "? 1.0 s ± 0.2 s"), then the cost rows and the
// verdict. "" when the verdict is empty.
std::string SloTable(const SloVerdict& verdict);
// The report's table (Markdown): the same, with ✅ / ❌ / ❔.
std::string SloMarkdownTable(const SloVerdict& verdict);

// summary.json's "slo": {"objectives": [...], "cheapest_by": [...],
// "seeds": [...], "rule": "...", "variants": {v: {"meets_all", "not_met",
// "shortfall", "objectives": {metric: {"status", "value", "ci95_half"}}}},
// "verdict": {"variant" | null, "closest" | null, "text"}}.
scenario::Json SloJson(const SloVerdict& verdict);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_SLO_H_
