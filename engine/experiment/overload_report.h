// overload_report.h — the overload part of a result folder: the "overload"
// object of summary.json, overload.csv and the "## Overload" section of
// report.md (overload_metrics.h has the definitions).
//
//  summary.json  per variant "overload": goodput_per_s, retry_amplification,
//                hedges, hedges_denied, retries_throttled, calls_cancelled,
//                wasted_work_s, capacity_refused; with upstreams with
//                capacity "upstreams" {api: utilisation, queue_mean,
//                queue_max, served, wasted, wasted_work_s, goodput, refused,
//                dropped_expired}; with a trigger "recovery" {reference_per_s,
//                during_per_s, after_per_s, recovered, recovery_s (a number,
//                or "never")}; for a fleet "fleet" {replicas, split,
//                duplicate_calls, replicas_detail [...], shared_limiter}.
//  overload.csv  (only when the scenario keeps the series) one row per
//                variant and bucket: variant,bucket_start,t_s,requests,
//                goodput,failures,calls,retries,hedges,refused,wasted_s, then
//                queue_mean.<api> and busy_mean.<api> for each upstream with
//                capacity; t_s is seconds since the scenario's start, rates
//                are per bucket (divide by the step for per second).
//  report.md     HasOverloadSection: the scenario keeps the series, or a
//                variant runs as a fleet; then OverloadMarkdown gives a table
//                per variant (goodput, recovery, amplification, wasted work,
//                upstream load, the policies' counters), replicas and the
//                shared limiter, and how to read the overload plot.
// Pure functions of their inputs (byte-identical reruns).
#ifndef ORCHSIM_ENGINE_EXPERIMENT_OVERLOAD_REPORT_H_
#define ORCHSIM_ENGINE_EXPERIMENT_OVERLOAD_REPORT_H_

#include <ostream>
#include <string>
#include <vector>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

scenario::Json OverloadJson(const VariantRun& run);
// summary.json's top-level "overload_series" ({"step_s", "trigger": [from_s,
// until_s] since the start, or null}) when the runs kept the series; null otherwise.
scenario::Json OverloadSeriesJson(const scenario::Scenario& scenario,
                                  const std::vector<VariantRun>& runs);
bool HasOverloadSeries(const std::vector<VariantRun>& runs);
void WriteOverloadCsv(std::ostream& out, const std::vector<VariantRun>& runs);
bool HasOverloadSection(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs);
std::string OverloadMarkdown(const scenario::Scenario& scenario,
                             const std::vector<VariantRun>& runs);
// "never", or the recovery time as "12 s" / "1.5 min".
std::string RecoveryText(const RecoveryResult& recovery);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_OVERLOAD_REPORT_H_
