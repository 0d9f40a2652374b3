// metrics.h — what one run of one variant measured, and the observer that
// measures it from the core's events.
//
// The MetricsRecorder is an OrchestratorObserver: it only reads the events
// and never changes the core's state. Upstream call counts here are what the
// core sent; the runner also copies the mocked upstreams' own counters into
// VariantRun::upstreams, and reports use (and cross-check against) those.
//
// Definitions (every count is exact; nothing is sampled):
//  - outcomes: client requests by terminal Outcome; they sum to `submitted`.
//  - calls by API and kind: one per OnCallSent (first attempt, retry, probe,
//    prefetch, batch). A batch call (kind kBatch) carries >= 2 keys.
//  - avoided calls by mechanism, the calls this variant did not make that a
//    policy sending one call per request would have made:
//      cache hits   requests answered from a fresh cache entry (outcome
//                   cache_hit): each would have been one call.
//      coalescing   requests answered by another request's call (outcome
//                   coalesced).
//      batching     keys beyond the first in batch calls: sum over calls of
//                   kind kBatch of (keys - 1).
//      breaker      requests rejected by an open circuit with no upstream
//                   fast-fail    attempt (outcome rejected_circuit_open,
//                   Result::attempts == 0).
//      quota pacing requests the pacing held back until they ended with no
//                   upstream attempt: rejected for quota, shed at the queue's
//                   capacity, timed out or cancelled while queued (those
//                   outcomes with Result::attempts == 0).
//    Calls the policy adds (retries, probes, prefetches) are `calls_by_kind`.
//    Calls saved against a baseline is computed from two runs (comparison.h).
//  - credits: quota credits charged (Response::credits_charged), attributed to
//    the instant the call was sent (when the upstream counts it) — per hour,
//    per day and per calendar month (UTC) and API.
//  - breakers, per registry key ("api" or "api/endpoint"): trips (transitions
//    into OPEN), time spent OPEN and HALF_OPEN (intervals still open are
//    closed at Finish), and half-open calls (calls sent to the breaker's API,
//    or API/endpoint, while it was HALF_OPEN).
//  - retries: retries scheduled (OnRetryScheduled); retry-budget denials.
//  - wait: Result::queue_wait per priority class the request was submitted
//    with (histogram, <= 0.79% relative error, see histogram.h).
//  - latency: end-to-end time seen by the caller, completion instant minus
//    Request::submitted_at, per priority class.
//  - staleness, for requests answered with data (served, cache hit,
//    coalesced, served stale): age = completion instant - Result::fetched_at;
//    versions behind = the upstream's current payload version at completion
//    minus Result::payload_version (0 when current); "outdated" when > 0. The
//    current version comes from a lookup the runner provides.
//  - time series: one TimeBucket per hour, aligned to UTC hours from 00:00Z
//    of the start's day (so 24 buckets make a UTC day); events are placed by
//    the instant they happen (credits: when the call was sent).
//
// Memory: counters, fixed-resolution histograms, the hours still open (older
// ones are spilled, see timeline.h), one entry per month and breaker, the sent instant of calls in
// flight, and the breaker transitions (capped at kMaxBreakerTransitions; later ones are counted in
// breaker_transitions_dropped). Nothing grows per request.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_
#define ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/experiment/histogram.h"
#include "engine/experiment/timeline.h"
#include "policies/events.h"
#include "policies/request.h"

namespace orchsim::experiment {

// Mechanisms that avoid upstream calls (see the header comment).
enum class SavingMechanism : uint8_t {
  kCacheHits,
  kCoalescing,
  kBatching,
  kBreakerFastFail,
  kQuotaPacing,
};
inline constexpr int kSavingMechanismCount = 5;
// "cache_hits", "coalescing", "batching", "breaker_fast_fail", "quota_pacing".
std::string_view SavingMechanismName(SavingMechanism m);

inline constexpr size_t kMaxBreakerTransitions = 100000;

struct ApiCallMetrics {
  uint64_t calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};
  std::map<int, uint64_t> statuses;                // answered calls by status
  uint64_t late_answers = 0;                       // answers after the core stopped waiting
  double credits = 0.0;                            // credits charged, as the responses said
  std::map<std::string, double> credits_by_month;  // "2023-09" -> credits (UTC months)
};

struct BreakerMetrics {
  uint64_t trips = 0;  // transitions into OPEN
  Duration open_time;  // time in OPEN
  Duration half_open_time;
  uint64_t half_open_calls = 0;  // calls sent while HALF_OPEN
};

