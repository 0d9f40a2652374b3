// metrics.h — what one run of one variant measured, and the observer that
// measures it from the core's events.
//
// Memory: fixed-size histograms and counters per priority class, upstream API
// and call kind, plus one bucket per hour of the time series; nothing grows
// with the number of requests (DESIGN.md, "Metrics").
//
// Staleness: a request answered with data (served, cache hit, coalesced,
// served stale) is "outdated" when the upstream already had a newer payload
// version at the instant it was answered; its data age is now - fetched_at.
// The current version comes from a lookup the runner provides (the mocked
// upstream's data process), so staleness is exact, not sampled.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_
#define ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/experiment/histogram.h"
#include "policies/events.h"
#include "policies/request.h"

namespace orchsim::experiment {

inline constexpr int kCallKindCount = 5;

struct ApiCallMetrics {
  uint64_t calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};
  std::map<int, uint64_t> statuses;  // answered calls by status
  uint64_t late_answers = 0;         // answers after the core stopped waiting
  double credits = 0.0;              // credits charged, as the responses said
};

// One hour (or day) of the run, for plots.
struct TimeBucket {
  uint64_t requests = 0;
  uint64_t upstream_calls = 0;
  uint64_t client_failures = 0;
  double credits = 0.0;
};

struct VariantMetrics {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  std::array<uint64_t, kOutcomeCount> outcomes{};
  std::array<uint64_t, kPriorityCount> requests_by_priority{};
  // Queue wait of requests per priority class they were submitted with.
  std::array<Histogram, kPriorityCount> wait_by_priority{};

  std::map<std::string, ApiCallMetrics> apis;  // by api name
  uint64_t upstream_calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};
  double credits = 0.0;

  uint64_t breaker_trips = 0;  // transitions into OPEN
  Duration breaker_open_time;  // summed over breakers, OPEN and HALF_OPEN
  uint64_t retries = 0;        // retries scheduled
  uint64_t retry_budget_denied = 0;
  uint64_t health_changes = 0;

  uint64_t answered_with_data = 0;
  uint64_t answered_outdated = 0;
  Histogram data_age;  // now - fetched_at of the data handed out

  Duration quota_exhausted_time;  // filled by the runner from the upstreams
  double cost = 0.0;              // filled by the runner from the cost tracker

  Instant start;
  Duration bucket_width = Hours(1);
  std::vector<TimeBucket> timeline;

  uint64_t outcome(Outcome o) const { return outcomes[static_cast<int>(o)]; }
  // Requests that got no data: failed, shed, rejected, timed out, cancelled.
  uint64_t client_failures() const;
  double outdated_fraction() const {
    return answered_with_data == 0 ? 0.0
                                   : static_cast<double>(answered_outdated) / answered_with_data;
  }
};

class MetricsRecorder : public OrchestratorObserver {
 public:
  // Current payload version of (request's api, endpoint, key) at an instant.
  using VersionLookup = std::function<uint64_t(const Request&, Instant)>;

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
  TimeBucket& BucketAt(Instant t);

  VariantMetrics metrics_;
  VersionLookup current_version_;
  std::map<std::string, Instant> open_since_;  // breakers not CLOSED, by key
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_METRICS_H_
