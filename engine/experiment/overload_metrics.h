// overload_metrics.h — what a run measured about overload: the upstreams'
// load (utilisation, queue, wasted work, goodput at the upstream), the
// core's overload counters, a time series fine enough to see a retry storm
// (scenario::OverloadConfig::step), the recovery after a trigger, and for a
// fleet (world/fleet.h) the numbers per replica and the calls duplicated
// between replicas.
//
// Definitions (counts are exact; after the warm-up like metrics.h's totals):
//  - goodput: client requests answered with data fresh from the upstream or
//    the cache (outcomes served, coalesced, cache_hit; not served_stale),
//    per second of [start + warm-up, end). A request the core answers in
//    time is answered before its deadline (the core times it out there).
//  - at an upstream with capacity: utilisation = time-integral of busy
//    servers / time-integral of servers; mean queue = time-average of calls
//    waiting; wasted work = service time spent on answers nobody waited for
//    (the call was cancelled, or its service ended after the call's
//    deadline); upstream goodput = 2xx answers to a waiting client by the
//    call's deadline; refused = refused at once for a full queue.
//  - retry amplification = upstream calls the core sent / client requests.
//  - the series: buckets of `step` from the scenario's start to its end;
//    requests by arrival, goodput and failures by completion, calls by
//    sending, queue and busy servers as time-averages within the bucket (per
//    upstream with capacity), wasted work by the end of its service.
//  - recovery (with a trigger [from, until)): the reference level L is the
//    mean goodput over the `reference` before `from`; G(b) is the goodput of
//    the `smoothing` ending with bucket b, per second. Recovery time R is the
//    least r >= 0 (a whole number of buckets from the first bucket starting
//    at or after `until`) such that G(b) >= threshold x L for every bucket b
//    starting in [until + r, until + r + hold), all before the series ends;
//    none: "never" (recovered = false; kNeverRecovered seconds in the flat
//    metrics, so a `max` bound on recovery_s fails).
//  - duplicate calls (fleets): a call one replica sends while another
//    replica has a call for one of its keys (api, endpoint, key) in flight
//    (sent, not yet called back); probes excluded.
//
// Memory: the series (one bucket per step, bounded by kMaxOverloadBuckets),
// one entry per upstream with capacity, per replica, and per key in flight.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_OVERLOAD_METRICS_H_
#define ORCHSIM_ENGINE_EXPERIMENT_OVERLOAD_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/scenario/scenario.h"
#include "engine/world/mock_upstream.h"
#include "engine/world/shared_limiter.h"
#include "policies/events.h"
#include "policies/orchestrator.h"

namespace orchsim::experiment {

// recovery_s when goodput never recovered: 1e9 s (about 31.7 years).
inline constexpr double kNeverRecovered = 1e9;

// True for the outcomes goodput counts (served, coalesced, cache_hit).
bool IsGoodput(Outcome o);

// One upstream with capacity, over [start + warm-up, the run's last event].
struct UpstreamLoad {
  Duration time;  // the span the integrals cover
  double busy_us = 0.0;
  double waiting_us = 0.0;
  double servers_us = 0.0;
  int64_t max_waiting = 0;
  uint64_t served = 0;
  uint64_t wasted = 0;
  uint64_t goodput = 0;
  uint64_t refused = 0;
  uint64_t dropped = 0;
  Duration busy_time;
  Duration wasted_time;
  double utilisation() const { return servers_us > 0.0 ? busy_us / servers_us : 0.0; }
  double mean_waiting() const {
    return time > Duration::Zero() ? waiting_us / static_cast<double>(time.micros()) : 0.0;
  }
};

struct OverloadBucket {
  uint64_t requests = 0;
  uint64_t goodput = 0;
  uint64_t failures = 0;
  uint64_t calls = 0;  // every kind the core sent
  uint64_t retries = 0;
  uint64_t hedges = 0;
  uint64_t refused = 0;            // by full upstream queues
  double wasted_us = 0.0;          // service time of wasted answers ending here
  std::vector<double> waiting_us;  // per upstream with capacity: integral in the bucket
  std::vector<double> busy_us;     // the same for busy servers
};

struct RecoveryResult {
  bool measured = false;         // the scenario has a trigger
  double reference_per_s = 0.0;  // goodput before the trigger
  double during_per_s = 0.0;     // mean goodput during the trigger
  double after_per_s = 0.0;      // mean goodput from its end to the series' end
  bool recovered = false;
  Duration recovery;  // from the trigger's end; meaningful when recovered
  // kNeverRecovered when not recovered, 0 without a trigger.
  double recovery_s() const;
};

// Counts of one replica of a fleet (after the warm-up).
struct ReplicaMetrics {
  uint64_t requests = 0;
  uint64_t goodput = 0;
  uint64_t client_failures = 0;
  uint64_t calls = 0;
  uint64_t retries = 0;  // retry calls
  uint64_t hedges = 0;   // hedge calls
  uint64_t duplicate_calls = 0;
  uint64_t calls_cancelled = 0;  // from the core's stats
  uint64_t retries_throttled = 0;
  uint64_t hedges_denied = 0;
};

struct OverloadMetrics {
  // Series (scenario::OverloadConfig::series).
  bool series_enabled = false;
  Instant series_start;
  Duration step = Seconds(1);
  std::vector<std::string> capacity_apis;  // index of OverloadBucket's vectors
  std::vector<OverloadBucket> series;
  // Totals after the warm-up.
  Duration counted;                               // end - (start + warm-up)
  std::map<std::string, UpstreamLoad> upstreams;  // upstreams with capacity
  uint64_t calls_cancelled = 0;
  uint64_t retries_throttled = 0;
  uint64_t hedges_denied = 0;
  RecoveryResult recovery;
  // Fleets.
  int replicas = 1;
  world::TrafficSplit split = world::TrafficSplit::kRoundRobin;
  std::vector<ReplicaMetrics> per_replica;  // empty for a single core
  uint64_t duplicate_calls = 0;
  bool limiter_enabled = false;
  world::SharedLimiter::Counters limiter;
  // Calls the core sent that the shared limiter kept from the upstream, by
  // API and CallKind (world::LimitedTransport::stopped, summed over replicas).
  world::LimitedTransport::StoppedCalls limiter_stopped;

