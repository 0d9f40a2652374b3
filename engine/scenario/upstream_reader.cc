#include "engine/scenario/upstream_reader.h"

#include <utility>

#include "engine/scenario/field_error.h"

namespace orchsim::scenario {
namespace {

void ReadLatency(ObjectReader& r, world::LatencyConfig* c) {
  r.Enum("kind", &c->kind,
         {{"constant", world::LatencyKind::kConstant},
          {"uniform", world::LatencyKind::kUniform},
          {"exponential", world::LatencyKind::kExponential},
          {"lognormal", world::LatencyKind::kLognormal},
          {"empirical", world::LatencyKind::kEmpirical}});
  r.Dur("constant", &c->constant);
  r.Dur("min", &c->min);
  r.Dur("max", &c->max);
  r.Dur("mean", &c->mean);
  r.Dur("median", &c->median);
  r.Dur("p99", &c->p99);
  r.ObjectArray("table", &c->table, [](ObjectReader& row, world::LatencyRow* value) {
    row.Dur("latency", &value->latency, true);
    row.Number("weight", &value->weight, false, 0);
  });
  r.Bool("interpolate", &c->empirical_interpolate);
  r.Number("degraded_factor", &c->degraded_factor, false, 1);
}

void ReadFailures(ObjectReader& r, world::FailureConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Number("status_500", &c->rates.status_500, false, 0, 1);
  r.Number("status_502", &c->rates.status_502, false, 0, 1);
  r.Number("status_503", &c->rates.status_503, false, 0, 1);
  r.Number("timeout", &c->rates.timeout, false, 0, 1);
  r.Dur("timeout_latency", &c->timeout_latency);
  r.Number("degraded_error_factor", &c->degraded_error_factor, false, 1);
}

void ReadHealth(ObjectReader& r, world::HealthModelConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Dur("mean_healthy", &c->mean_healthy, false, Microseconds(1));
  r.Dur("mean_degraded", &c->mean_degraded, false, Microseconds(1));
  r.Dur("mean_down", &c->mean_down, false, Microseconds(1));
  r.Number("healthy_to_down", &c->healthy_to_down, false, 0, 1);
  r.Number("degraded_to_down", &c->degraded_to_down, false, 0, 1);
  r.Number("down_to_degraded", &c->down_to_degraded, false, 0, 1);
  r.Int("down_status", &c->down_status, false, 100, 599);
}

void ReadQuota(ObjectReader& r, world::QuotaConfig* c) {
  r.Bool("enabled", &c->enabled);
  r.Number("limit", &c->limit, false, 0);
  r.Enum("period", &c->period,
         {{"calendar_month", world::QuotaPeriod::kCalendarMonthUtc},
          {"calendar_day", world::QuotaPeriod::kCalendarDayUtc},
          {"rolling", world::QuotaPeriod::kRollingWindow},
          {"fixed", world::QuotaPeriod::kFixedWindow}});
  r.Dur("rolling_window", &c->rolling_window, false, Microseconds(1));
  r.Dur("window", &c->window, false, Seconds(1));
  r.Enum("charge", &c->charge,
         {{"2xx", world::QuotaCharge::k2xx}, {"all", world::QuotaCharge::kAll}});
  r.Number("default_credits", &c->default_credits, false, 0);
  r.IfObject("credits_per_endpoint", [&](ObjectReader& o) {
    c->credits_per_endpoint.clear();
    for (const std::string& endpoint : r.Keys("credits_per_endpoint")) {
      double credits = 0;
      o.Number(endpoint, &credits, true, 0);
      c->credits_per_endpoint[endpoint] = credits;
    }
  });
  r.Bool("charge_per_key", &c->charge_per_key);
  r.Enum("headers", &c->header_style,
         {{"none", world::QuotaHeaderStyle::kNone},
          {"odds-api", world::QuotaHeaderStyle::kOddsApi},
          {"github", world::QuotaHeaderStyle::kGithub},
          {"ietf", world::QuotaHeaderStyle::kIetf}});
  r.Int("exhausted_status", &c->exhausted_status, false, 0, 599);
}

}  // namespace

world::UpstreamModelConfig ReadUpstream(ObjectReader& r, const std::string& name) {
  world::UpstreamModelConfig c;
  c.name = name;
  r.IfObject("latency", [&](ObjectReader& o) { ReadLatency(o, &c.latency); });
  r.IfObject("failures", [&](ObjectReader& o) { ReadFailures(o, &c.failures); });
  r.IfObject("health", [&](ObjectReader& o) { ReadHealth(o, &c.health); });
  r.ObjectArray("outages", &c.outages, [](ObjectReader& o, world::OutageWindow* window) {
    o.Inst("start", &window->start, true);
    o.Inst("end", &window->end, true);
    o.Int("status", &window->status, false, 100, 599);
    if (window->end <= window->start) o.Fail("end", "expected an instant after \"start\"");
  });
  r.ObjectArray("health_windows", &c.health_windows,
                [](ObjectReader& o, world::HealthWindow* window) {
                  o.Inst("start", &window->start, true);
                  o.Inst("end", &window->end, true);
                  o.Enum("state", &window->state,
                         {{"degraded", world::UpstreamHealth::kDegraded},
                          {"down", world::UpstreamHealth::kDown}},
                         true);
                  if (window->end <= window->start) {
                    o.Fail("end", "expected an instant after \"start\"");
                  }
                });
  r.IfObject("rate_limit", [&](ObjectReader& o) {
    o.Bool("enabled", &c.rate_limit.enabled);
    o.Int("max_calls", &c.rate_limit.max_calls, false, 1);
    o.Dur("window", &c.rate_limit.window, false, Microseconds(1));
    o.Enum(
        "kind", &c.rate_limit.kind,
        {{"fixed", world::RateLimitWindow::kFixed}, {"sliding", world::RateLimitWindow::kSliding}});
  });
  r.IfObject("quota", [&](ObjectReader& o) { ReadQuota(o, &c.quota); });
  r.IfObject("batch", [&](ObjectReader& o) {
    o.Bool("enabled", &c.batch.enabled);
    o.Int("max_keys", &c.batch.max_keys, false, 1);
  });
  r.IfObject("data", [&](ObjectReader& o) {
    o.Bool("enabled", &c.data.enabled);
    o.Number("base_per_hour", &c.data.base_per_hour, false, 0);
    o.Number("pregame_per_hour", &c.data.pregame_per_hour, false, 0);
    o.Dur("pregame_window", &c.data.pregame_window);
    o.Number("live_per_hour", &c.data.live_per_hour, false, 0);
    o.Dur("game_duration", &c.data.game_duration, false, Microseconds(1));
  });
  const Status status = c.validate();
  if (!status.ok()) throw FieldErrorAt(r, "upstreams." + name + ".", status);
  return c;
}

}  // namespace orchsim::scenario
