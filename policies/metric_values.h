// metric_values.h — the numbers behind the metrics that simulation and
// production share (docs/metrics.md): `orchsim run --openmetrics`
// (engine/experiment/openmetrics_export) and `orchsim serve`'s /metrics
// (live/metrics) both take them from here, so one dashboard reads either.
#ifndef ORCHSIM_POLICIES_METRIC_VALUES_H_
#define ORCHSIM_POLICIES_METRIC_VALUES_H_

#include <array>

#include "policies/events.h"

namespace orchsim {

// Upper bounds (seconds) of the latency histograms' finite buckets (queue
// wait, end-to-end and upstream latency), before +Inf.
inline constexpr std::array<double, 10> kLatencyBucketBounds = {0.001, 0.01, 0.05, 0.1, 0.5,
                                                                1,     5,    10,   30,  60};

// orchsim_breaker_state: closed 0, open 1, half-open 2.
constexpr double BreakerStateGauge(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return 0;
    case BreakerState::kOpen:
      return 1;
    case BreakerState::kHalfOpen:
      return 2;
  }
  return 0;
}

// orchsim_upstream_health: healthy 0, degraded 1, unhealthy 2.
constexpr double HealthGauge(HealthState s) {
  switch (s) {
    case HealthState::kHealthy:
      return 0;
    case HealthState::kDegraded:
      return 1;
    case HealthState::kUnhealthy:
      return 2;
  }
  return 0;
}

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_METRIC_VALUES_H_
