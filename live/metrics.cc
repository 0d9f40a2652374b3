#include "live/metrics.h"

#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>

#include "live/json_log.h"

namespace orchsim::live {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Seconds, from half a millisecond (a cache hit) to five minutes (a long
// quota wait).
const prometheus::Histogram::BucketBoundaries& SecondsBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5,    1,     2.5,    5,     10,   30,    60,   120, 300};
  return buckets;
}

// Data age: seconds to a day.
const prometheus::Histogram::BucketBoundaries& AgeBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400};
  return buckets;
}

double Seconds(Duration d) { return static_cast<double>(d.micros()) / 1e6; }

}  // namespace

LiveMetrics::LiveMetrics(const Clock& clock)
    : clock_(clock),
      registry_(std::make_shared<prometheus::Registry>()),
      requests_(BuildCounter()
                    .Name("orchsim_requests_total")
                    .Help("Client requests by terminal outcome")
                    .Register(*registry_)),
      calls_(BuildCounter()
                 .Name("orchsim_upstream_calls_total")
                 .Help("Upstream calls sent, by kind")
                 .Register(*registry_)),
      responses_(BuildCounter()
                     .Name("orchsim_upstream_responses_total")
                     .Help("Upstream answers by status (499 cancelled, 599 no answer)")
                     .Register(*registry_)),
      upstream_latency_(BuildHistogram()
                            .Name("orchsim_upstream_latency_seconds")
                            .Help("Upstream call latency, send to answer")
                            .Register(*registry_)),
      queue_wait_(BuildHistogram()
                      .Name("orchsim_queue_wait_seconds")
                      .Help("Time requests waited in the priority queue")
                      .Register(*registry_)),
      duration_(BuildHistogram()
                    .Name("orchsim_request_duration_seconds")
                    .Help("Client request duration in the core, submit to outcome")
                    .Register(*registry_)),
      data_age_(BuildHistogram()
                    .Name("orchsim_data_age_seconds")
                    .Help("Age of the data handed out, since it left the upstream")
                    .Register(*registry_)),
      breaker_state_(BuildGauge()
                         .Name("orchsim_breaker_state")
                         .Help("1 for the circuit breaker's current state")
                         .Register(*registry_)),
      breaker_transitions_(BuildCounter()
                               .Name("orchsim_breaker_transitions_total")
                               .Help("Circuit breaker transitions by target state")
                               .Register(*registry_)),
      quota_remaining_(BuildGauge()
                           .Name("orchsim_quota_remaining_credits")
                           .Help("Quota credits remaining, as the upstream reported")
                           .Register(*registry_)),
      quota_limit_(BuildGauge()
                       .Name("orchsim_quota_limit_credits")
                       .Help("Quota limit, as the upstream reported")
                       .Register(*registry_)),
      quota_exhausted_(BuildGauge()
                           .Name("orchsim_quota_exhausted")
                           .Help("1 while the upstream's quota is exhausted")
                           .Register(*registry_)),
      quota_exhaustions_(BuildCounter()
                             .Name("orchsim_quota_exhaustions_total")
                             .Help("Times the quota headers first reported 0 remaining")
                             .Register(*registry_)),
      tokens_(BuildGauge()
                  .Name("orchsim_bucket_tokens")
                  .Help("Tokens available in the API's token bucket")
                  .Register(*registry_)),
      retries_(BuildCounter()
                   .Name("orchsim_retries_total")
                   .Help("Retries scheduled")
                   .Register(*registry_)),
      budget_denied_(BuildCounter()
                         .Name("orchsim_retry_budget_denied_total")
                         .Help("Retries the retry budget refused")
                         .Register(*registry_)),
      credits_(BuildCounter()
                   .Name("orchsim_credits_total")
                   .Help("Quota credits charged by the upstream")
                   .Register(*registry_)),
      cost_(BuildCounter()
                .Name("orchsim_cost_total")
                .Help("Money spent on upstream calls, at the preset's prices")
                .Register(*registry_)),
      in_flight_(BuildGauge()
                     .Name("orchsim_upstream_calls_in_flight")
                     .Help("Upstream calls holding a bulkhead slot")
                     .Register(*registry_)),
      pending_(BuildGauge()
                   .Name("orchsim_requests_pending")
                   .Help("Client requests not yet ended")
                   .Register(*registry_)),
      http_responses_(BuildCounter()
                          .Name("orchsim_http_responses_total")
                          .Help("Answers the sidecar sent, by HTTP status")
                          .Register(*registry_)),
      reloads_(BuildCounter()
                   .Name("orchsim_config_reloads_total")
                   .Help("Configuration reloads (SIGHUP) by result")
                   .Register(*registry_)),
      ready_(BuildGauge()
                 .Name("orchsim_ready")
                 .Help("1 while the sidecar is ready for traffic")
                 .Register(*registry_)) {
  for (Priority p : kAllPriorities) {
    const std::string name(PriorityName(p));
    wait_by_priority_[PriorityIndex(p)] = &queue_wait_.Add({{"priority", name}}, SecondsBuckets());
    duration_by_priority_[PriorityIndex(p)] =
        &duration_.Add({{"priority", name}}, SecondsBuckets());
  }
  reloads_.Add({{"result", "ok"}});
  reloads_.Add({{"result", "error"}});
  ready_.Add({}).Set(0);
  pending_.Add({}).Set(0);
}

