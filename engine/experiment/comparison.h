// comparison.h — what one comparison (all variants on one seed) says: calls
// saved against the baseline variant, split by mechanism, cross-checks of the
// core's call counts against the mocked upstreams' own counters, and the
// aligned terminal table `orchsim run` prints.
//
// Upstream calls here are counted at the mocked upstreams (VariantRun::
// upstreams, filled by the runner from MockUpstream counters); a run without
// upstream summaries (hand-built in tests) falls back to the recorder's count.
//
// The result files (summary.json, CSVs) are in results_writer.h and the
// Markdown report in report.h; this header includes the former so callers of
// WriteResults and friends need only this one.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_
#define ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/experiment/metrics.h"
#include "engine/experiment/results_writer.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

// Calls saved by `run` against `baseline`: baseline calls - run calls (at
// the mocks). What the difference is made of is in each run's own call
// balance (metrics.h, VariantMetrics::balance()): calls avoided by serving
// without a call (cache, stale answers, coalescing, batching), requests that
// failed without a call (not a saving), calls added (retries, probes,
// prefetches) and `other`.
struct CallsSavedBreakdown {
  std::string baseline;
  uint64_t baseline_calls = 0;
  uint64_t calls = 0;
  int64_t saved = 0;
  double saved_fraction = 0.0;  // saved / baseline_calls (0 when no calls)
};

// Upstream calls of `run` counted at the mocks (the recorder's when none).
uint64_t UpstreamCalls(const VariantRun& run);
// Calls of `kind` counted at the mocks (the recorder's when none).
uint64_t UpstreamCallsOfKind(const VariantRun& run, CallKind kind);

const VariantRun* FindRun(const std::vector<VariantRun>& runs, const std::string& name);

// Calls the baseline variant made minus the calls of `run` (0 without one).
int64_t CallsSaved(const std::vector<VariantRun>& runs, const std::string& baseline,
                   const VariantRun& run);
// nullopt when `baseline` is not among `runs`.
std::optional<CallsSavedBreakdown> SavedAgainst(const std::vector<VariantRun>& runs,
                                                const std::string& baseline, const VariantRun& run);

// Where the core's own call counts (the recorder) differ from the mocks'
// counters, per api and kind: one line per difference, empty when they agree.
// Calls a fleet's shared limiter kept from the upstream are not expected there.
std::vector<std::string> CountMismatches(const VariantRun& run);

// Upstream calls the upstreams refused for quota (their answer "quota
// exhausted"; the requests may still have been served by a retry or stale
// data). Not the outcome rejected_quota, which counts client requests the
// core itself refused for quota before any call.
uint64_t QuotaRefusedCalls(const VariantRun& run);

// The comparison as aligned text tables (one row per variant).
std::string ComparisonTable(const scenario::Scenario& scenario,
                            const std::vector<VariantRun>& runs);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_
