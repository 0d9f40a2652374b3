// runner.h — runs one variant of a scenario on one seed in virtual time, and
// all variants side by side on the same seed (common random numbers).
//
// One run wires: a Simulator starting at scenario.start; the mocked upstreams
// (MockTransport, seeded from the scenario seed by upstream name); the
// production Orchestrator over SimClock/SimTimers with its jitter from the
// stream "policy/jitter"; the demand generated from the schedule (streams
// "demand/..."), fed one arrival at a time; games announced to the prefetcher
// a day before kickoff, one pending event at a time. At scenario.end the
// orchestrator shuts down with the scenario's drain and the run ends when no
// event is left. Memory therefore follows what is in flight, not the season.
// With a warm-up (Scenario::warmup), the recorder, the upstream summaries
// and the cost leave out what happened before start + warmup.
//
// Fleets (Variant::fleet, world/fleet.h): N orchestrators, each with its own
// timers, jitter stream ("policy/jitter", then "policy/jitter/replica/<i>"),
// transport view (LimitedTransport when the fleet has a shared limiter) and
// ReplicaTap, which forwards its events to the one recorder under fleet-wide
// names (overload_metrics.h). Each client request goes to the replica
// FleetConfig::ReplicaFor picks; games are announced to all; all shut down
// at the end. A fleet of one without a shared limiter is wired exactly as a
// single core (no tap), so its numbers are today's. The overload recorder
// (series, queue loads) is attached only when Scenario::overload.series.
//
// Because demand and upstream health come from their own named streams, every
// variant run with the same seed sees the same requests and the same outages;
// only the policy differs.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_RUNNER_H_
#define ORCHSIM_ENGINE_EXPERIMENT_RUNNER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/experiment/metrics.h"
#include "engine/experiment/overload_metrics.h"
#include "engine/scenario/scenario.h"
#include "engine/world/data_change_book.h"
#include "engine/world/mock_transport.h"
#include "policies/orchestrator.h"

namespace orchsim::experiment {

// What an upstream saw during a run (from the mock's side).
struct UpstreamSummary {
  uint64_t calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};  // index: CallKind
  std::map<int, uint64_t> statuses;                      // answers by status
  double credits_charged = 0.0;
  Duration quota_exhausted_time;
  uint64_t rate_limited = 0;
  uint64_t quota_rejected = 0;
  uint64_t injected_errors = 0;
  uint64_t outage_answers = 0;
  uint64_t down_answers = 0;
};

struct VariantRun {
  std::string variant;
  uint64_t seed = 0;
  VariantMetrics metrics;
  OrchestratorStats stats;  // the core's (summed over the replicas of a fleet)
  OverloadMetrics overload;
  std::map<std::string, UpstreamSummary> upstreams;  // by api name
  uint64_t events = 0;                               // simulator events run
};

// Progress of one run as the fraction of the scenario's window simulated.
using ProgressFn = std::function<void(double fraction)>;

// Optional extras of one run. None may change the run: extra observers see
// the core's events like the metrics recorder does (and after it), and
// on_finished only reads the mocked upstreams (e.g. their health timelines,
// MockUpstream::health().SpansUntil(end)) once the run is over, before they
// are destroyed.
struct RunOptions {
  ProgressFn progress;  // may be empty
  // Not owned; they must outlive the call (e.g. the token-bucket window
  // checker of the fidelity suite, the CRN test's demand recorder).
  std::vector<OrchestratorObserver*> extra_observers;
  std::function<void(world::MockTransport& upstreams, Instant end)> on_finished;
  // Data-change instants shared with other runs of this scenario (any seed:
  // families are told apart), so a change drawn by one is read by the others
  // (data_change_book.h; sweeps use one). Null: none. The numbers are the
  // same either way; the book costs up to its bound in memory.
  std::shared_ptr<world::DataChangeBook> data_changes;
};

VariantRun RunVariant(const scenario::Scenario& scenario, const scenario::Variant& variant,
                      uint64_t seed, const ProgressFn& progress = nullptr);
// The same run (same numbers) with extras.
VariantRun RunVariant(const scenario::Scenario& scenario, const scenario::Variant& variant,
                      uint64_t seed, const RunOptions& options);

// Runs each named variant (all when `names` is empty) on `seed`, in the
// scenario's order. Unknown names throw std::invalid_argument. (No
// DataChangeBook: for a few runs its memory buys little time.)
std::vector<VariantRun> RunComparison(
    const scenario::Scenario& scenario, const std::vector<std::string>& names, uint64_t seed,
    const std::function<void(const std::string& variant, double fraction)>& progress = nullptr);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_RUNNER_H_