LiveMetrics::ApiMetrics& LiveMetrics::Api(const std::string& api) {
  auto it = apis_.find(api);
  if (it != apis_.end()) return it->second;
  ApiMetrics& m = apis_[api];
  for (int i = 0; i < kOutcomeCount; ++i) {
    m.outcomes[i] = &requests_.Add(
        {{"api", api}, {"outcome", std::string(OutcomeName(static_cast<Outcome>(i)))}});
  }
  m.latency = &upstream_latency_.Add({{"api", api}}, SecondsBuckets());
  m.data_age = &data_age_.Add({{"api", api}}, AgeBuckets());
  m.retries = &retries_.Add({{"api", api}});
  m.budget_denied = &budget_denied_.Add({{"api", api}});
  m.credits = &credits_.Add({{"api", api}});
  m.cost = &cost_.Add({{"api", api}});
  m.exhaustions = &quota_exhaustions_.Add({{"api", api}});
  return m;
}

void LiveMetrics::OnCompleted(const Request& request, const Result& result, Instant now) {
  ApiMetrics& m = Api(request.api);
  m.outcomes[static_cast<int>(result.outcome)]->Increment();
  wait_by_priority_[PriorityIndex(request.priority)]->Observe(Seconds(result.queue_wait));
  duration_by_priority_[PriorityIndex(request.priority)]->Observe(
      Seconds(now - request.submitted_at));
  if (result.body && result.fetched_at != Instant::Epoch()) {
    m.data_age->Observe(Seconds(now - result.fetched_at));
  }
}

void LiveMetrics::OnCallSent(const UpstreamCall& call, Instant /*now*/) {
  ApiMetrics& m = Api(call.api);
  const int kind = static_cast<int>(call.kind);
  auto it = m.calls_by_kind.find(kind);
  if (it == m.calls_by_kind.end()) {
    it = m.calls_by_kind
             .emplace(kind, &calls_.Add({{"api", call.api},
                                         {"kind", std::string(CallKindName(call.kind))}}))
             .first;
  }
  it->second->Increment();
}

void LiveMetrics::OnCallAnswered(const UpstreamCall& call, const Response& response, bool /*late*/,
                                 Instant /*now*/) {
  ApiMetrics& m = Api(call.api);
  auto it = m.responses_by_status.find(response.status);
  if (it == m.responses_by_status.end()) {
    it = m.responses_by_status
             .emplace(
                 response.status,
                 &responses_.Add({{"api", call.api}, {"status", std::to_string(response.status)}}))
             .first;
  }
  it->second->Increment();
  if (response.status != kStatusCancelled) m.latency->Observe(Seconds(response.latency));
  const double credits = response.credits_charged;
  if (credits > 0 && credits <= kMaxCreditsPerCall) m.credits->Increment(credits);
  if (const std::optional<bool> exhausted = QuotaExhaustedPerHeaders(response, clock_.wall_now())) {
    if (*exhausted && !m.exhausted_per_headers) m.exhaustions->Increment();
    m.exhausted_per_headers = *exhausted;
  }
}

void LiveMetrics::OnBreakerTransition(const BreakerTransition& transition) {
  breaker_transitions_
      .Add({{"breaker", transition.breaker}, {"to", std::string(BreakerStateName(transition.to))}})
      .Increment();
}

void LiveMetrics::OnRetryScheduled(const Request& request, int /*attempt*/, Duration /*delay*/,
                                   Instant /*now*/) {
  Api(request.api).retries->Increment();
}

void LiveMetrics::OnRetryBudgetDenied(const Request& request, Instant /*now*/) {
  Api(request.api).budget_denied->Increment();
}

void LiveMetrics::Sample(uint64_t generation, const Orchestrator& core,
                         const std::vector<std::string>& apis, Instant now) {
  for (const std::string& api : apis) {
    ApiMetrics& m = Api(api);
    if (const QuotaTracker* quota = core.quota(api)) {
      const QuotaSnapshot snapshot = quota->SnapshotAt(now);
      if (snapshot.remaining) quota_remaining_.Add({{"api", api}}).Set(*snapshot.remaining);
      if (snapshot.limit) quota_limit_.Add({{"api", api}}).Set(*snapshot.limit);
      quota_exhausted_.Add({{"api", api}}).Set(quota->exhausted(now) ? 1 : 0);
    }
    if (const TokenBucket* bucket = core.bucket(api)) {
      const double available = bucket->available(now);
      if (std::isfinite(available)) tokens_.Add({{"api", api}}).Set(available);
    }
    if (const ConcurrencyLimiter* bulkhead = core.bulkhead(api)) {
      in_flight_.Add({{"api", api}}).Set(bulkhead->in_flight());
    }
    const double money = core.cost().ForApi(api).money;
    double& seen = cost_seen_[{generation, api}];
    if (money > seen) m.cost->Increment(money - seen);
    seen = std::max(seen, money);
  }
  for (const auto& [key, breaker] : core.breakers().breakers()) {
    for (BreakerState state :
         {BreakerState::kClosed, BreakerState::kOpen, BreakerState::kHalfOpen}) {
      breaker_state_.Add({{"breaker", key}, {"state", std::string(BreakerStateName(state))}})
          .Set(breaker.state() == state ? 1 : 0);
    }
  }
  pending_.Add({}).Set(static_cast<double>(core.pending_requests()));
}

void LiveMetrics::CountHttpResponse(int status) {
  auto it = http_by_code_.find(status);
  if (it == http_by_code_.end()) {
    it = http_by_code_.emplace(status, &http_responses_.Add({{"code", std::to_string(status)}}))
             .first;
  }
  it->second->Increment();
}

void LiveMetrics::CountReload(bool ok) {
  reloads_.Add({{"result", ok ? "ok" : "error"}}).Increment();
}

void LiveMetrics::SetReady(bool ready) { ready_.Add({}).Set(ready ? 1 : 0); }

std::string LiveMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace orchsim::live
