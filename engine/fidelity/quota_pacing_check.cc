#include "engine/fidelity/quota_pacing_check.h"

#include <string>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/mock_transport.h"
#include "engine/world/sim_ports.h"
#include "policies/orchestrator.h"

namespace orchsim::fidelity {
namespace {

// Credits charged per day of the month, by answer instant.
class DailySpend : public OrchestratorObserver {
 public:
  DailySpend(Instant month_start, int days) : start_(month_start), by_day_(days, 0.0) {}
  void OnCallAnswered(const UpstreamCall& /*call*/, const Response& response, bool /*late*/,
                      Instant now) override {
    const int64_t day = (now - start_) / Days(1);
    if (day >= 0 && day < static_cast<int64_t>(by_day_.size())) {
      by_day_[static_cast<size_t>(day)] += response.credits_charged;
    }
  }
  const std::vector<double>& by_day() const { return by_day_; }

 private:
  Instant start_;
  std::vector<double> by_day_;
};

OrchestratorConfig PacedCore(const QuotaPacingConfig& config) {
  OrchestratorConfig core;
  core.defaults.bucket.enabled = false;
  core.defaults.quota.enabled = true;
  core.defaults.quota.mode = QuotaMode::kPace;
  core.defaults.quota.critical_floor = 0;
  core.defaults.quota.assumed_period = Days(config.days_in_month);
  core.defaults.quota.assumed_period_start = config.month_start;
  core.defaults.expected_credits_per_call = config.credits_per_call;
  core.queue.escalation_enabled = false;
  core.queue.game_rules.clear();
  core.defaults.coalescer.enabled = false;
  core.defaults.batcher.enabled = false;
  core.defaults.cache.enabled = false;
  core.prefetch.enabled = false;
  core.defaults.breaker.enabled = false;
  core.defaults.retry.enabled = false;
  core.defaults.retry_budget.enabled = false;
  core.defaults.timeouts.enabled = true;
  core.defaults.timeouts.overall = config.request_deadline;
  core.defaults.timeouts.per_attempt = Seconds(10);
  core.health.enabled = false;
  return core;
}

}  // namespace

Status QuotaPacingConfig::validate() const {
  if (days_in_month < 28 || days_in_month > 31) {
    return FieldError("quota_pacing.days_in_month", days_in_month, "must be in 28..31");
  }
  if (!(monthly_limit_credits > 0)) {
    return FieldError("quota_pacing.monthly_limit_credits", monthly_limit_credits, "must be > 0");
  }
  if (!(credits_per_call > 0)) {
    return FieldError("quota_pacing.credits_per_call", credits_per_call, "must be > 0");
  }
  if (!(demand_per_hour > 0)) {
    return FieldError("quota_pacing.demand_per_hour", demand_per_hour, "must be > 0");
  }
  if (request_deadline <= Duration::Zero()) {
    return FieldError("quota_pacing.request_deadline", FormatDuration(request_deadline),
                      "must be > 0");
  }
  return Status::Ok();
}

QuotaPacingResult RunQuotaPacing(const QuotaPacingConfig& config) {
  const kernel::SeedTree seeds(config.seed);
  const Instant month_end = config.month_start + Days(config.days_in_month);
  kernel::Simulator sim(config.month_start);
  world::SimClock clock(sim);
  world::SimTimers timers(sim);
  world::RngRandomSource jitter(seeds, "policy/jitter");
  world::MockTransport transport(sim);
  world::UpstreamModelConfig upstream;
  upstream.name = "odds";
  upstream.latency.kind = world::LatencyKind::kConstant;
  upstream.latency.constant = Milliseconds(120);
  upstream.quota.enabled = true;
  upstream.quota.limit = config.monthly_limit_credits;
  upstream.quota.period = world::QuotaPeriod::kCalendarMonthUtc;
  upstream.quota.default_credits = config.credits_per_call;
  upstream.quota.header_style = world::QuotaHeaderStyle::kOddsApi;
  upstream.data.enabled = false;
  world::MockUpstream& mock = transport.AddUpstream(upstream, seeds);

  std::unique_ptr<Orchestrator> orchestrator =
      Orchestrator::Create(PacedCore(config), clock, timers, transport, jitter).value();
  DailySpend spend(config.month_start, config.days_in_month);
  orchestrator->AddObserver(&spend);

  QuotaPacingResult result;
  kernel::Rng demand_rng = seeds.Stream("demand");
  kernel::PoissonArrivals arrivals(config.demand_per_hour / 3600.0, config.month_start);
  // One pending arrival at a time.
  std::function<void()> next_arrival = [&] {
    const Instant at = arrivals.Next(demand_rng);
    if (at >= month_end) return;
    sim.ScheduleAt(at, [&] {
      Request request;
      request.id = ++result.requests;
      request.api = "odds";
      request.endpoint = "odds";
      request.key = "game-" + std::to_string(request.id);
      request.priority = Priority::kNormal;
      request.cacheable = false;
      orchestrator->Submit(std::move(request), [&](const Result& r) {
        if (r.outcome == Outcome::kServed) ++result.served;
      });
      next_arrival();
    });
  };
  next_arrival();
  sim.ScheduleAt(month_end, [&] { orchestrator->Shutdown(Minutes(1), [] {}); });
  sim.RunUntilEmpty();

  result.credits_by_day = spend.by_day();
  result.even_per_day = config.monthly_limit_credits / config.days_in_month;
  for (double c : result.credits_by_day) result.spent += c;
  result.demanded_credits = static_cast<double>(result.requests) * config.credits_per_call;
  result.quota_refusals = mock.counters().quota_rejected;
  result.exhausted_before_reset = mock.QuotaExhaustedTime(month_end);
  result.pace_interval = Duration::FromMicros(
      static_cast<int64_t>(static_cast<double>(Days(config.days_in_month).micros()) *
                           config.credits_per_call / config.monthly_limit_credits));
  return result;
}

std::vector<CheckLine> QuotaPacingChecks(const QuotaPacingResult& result) {
  std::vector<CheckLine> lines;
  const double even = result.even_per_day;
  for (size_t d = 0; d < result.credits_by_day.size(); ++d) {
    lines.push_back(BoundCheck("quota_pace/day" + std::to_string(d + 1), "credits spent",
                               result.credits_by_day[d], even, 0.9 * even, 1.1 * even,
                               "+/-10% of even"));
  }
  lines.push_back(BoundCheck("quota_pace/month", "upstream quota refusals",
                             static_cast<double>(result.quota_refusals), 0.0, 0.0, 0.0,
                             "never exhausted before the reset"));
  const double interval_h = static_cast<double>(result.pace_interval.micros()) / 3.6e9;
  lines.push_back(BoundCheck(
      "quota_pace/month", "hours exhausted before reset",
      static_cast<double>(result.exhausted_before_reset.micros()) / 3.6e9, interval_h, 0.0,
      1.1 * interval_h, "<= 1.1 pacing intervals: only the final slot, after the last credit"));
  const double limit = even * static_cast<double>(result.credits_by_day.size());
  lines.push_back(BoundCheck("quota_pace/month", "share of the quota spent", result.spent / limit,
                             1.0, 0.95, 1.0, ">= 95%, never above"));
  return lines;
}

}  // namespace orchsim::fidelity
