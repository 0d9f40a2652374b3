// openmetrics_export.h — a simulated run's time series as OpenMetrics text,
// under the metric names and labels of the live /metrics endpoint
// (docs/metrics.md is the shared table), so `promtool tsdb
// create-blocks-from openmetrics FILE DIR` loads a simulated season into
// Prometheus and the production dashboards show it.
//
// What is sampled: every series is sampled at each step boundary start +
// k * step (k = 0, 1, ...), through the first boundary at or after the run's
// end; a sample is the state after every event before its instant (counters
// cumulative since the start, gauges as they stood). Step: OpenMetricsStep
// (a minute for windows up to two days, an hour beyond) unless the caller
// chooses. Families (docs/metrics.md):
//   orchsim_requests_submitted_total{variant,api,priority}   counter
//   orchsim_requests_total{variant,api,outcome}              counter (at completion)
//   orchsim_upstream_calls_total{variant,api,kind}           counter (at send)
//   orchsim_upstream_responses_total{variant,api,status}     counter (at answer)
//   orchsim_credits_total{variant,api}                       counter (at answer)
//   orchsim_retries_total{variant,api}                       counter
//   orchsim_retry_budget_denied_total{variant,api}           counter
//   orchsim_breaker_trips_total{variant,breaker}             counter
//   orchsim_breaker_open_seconds_total{variant,breaker}      counter (OPEN + HALF_OPEN)
//   orchsim_breaker_state{variant,breaker}                   gauge 0 closed, 1 open, 2 half_open
//   orchsim_upstream_health{variant,api}                     gauge 0 healthy, 1 degraded, 2
//   unhealthy orchsim_quota_remaining{variant,api}                     gauge (credits, last quota
//   headers) orchsim_queue_wait_seconds{variant,priority}             histogram
//   orchsim_request_latency_seconds{variant,priority}        histogram (end to end)
// A series (a labelset) appears once something happened to it — an outcome,
// a call kind, a status, a breaker's first transition — and is then sampled
// from the start: counters with zeros before their first event (a breaker's
// state reads closed), other gauges from their first value only.
//
// Output: families in the order above, each with # HELP, # TYPE (and # UNIT
// for seconds); inside a family the runs in the order they were added, each
// metric's samples in time order (a histogram's buckets, count and sum
// together per instant); timestamps in seconds since the epoch; "# EOF" at
// the end.
//
// Memory: samples go to an anonymous temporary file as the run advances (one
// record of every series per step); Write reads it back a bounded number of
// columns at a time (column_budget_bytes). Memory therefore holds the series'
// current values, not the run's history. Not thread-safe.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_OPENMETRICS_EXPORT_H_
#define ORCHSIM_ENGINE_EXPERIMENT_OPENMETRICS_EXPORT_H_

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "policies/events.h"
#include "policies/metric_values.h"
#include "policies/request.h"
#include "policies/time.h"

namespace orchsim::experiment {

// A minute when end - start <= 2 days, else an hour.
Duration OpenMetricsStep(Instant start, Instant end);

// Upper bounds (seconds) of the histogram buckets, before +Inf: the ones
// serve's /metrics uses too (policies/metric_values.h).
inline constexpr const std::array<double, 10>& kOpenMetricsLatencyBuckets = kLatencyBucketBounds;

class OpenMetricsExport {
 public:
  // Bytes of sample columns Write holds at once (at least one metric's).
  static constexpr size_t kColumnBudgetBytes = size_t{32} << 20;

  explicit OpenMetricsExport(size_t column_budget_bytes = kColumnBudgetBytes);
  ~OpenMetricsExport();
  OpenMetricsExport(const OpenMetricsExport&) = delete;
  OpenMetricsExport& operator=(const OpenMetricsExport&) = delete;

  // Starts recording one run, labelled variant=`variant`, sampled every
  // `step` (> 0) from `start`. The returned observer (owned by this object) is attached to the
  // run's orchestrator; call EndRun once the run is over, before the next BeginRun.
  OrchestratorObserver& BeginRun(const std::string& variant, Instant start, Duration step);
  // Samples through the first boundary at or after `end` (>= every event).
  void EndRun(Instant end);

  // Writes every run's series. REQUIRES: no run is open. Throws
  // std::runtime_error when the temporary file fails.
  void Write(std::ostream& out) const;

  class Run;  // one run's series (public for the .cc's helpers)

 private:
  size_t column_budget_bytes_;
  std::vector<std::unique_ptr<Run>> runs_;
  bool open_ = false;
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_OPENMETRICS_EXPORT_H_
