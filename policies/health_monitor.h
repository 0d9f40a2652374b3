// health_monitor.h — healthy / degraded / unhealthy per upstream API, judged
// from recent call outcomes and latency, with optional active probes.
//
// Contract:
//   - Time is the caller's: every method takes `now` (Instant, int64 us); the
//     monitor never reads a clock. `now` must not decrease between Record /
//     Refresh calls.
//   - Evidence for an API at `now` is every sample recorded in
//     (now - window, now]; when that is fewer than `min_samples`, it is the
//     newest `min_samples` samples instead, however old, so a quiet upstream
//     keeps its last judgement until new evidence arrives (an open breaker
//     sends nothing). An API with fewer than `min_samples` samples ever
//     recorded is healthy.
//   - Judgement over the evidence of n samples with f failures:
//     f/n >= unhealthy_error_rate -> unhealthy; else f/n >= degraded_error_rate
//     or "slow" -> degraded; else healthy. Slow means the evidence's latency
//     statistic is strictly above degraded_latency; the statistic is the mean
//     (latency_percentile = 0, the default) or the nearest-rank percentile
//     (the ceil(p/100 * n)-th smallest latency). Latency uses every sample,
//     failed or not; each sample's latency is clamped to [0, 1 day] so sums
//     cannot overflow.
//   - state(api) is the state judged at the latest Record or Refresh, i.e.
//     the one last told to the change listener. StateAt(api, now) judges
//     afresh at `now`, so it may already show a change from samples ageing
//     out that Refresh has not yet reported.
//   - The change listener is told of every change of an API's state, with
//     the instant it was noticed: at Record, or at Refresh for changes that
//     come only from samples ageing out of the window.
//   - Active probes: the host asks ProbeDue per API, sends a probe call to
//     `probe_endpoint`, reports it with OnProbeSent, and feeds its outcome to
//     Record like any other call. A probe is due when none was sent yet or
//     `probe_interval` has passed since the last one was sent.
//   - Disabled (`enabled = false`): every API is healthy, Record is ignored,
//     no probe is ever due and the listener is never called.
//   - Memory per API: one 24-byte sample per call inside the window (at least
//     min_samples). Cost: Record is amortised O(1) with the mean rule and
//     O(evidence) with the percentile rule (a selection over a copy).
//   - Not thread-safe; the core runs on one event loop.
#ifndef ORCHSIM_POLICIES_HEALTH_MONITOR_H_
#define ORCHSIM_POLICIES_HEALTH_MONITOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "policies/events.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

struct HealthConfig {
  bool enabled = true;
  Duration window = Seconds(60);  // sliding evidence window, > 0
  int min_samples = 5;            // evidence needed before judging, >= 1

  // Error-rate thresholds, fractions with 0 < degraded <= unhealthy <= 1.
  double degraded_error_rate = 0.2;
  double unhealthy_error_rate = 0.5;
  // Mean latency over the evidence strictly above this => degraded (> 0;
  // Infinite disables the latency rule).
  Duration degraded_latency = Seconds(2);
  // Which latency statistic is compared with degraded_latency: 0 = the mean,
  // otherwise a percentile in (0, 100], e.g. 90 for p90 (nearest rank).
  double latency_percentile = 0.0;

  bool active_probes = false;
  Duration probe_interval = Seconds(30);  // between probes sent to one API, > 0
  // Probe only an API judged degraded or unhealthy (to see it recover),
  // not a healthy one: probes are real calls and may spend quota.
  bool probe_only_when_unhealthy = false;
  std::string probe_endpoint = "health";  // endpoint probe calls go to, non-empty

  // OK, or the first bad field, e.g. "health.min_samples: 0 must be >= 1".
  Status validate() const;
};

// What the monitor knows about one API at an instant (for metrics and tests).
struct HealthSnapshot {
  HealthState state = HealthState::kHealthy;
  int64_t samples = 0;    // evidence size
  int64_t failures = 0;   // failed samples in the evidence
  Duration mean_latency;  // over the evidence, truncated to the microsecond; 0 if none
  // Nearest-rank latency_percentile of the evidence; 0 if none or the mean
  // rule is configured.
  Duration percentile_latency;
};

