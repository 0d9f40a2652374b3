// results_writer.h — the result folder of one comparison: summary.json,
// summary.csv, timeseries.csv, quota.csv, breaker_transitions.csv,
// staleness.csv and report.md (report.h). Plots are drawn from these files by
// tools/plot_results.py.
//
// Everything here is a pure function of the scenario and the runs, with fixed
// number formats, so the same scenario, seed and binary give byte-identical
// files. WriteResults writes every file under a temporary name first and
// renames them into place only when all are complete; the CLI writes into a
// temporary folder that replaces the result folder as a whole
// (output_folder.h), so a result folder never mixes two runs.
//
// Formats (schema_version 2; CSVs are long/tidy, with a header row):
//  summary.json  see SummaryJson below and README "Reading the report".
//  summary.csv   variant,metric,label,value — one row per variant x metric
//                (x label: the api, priority class, outcome, call kind,
//                mechanism or breaker the metric is about; "" for totals).
//  timeseries.csv variant,bucket,bucket_start,metric,label,value — bucket is
//                "hour" or "day" (UTC), bucket_start ISO 8601; buckets in
//                which nothing happened are omitted (every metric 0); mean
//                metrics are omitted when nothing completed in the bucket.
//  quota.csv     variant,api,hour_start,period_start,limit,credits_used_in_period,
//                credits_remaining,exhausted,refused_calls — every hour of the
//                run for each API with a quota. For periods made of whole
//                hours (calendar, fixed windows of N hours, rolling): used
//                and remaining at the end of the hour, period_start the
//                period holding the hour. For shorter (or unaligned) fixed
//                windows: the most used in any one period during the hour
//                (so the lowest remaining), period_start the hour's first
//                period. exhausted is 1 when the remaining credits no longer
//                cover the most expensive call or the upstream refused a call
//                for quota in the hour (refused_calls).
//  breaker_transitions.csv variant,breaker,at,hours_since_start,from,to
//  staleness.csv variant,metric,low,high,count — first the denominators
//                (metric "requests": every request; "answered_with_data":
//                those that got data; low and high empty), then histogram
//                buckets [low, high) of age_s (seconds) and versions_behind
//                over the answers with data, two per power of two, non-empty
//                only.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_RESULTS_WRITER_H_
#define ORCHSIM_ENGINE_EXPERIMENT_RESULTS_WRITER_H_

#include <ostream>
#include <string>
#include <vector>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

// 2: "call_balance" (per variant and API) replaces "avoided_calls" and
// "calls_saved.by_mechanism"; latency per API; wait mean and waited share.
inline constexpr int kSummarySchemaVersion = 2;

struct ReplicationSummary;  // replications.h

// With `replications` (run --seeds N), summary.json gains "replications"
// and report.md a section with means and 95% intervals. With a scenario
// "slo", summary.json gains "slo" (slo.h SloJson: every objective per variant
// and the verdict, judged on the intervals with replications).
scenario::Json SummaryJson(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                           const ReplicationSummary* replications = nullptr);
std::string SummaryCsv(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs);
std::string TimeseriesCsv(const std::vector<VariantRun>& runs);
std::string QuotaCsv(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs);
// The same text, streamed (a row per hour: long runs are never held whole).
void WriteTimeseriesCsv(std::ostream& out, const std::vector<VariantRun>& runs);
void WriteQuotaCsv(std::ostream& out, const scenario::Scenario& scenario,
                   const std::vector<VariantRun>& runs);
std::string BreakerTransitionsCsv(const scenario::Scenario& scenario,
                                  const std::vector<VariantRun>& runs);
std::string StalenessCsv(const std::vector<VariantRun>& runs);

// Writes every file above into `dir` (created); report.md links the plots
// (see SetReportPlots). Throws IoError (atomic_file.h) naming the path and
// the reason when the file system refuses.
void WriteResults(const std::string& dir, const scenario::Scenario& scenario,
                  const std::vector<VariantRun>& runs,
                  const ReplicationSummary* replications = nullptr);

// Rewrites the "## Plots" section of `dir`/report.md: links when the plots
// were drawn, a note saying how to draw them when not (so --no-plots leaves
// no broken image links). Throws IoError.
void SetReportPlots(const std::string& dir, bool drawn);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_RESULTS_WRITER_H_
