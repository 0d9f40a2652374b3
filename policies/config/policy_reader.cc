#include "policies/config/policy_reader.h"

#include <string>
#include <vector>

namespace orchsim::config {
namespace {

const std::map<std::string, Priority>& PriorityChoices() {
  static const std::map<std::string, Priority> choices = {
      {"CRITICAL", Priority::kCritical}, {"HIGH", Priority::kHigh},
      {"NORMAL", Priority::kNormal},     {"LOW", Priority::kLow},
      {"PREFETCH", Priority::kPrefetch},
  };
  return choices;
}

void ReadBucket(ObjectReader& r, TokenBucketConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Number("rate_per_s", &c->rate_per_s, false, 0);
  r.Number("burst", &c->burst, false, 0);
  r.Number("cost_per_call", &c->cost_per_call, false, 0);
  r.ObjectArray("reserves", &c->reserves, [](ObjectReader& e, TokenReserve* reserve) {
    ReadPriority(e, "min_priority", &reserve->min_priority, true);
    e.Number("tokens", &reserve->tokens, true, 0);
  });
}

void ReadQuota(ObjectReader& r, QuotaConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Enum("mode", &c->mode,
         {{"off", QuotaMode::kOff}, {"pace", QuotaMode::kPace}, {"aimd", QuotaMode::kAimd}});
  r.Number("critical_floor", &c->critical_floor, false, 0);
  r.Dur("max_retry_after", &c->max_retry_after);
  r.Dur("assumed_period", &c->assumed_period, false, Microseconds(1));
  if (r.Has("assumed_period_start")) {
    Instant start;
    r.Inst("assumed_period_start", &start, true);
    c->assumed_period_start = start;
  } else {
    r.Allow("assumed_period_start");
  }
  r.Dur("max_reset_horizon", &c->max_reset_horizon, false, Microseconds(1));
  r.Dur("unknown_reset_recheck", &c->unknown_reset_recheck, false, Microseconds(1));
  r.Dur("aimd_window", &c->aimd_window, false, Microseconds(1));
  r.Number("aimd_initial_rate_per_s", &c->aimd_initial_rate_per_s, false, 0);
  r.Number("aimd_min_rate_per_s", &c->aimd_min_rate_per_s, false, 0);
  r.Number("aimd_max_rate_per_s", &c->aimd_max_rate_per_s, false, 0);
  r.Number("aimd_additive_increase_per_s", &c->aimd_additive_increase_per_s, false, 0);
  r.Number("aimd_multiplicative_decrease", &c->aimd_multiplicative_decrease, false, 0, 1);
}

void ReadQueue(ObjectReader& r, RequestQueueConfig* c) {
  int64_t capacity = static_cast<int64_t>(c->capacity);
  r.Int("capacity", &capacity, false, 0);
  c->capacity = static_cast<size_t>(capacity);
  r.Bool("escalation_enabled", &c->escalation_enabled);
  r.IfObject("escalate_after", [&](ObjectReader& o) {
    for (const auto& [name, priority] : PriorityChoices()) {
      if (priority == Priority::kCritical) continue;
      o.Dur(name, &c->escalate_after[PriorityIndex(priority)], false, Microseconds(1));
    }
  });
  r.ObjectArray("game_rules", &c->game_rules, [](ObjectReader& e, GameEscalationRule* rule) {
    e.Dur("within", &rule->within, true, Microseconds(1));
    ReadPriority(e, "to", &rule->to, true);
  });
  r.Bool("escalate_prefetch", &c->escalate_prefetch);
}

void ReadCache(ObjectReader& r, CacheConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.ObjectArray("rules", &c->rules, [](ObjectReader& e, TtlRule* rule) {
    e.String("endpoint", &rule->endpoint_pattern, true);
    e.Dur("ttl", &rule->ttl, true, Microseconds(1));
    e.ObjectArray("near_game", &rule->near_game, [](ObjectReader& s, TtlStep* step) {
      s.Dur("before_start", &step->before_start, true);
      s.Dur("ttl", &step->ttl, true, Microseconds(1));
    });
    if (e.Has("live_ttl")) {
      Duration live;
      e.Dur("live_ttl", &live, true, Microseconds(1));
      rule->live_ttl = live;
    } else {
      e.Allow("live_ttl");  // listed among the accepted keys in unknown-key errors
    }
  });
  r.Dur("default_ttl", &c->default_ttl, false, Microseconds(1));
  r.Dur("game_length", &c->game_length, false, Microseconds(1));
  r.Bool("stale_if_error", &c->stale_if_error);
  r.Dur("stale_max_age", &c->stale_max_age);
}

// The bounds of the one cache every API shares: top level only.
void ReadCacheStore(ObjectReader& r, CacheStoreConfig* store) {
  if (store == nullptr) {
    for (const char* key : {"max_entries", "max_bytes"}) {
      if (r.Has(key)) {
        r.Fail(key, std::string("bounds the one cache every API shares; set it in the top-level "
                                "\"cache\", not per API or endpoint"));
      }
    }
    return;
  }
  int64_t max_entries = static_cast<int64_t>(store->max_entries);
  r.Int("max_entries", &max_entries, false, 1);
  store->max_entries = static_cast<size_t>(max_entries);
  int64_t max_bytes = static_cast<int64_t>(store->max_bytes);
  r.Int("max_bytes", &max_bytes, false, 1);
  store->max_bytes = static_cast<size_t>(max_bytes);
}

void ReadPrefetch(ObjectReader& r, PrefetchConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Durs("offsets", &c->offsets);
  r.ObjectArray("targets", &c->targets, [](ObjectReader& e, PrefetchTarget* target) {
    e.String("api", &target->api, true);
    e.String("endpoint", &target->endpoint, true);
    e.String("key", &target->key_template, true);
    e.Bool("batchable", &target->batchable);
  });
  r.Bool("deadline_at_kickoff", &c->deadline_at_kickoff);
}

void ReadBreaker(ObjectReader& r, CircuitBreakerConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Bool("per_endpoint", &c->per_endpoint);
  r.Enum("trigger", &c->trigger,
         {{"consecutive_failures", BreakerTrigger::kConsecutiveFailures},
          {"failure_rate", BreakerTrigger::kFailureRate}});
  r.Int("failure_threshold", &c->failure_threshold, false, 1);
  r.Number("failure_rate_threshold", &c->failure_rate_threshold, false, 0, 1);
  r.Dur("window", &c->window, false, Microseconds(1));
  r.Int("minimum_calls", &c->minimum_calls, false, 1);
  r.Dur("slow_call_threshold", &c->slow_call_threshold, false, Microseconds(1));
  r.Bool("slow_calls_are_failures", &c->slow_calls_are_failures);
  r.Dur("open_wait", &c->open_wait, false, Microseconds(1));
  r.Number("open_wait_multiplier", &c->open_wait_multiplier, false, 1);
  r.Dur("max_open_wait", &c->max_open_wait, false, Microseconds(1));
  r.Int("half_open_permitted_calls", &c->half_open_permitted_calls, false, 1);
  r.Int("half_open_success_threshold", &c->half_open_success_threshold, false, 1);
  r.Ints("failure_statuses", &c->failure_statuses);
}

void ReadRetry(ObjectReader& r, RetryConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Int("max_attempts", &c->max_attempts, false, 1);
  r.Enum("backoff", &c->backoff,
         {{"none", BackoffKind::kNone},
          {"constant", BackoffKind::kConstant},
          {"exponential", BackoffKind::kExponential},
          {"equal_jitter", BackoffKind::kEqualJitter},
          {"full_jitter", BackoffKind::kFullJitter},
          {"decorrelated_jitter", BackoffKind::kDecorrelatedJitter}});
  r.Dur("base", &c->base);
  r.Dur("cap", &c->cap);
  r.Bool("honour_retry_after", &c->honour_retry_after);
  r.Dur("max_retry_after", &c->max_retry_after);
  r.Ints("retryable_statuses", &c->retryable_statuses);
}

void ReadRetryBudget(ObjectReader& r, RetryBudgetConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Number("ratio", &c->ratio, false, 0);
  r.Number("min_retries_per_s", &c->min_retries_per_s, false, 0);
  r.Dur("window", &c->window, false, Microseconds(1));
}

void ReadHealth(ObjectReader& r, HealthConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Dur("window", &c->window, false, Microseconds(1));
  r.Int("min_samples", &c->min_samples, false, 1);
  r.Number("degraded_error_rate", &c->degraded_error_rate, false, 0, 1);
  r.Number("unhealthy_error_rate", &c->unhealthy_error_rate, false, 0, 1);
  r.Dur("degraded_latency", &c->degraded_latency, false, Microseconds(1));
  r.Number("latency_percentile", &c->latency_percentile, false, 0, 100);
  r.Bool("active_probes", &c->active_probes);
  r.Bool("probe_only_when_unhealthy", &c->probe_only_when_unhealthy);
  r.Dur("probe_interval", &c->probe_interval, false, Microseconds(1));
  r.String("probe_endpoint", &c->probe_endpoint);
}

void ReadCost(ObjectReader& r, CostConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.IfObject("prices", [&](ObjectReader& prices) {
    for (const std::string& api : r.Keys("prices")) {
      prices.IfObject(api, [&](ObjectReader& p) {
        CostPrice& price = c->price_by_api[api];
        p.Number("per_call", &price.per_call, false, 0);
        p.Number("per_credit", &price.per_credit, false, 0);
      });
    }
  });
}

// The settings of one endpoint's calls (CallPolicy). `store`: the shared
// cache's bounds, read from the top-level "cache" only (nullptr elsewhere).
void ReadCallKeys(ObjectReader& r, CallPolicy* c, CacheStoreConfig* store) {
  r.IfObject("cache", [&](ObjectReader& o) {
    ReadCache(o, &c->cache);
    ReadCacheStore(o, store);
  });
  r.IfObject("coalescer", [&](ObjectReader& o) { o.Bool("enabled", &c->coalescer.enabled); });
  r.IfObject("batcher", [&](ObjectReader& o) {
    o.Bool("enabled", &c->batcher.enabled);
    o.Dur("window", &c->batcher.window, false, Microseconds(1));
    int64_t size = static_cast<int64_t>(c->batcher.max_batch_size);
    o.Int("max_batch_size", &size, false, 1);
    c->batcher.max_batch_size = static_cast<size_t>(size);
  });
  r.IfObject("breaker", [&](ObjectReader& o) { ReadBreaker(o, &c->breaker); });
  r.IfObject("retry", [&](ObjectReader& o) { ReadRetry(o, &c->retry); });
  r.IfObject("timeouts", [&](ObjectReader& o) {
    o.Bool("enabled", &c->timeouts.enabled);
    o.Dur("per_attempt", &c->timeouts.per_attempt, false, Microseconds(1));
    o.Dur("overall", &c->timeouts.overall, false, Microseconds(1));
    o.Dur("min_attempt", &c->timeouts.min_attempt);
  });
  r.IfObject("hedging", [&](ObjectReader& o) {
    HedgeConfig& h = c->hedging;
    o.Bool("enabled", &h.enabled);
    o.Dur("delay", &h.delay, false, Microseconds(1));
    o.Int("max_hedges", &h.max_hedges, false, 1, kMaxHedges);
    o.Number("budget_ratio", &h.budget_ratio, false, 0);
    o.Number("budget_min_per_s", &h.budget_min_per_s, false, 0);
    o.Dur("budget_window", &h.budget_window, false, Seconds(1));
  });
  r.Number("expected_credits_per_call", &c->expected_credits_per_call, false, 0);
}

// The settings of one API (ApiPolicy) but its endpoints.
void ReadApiKeys(ObjectReader& r, ApiPolicy* a, CacheStoreConfig* store) {
  ReadCallKeys(r, a, store);
  r.IfObject("bucket", [&](ObjectReader& o) { ReadBucket(o, &a->bucket); });
  r.IfObject("quota", [&](ObjectReader& o) { ReadQuota(o, &a->quota); });
  r.IfObject("retry_budget", [&](ObjectReader& o) { ReadRetryBudget(o, &a->retry_budget); });
  r.IfObject("concurrency", [&](ObjectReader& o) {
    o.Bool("enabled", &a->concurrency.enabled);
    o.Int("max_in_flight", &a->concurrency.max_in_flight, false, 1);
  });
  r.IfObject("adaptive_throttling", [&](ObjectReader& o) {
    AdaptiveThrottleConfig& t = a->adaptive_throttling;
    o.Bool("enabled", &t.enabled);
    o.Number("k", &t.k, false, 1);
    o.Dur("window", &t.window, false, Seconds(1));
    o.Number("max_reject_probability", &t.max_reject_probability, false, 0, 1);
    o.Ints("overload_statuses", &t.overload_statuses);
  });
  r.IfObject("retry_throttling", [&](ObjectReader& o) {
    o.Bool("enabled", &a->retry_throttling.enabled);
    o.Number("max_tokens", &a->retry_throttling.max_tokens, false, 0);
    o.Number("token_ratio", &a->retry_throttling.token_ratio, false, 0);
  });
  r.IfObject("adaptive_concurrency", [&](ObjectReader& o) {
    AdaptiveConcurrencyConfig& ac = a->adaptive_concurrency;
    o.Bool("enabled", &ac.enabled);
    o.Enum(
        "algorithm", &ac.algorithm,
        {{"aimd", ConcurrencyAlgorithm::kAimd}, {"gradient2", ConcurrencyAlgorithm::kGradient2}});
    o.Int("initial_limit", &ac.initial_limit, false, 1);
    o.Int("min_limit", &ac.min_limit, false, 1);
    o.Int("max_limit", &ac.max_limit, false, 1);
    o.Dur("latency_threshold", &ac.latency_threshold, false, Microseconds(1));
    o.Number("backoff_ratio", &ac.backoff_ratio, false, 0, 1);
    o.Number("smoothing", &ac.smoothing, false, 0, 1);
    o.Number("rtt_tolerance", &ac.rtt_tolerance, false, 1);
    o.Int("long_window", &ac.long_window, false, 1);
    o.Int("queue_size", &ac.queue_size, false, 0);
  });
}

}  // namespace

void ReadPriority(ObjectReader& reader, const std::string& key, Priority* out, bool required) {
  reader.Enum(key, out, PriorityChoices(), required);
}

OrchestratorConfig ResolvePolicy(const Json& policy, const std::string& file,
                                 const std::string& path) {
  OrchestratorConfig c;
  ObjectReader r(policy, path, file);
  if (path.empty()) {  // a whole preset file
    std::string ignored;
    r.String("$schema", &ignored);  // for editors (scenarios/schema/policy.schema.json)
    r.String("description", &ignored);
  }
  // The defaults layer: the top-level per-API keys, then "default_api".
  ReadApiKeys(r, &c.defaults, &c.cache_store);
  r.IfObject("default_api", [&](ObjectReader& o) { ReadApiKeys(o, &c.defaults, nullptr); });
  r.IfObject("queue", [&](ObjectReader& o) { ReadQueue(o, &c.queue); });
  r.IfObject("prefetch", [&](ObjectReader& o) { ReadPrefetch(o, &c.prefetch); });
  r.IfObject("health", [&](ObjectReader& o) { ReadHealth(o, &c.health); });
  r.IfObject("cost", [&](ObjectReader& o) { ReadCost(o, &c.cost); });
  // Each API starts from the resolved defaults, each endpoint from its API.
  r.IfObject("apis", [&](ObjectReader& apis) {
    for (const std::string& name : r.Keys("apis")) {
      ApiPolicy api = c.defaults;
      apis.IfObject(name, [&](ObjectReader& o) {
        ReadApiKeys(o, &api, nullptr);
        o.IfObject("endpoints", [&](ObjectReader& endpoints) {
          for (const std::string& endpoint : o.Keys("endpoints")) {
            CallPolicy call = api;
            endpoints.IfObject(endpoint, [&](ObjectReader& e) { ReadCallKeys(e, &call, nullptr); });
            api.endpoints.insert_or_assign(endpoint, std::move(call));
          }
        });
      });
      c.apis.insert_or_assign(name, std::move(api));
    }
  });
  r.Finish();
  return c;
}

void CheckPolicyLayer(const Json& layer, const std::string& file, const std::string& path) {
  (void)ResolvePolicy(layer, file, path);
}

Json MergePolicyLayers(Json base, const Json& overlay) {
  if (!base.is_object() || !overlay.is_object()) return overlay;
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    if (base.contains(it.key())) {
      base[it.key()] = MergePolicyLayers(std::move(base[it.key()]), it.value());
    } else {
      base[it.key()] = it.value();
    }
  }
  return base;
}

}  // namespace orchsim::config
