#include "live/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "live/json_log.h"
#include "policies/metric_values.h"

namespace orchsim::live {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// docs/metrics.md: the buckets of the shared latency histograms.
const prometheus::Histogram::BucketBoundaries& SharedBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets(kLatencyBucketBounds.begin(),
                                                               kLatencyBucketBounds.end());
  return buckets;
}

// Data age: seconds to a day.
const prometheus::Histogram::BucketBoundaries& AgeBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400};
  return buckets;
}

double Seconds(Duration d) { return static_cast<double>(d.micros()) / 1e6; }

template <typename T>
prometheus::Family<T>& Register(prometheus::Registry& registry, const char* name,
                                const char* help) {
  if constexpr (std::is_same_v<T, prometheus::Counter>) {
    return BuildCounter().Name(name).Help(help).Register(registry);
  } else if constexpr (std::is_same_v<T, prometheus::Gauge>) {
    return BuildGauge().Name(name).Help(help).Register(registry);
  } else {
    return BuildHistogram().Name(name).Help(help).Register(registry);
  }
}

// Bucket bounds as the simulated export writes them: a whole number gets
// ".0" (le="1.0"), so series from both join on their labels.
std::string CanonicalBounds(std::string text) {
  std::string out;
  out.reserve(text.size() + 256);
  size_t at = 0;
  for (size_t found; (found = text.find("le=\"", at)) != std::string::npos;) {
    const size_t value = found + 4;
    const size_t close = text.find('"', value);
    if (close == std::string::npos) break;
    out.append(text, at, close - at);
    const bool whole = close > value && std::all_of(text.begin() + static_cast<long>(value),
                                                    text.begin() + static_cast<long>(close),
                                                    [](char c) { return std::isdigit(c) != 0; });
    if (whole) out += ".0";
    at = close;
  }
  out.append(text, at, std::string::npos);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- LiveMetrics

LiveMetrics::LiveMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      submitted_(Register<prometheus::Counter>(*registry_, "orchsim_requests_submitted_total",
                                               "Client requests submitted")),
      requests_(Register<prometheus::Counter>(*registry_, "orchsim_requests_total",
                                              "Client requests by terminal outcome")),
      calls_(Register<prometheus::Counter>(*registry_, "orchsim_upstream_calls_total",
                                           "Upstream calls sent, by kind")),
      responses_(Register<prometheus::Counter>(
          *registry_, "orchsim_upstream_responses_total",
          "Upstream answers by status (499 cancelled, 599 no answer)")),
      credits_(Register<prometheus::Counter>(*registry_, "orchsim_credits_total",
                                             "Quota credits charged by the upstream")),
      retries_(
          Register<prometheus::Counter>(*registry_, "orchsim_retries_total", "Retries scheduled")),
      budget_denied_(Register<prometheus::Counter>(*registry_, "orchsim_retry_budget_denied_total",
                                                   "Retries the retry budget refused")),
      breaker_trips_(Register<prometheus::Counter>(*registry_, "orchsim_breaker_trips_total",
                                                   "Circuit breaker transitions into OPEN")),
      breaker_open_(Register<prometheus::Counter>(*registry_, "orchsim_breaker_open_seconds_total",
                                                  "Seconds breakers were not CLOSED")),
      breaker_state_(Register<prometheus::Gauge>(*registry_, "orchsim_breaker_state",
                                                 "0 closed, 1 open, 2 half_open")),
      health_(Register<prometheus::Gauge>(*registry_, "orchsim_upstream_health",
                                          "0 healthy, 1 degraded, 2 unhealthy")),
      quota_remaining_(Register<prometheus::Gauge>(*registry_, "orchsim_quota_remaining",
                                                   "Quota credits remaining, as reported")),
      queue_wait_(Register<prometheus::Histogram>(*registry_, "orchsim_queue_wait_seconds",
                                                  "Time requests waited in the priority queue")),
      latency_(Register<prometheus::Histogram>(*registry_, "orchsim_request_latency_seconds",
                                               "Client request latency, arrival to completion")),
      tokens_(Register<prometheus::Gauge>(*registry_, "orchsim_bucket_tokens",
                                          "Tokens available in the API's token bucket")),
      in_flight_(Register<prometheus::Gauge>(*registry_, "orchsim_calls_in_flight",
                                             "Upstream calls holding a bulkhead slot")),
      cost_(Register<prometheus::Counter>(*registry_, "orchsim_cost_total",
                                          "Money spent on upstream calls, at the preset's prices")),
      upstream_latency_(Register<prometheus::Histogram>(
          *registry_, "orchsim_upstream_latency_seconds", "Upstream call latency, send to answer")),
      data_age_(Register<prometheus::Histogram>(*registry_, "orchsim_data_age_seconds",
                                                "Age of the data handed out")),
      quota_limit_(Register<prometheus::Gauge>(*registry_, "orchsim_quota_limit",
                                               "Quota limit, as reported")),
      quota_exhausted_(Register<prometheus::Gauge>(*registry_, "orchsim_quota_exhausted",
                                                   "1 while the quota refuses calls")),
      quota_exhaustions_(
          Register<prometheus::Counter>(*registry_, "orchsim_quota_exhaustions_total",
                                        "Answers whose quota headers first reported 0 remaining")),
      pending_(Register<prometheus::Gauge>(*registry_, "orchsim_requests_pending",
                                           "Client requests not yet ended")),
      http_responses_(Register<prometheus::Counter>(*registry_, "orchsim_http_responses_total",
                                                    "Answers the sidecar sent, by HTTP status")),
      reloads_(Register<prometheus::Counter>(*registry_, "orchsim_config_reloads_total",
                                             "Configuration reloads (SIGHUP) by result")),
      ready_(Register<prometheus::Gauge>(*registry_, "orchsim_ready",
                                         "1 while the sidecar is ready for traffic")) {
  reloads_.Add({{"result", "ok"}});
  reloads_.Add({{"result", "error"}});
  ready_.Add({}).Set(0);
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
  return CanonicalBounds(prometheus::TextSerializer().Serialize(registry_->Collect()));
}

// ---------------------------------------------------------------- CoreMetrics

CoreMetrics::CoreMetrics(LiveMetrics& metrics, std::string variant, const Clock& clock)
    : m_(metrics), variant_(std::move(variant)), clock_(clock) {
  for (Priority p : kAllPriorities) {
    const std::string name(PriorityName(p));
    wait_by_priority_[PriorityIndex(p)] =
        &m_.queue_wait_.Add(With({{"priority", name}}), SharedBuckets());
    latency_by_priority_[PriorityIndex(p)] =
        &m_.latency_.Add(With({{"priority", name}}), SharedBuckets());
  }
  m_.pending_.Add(With({})).Set(0);
}

prometheus::Labels CoreMetrics::With(prometheus::Labels labels) const {
  labels.emplace("variant", variant_);
  return labels;
}

CoreMetrics::ApiMetrics& CoreMetrics::Api(const std::string& api) {
  auto it = apis_.find(api);
  if (it != apis_.end()) return it->second;
  ApiMetrics& a = apis_[api];
  for (int i = 0; i < kOutcomeCount; ++i) {
    a.outcomes[i] = &m_.requests_.Add(
        With({{"api", api}, {"outcome", std::string(OutcomeName(static_cast<Outcome>(i)))}}));
  }
  for (Priority p : kAllPriorities) {
    a.submitted[PriorityIndex(p)] =
        &m_.submitted_.Add(With({{"api", api}, {"priority", std::string(PriorityName(p))}}));
  }
  a.upstream_latency = &m_.upstream_latency_.Add(With({{"api", api}}), SharedBuckets());
  a.data_age = &m_.data_age_.Add(With({{"api", api}}), AgeBuckets());
  a.retries = &m_.retries_.Add(With({{"api", api}}));
  a.budget_denied = &m_.budget_denied_.Add(With({{"api", api}}));
  a.credits = &m_.credits_.Add(With({{"api", api}}));
  a.cost = &m_.cost_.Add(With({{"api", api}}));
  a.exhaustions = &m_.quota_exhaustions_.Add(With({{"api", api}}));
  a.health = &m_.health_.Add(With({{"api", api}}));
  return a;
}

CoreMetrics::BreakerMetrics& CoreMetrics::Breaker(const std::string& name) {
  auto it = breakers_.find(name);
  if (it != breakers_.end()) return it->second;
  BreakerMetrics& b = breakers_[name];
  b.trips = &m_.breaker_trips_.Add(With({{"breaker", name}}));
  b.open_seconds = &m_.breaker_open_.Add(With({{"breaker", name}}));
  b.state = &m_.breaker_state_.Add(With({{"breaker", name}}));
  return b;
}

void CoreMetrics::OnSubmitted(const Request& request, Instant /*now*/) {
  Api(request.api).submitted[PriorityIndex(request.priority)]->Increment();
}

void CoreMetrics::OnCompleted(const Request& request, const Result& result, Instant now) {
  ApiMetrics& a = Api(request.api);
  a.outcomes[static_cast<int>(result.outcome)]->Increment();
  wait_by_priority_[PriorityIndex(request.priority)]->Observe(Seconds(result.queue_wait));
  latency_by_priority_[PriorityIndex(request.priority)]->Observe(
      Seconds(now - request.submitted_at));
  if (result.body && result.fetched_at != Instant::Epoch()) {
    a.data_age->Observe(Seconds(now - result.fetched_at));
  }
}

void CoreMetrics::OnCallSent(const UpstreamCall& call, Instant /*now*/) {
  ApiMetrics& a = Api(call.api);
  prometheus::Counter*& counter = a.calls[static_cast<int>(call.kind)];
  if (counter == nullptr) {
    counter =
        &m_.calls_.Add(With({{"api", call.api}, {"kind", std::string(CallKindName(call.kind))}}));
  }
  counter->Increment();
}

void CoreMetrics::OnCallAnswered(const UpstreamCall& call, const Response& response, bool /*late*/,
                                 Instant /*now*/) {
  ApiMetrics& a = Api(call.api);
  auto it = a.responses_by_status.find(response.status);
  if (it == a.responses_by_status.end()) {
    it = a.responses_by_status
             .emplace(response.status,
                      &m_.responses_.Add(
                          With({{"api", call.api}, {"status", std::to_string(response.status)}})))
             .first;
  }
  it->second->Increment();
  if (response.status != kStatusCancelled) a.upstream_latency->Observe(Seconds(response.latency));
  const double credits = response.credits_charged;
  if (credits > 0 && credits <= kMaxCreditsPerCall) a.credits->Increment(credits);
  if (const std::optional<bool> exhausted = QuotaExhaustedPerHeaders(response, clock_.wall_now())) {
    if (*exhausted && !a.exhausted_per_headers) a.exhaustions->Increment();
    a.exhausted_per_headers = *exhausted;
  }
}

void CoreMetrics::OnBreakerTransition(const BreakerTransition& transition) {
  BreakerMetrics& b = Breaker(transition.breaker);
  if (transition.to == BreakerState::kOpen) b.trips->Increment();
  if (transition.to == BreakerState::kClosed) {
    if (b.not_closed_since) {
      b.open_seconds->Increment(Seconds(transition.at - *b.not_closed_since));
    }
    b.not_closed_since.reset();
  } else if (!b.not_closed_since) {
    b.not_closed_since = transition.at;
  }
  b.state->Set(BreakerStateGauge(transition.to));
}

void CoreMetrics::OnRetryScheduled(const Request& request, int /*attempt*/, Duration /*delay*/,
                                   Instant /*now*/) {
  Api(request.api).retries->Increment();
}

void CoreMetrics::OnRetryBudgetDenied(const Request& request, Instant /*now*/) {
  Api(request.api).budget_denied->Increment();
}

void CoreMetrics::OnHealthChanged(const std::string& api, HealthState /*from*/, HealthState to,
                                  Instant /*now*/) {
  Api(api).health->Set(HealthGauge(to));
}

void CoreMetrics::Sample(const Orchestrator& core, const std::vector<std::string>& apis,
                         Instant now) {
  for (const std::string& api : apis) {
    ApiMetrics& a = Api(api);
    if (const QuotaTracker* quota = core.quota(api)) {
      const QuotaSnapshot snapshot = quota->SnapshotAt(now);
      if (snapshot.remaining)
        m_.quota_remaining_.Add(With({{"api", api}})).Set(*snapshot.remaining);
      if (snapshot.limit) m_.quota_limit_.Add(With({{"api", api}})).Set(*snapshot.limit);
      m_.quota_exhausted_.Add(With({{"api", api}})).Set(quota->exhausted(now) ? 1 : 0);
    }
    if (const TokenBucket* bucket = core.bucket(api)) {
      const double available = bucket->available(now);
      if (std::isfinite(available)) m_.tokens_.Add(With({{"api", api}})).Set(available);
    }
    if (const ConcurrencyLimiter* bulkhead = core.bulkhead(api)) {
      m_.in_flight_.Add(With({{"api", api}})).Set(bulkhead->in_flight());
    }
    const double money = core.cost().ForApi(api).money;
    if (money > a.cost_seen) a.cost->Increment(money - a.cost_seen);
    a.cost_seen = std::max(a.cost_seen, money);
  }
  for (const auto& [name, breaker] : core.breakers().breakers()) {
    BreakerMetrics& b = Breaker(name);
    b.state->Set(BreakerStateGauge(breaker.state()));
    if (b.not_closed_since && now > *b.not_closed_since) {
      b.open_seconds->Increment(Seconds(now - *b.not_closed_since));
      b.not_closed_since = now;
    }
  }
  m_.pending_.Add(With({})).Set(static_cast<double>(core.pending_requests()));
}

}  // namespace orchsim::live