struct VariantMetrics {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  std::array<uint64_t, kOutcomeCount> outcomes{};
  std::array<uint64_t, kPriorityCount> requests_by_priority{};
  // Queue wait and end-to-end latency per priority class submitted with.
  std::array<Histogram, kPriorityCount> wait_by_priority{};
  std::array<Histogram, kPriorityCount> latency_by_priority{};
  Histogram latency;  // all classes

  std::map<std::string, ApiCallMetrics> apis;  // by api name
  uint64_t upstream_calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};
  std::array<uint64_t, kSavingMechanismCount> avoided_calls{};
  double credits = 0.0;

  std::map<std::string, BreakerMetrics> breakers;      // by registry key
  std::vector<BreakerTransition> breaker_transitions;  // in order, capped
  uint64_t breaker_transitions_dropped = 0;
  uint64_t breaker_trips = 0;  // summed over breakers
  Duration breaker_open_time;  // summed over breakers, OPEN and HALF_OPEN
  uint64_t half_open_calls = 0;
  uint64_t retries = 0;  // retries scheduled
  uint64_t retry_budget_denied = 0;
  uint64_t health_changes = 0;

  uint64_t answered_with_data = 0;
  uint64_t answered_outdated = 0;
  Histogram data_age;         // microseconds
  Histogram versions_behind;  // payload versions

  Duration quota_exhausted_time;  // filled by the runner from the upstreams
  double cost = 0.0;              // filled by the runner from the cost tracker

  Instant start;  // of bucket 0: 00:00Z of the run's first day
  Duration bucket_width = Hours(1);
  Timeline timeline;  // hourly buckets; closed hours spilled (timeline.h)

  uint64_t outcome(Outcome o) const { return outcomes[static_cast<int>(o)]; }
  uint64_t calls_of_kind(CallKind k) const { return calls_by_kind[static_cast<int>(k)]; }
  uint64_t avoided(SavingMechanism m) const { return avoided_calls[static_cast<int>(m)]; }
  // Requests that got no data: failed, shed, rejected, timed out, cancelled.
  uint64_t client_failures() const;
  double outdated_fraction() const {
    return answered_with_data == 0 ? 0.0
                                   : static_cast<double>(answered_outdated) / answered_with_data;
  }
  Instant BucketStart(size_t index) const {
    return start + Duration::FromMicros(bucket_width.micros() * static_cast<int64_t>(index));
  }
};

// True for outcomes that give the caller no data.
bool IsClientFailure(Outcome o);

// "YYYY-MM" of `t` in UTC.
std::string MonthOf(Instant t);

class MetricsRecorder : public OrchestratorObserver {
 public:
  // Current payload version of (request's api, endpoint, key) at an instant.
  using VersionLookup = std::function<uint64_t(const Request&, Instant)>;

  // `bucket_width` must divide a day (the runner passes one hour); buckets
  // start at 00:00Z of `start`'s day.
  MetricsRecorder(Instant start, Duration bucket_width, VersionLookup current_version);

  void OnCompleted(const Request& request, const Result& result, Instant now) override;
  void OnSubmitted(const Request& request, Instant now) override;
  void OnCallSent(const UpstreamCall& call, Instant now) override;
  void OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                      Instant now) override;
  void OnBreakerTransition(const BreakerTransition& transition) override;
  void OnRetryScheduled(const Request& request, int attempt, Duration delay, Instant now) override;
  void OnRetryBudgetDenied(const Request& request, Instant now) override;
  void OnHealthChanged(const std::string& api, HealthState from, HealthState to,
                       Instant now) override;

  // Closes open breaker intervals at `end`; call once when the run ends.
  void Finish(Instant end);
  const VariantMetrics& metrics() const { return metrics_; }
  VariantMetrics& mutable_metrics() { return metrics_; }

 private:
  struct BreakerTrack {
    BreakerState state = BreakerState::kClosed;
    Instant since;
  };
  TimeBucket& BucketAt(Instant t);
  // metrics_.apis[api], remembering the last one (calls come in runs per api).
  ApiCallMetrics& ApiMetrics(const std::string& api);
  size_t BucketIndex(Instant t) const;
  // Spills the hours no event can reach any more: before `now`'s hour and
  // before the hour of the oldest call in flight (credits land when sent).
  void SpillClosedHours(size_t now_index);
  void CloseInterval(const std::string& breaker, BreakerTrack& s, Instant at);

  VariantMetrics metrics_;
  VersionLookup current_version_;
  std::map<std::string, BreakerTrack> breaker_states_;  // by registry key
  std::unordered_map<uint64_t, Instant> sent_at_;       // calls in flight, by call id
  size_t half_open_breakers_ = 0;                       // breakers in breaker_states_ now HALF_OPEN
  ApiCallMetrics* last_api_ = nullptr;
  std::string last_api_name_;
  size_t latest_index_ = 0;  // bucket of the latest event seen
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_
