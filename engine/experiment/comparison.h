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

// Calls saved by `run` against `baseline`:
//   saved                  = baseline calls - run calls (at the mocks)
//   by_mechanism[m]        = run.avoided(m) - baseline.avoided(m)
//   added_calls            = (retry + probe + prefetch calls of run)
//                            - (the same of baseline)
//   other                  = saved - sum(by_mechanism) + added_calls
// so saved = sum(by_mechanism) - added_calls + other exactly. `other` is what
// the mechanisms do not explain (e.g. requests that failed before any
// attempt for other reasons, or duplicate keys inside one batch); it is 0
// when every request either made one first-attempt call or was avoided.
struct CallsSavedBreakdown {
  std::string baseline;
  uint64_t baseline_calls = 0;
  uint64_t calls = 0;
  int64_t saved = 0;
  double saved_fraction = 0.0;  // saved / baseline_calls (0 when no calls)
  std::array<int64_t, kSavingMechanismCount> by_mechanism{};
  int64_t added_calls = 0;
  int64_t other = 0;
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
std::vector<std::string> CountMismatches(const VariantRun& run);

// The comparison as aligned text tables (one row per variant).
std::string ComparisonTable(const scenario::Scenario& scenario,
                            const std::vector<VariantRun>& runs);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_COMPARISON_H_
