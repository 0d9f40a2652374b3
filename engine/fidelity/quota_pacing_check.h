// quota_pacing_check.h — the quota tracker's pace mode, inside the real
// Orchestrator, against an upstream whose monthly quota is below demand.
//
// Setup: one MockUpstream with a calendar-month quota (odds-api headers, so
// the core must assume the period: assumed_period_start = the 1st, period =
// the month's length), a fixed credit cost per call, constant latency, no
// failures. Poisson demand of NORMAL requests with unique keys (no cache or
// coalescing can help) at several times what the quota allows. The core has
// quota pace mode on, timeouts (a request's overall deadline) on, and
// everything else that would change spending off (bucket, retry, cache,
// coalescer, batcher, prefetch, breaker, health).
//
// Measured over the month: credits the upstream charged per UTC day (by the
// instant the answer arrived), calls refused by the upstream for quota, and
// the time the upstream's quota was exhausted before the reset. Expected:
// no refusal; exhaustion only in the final slot (the pace spends the last
// credits one pacing interval before the reset: <= 1.1 intervals, allowing
// for the schedule re-planning from each response's headers); every day's
// spend within +/-10% of limit / days. Requests still queued at the reset
// are sent in the next period (during the shutdown drain) and not counted.
#ifndef ORCHSIM_ENGINE_FIDELITY_QUOTA_PACING_CHECK_H_
#define ORCHSIM_ENGINE_FIDELITY_QUOTA_PACING_CHECK_H_

#include <cstdint>
#include <vector>

#include "engine/fidelity/statistics.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::fidelity {

struct QuotaPacingConfig {
  // 00:00Z on the 1st of a month; the run covers that calendar month.
  Instant month_start = Instant::FromUnixMicros(1693526400LL * 1000000);  // 2023-09-01
  int days_in_month = 30;                                                 // 28..31
  double monthly_limit_credits = 1500.0;                                  // > 0
  double credits_per_call = 3.0;                                          // > 0
  double demand_per_hour = 6.0;          // Poisson request rate; > 0
  Duration request_deadline = Hours(1);  // overall timeout per request; > 0
  uint64_t seed = 6;

  Status validate() const;
};

struct QuotaPacingResult {
  std::vector<double> credits_by_day;  // UTC days of the month
  double even_per_day = 0.0;           // limit / days
  double spent = 0.0;                  // credits charged in the month
  double demanded_credits = 0.0;       // what the requests would have cost
  uint64_t requests = 0;
  uint64_t served = 0;
  uint64_t quota_refusals = 0;  // upstream answers refusing for quota
  Duration exhausted_before_reset;
  Duration pace_interval;  // month / (limit / credits_per_call)
};

// REQUIRES: config.validate().ok().
QuotaPacingResult RunQuotaPacing(const QuotaPacingConfig& config);

// The check lines: one per day (+/-10% of even), refusals (== 0), time
// exhausted (<= 1.1 pacing intervals) and share of the quota used (>= 95%).
std::vector<CheckLine> QuotaPacingChecks(const QuotaPacingResult& result);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_QUOTA_PACING_CHECK_H_
