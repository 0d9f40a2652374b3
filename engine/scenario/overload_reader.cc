#include "engine/scenario/overload_reader.h"

#include "engine/scenario/field_error.h"
#include "engine/scenario/upstream_reader.h"

namespace orchsim::scenario {

world::FleetConfig ReadFleet(ObjectReader& r, const std::set<std::string>& api_names) {
  world::FleetConfig f;
  r.Int("replicas", &f.replicas, false, 1, world::kMaxReplicas);
  r.Enum("split", &f.split,
         {{"round_robin", world::TrafficSplit::kRoundRobin},
          {"key_hash", world::TrafficSplit::kKeyHash}});
  r.IfObject("shared_limiter", [&](ObjectReader& o) {
    world::SharedLimiterConfig& c = f.shared_limiter;
    c.enabled = true;  // present: on, unless it says otherwise
    o.Bool("enabled", &c.enabled);
    o.Strings("apis", &c.apis);
    for (size_t i = 0; i < c.apis.size(); ++i) {
      if (api_names.count(c.apis[i]) == 0) {
        throw ConfigError(
            o.file(), o.PathOf("apis") + "/" + std::to_string(i),
            "unknown API \"" + c.apis[i] +
                "\"; expected one of the scenario's upstreams: " + KnownApis(api_names));
      }
    }
    o.Number("rate_per_s", &c.rate_per_s, false, 0);
    o.Number("burst", &c.burst, false, 1);
    o.IfObject("latency", [&](ObjectReader& l) { ReadLatency(l, &c.latency); });
    o.Number("failure_rate", &c.failure_rate, false, 0, 1);
    o.Dur("failure_latency", &c.failure_latency);
    o.Bool("fail_open", &c.fail_open);
    o.Int("deny_status", &c.deny_status, false, 400, 599);
    o.Dur("max_wait", &c.max_wait, false, Duration::Zero(), Hours(1));
  });
  const Status status = f.validate("fleet.");
  if (!status.ok()) throw FieldErrorAt(r, "fleet.", status);
  return f;
}

void ReadOverload(ObjectReader& r, Scenario* s) {
  OverloadConfig& o = s->overload;
  const Duration span = s->end - s->start;
  o.step = span <= Hours(6) ? Seconds(1) : span <= Days(7) ? Minutes(1) : Hours(1);
  for (const world::UpstreamModelConfig& u : s->upstreams) {
    if (u.capacity.enabled) o.series = true;
  }
  r.IfObject("overload", [&](ObjectReader& v) {
    o.series = true;
    v.Dur("step", &o.step, false, Milliseconds(1), Days(1));
    const int64_t buckets = (span.micros() + o.step.micros() - 1) / o.step.micros();
    if (buckets > kMaxOverloadBuckets) {
      v.Fail("step", "expected a step giving at most 1,000,000 buckets over the run (" +
                         FormatDuration(span) + " from \"start\" to \"end\"), got " +
                         JsonPreview(v.Raw("step")) + " (" + std::to_string(buckets) + " buckets)");
    }
    v.IfObject("trigger", [&](ObjectReader& t) {
      t.Inst("from", &o.trigger_from, true);
      t.Inst("until", &o.trigger_until, true);
      if (o.trigger_from < s->start || o.trigger_from >= s->end) {
        t.Fail("from", "expected an instant within the run (from \"start\" " +
                           FormatInstant(s->start) + " to \"end\" " + FormatInstant(s->end) +
                           "), got " + JsonPreview(t.Raw("from")));
      }
      if (o.trigger_until <= o.trigger_from) t.Fail("until", "expected an instant after \"from\"");
      if (o.trigger_until > s->end) {
        t.Fail("until", "expected an instant at or before \"end\" (" + FormatInstant(s->end) +
                            "), got " + JsonPreview(t.Raw("until")));
      }
      o.has_trigger = true;
    });
    v.IfObject("recovery", [&](ObjectReader& rc) {
      if (!o.has_trigger) {
        throw ConfigError(rc.file(), rc.path(),
                          "a recovery is measured after a trigger: add \"trigger\": {\"from\": "
                          "..., \"until\": ...} to \"overload\"");
      }
      rc.Number("threshold", &o.recovery_threshold, false, 0, 1);
      if (!(o.recovery_threshold > 0.0)) {
        rc.Fail("threshold",
                "expected a number in (0, 1] (a share of the reference goodput), "
                "got " +
                    JsonPreview(rc.Raw("threshold")));
      }
      rc.Dur("hold", &o.recovery_hold, false, o.step);
      rc.Dur("smoothing", &o.recovery_smoothing, false, o.step);
      rc.Dur("reference", &o.recovery_reference, false, o.step);
      if (o.trigger_from - o.recovery_reference < s->start + s->warmup) {
        rc.Fail("reference", "expected a reference window that fits between the warm-up's end (" +
                                 FormatInstant(s->start + s->warmup) + ") and the trigger (" +
                                 FormatInstant(o.trigger_from) + "), got " +
                                 JsonPreview(rc.Raw("reference")));
      }
    });
    if (o.has_trigger && !v.Has("recovery") &&
        o.trigger_from - o.recovery_reference < s->start + s->warmup) {
      v.Fail("trigger", "expected a trigger at least " + FormatDuration(o.recovery_reference) +
                            " (the recovery's reference window) after the warm-up's end (" +
                            FormatInstant(s->start + s->warmup) + ")");
    }
  });
}

}  // namespace orchsim::scenario
