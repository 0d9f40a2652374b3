// metric_catalog.h — a flat, named view of one run's metrics, so sweeps,
// tuning objectives, constraints and CI gates can name a metric by a string
// ("credits", "wait_p99_s.CRITICAL", "calls.odds") instead of a struct field.
//
// Names and units (every value is a double):
//   requests                       count   client requests submitted
//   upstream_calls                 count   calls sent to all upstreams (every kind)
//   calls.<api>                    count   calls sent to one upstream API
//   calls_saved                    count   baseline's upstream_calls minus this run's
//                                          (includes failed_without_call; see below)
//   calls_saved_pct                %       calls_saved / baseline upstream_calls * 100
//   calls_avoided                  count   requests served without a call of their own:
//   calls_avoided.cache_hits / .stale_answers / .coalescing / .batching
//                                  count   the same by mechanism (metrics.h)
//   failed_without_call            count   requests that failed before any call (not a saving)
//   calls_added                    count   retry, hedge, probe and prefetch calls
//   calls_other                    count   upstream_calls - (requests - calls_avoided
//                                          - failed_without_call + calls_added)
//   credits                        credits quota credits charged, all APIs
//   credits.<api>                  credits quota credits charged by one API
//   cost                           money   as priced by the policy's cost tracker
//   breaker_trips                  count   transitions into OPEN
//   breaker_open_s                 s       time breakers were not CLOSED (summed)
//   retries                        count   retries scheduled
//   retry_budget_denied            count   retries the budget refused
//   quota_exhausted_s              s       time upstream quotas were exhausted
//   quota_refused_calls            count   calls the upstreams refused for quota (their
//                                          answer; not outcome.rejected_quota, which counts
//                                          requests the core refused before any call)
//   client_failures                count   requests that got no data
//   client_failures_pct            %       client_failures / requests * 100
//   outcome.<outcome>              count   requests per outcome ("cache_hit", ...)
//   outdated_fraction              0..1    answers with data the upstream had replaced
//   data_age_p50_s / _p90_s / _p99_s  s    age of the data handed out
//   wait_p50_s.<PRIORITY> / wait_p90_s / wait_p99_s / wait_max_s / wait_mean_s
//                                  s       queue wait per submitted priority class
//                                          (CRITICAL, HIGH, NORMAL, LOW, PREFETCH)
//   waited_fraction.<PRIORITY>     0..1    share of the class's requests with queue wait > 0
//   latency_p50_s / _p90_s / _p99_s / _max_s / _mean_s
//                                  s       end-to-end latency (submit to outcome), all
//                                          requests; ".<PRIORITY>" per class
//   api_latency_p50_s.<api> / _p90_s / _p99_s / _max_s / _mean_s
//                                  s       end-to-end latency of one API's requests
// Overload (definitions in overload_metrics.h):
//   goodput_per_s                  per_s   requests answered with fresh data per second
//   retry_amplification            ratio   upstream calls the core sent / requests
//   hedges / hedges_denied / retries_throttled / calls_cancelled
//                                  count   the overload policies at work
//   wasted_work_s                  s       upstream service time nobody waited for
//   capacity_refused               count   calls refused at once by full upstream queues
//   duplicate_calls                count   (fleets) calls for a key another replica had in flight
//   recovery_s                     s       trigger end -> goodput recovered; 1e9 = never
//                                          (kNeverRecovered), 0 without a trigger
//   recovered                      flag    1 recovered (or no trigger), 0 never
//   utilisation.<api>              0..1    busy servers / servers (0 without capacity)
//   queue_mean.<api> / queue_max.<api>  count  calls waiting at the upstream
//   wasted_work_s.<api>            s       per upstream
//   upstream_goodput.<api>         count   2xx answers to a waiting client in time
// With no baseline run, calls_saved and calls_saved_pct are 0. Percentiles
// of an empty class are 0.
//
// Contract: FlattenMetrics is a pure function of its inputs; names are
// stable (other tools and files refer to them). The map is sorted by name.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_METRIC_CATALOG_H_
#define ORCHSIM_ENGINE_EXPERIMENT_METRIC_CATALOG_H_

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/experiment/runner.h"

namespace orchsim::experiment {

struct MetricInfo {
  std::string name;
  std::string unit;  // "count", "%", "s", "credits", "money", "fraction", "per_s", "ratio", "flag"
  std::string description;
};

// Metric values of one run, by name.
using MetricValues = std::map<std::string, double>;

// Every metric FlattenMetrics produces for a run whose upstream APIs are
// `api_names`, in a stable documentation order.
std::vector<MetricInfo> MetricCatalog(const std::vector<std::string>& api_names);

// The flat view of `run`. `baseline` (may be null) is the baseline variant's
// run on the same seed, for calls_saved.
MetricValues FlattenMetrics(const VariantRun& run, const VariantRun* baseline);

// Thrown for a name no catalog entry matches; what() lists the known names.
class UnknownMetricError : public std::invalid_argument {
 public:
  UnknownMetricError(const std::string& name, const std::vector<std::string>& known);
};

// The value of `name`. Throws UnknownMetricError naming the known metrics.
double LookupMetric(const MetricValues& values, const std::string& name);
// Throws UnknownMetricError unless `name` is in `values`.
void RequireMetric(const MetricValues& values, const std::string& name);
// The catalog entry for `name` (including per-api and per-priority names).
// Throws UnknownMetricError.
const MetricInfo& FindMetricInfo(const std::vector<MetricInfo>& catalog, const std::string& name);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_METRIC_CATALOG_H_