  Duration wasted_time() const;
  // Calls of `kind` to `api` the shared limiter kept from the upstream.
  uint64_t StoppedBeforeUpstream(const std::string& api, CallKind kind) const;
  uint64_t capacity_refused() const;
  Instant BucketStart(size_t i) const {
    return series_start + Duration::FromMicros(step.micros() * static_cast<int64_t>(i));
  }
};

// The recovery after config's trigger from a goodput series (requests per
// bucket of `step` starting at `series_start`); see the header.
RecoveryResult ComputeRecovery(const std::vector<uint64_t>& goodput, Instant series_start,
                               Duration step, const scenario::OverloadConfig& config);

// Records the series from the core's events (each replica's, through a
// ReplicaTap for fleets) and the upstreams' load. Never changes a run.
class OverloadRecorder : public OrchestratorObserver, public world::CapacityListener {
 public:
  // Buckets of config.step over [start, end); `capacity_apis` are the
  // upstreams with capacity; loads count from `steady_from` for the maxima.
  OverloadRecorder(Instant start, Instant end, Duration step,
                   std::vector<std::string> capacity_apis, Instant steady_from);

  void OnSubmitted(const Request& request, Instant now) override;
  void OnCompleted(const Request& request, const Result& result, Instant now) override;
  void OnCallSent(const UpstreamCall& call, Instant now) override;

  void OnLoad(const std::string& api, Instant at, const world::ServerQueue::Load& load) override;
  void OnServed(const std::string& api, Instant at, Duration service, bool wasted,
                bool goodput) override;
  void OnRefused(const std::string& api, Instant at) override;

  // Closes the time-averages at the series' end; call once when the run ends.
  void Finish();
  // The most calls waiting at each upstream after steady_from.
  const std::vector<int64_t>& max_waiting() const { return max_waiting_; }
  // Moves the series out (after Finish).
  std::vector<OverloadBucket> TakeSeries() { return std::move(series_); }

 private:
  OverloadBucket* BucketAt(Instant t);
  size_t ApiIndex(const std::string& api);
  void Integrate(size_t api, Instant to);

  Instant start_;
  Instant end_;
  Duration step_;
  std::vector<std::string> apis_;
  Instant steady_from_;
  std::vector<OverloadBucket> series_;
  // Per upstream with capacity: the load since `since`.
  struct Level {
    Instant since;
    int64_t waiting = 0;
    int64_t busy = 0;
  };
  std::vector<Level> levels_;
  std::vector<int64_t> max_waiting_;
};

// Calls in flight per key and replica, for duplicate_calls.
class DuplicateCallTracker {
 public:
  explicit DuplicateCallTracker(int replicas) : replicas_(replicas) {}
  // True when another replica has a call for one of the call's keys in flight.
  bool OnSent(int replica, const UpstreamCall& call);
  void OnAnswered(int replica, const UpstreamCall& call);
  size_t keys_in_flight() const { return in_flight_.size(); }

 private:
  static std::string KeyOf(const UpstreamCall& call, const std::string& key);
  int replicas_;
  std::unordered_map<std::string, std::vector<uint32_t>> in_flight_;
};

// One replica's observer in a fleet: counts ReplicaMetrics and duplicates,
// and forwards every event to `targets` with fleet-wide names: call ids
// become (replica << 56) | id, breakers "<breaker>@r<replica>". (Request ids
// are the runner's, unique across replicas.)
class ReplicaTap : public OrchestratorObserver {
 public:
  ReplicaTap(int replica, std::vector<OrchestratorObserver*> targets,
             DuplicateCallTracker* duplicates, Instant steady_from);

  void OnSubmitted(const Request& request, Instant now) override;
  void OnCompleted(const Request& request, const Result& result, Instant now) override;
  void OnCallSent(const UpstreamCall& call, Instant now) override;
  void OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                      Instant now) override;
  void OnBreakerTransition(const BreakerTransition& transition) override;
  void OnRetryScheduled(const Request& request, int attempt, Duration delay, Instant now) override;
  void OnRetryBudgetDenied(const Request& request, Instant now) override;
  void OnHealthChanged(const std::string& api, HealthState from, HealthState to,
                       Instant now) override;

  const ReplicaMetrics& metrics() const { return metrics_; }
  ReplicaMetrics& mutable_metrics() { return metrics_; }

 private:
  UpstreamCall Renamed(const UpstreamCall& call) const;

  int replica_;
  std::vector<OrchestratorObserver*> targets_;
  DuplicateCallTracker* duplicates_;
  Instant steady_from_;
  ReplicaMetrics metrics_;
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_OVERLOAD_METRICS_H_
