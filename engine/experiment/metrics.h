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
//  - the call balance (RequestAccounting + CallBalance), per API and in
//    total: every client request either had an upstream call of its own or
//    did not, and the ones that did not were either served anyway or failed:
//      served without a call of its own (calls avoided, the savings):
//        cache hits       outcome cache_hit
//        stale answers    outcome served_stale with no attempt (served from
//                         the cache after an open breaker, say)
//        coalescing       outcome coalesced (shared another request's call)
//        batching         keys beyond the first in batch calls: sum over
//                         calls of kind kBatch of (keys - 1)
//      failed without a call (not a saving: the caller got no data):
//        failure outcomes (failed, shed, rejected_circuit_open,
//        rejected_quota, timed_out, cancelled) with Result::attempts == 0,
//        kept per outcome
//      calls added: retries, hedges, probes and prefetches (calls no request of this
//        run would have made once)
//    and then, exactly,
//      upstream calls = requests - served without a call - failed without a
//                       call + calls added + other
//    where `other` (may be negative; 0 in every shipped scenario) is what no
//    term explains: + a call sent for coalesced followers after the request
//    that started it had ended (timed out, say) and so counts as failed
//    without a call; - two requests for one key carried in one batch call
//    (coalescing off), which count as one key; +/- with a warm-up, calls
//    sent after it for requests submitted before it. Every other term is
//    >= 0.
//    "Calls saved against a baseline" (comparison.h) is the difference of
//    two runs' upstream calls; it includes failures without a call, which
//    the balance shows apart.
//  - credits: quota credits charged (Response::credits_charged), attributed to
//    the instant the call was sent (when the upstream counts it) — per hour,
//    per day and per calendar month (UTC) and API.
//  - breakers, per registry key ("api" or "api/endpoint"): trips (transitions
//    into OPEN), time spent OPEN and HALF_OPEN (intervals still open are
//    closed at Finish), and half-open calls (calls sent to the breaker's API,
//    or API/endpoint, while it was HALF_OPEN).
//  - retries: retries scheduled (OnRetryScheduled); retry-budget denials.
//  - wait: Result::queue_wait per priority class the request was submitted
//    with (histogram, <= 0.79% relative error, see histogram.h), its exact
//    mean, and how many requests waited at all (queue_wait > 0).
//  - latency: end-to-end time seen by the caller, completion instant minus
//    Request::submitted_at, per priority class, per API and in total.
//  - staleness, for requests answered with data (served, cache hit,
//    coalesced, served stale): age = completion instant - Result::fetched_at;
//    versions behind = the upstream's current payload version at completion
//    minus Result::payload_version (0 when current); "outdated" when > 0. The
//    current version comes from a lookup the runner provides. Requests that
//    got no data are not in these histograms; plots that show a share of
//    requests divide by every request (answered_with_data / submitted is
//    the share that got data at all).
//  - warm-up: with a steady-state start (`steady_from`), requests submitted
//    before it, calls sent before it and breaker time before it are left out
//    of every count, histogram and total above (trips count when they happen
//    after it); the hourly time series keeps the whole run.
//  - time series: one TimeBucket per hour, aligned to UTC hours from 00:00Z
//    of the start's day (so 24 buckets make a UTC day); events are placed by
//    the instant they happen (credits: when the call was sent).
//
// Memory: counters, fixed-resolution histograms (per class and per API), the
// hours still open (older ones are spilled, see timeline.h; an hour holds a
// quota sample per API), one entry per month and breaker, the sent instant of
// calls in flight, and the breaker transitions (capped at
// kMaxBreakerTransitions; later ones are counted in
// breaker_transitions_dropped). Nothing grows per request or per key.
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

inline constexpr size_t kMaxBreakerTransitions = 100000;

// Where the requests went, with or without an upstream call of their own
// (see "the call balance" above). Per API and in total.
struct RequestAccounting {
  uint64_t requests = 0;            // client requests submitted
  uint64_t cache_hits = 0;          // outcome cache_hit
  uint64_t stale_without_call = 0;  // outcome served_stale with no attempt
  uint64_t coalesced = 0;           // outcome coalesced
  uint64_t batched_keys = 0;        // keys beyond the first in batch calls
  // Failure outcomes with no attempt, by outcome (success outcomes stay 0).
  std::array<uint64_t, kOutcomeCount> failed_without_call{};

