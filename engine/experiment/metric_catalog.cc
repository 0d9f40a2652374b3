#include "engine/experiment/metric_catalog.h"

#include <set>

namespace orchsim::experiment {
namespace {

double Seconds(Duration d) { return static_cast<double>(d.micros()) / 1e6; }

double Percent(double part, double whole) { return whole == 0.0 ? 0.0 : 100.0 * part / whole; }

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

namespace {

// The statistics every latency and wait family has, in catalog order.
constexpr const char* kQuantileNames[] = {"p50", "p90", "p99", "max", "mean"};

double Statistic(const Histogram& h, const std::string& which) {
  if (which == "p50") return Seconds(h.Quantile(0.5));
  if (which == "p90") return Seconds(h.Quantile(0.9));
  if (which == "p99") return Seconds(h.Quantile(0.99));
  if (which == "max") return Seconds(h.max());
  return h.mean() / 1e6;  // mean, exact, microseconds to seconds
}

// The call-balance terms, by catalog name.
constexpr const char* kAvoidedNames[] = {"cache_hits", "stale_answers", "coalescing", "batching"};

}  // namespace

std::vector<MetricInfo> MetricCatalog(const std::vector<std::string>& api_names) {
  std::vector<MetricInfo> c = {
      {"requests", "count", "client requests submitted"},
      {"upstream_calls", "count", "calls sent to all upstreams (every kind)"},
  };
  for (const std::string& api : api_names) {
    c.push_back({"calls." + api, "count", "calls sent to upstream " + api});
  }
  c.push_back({"calls_saved", "count",
               "baseline's upstream calls minus this run's (failures without a call included)"});
  c.push_back({"calls_saved_pct", "%", "calls_saved / baseline upstream calls x 100"});
  c.push_back({"calls_avoided", "count", "requests served without an upstream call of their own"});
  for (const char* m : kAvoidedNames) {
    c.push_back({std::string("calls_avoided.") + m, "count",
                 std::string("requests served without a call of their own: ") + m});
  }
  c.push_back({"failed_without_call", "count",
               "requests that failed before any upstream call (not a saving)"});
  c.push_back({"calls_added", "count", "retry, hedge, probe and prefetch calls"});
  c.push_back(
      {"calls_other", "count", "upstream calls the call balance does not explain (metrics.h)"});
  c.push_back({"credits", "credits", "quota credits charged, all upstreams"});
  for (const std::string& api : api_names) {
    c.push_back({"credits." + api, "credits", "quota credits charged by upstream " + api});
  }
  c.push_back({"cost", "money", "cost as priced by the policy's cost tracker"});
  c.push_back({"breaker_trips", "count", "circuit breaker transitions into OPEN"});
  c.push_back({"breaker_open_s", "s", "time breakers were not CLOSED, summed over breakers"});
  c.push_back({"retries", "count", "retries scheduled"});
  c.push_back({"retry_budget_denied", "count", "retries the retry budget refused"});
  c.push_back({"quota_exhausted_s", "s", "time upstream quotas were exhausted"});
  c.push_back({"quota_refused_calls", "count",
               "upstream calls the upstreams refused for quota (not outcome.rejected_quota)"});
  c.push_back({"client_failures", "count", "requests that got no data"});
  c.push_back({"client_failures_pct", "%", "client_failures / requests x 100"});
  for (int i = 0; i < kOutcomeCount; ++i) {
    const std::string outcome(OutcomeName(static_cast<Outcome>(i)));
    c.push_back({"outcome." + outcome, "count", "requests that ended " + outcome});
  }
  c.push_back({"outdated_fraction", "fraction",
               "answers with data the upstream had already replaced / answers with data"});
  for (const char* q : {"p50", "p90", "p99"}) {
    c.push_back({std::string("data_age_") + q + "_s", "s",
                 std::string("age of the data handed out, ") + q});
  }
  for (const char* q : kQuantileNames) {
    for (Priority p : kAllPriorities) {
      const std::string priority(PriorityName(p));
      c.push_back({std::string("wait_") + q + "_s." + priority, "s",
                   std::string("queue wait of ") + priority + " requests, " + q});
    }
  }
  for (Priority p : kAllPriorities) {
    const std::string priority(PriorityName(p));
    c.push_back({"waited_fraction." + priority, "fraction",
                 "share of " + priority + " requests that waited in the queue (wait > 0)"});
  }
  for (const char* q : kQuantileNames) {
    c.push_back({std::string("latency_") + q + "_s", "s",
                 std::string("end-to-end latency (submit to outcome), all requests, ") + q});
    for (Priority p : kAllPriorities) {
      const std::string priority(PriorityName(p));
      c.push_back({std::string("latency_") + q + "_s." + priority, "s",
                   std::string("end-to-end latency of ") + priority + " requests, " + q});
    }
  }
  for (const char* q : kQuantileNames) {
    for (const std::string& api : api_names) {
      c.push_back({std::string("api_latency_") + q + "_s." + api, "s",
                   "end-to-end latency of requests to upstream " + api + ", " + q});
    }
  }
  // Overload (overload_metrics.h).
  c.push_back({"goodput_per_s", "per_s",
               "requests answered with fresh data (served, coalesced, cache hit) per second"});
  c.push_back({"retry_amplification", "ratio", "upstream calls the core sent per client request"});
  c.push_back({"hedges", "count", "hedge calls sent"});
  c.push_back({"hedges_denied", "count",
               "hedges not sent (a gate, retry throttling or the hedge budget refused)"});
  c.push_back({"retries_throttled", "count", "retries retry throttling refused"});
  c.push_back({"calls_cancelled", "count", "calls the core abandoned and cancelled"});
  c.push_back({"wasted_work_s", "s",
               "upstream service time spent on answers nobody waited for (upstreams with "
               "capacity)"});
  c.push_back({"capacity_refused", "count", "calls upstreams refused at once for a full queue"});
  c.push_back({"duplicate_calls", "count",
               "calls one replica sent while another had a call for the same key in flight"});
  c.push_back({"recovery_s", "s",
               "time from the trigger's end until goodput recovered; 1e9 = never, 0 without a "
               "trigger"});
  c.push_back(
      {"recovered", "flag", "1 when goodput recovered after the trigger (or there is none)"});
  for (const std::string& api : api_names) {
    c.push_back({"utilisation." + api, "fraction",
                 "busy servers / servers of upstream " + api + " (0 without capacity)"});
    c.push_back({"queue_mean." + api, "count", "mean calls waiting at upstream " + api});
    c.push_back({"queue_max." + api, "count", "most calls waiting at upstream " + api});
    c.push_back({"wasted_work_s." + api, "s",
                 "service time of upstream " + api + " spent on answers nobody waited for"});
    c.push_back({"upstream_goodput." + api, "count",
                 "2xx answers of upstream " + api + " to a waiting client by the call's deadline"});
  }
  return c;
}

MetricValues FlattenMetrics(const VariantRun& run, const VariantRun* baseline) {
  const VariantMetrics& m = run.metrics;
  MetricValues v;
  const double requests = static_cast<double>(m.submitted);
  v["requests"] = requests;
  v["upstream_calls"] = static_cast<double>(m.upstream_calls);
  std::set<std::string> apis;
  for (const auto& [name, summary] : run.upstreams) apis.insert(name);
  for (const auto& [name, api] : m.apis) apis.insert(name);
  static const ApiCallMetrics kNoCalls;
  static const UpstreamLoad kNoLoad;
  for (const std::string& api : apis) {
    auto it = m.apis.find(api);
    const ApiCallMetrics& a = it == m.apis.end() ? kNoCalls : it->second;
    v["calls." + api] = static_cast<double>(a.calls);
    auto load_it = run.overload.upstreams.find(api);
    const UpstreamLoad& load = load_it == run.overload.upstreams.end() ? kNoLoad : load_it->second;
    v["utilisation." + api] = load.utilisation();
    v["queue_mean." + api] = load.mean_waiting();
    v["queue_max." + api] = static_cast<double>(load.max_waiting);
    v["wasted_work_s." + api] = Seconds(load.wasted_time);
    v["upstream_goodput." + api] = static_cast<double>(load.goodput);
    v["credits." + api] = a.credits;
    for (const char* q : kQuantileNames) {
      v[std::string("api_latency_") + q + "_s." + api] = Statistic(a.latency, q);
    }
  }
  double saved = 0.0;
  double saved_pct = 0.0;
  if (baseline != nullptr) {
    const double base_calls = static_cast<double>(baseline->metrics.upstream_calls);
    saved = base_calls - static_cast<double>(m.upstream_calls);
    saved_pct = Percent(saved, base_calls);
  }
  v["calls_saved"] = saved;
  v["calls_saved_pct"] = saved_pct;
  const RequestAccounting& a = m.accounting;
  const CallBalance balance = m.balance();
  v["calls_avoided"] = static_cast<double>(balance.served_without_call);
  v["calls_avoided.cache_hits"] = static_cast<double>(a.cache_hits);
  v["calls_avoided.stale_answers"] = static_cast<double>(a.stale_without_call);
  v["calls_avoided.coalescing"] = static_cast<double>(a.coalesced);
  v["calls_avoided.batching"] = static_cast<double>(a.batched_keys);
  v["failed_without_call"] = static_cast<double>(balance.failed_without_call);
  v["calls_added"] = static_cast<double>(balance.added);
  v["calls_other"] = static_cast<double>(balance.other);
  v["credits"] = m.credits;
  v["cost"] = m.cost;
  v["breaker_trips"] = static_cast<double>(m.breaker_trips);
  v["breaker_open_s"] = Seconds(m.breaker_open_time);
  v["retries"] = static_cast<double>(m.retries);
  v["retry_budget_denied"] = static_cast<double>(m.retry_budget_denied);
  v["quota_exhausted_s"] = Seconds(m.quota_exhausted_time);
  uint64_t refused = 0;
  for (const auto& [name, u] : run.upstreams) refused += u.quota_rejected;
  v["quota_refused_calls"] = static_cast<double>(refused);
  const double failures = static_cast<double>(m.client_failures());
  v["client_failures"] = failures;
  v["client_failures_pct"] = Percent(failures, requests);
  for (int i = 0; i < kOutcomeCount; ++i) {
    v["outcome." + std::string(OutcomeName(static_cast<Outcome>(i)))] =
        static_cast<double>(m.outcomes[i]);
  }
  v["outdated_fraction"] = m.outdated_fraction();
  v["data_age_p50_s"] = Seconds(m.data_age.Quantile(0.5));
  v["data_age_p90_s"] = Seconds(m.data_age.Quantile(0.9));
  v["data_age_p99_s"] = Seconds(m.data_age.Quantile(0.99));
  for (const char* q : kQuantileNames)
    v[std::string("latency_") + q + "_s"] = Statistic(m.latency, q);
  for (Priority p : kAllPriorities) {
    const int i = PriorityIndex(p);
    const std::string priority(PriorityName(p));
    for (const char* q : kQuantileNames) {
      v[std::string("wait_") + q + "_s." + priority] = Statistic(m.wait_by_priority[i], q);
      v[std::string("latency_") + q + "_s." + priority] = Statistic(m.latency_by_priority[i], q);
    }
    const uint64_t n = m.wait_by_priority[i].count();
    v["waited_fraction." + priority] =
        n == 0 ? 0.0 : static_cast<double>(m.waited_by_priority[i]) / static_cast<double>(n);
  }
  const OverloadMetrics& o = run.overload;
  const double goodput = static_cast<double>(
      m.outcome(Outcome::kServed) + m.outcome(Outcome::kCoalesced) + m.outcome(Outcome::kCacheHit));
  const double counted_s = Seconds(o.counted);
  v["goodput_per_s"] = counted_s > 0.0 ? goodput / counted_s : 0.0;
  v["retry_amplification"] =
      requests == 0.0 ? 0.0 : static_cast<double>(m.upstream_calls) / requests;
  v["hedges"] = static_cast<double>(m.calls_of_kind(CallKind::kHedge));
  v["hedges_denied"] = static_cast<double>(o.hedges_denied);
  v["retries_throttled"] = static_cast<double>(o.retries_throttled);
  v["calls_cancelled"] = static_cast<double>(o.calls_cancelled);
  v["wasted_work_s"] = Seconds(o.wasted_time());
  v["capacity_refused"] = static_cast<double>(o.capacity_refused());
  v["duplicate_calls"] = static_cast<double>(o.duplicate_calls);
  v["recovery_s"] = o.recovery.recovery_s();
  v["recovered"] = !o.recovery.measured || o.recovery.recovered ? 1.0 : 0.0;
  return v;
}

UnknownMetricError::UnknownMetricError(const std::string& name,
                                       const std::vector<std::string>& known)
    : std::invalid_argument("unknown metric \"" + name + "\"; known metrics: " + JoinNames(known)) {
}

double LookupMetric(const MetricValues& values, const std::string& name) {
  RequireMetric(values, name);
  return values.at(name);
}

void RequireMetric(const MetricValues& values, const std::string& name) {
  if (values.count(name) != 0) return;
  std::vector<std::string> known;
  for (const auto& [n, value] : values) known.push_back(n);
  throw UnknownMetricError(name, known);
}

const MetricInfo& FindMetricInfo(const std::vector<MetricInfo>& catalog, const std::string& name) {
  for (const MetricInfo& info : catalog) {
    if (info.name == name) return info;
  }
  std::vector<std::string> known;
  for (const MetricInfo& info : catalog) known.push_back(info.name);
  throw UnknownMetricError(name, known);
}

}  // namespace orchsim::experiment
