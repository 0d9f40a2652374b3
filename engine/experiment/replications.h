// replications.h — one comparison replicated over seeds S..S+N-1 (`orchsim
// run --seeds N`): per variant and catalog metric, the mean, the sample
// standard deviation and the 95% confidence half-width (Student t with n-1
// degrees of freedom, sweep.h's Summarize), for summary.json, report.md
// and the terminal.
//
// Every seed runs every variant on the same demand and outages (common random
// numbers per seed), so the spread is the season-to-season variation of a
// policy's numbers, not noise between variants. The full result files
// (tables, plots, time series) stay those of the first seed. `orchsim check
// --seeds N` applies expectations to every seed and compares the means with
// the baseline (check.h).
#ifndef ORCHSIM_ENGINE_EXPERIMENT_REPLICATIONS_H_
#define ORCHSIM_ENGINE_EXPERIMENT_REPLICATIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/experiment/metric_catalog.h"
#include "engine/experiment/sweep.h"

namespace orchsim::experiment {

struct ReplicationSummary {
  std::vector<uint64_t> seeds;
  std::vector<std::string> variants;  // in run order
  // variant -> metric -> statistics over the seeds
  std::map<std::string, std::map<std::string, MetricSummary>> metrics;
};

// `per_seed[i]` holds the flat metrics (by variant) of seeds[i].
// REQUIRES: per_seed.size() == seeds.size() >= 1.
ReplicationSummary SummarizeReplications(
    const std::vector<uint64_t>& seeds, const std::vector<std::string>& variants,
    const std::vector<std::map<std::string, MetricValues>>& per_seed);

// {"seeds": [...], "interval": "...", "variants": {v: {metric: {n, mean, sd,
// ci95_half}}}} with numbers rounded to 9 significant digits.
Json ReplicationsJson(const ReplicationSummary& r);

// The headline metrics as "mean ± half-width" per variant: a Markdown table
// (report.md) or aligned text (the terminal).
std::string ReplicationsMarkdown(const ReplicationSummary& r);
std::string ReplicationsTable(const ReplicationSummary& r);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_REPLICATIONS_H_