  uint64_t served_without_call() const {
    return cache_hits + stale_without_call + coalesced + batched_keys;
  }
  uint64_t failed_without_call_total() const;
};

// upstream calls = requests - served_without_call - failed_without_call
//                  + added + other, exactly.
struct CallBalance {
  uint64_t requests = 0;
  uint64_t served_without_call = 0;
  uint64_t failed_without_call = 0;
  uint64_t added = 0;  // retry + hedge + probe + prefetch calls
  uint64_t calls = 0;  // every kind
  int64_t other = 0;
};
CallBalance BalanceOf(const RequestAccounting& accounting,
                      const std::array<uint64_t, kCallKindCount>& calls_by_kind);

struct ApiCallMetrics {
  uint64_t calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};
  std::map<int, uint64_t> statuses;                // answered calls by status
  uint64_t late_answers = 0;                       // answers after the core stopped waiting
  double credits = 0.0;                            // credits charged, as the responses said
  std::map<std::string, double> credits_by_month;  // "2023-09" -> credits (UTC months)
  // Requests to this API: outcomes, the call balance, end-to-end latency.
  std::array<uint64_t, kOutcomeCount> outcomes{};
  RequestAccounting accounting;
  Histogram latency;

  CallBalance balance() const { return BalanceOf(accounting, calls_by_kind); }
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
  std::array<uint64_t, kPriorityCount> waited_by_priority{};  // queue_wait > 0
  std::array<Histogram, kPriorityCount> latency_by_priority{};
  Histogram latency;  // all classes

  std::map<std::string, ApiCallMetrics> apis;  // by api name
  uint64_t upstream_calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};
  RequestAccounting accounting;  // all APIs
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

  Instant start;        // of bucket 0: 00:00Z of the run's first day
  Instant steady_from;  // warm-up end: the totals above count from here
  Duration bucket_width = Hours(1);
  Timeline timeline;  // hourly buckets; closed hours spilled (timeline.h)

  uint64_t outcome(Outcome o) const { return outcomes[static_cast<int>(o)]; }
  uint64_t calls_of_kind(CallKind k) const { return calls_by_kind[static_cast<int>(k)]; }
  CallBalance balance() const { return BalanceOf(accounting, calls_by_kind); }
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
  // start at 00:00Z of `start`'s day. Totals count from `steady_from` (the
  // end of the warm-up; `start` when there is none, or anything earlier).
  MetricsRecorder(Instant start, Duration bucket_width, VersionLookup current_version,
                  Instant steady_from = Instant::FromUnixMicros(INT64_MIN));

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
  // From the upstream's side (not the core's): `api`'s quota had `used`
  // credits used in its period at `at`, after a charge or a refusal. Goes to
  // the time series only (TimeBucket::quota_by_api), for quota plots.
  void OnQuota(const std::string& api, Instant at, double used, bool refused);

  // Closes open breaker intervals at `end`; call once when the run ends.
  void Finish(Instant end);
  // True for instants inside the warm-up (excluded from the totals).
  bool InWarmup(Instant t) const { return t < steady_from_; }
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
  // MonthOf(t), without formatting it again while t stays in one month.
  const std::string& MonthName(Instant t);
  size_t BucketIndex(Instant t) const;
  // Spills the hours no event can reach any more: before `now`'s hour and
  // before the hour of the oldest call in flight (credits land when sent).
  void SpillClosedHours(size_t now_index);
  void CloseInterval(const std::string& breaker, BreakerTrack& s, Instant at);

  VariantMetrics metrics_;
  VersionLookup current_version_;
  std::map<std::string, BreakerTrack> breaker_states_;  // by registry key
  std::unordered_map<uint64_t, Instant> sent_at_;       // calls in flight, by call id
  Instant steady_from_;
  size_t half_open_breakers_ = 0;  // breakers in breaker_states_ now HALF_OPEN
  ApiCallMetrics* last_api_ = nullptr;
  std::string last_api_name_;
  // MonthOf(t), remembered for the month [month_from_, month_until_) it
  // names: credits are recorded per answered call, the month rarely changes.
  Instant month_from_ = Instant::Max();
  Instant month_until_ = Instant::Min();
  std::string month_name_;
  size_t latest_index_ = 0;  // bucket of the latest event seen
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_