class HealthMonitor {
 public:
  using ChangeListener =
      std::function<void(const std::string& api, HealthState from, HealthState to, Instant at)>;

  // REQUIRES: config.validate().ok().
  explicit HealthMonitor(const HealthConfig& config);

  // One call outcome (probe or ordinary call) answered at `now` after
  // `latency`. Tells the listener if the API's state changed.
  void Record(const std::string& api, bool success, Duration latency, Instant now);
  // Where one API's outcomes are recorded, kept by the caller: the first
  // Record through it looks the API up by name, later ones go straight to
  // its state (an API's state is still made at its first Record, as
  // without it). Valid for this monitor only.
  struct ApiRef {
    const std::string* name = nullptr;  // the monitor's own copy
    void* health = nullptr;             // the API's state
  };
  // The same as Record(api, success, latency, now), through `ref`.
  void Record(ApiRef& ref, const std::string& api, bool success, Duration latency, Instant now);
  // Re-judges every known API at `now` and tells the listener of changes
  // caused by samples ageing out of the window.
  void Refresh(Instant now);

  // The API's state as judged at the latest Record / Refresh (what the
  // listener was last told); healthy for an unknown API or when disabled.
  HealthState state(const std::string& api) const;
  // The API's state judged afresh at `now` (>= the latest Record / Refresh),
  // counting samples that have aged out since; healthy for an unknown API.
  HealthState StateAt(const std::string& api, Instant now) const;
  HealthSnapshot Snapshot(const std::string& api, Instant now) const;

  // Is a probe of `api` due at `now`? Always false unless enabled and
  // active_probes.
  bool ProbeDue(const std::string& api, Instant now) const;
  // The same, through `ref` once a Record has set it (the probe tick asks
  // every probe interval for every API: no lookup by name).
  bool ProbeDue(const ApiRef& ref, const std::string& api, Instant now) const;
  // The host sent a probe to `api` at `now`; ignored unless enabled and
  // active_probes. The next probe is due at now + probe_interval.
  void OnProbeSent(const std::string& api, Instant now);
  uint64_t probes_sent(const std::string& api) const;

  // Every API recorded or probed so far, in name order.
  std::vector<std::string> apis() const;
  const HealthConfig& config() const { return config_; }

  void set_change_listener(ChangeListener listener) { listener_ = std::move(listener); }

 private:
  struct Sample {
    Instant at;
    Duration latency;  // clamped
    bool success;
  };
  struct ApiHealth {
    std::deque<Sample> samples;                    // oldest first
    int64_t failures = 0;                          // over `samples`
    int64_t latency_sum_us = 0;                    // over `samples`
    HealthState reported = HealthState::kHealthy;  // last state told to the listener
    bool probed = false;
    Instant last_probe_sent;
    uint64_t probes_sent = 0;
  };

  HealthSnapshot Judge(const ApiHealth& h, Instant now) const;
  // StateAt and ProbeDue for a known API.
  HealthState StateOf(const ApiHealth& h, Instant now) const;
  bool ProbeDueFor(const ApiHealth& h, Instant now) const;
  // Nearest-rank latency_percentile over h.samples[aged_out..], n of them (> 0).
  Duration PercentileLatency(const ApiHealth& h, size_t aged_out, int64_t n) const;
  void Evict(ApiHealth& h, Instant now) const;
  // Lowers evictable_from_ to h's oldest sample if Evict may ever drop it.
  void NoteEvictable(const ApiHealth& h);
  void Report(const std::string& api, ApiHealth& h, Instant now);
  void RecordIn(const std::string& api, ApiHealth& h, bool success, Duration latency, Instant now);

  HealthConfig config_;
  std::map<std::string, ApiHealth> apis_;
  // A lower bound of the instants of the samples Evict may drop, over every
  // API (Max: none may). Refresh runs at every probe tick of every API and
  // has nothing to do while now - window is before it.
  Instant evictable_from_ = Instant::Max();
  ChangeListener listener_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_HEALTH_MONITOR_H_
