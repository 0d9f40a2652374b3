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

std::vector<MetricInfo> MetricCatalog(const std::vector<std::string>& api_names) {
  std::vector<MetricInfo> c = {
      {"requests", "count", "client requests submitted"},
      {"upstream_calls", "count", "calls sent to all upstreams (every kind)"},
  };
  for (const std::string& api : api_names) {
    c.push_back({"calls." + api, "count", "calls sent to upstream " + api});
  }
  c.push_back({"calls_saved", "count", "baseline's upstream calls minus this run's"});
  c.push_back({"calls_saved_pct", "%", "calls_saved / baseline upstream calls x 100"});
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
  for (const char* q : {"p50", "p90", "p99", "max"}) {
    for (Priority p : kAllPriorities) {
      const std::string priority(PriorityName(p));
      c.push_back({std::string("wait_") + q + "_s." + priority, "s",
                   std::string("queue wait of ") + priority + " requests, " + q});
    }
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
  for (const std::string& api : apis) {
    auto it = m.apis.find(api);
    v["calls." + api] = it == m.apis.end() ? 0.0 : static_cast<double>(it->second.calls);
    v["credits." + api] = it == m.apis.end() ? 0.0 : it->second.credits;
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
  v["credits"] = m.credits;
  v["cost"] = m.cost;
  v["breaker_trips"] = static_cast<double>(m.breaker_trips);
  v["breaker_open_s"] = Seconds(m.breaker_open_time);
  v["retries"] = static_cast<double>(m.retries);
  v["retry_budget_denied"] = static_cast<double>(m.retry_budget_denied);
  v["quota_exhausted_s"] = Seconds(m.quota_exhausted_time);
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
  for (Priority p : kAllPriorities) {
    const Histogram& h = m.wait_by_priority[PriorityIndex(p)];
    const std::string priority(PriorityName(p));
    v["wait_p50_s." + priority] = Seconds(h.Quantile(0.5));
    v["wait_p90_s." + priority] = Seconds(h.Quantile(0.9));
    v["wait_p99_s." + priority] = Seconds(h.Quantile(0.99));
    v["wait_max_s." + priority] = Seconds(h.max());
  }
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
