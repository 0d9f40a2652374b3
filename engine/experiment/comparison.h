// comparison.h — turns the runs of one comparison into what people read: a
// terminal table, summary.json, summary.csv and timeseries.csv.
//
// Everything here is a pure function of the runs, formatted with fixed
// precision, so the same scenario and seed give byte-identical files.
// WriteResults writes every file under a temporary name first and renames
// them into place only when all are complete, so a failed run never leaves a
// half-written result; other files in `dir` are left alone.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_
#define ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_

#include <string>
#include <vector>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

// Calls the baseline variant made minus the calls of `run` (0 without one).
int64_t CallsSaved(const std::vector<VariantRun>& runs, const std::string& baseline,
                   const VariantRun& run);

// The comparison as aligned text tables (one row per variant).
std::string ComparisonTable(const scenario::Scenario& scenario,
                            const std::vector<VariantRun>& runs);

scenario::Json SummaryJson(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs);
std::string SummaryCsv(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs);
std::string TimeseriesCsv(const std::vector<VariantRun>& runs);

// Writes summary.json, summary.csv, timeseries.csv into `dir` (created).
// Throws std::runtime_error naming the path when the file system refuses.
void WriteResults(const std::string& dir, const scenario::Scenario& scenario,
                  const std::vector<VariantRun>& runs);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_
