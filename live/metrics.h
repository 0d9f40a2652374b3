// metrics.h — the sidecar's Prometheus metrics (prometheus-cpp core
// registry, text exposition format 0.0.4), named after the simulator's
// summary concepts (engine/experiment/metrics.h) so one dashboard reads a
// simulated season (orchsim run --openmetrics) and production alike.
//
//   name                                 type       labels            what
//   orchsim_requests_total               counter    api, outcome      client requests by terminal
//   outcome
//                                                                     (served, cache_hit,
//                                                                     coalesced, served_stale,
//                                                                     failed, shed,
//                                                                     rejected_circuit_open,
//                                                                     rejected_quota, timed_out,
//                                                                     cancelled)
//   orchsim_upstream_calls_total         counter    api, kind         calls sent (first_attempt,
//   retry,
//                                                                     probe, prefetch, batch)
//   orchsim_upstream_responses_total     counter    api, status       transport answers by status
//   (499:
//                                                                     cancelled, 599: no answer)
//   orchsim_upstream_latency_seconds     histogram  api               send to answer (not cancelled
//   ones) orchsim_queue_wait_seconds           histogram  priority          time in the priority
//   queue orchsim_request_duration_seconds     histogram  priority          submit to outcome, in
//   the core orchsim_data_age_seconds             histogram  api               age of the data
//   handed out orchsim_breaker_state                gauge      breaker, state    1 for the
//   breaker's current state
//                                                                     (closed, open, half_open)
//   orchsim_breaker_transitions_total    counter    breaker, to       transitions (to="open":
//   trips) orchsim_quota_remaining_credits      gauge      api               what the quota headers
//   said (once known) orchsim_quota_limit_credits          gauge      api               the quota's
//   limit (once known) orchsim_quota_exhausted              gauge      api               1 while
//   remaining is 0 orchsim_quota_exhaustions_total      counter    api               answers that
//   first said remaining 0 orchsim_bucket_tokens                gauge      api               token
//   bucket level (enabled buckets) orchsim_retries_total                counter    api retries
//   scheduled orchsim_retry_budget_denied_total    counter    api               retries the budget
//   refused orchsim_credits_total                counter    api               quota credits charged
//   orchsim_cost_total                   counter    api               money, as the preset's prices
//   say orchsim_upstream_calls_in_flight     gauge      api               calls holding a bulkhead
//   slot orchsim_requests_pending             gauge                        requests not yet ended
//   orchsim_http_responses_total         counter    code              every answer the sidecar sent
//   orchsim_config_reloads_total         counter    result            SIGHUP reloads (ok, error)
//   orchsim_ready                        gauge                        1 while /readyz answers 200
//
// Observer methods count as events happen; Sample() reads the gauges (and
// the cost) from a core just before a scrape. Thread rules: the loop's
// thread (prometheus-cpp's own locking makes Serialize safe anywhere).
#ifndef ORCHSIM_LIVE_METRICS_H_
#define ORCHSIM_LIVE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "policies/events.h"
#include "policies/orchestrator.h"
#include "policies/ports.h"

namespace orchsim::live {

class LiveMetrics : public OrchestratorObserver {
 public:
  // REQUIRES: `clock` outlives the metrics (wall time for quota headers).
  explicit LiveMetrics(const Clock& clock);

  void OnCompleted(const Request& request, const Result& result, Instant now) override;
  void OnCallSent(const UpstreamCall& call, Instant now) override;
  void OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                      Instant now) override;
  void OnBreakerTransition(const BreakerTransition& transition) override;
  void OnRetryScheduled(const Request& request, int attempt, Duration delay, Instant now) override;
  void OnRetryBudgetDenied(const Request& request, Instant now) override;

  // Reads the gauges and the cost of `core` (generation `generation`) for
  // the APIs `apis`, at `now`.
  void Sample(uint64_t generation, const Orchestrator& core, const std::vector<std::string>& apis,
              Instant now);
  void CountHttpResponse(int status);
  void CountReload(bool ok);
  void SetReady(bool ready);
  // The text exposition of every metric.
  std::string Serialize() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  struct ApiMetrics {
    std::array<prometheus::Counter*, kOutcomeCount> outcomes{};
    std::map<int, prometheus::Counter*> calls_by_kind;
    std::map<int, prometheus::Counter*> responses_by_status;
    prometheus::Histogram* latency = nullptr;
    prometheus::Histogram* data_age = nullptr;
    prometheus::Counter* retries = nullptr;
    prometheus::Counter* budget_denied = nullptr;
    prometheus::Counter* credits = nullptr;
    prometheus::Counter* cost = nullptr;
    prometheus::Counter* exhaustions = nullptr;
    bool exhausted_per_headers = false;
  };
  ApiMetrics& Api(const std::string& api);

  const Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& responses_;
  prometheus::Family<prometheus::Histogram>& upstream_latency_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& data_age_;
  prometheus::Family<prometheus::Gauge>& breaker_state_;
  prometheus::Family<prometheus::Counter>& breaker_transitions_;
  prometheus::Family<prometheus::Gauge>& quota_remaining_;
  prometheus::Family<prometheus::Gauge>& quota_limit_;
  prometheus::Family<prometheus::Gauge>& quota_exhausted_;
  prometheus::Family<prometheus::Counter>& quota_exhaustions_;
  prometheus::Family<prometheus::Gauge>& tokens_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& budget_denied_;
  prometheus::Family<prometheus::Counter>& credits_;
  prometheus::Family<prometheus::Counter>& cost_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Gauge>& pending_;
  prometheus::Family<prometheus::Counter>& http_responses_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Family<prometheus::Gauge>& ready_;
  std::array<prometheus::Histogram*, kPriorityCount> wait_by_priority_{};
  std::array<prometheus::Histogram*, kPriorityCount> duration_by_priority_{};
  std::map<std::string, ApiMetrics, std::less<>> apis_;
  std::map<int, prometheus::Counter*> http_by_code_;
  // Cost is a per-core running total: what each generation reported last.
  std::map<std::pair<uint64_t, std::string>, double> cost_seen_;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_METRICS_H_
