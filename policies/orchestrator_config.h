// orchestrator_config.h — the core's settings: a policy per upstream API,
// with per-endpoint overrides, like resilience4j's named instances or
// Envoy's per-cluster settings.
//
// Layers: `defaults` → `apis[name]` → `apis[name].endpoints[endpoint]`.
// Every layer is a complete value: an entry of `apis` starts as a copy of
// `defaults` (Api() makes one) and an endpoint entry as a copy of its API's
// CallPolicy (Endpoint() makes one); then the fields that differ are set.
// The preset loader (policies/config/) builds the layers from JSON the same
// way, whatever order the JSON names them in.
//
// What lives where:
//   - per call of an endpoint (CallPolicy; overridable per endpoint):
//     breaker, retry, timeouts (deadline propagation), cache TTL rules and
//     stale-if-error, coalescing, batching, hedging, expected credits per call;
//   - per API (ApiPolicy; shared by its endpoints, so not per endpoint):
//     token bucket, quota, bulkhead (concurrency), retry budget, adaptive
//     throttling, retry throttling, adaptive concurrency (and the hedge
//     budget, from the API's hedging settings);
//   - for the whole core (OrchestratorConfig): the priority queue rules,
//     the cache store's bounds, prefetch targets, health monitoring, prices.
//
// Breakers: an API's endpoints share the API's breaker ("odds"), except an
// endpoint whose breaker settings differ from its API's, or have
// per_endpoint set: it gets its own ("odds/scores").
#ifndef ORCHSIM_POLICIES_ORCHESTRATOR_CONFIG_H_
#define ORCHSIM_POLICIES_ORCHESTRATOR_CONFIG_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "policies/adaptive_concurrency.h"
#include "policies/adaptive_throttle.h"
#include "policies/batcher.h"
#include "policies/cache_policy.h"
#include "policies/circuit_breaker.h"
#include "policies/coalescer.h"
#include "policies/concurrency_limiter.h"
#include "policies/cost_tracker.h"
#include "policies/health_monitor.h"
#include "policies/hedging.h"
#include "policies/prefetcher.h"
#include "policies/quota_tracker.h"
#include "policies/request_queue.h"
#include "policies/response_cache.h"
#include "policies/retry.h"
#include "policies/retry_budget.h"
#include "policies/retry_throttle.h"
#include "policies/status.h"
#include "policies/timeouts.h"
#include "policies/token_bucket.h"

namespace orchsim {

// Largest credits one call may be expected to cost, or be charged: a hostile
// or broken upstream must not turn the cost totals into inf or NaN.
inline constexpr double kMaxCreditsPerCall = 1e12;

// Settings for the calls of one endpoint.
struct CallPolicy {
  CircuitBreakerConfig breaker;
  RetryConfig retry;
  TimeoutConfig timeouts;
  CacheConfig cache;
  CoalescerConfig coalescer;
  BatcherConfig batcher;
  HedgeConfig hedging;
  // Credits one call is expected to cost, for the quota check before sending
  // (the real charge comes back in the response); in [0, kMaxCreditsPerCall].
  double expected_credits_per_call = 1.0;

  // Every component's validate(); field names as in the JSON ("breaker.…").
  Status validate() const;
};

// Settings of one upstream API.
struct ApiPolicy : CallPolicy {
  TokenBucketConfig bucket;
  QuotaConfig quota;
  ConcurrencyLimitConfig concurrency;
  RetryBudgetConfig retry_budget;
  // Overload: client-side rejection when the upstream refuses (SRE adaptive
  // throttling), retries/hedges stopped while it fails (gRPC retry
  // throttling), the bulkhead sized by latency (adaptive concurrency).
  AdaptiveThrottleConfig adaptive_throttling;
  RetryThrottleConfig retry_throttling;
  AdaptiveConcurrencyConfig adaptive_concurrency;
  // Per-endpoint overrides, complete values (see the header).
  std::map<std::string, CallPolicy, std::less<>> endpoints;

  // The endpoint's entry, created from this API's CallPolicy when missing.
  CallPolicy& Endpoint(const std::string& endpoint);
  // The endpoint's entry, or this API's CallPolicy.
  const CallPolicy& ForEndpoint(std::string_view endpoint) const;
  // This API's settings and every endpoint's; endpoint fields are prefixed
  // "endpoints.<name>.".
  Status validate() const;
};

struct OrchestratorConfig {
  ApiPolicy defaults;  // apis without an entry below, and the start of each entry
  std::map<std::string, ApiPolicy, std::less<>> apis;  // by api name
  RequestQueueConfig queue;
  CacheStoreConfig cache_store;
  PrefetchConfig prefetch;
  HealthConfig health;
  CostConfig cost;

  // The api's entry, created from `defaults` when missing.
  ApiPolicy& Api(const std::string& api);
  // The api's entry, or `defaults`.
  const ApiPolicy& ForApi(std::string_view api) const;
  // Every setting; a per-API field is named "apis.<name>.<field>", a default
  // one by its field alone ("breaker.window: ...").
  Status validate() const;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_ORCHESTRATOR_CONFIG_H_
