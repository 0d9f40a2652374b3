// metrics.h — the sidecar's Prometheus metrics (prometheus-cpp core
// registry, text exposition format 0.0.4) under the names, labels and
// histogram buckets shared with simulated runs (docs/metrics.md, written by
// `orchsim run --openmetrics`), so one dashboard reads a simulated season
// and production alike.
//
// Shared families (docs/metrics.md), each labelled variant = the preset the
// core runs (serve.json "variant", default the preset file's name):
//   orchsim_requests_submitted_total{variant,api,priority}   counter
//   orchsim_requests_total{variant,api,outcome}              counter
//   orchsim_upstream_calls_total{variant,api,kind}           counter
//   orchsim_upstream_responses_total{variant,api,status}     counter (499 cancelled, 599 no answer)
//   orchsim_credits_total{variant,api}                       counter
//   orchsim_retries_total{variant,api}                       counter
//   orchsim_retry_budget_denied_total{variant,api}           counter
//   orchsim_breaker_trips_total{variant,breaker}             counter
//   orchsim_breaker_open_seconds_total{variant,breaker}      counter (time not CLOSED)
//   orchsim_breaker_state{variant,breaker}                   gauge 0 closed, 1 open, 2 half_open
//   orchsim_upstream_health{variant,api}                     gauge 0 healthy, 1 degraded, 2
//   unhealthy orchsim_quota_remaining{variant,api}                     gauge (once the headers
//   said) orchsim_queue_wait_seconds{variant,priority}             histogram
//   orchsim_request_latency_seconds{variant,priority}        histogram (completion - arrival)
//   orchsim_bucket_tokens{variant,api}                       gauge (enabled buckets)
//   orchsim_calls_in_flight{variant,api}                     gauge (calls holding a bulkhead slot)
//   orchsim_cost_total{variant,api}                          counter (money, the preset's prices)
// Both histograms use the shared buckets 0.001 ... 60 s, and bucket bounds
// are written as the simulated export writes them ("1.0", not "1").
// Live only:
//   orchsim_upstream_latency_seconds{variant,api}            histogram, send to answer
//   orchsim_data_age_seconds{variant,api}                    histogram, age of the data handed out
//   orchsim_quota_limit{variant,api}                         gauge
//   orchsim_quota_exhausted{variant,api}                     gauge, 1 while the tracker refuses for
//   quota orchsim_quota_exhaustions_total{variant,api}             counter, answers that first said
//   0 remaining orchsim_requests_pending{variant}                        gauge
//   orchsim_http_responses_total{code}                       counter, every answer the sidecar sent
//   orchsim_config_reloads_total{result}                     counter, ok / error
//   orchsim_ready                                            gauge, 1 while /readyz answers 200
//
// LiveMetrics holds the registry and the process-wide families; CoreMetrics
// is the observer of one core (one per sidecar generation, so a reload to
// another preset starts series under its own variant). Observer methods
// count as events happen; CoreMetrics::Sample() reads the gauges, the cost
// and the breakers' open time from its core just before a scrape.
// Thread rules: the loop's thread; prometheus-cpp's own locking makes
// Serialize safe from anywhere.
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
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policies/events.h"
#include "policies/orchestrator.h"
#include "policies/ports.h"

namespace orchsim::live {

class LiveMetrics {
 public:
  LiveMetrics();
  LiveMetrics(const LiveMetrics&) = delete;
  LiveMetrics& operator=(const LiveMetrics&) = delete;

  void CountHttpResponse(int status);
  void CountReload(bool ok);
  void SetReady(bool ready);
  // The text exposition of every metric.
  std::string Serialize() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  friend class CoreMetrics;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& submitted_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& responses_;
  prometheus::Family<prometheus::Counter>& credits_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& budget_denied_;
  prometheus::Family<prometheus::Counter>& breaker_trips_;
  prometheus::Family<prometheus::Counter>& breaker_open_;
  prometheus::Family<prometheus::Gauge>& breaker_state_;
  prometheus::Family<prometheus::Gauge>& health_;
  prometheus::Family<prometheus::Gauge>& quota_remaining_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& tokens_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Counter>& cost_;
  prometheus::Family<prometheus::Histogram>& upstream_latency_;
  prometheus::Family<prometheus::Histogram>& data_age_;
  prometheus::Family<prometheus::Gauge>& quota_limit_;
  prometheus::Family<prometheus::Gauge>& quota_exhausted_;
  prometheus::Family<prometheus::Counter>& quota_exhaustions_;
  prometheus::Family<prometheus::Gauge>& pending_;
  prometheus::Family<prometheus::Counter>& http_responses_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Family<prometheus::Gauge>& ready_;
  std::map<int, prometheus::Counter*> http_by_code_;
};

class CoreMetrics : public OrchestratorObserver {
 public:
  // REQUIRES: `metrics` and `clock` outlive this observer.
  CoreMetrics(LiveMetrics& metrics, std::string variant, const Clock& clock);

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

  // Reads the gauges, the cost and the breakers' open time from `core` (the
  // core this observes) for the APIs `apis`, at `now`.
  void Sample(const Orchestrator& core, const std::vector<std::string>& apis, Instant now);
  const std::string& variant() const { return variant_; }

 private:
  struct ApiMetrics {
    std::array<prometheus::Counter*, kOutcomeCount> outcomes{};
    std::array<prometheus::Counter*, kPriorityCount> submitted{};
    std::array<prometheus::Counter*, kCallKindCount> calls{};
    std::map<int, prometheus::Counter*> responses_by_status;
    prometheus::Histogram* upstream_latency = nullptr;
    prometheus::Histogram* data_age = nullptr;
    prometheus::Counter* retries = nullptr;
    prometheus::Counter* budget_denied = nullptr;
    prometheus::Counter* credits = nullptr;
    prometheus::Counter* cost = nullptr;
    prometheus::Counter* exhaustions = nullptr;
    prometheus::Gauge* health = nullptr;
    bool exhausted_per_headers = false;
    double cost_seen = 0.0;  // the core's running money total at the last Sample
  };
  struct BreakerMetrics {
    prometheus::Counter* trips = nullptr;
    prometheus::Counter* open_seconds = nullptr;
    prometheus::Gauge* state = nullptr;
    std::optional<Instant> not_closed_since;  // open time not yet counted starts here
  };
  ApiMetrics& Api(const std::string& api);
  BreakerMetrics& Breaker(const std::string& name);
  prometheus::Labels With(prometheus::Labels labels) const;

  LiveMetrics& m_;
  std::string variant_;
  const Clock& clock_;
  std::array<prometheus::Histogram*, kPriorityCount> wait_by_priority_{};
  std::array<prometheus::Histogram*, kPriorityCount> latency_by_priority_{};
  std::map<std::string, ApiMetrics, std::less<>> apis_;
  std::map<std::string, BreakerMetrics, std::less<>> breakers_;
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_METRICS_H_
