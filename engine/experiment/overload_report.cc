#include "engine/experiment/overload_report.h"

#include <sstream>

#include "engine/experiment/number_format.h"
#include "engine/experiment/report.h"

namespace orchsim::experiment {

using scenario::Json;
namespace {

double Round(double v, int digits) { return std::stod(Fixed(v, digits)); }

std::string N(uint64_t v) { return WithCommas(static_cast<int64_t>(v)); }

std::string Seconds1(Duration d) { return Fixed(InSeconds(d), 1) + " s"; }

double GoodputPerSecond(const VariantRun& run) {
  const VariantMetrics& m = run.metrics;
  const double s = InSeconds(run.overload.counted);
  if (s <= 0.0) return 0.0;
  return static_cast<double>(m.outcome(Outcome::kServed) + m.outcome(Outcome::kCoalesced) +
                             m.outcome(Outcome::kCacheHit)) /
         s;
}

double Amplification(const VariantRun& run) {
  const VariantMetrics& m = run.metrics;
  return m.submitted == 0
             ? 0.0
             : static_cast<double>(m.upstream_calls) / static_cast<double>(m.submitted);
}

}  // namespace

std::string RecoveryText(const RecoveryResult& r) {
  if (!r.measured) return "–";
  if (!r.recovered) return "never";
  const double s = InSeconds(r.recovery);
  if (s >= 60.0) return Fixed(s / 60.0, 1) + " min";
  return Fixed(s, 0) + " s";
}

Json OverloadJson(const VariantRun& run) {
  const OverloadMetrics& o = run.overload;
  Json out;
  out["goodput_per_s"] = Round(GoodputPerSecond(run), 6);
  out["retry_amplification"] = Round(Amplification(run), 6);
  out["hedges"] = run.metrics.calls_of_kind(CallKind::kHedge);
  out["hedges_denied"] = o.hedges_denied;
  out["retries_throttled"] = o.retries_throttled;
  out["calls_cancelled"] = o.calls_cancelled;
  out["wasted_work_s"] = Round(InSeconds(o.wasted_time()), 6);
  out["capacity_refused"] = o.capacity_refused();
  if (!o.upstreams.empty()) {
    Json upstreams = Json::object();
    for (const auto& [api, load] : o.upstreams) {
      upstreams[api] = {{"utilisation", Round(load.utilisation(), 6)},
                        {"queue_mean", Round(load.mean_waiting(), 6)},
                        {"queue_max", load.max_waiting},
                        {"served", load.served},
                        {"wasted", load.wasted},
                        {"wasted_work_s", Round(InSeconds(load.wasted_time), 6)},
                        {"goodput", load.goodput},
                        {"refused", load.refused},
                        {"dropped_expired", load.dropped}};
    }
    out["upstreams"] = upstreams;
  }
  if (o.recovery.measured) {
    const RecoveryResult& r = o.recovery;
    Json recovery = {{"reference_per_s", Round(r.reference_per_s, 6)},
                     {"during_per_s", Round(r.during_per_s, 6)},
                     {"after_per_s", Round(r.after_per_s, 6)},
                     {"recovered", r.recovered}};
    if (r.recovered) {
      recovery["recovery_s"] = Round(InSeconds(r.recovery), 6);
    } else {
      recovery["recovery_s"] = "never";
    }
    out["recovery"] = recovery;
  }
  if (o.replicas > 1 || o.limiter_enabled) {
    Json fleet = {{"replicas", o.replicas},
                  {"split", std::string(world::TrafficSplitName(o.split))},
                  {"duplicate_calls", o.duplicate_calls}};
    Json detail = Json::array();
    for (const ReplicaMetrics& m : o.per_replica) {
      detail.push_back({{"requests", m.requests},
                        {"goodput", m.goodput},
                        {"client_failures", m.client_failures},
                        {"calls", m.calls},
                        {"retries", m.retries},
                        {"hedges", m.hedges},
                        {"duplicate_calls", m.duplicate_calls},
                        {"calls_cancelled", m.calls_cancelled},
                        {"retries_throttled", m.retries_throttled},
                        {"hedges_denied", m.hedges_denied}});
    }
    fleet["replicas_detail"] = detail;
    if (o.limiter_enabled) {
      fleet["shared_limiter"] = {{"asks", o.limiter.asks},
                                 {"allowed", o.limiter.allowed},
                                 {"denied", o.limiter.denied},
                                 {"failures", o.limiter.failures},
                                 {"reserved", o.limiter.reserved}};
    }
    out["fleet"] = fleet;
  }
  return out;
}

Json OverloadSeriesJson(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs) {
  if (!HasOverloadSeries(runs)) return nullptr;
  const scenario::OverloadConfig& c = scenario.overload;
  Json out = {{"step_s", Round(InSeconds(c.step), 6)}};
  if (c.has_trigger) {
    out["trigger"] = {Round(InSeconds(c.trigger_from - scenario.start), 6),
                      Round(InSeconds(c.trigger_until - scenario.start), 6)};
  } else {
    out["trigger"] = nullptr;
  }
  return out;
}

bool HasOverloadSeries(const std::vector<VariantRun>& runs) {
  for (const VariantRun& run : runs) {
    if (run.overload.series_enabled) return true;
  }
  return false;
}

void WriteOverloadCsv(std::ostream& out, const std::vector<VariantRun>& runs) {
  std::vector<std::string> apis;
  for (const VariantRun& run : runs) {
    if (run.overload.series_enabled) {
      apis = run.overload.capacity_apis;
      break;
    }
  }
  out << "variant,bucket_start,t_s,requests,goodput,failures,calls,retries,hedges,refused,"
         "wasted_s";
  for (const std::string& api : apis) out << ",queue_mean." << api;
  for (const std::string& api : apis) out << ",busy_mean." << api;
  out << "\n";
  for (const VariantRun& run : runs) {
    const OverloadMetrics& o = run.overload;
    if (!o.series_enabled) continue;
    const double step_us = static_cast<double>(o.step.micros());
    for (size_t i = 0; i < o.series.size(); ++i) {
      const OverloadBucket& b = o.series[i];
      const Instant at = o.BucketStart(i);
      out << run.variant << "," << FormatInstant(at) << ","
          << Fixed(InSeconds(at - o.series_start), 3) << "," << b.requests << "," << b.goodput
          << "," << b.failures << "," << b.calls << "," << b.retries << "," << b.hedges << ","
          << b.refused << "," << Fixed(b.wasted_us / 1e6, 6);
      for (size_t a = 0; a < apis.size(); ++a) {
        out << "," << Fixed(a < b.waiting_us.size() ? b.waiting_us[a] / step_us : 0.0, 3);
      }
      for (size_t a = 0; a < apis.size(); ++a) {
        out << "," << Fixed(a < b.busy_us.size() ? b.busy_us[a] / step_us : 0.0, 3);
      }
      out << "\n";
    }
  }
}

bool HasOverloadSection(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs) {
  if (scenario.overload.series) return true;
  for (const VariantRun& run : runs) {
    if (run.overload.replicas > 1 || run.overload.limiter_enabled) return true;
  }
  return false;
}

std::string OverloadMarkdown(const scenario::Scenario& scenario,
                             const std::vector<VariantRun>& runs) {
  if (!HasOverloadSection(scenario, runs)) return "";
  std::ostringstream md;
  md << "## Overload\n\n";
  const scenario::OverloadConfig& c = scenario.overload;
  if (c.has_trigger) {
    md << "Trigger from " << FormatInstant(c.trigger_from) << " until "
       << FormatInstant(c.trigger_until) << ". *Recovery* is the time from the trigger's end "
       << "until goodput (requests answered with fresh data per second, averaged over "
       << FormatDuration(c.recovery_smoothing) << ") stays at or above "
       << Fixed(100.0 * c.recovery_threshold, 0) << "% of its level in the "
       << FormatDuration(c.recovery_reference) << " before the trigger for "
       << FormatDuration(c.recovery_hold) << "; *never* means it did not within the run.\n\n";
  }
  std::vector<std::string> apis;
  for (const world::UpstreamModelConfig& u : scenario.upstreams) {
    if (u.capacity.enabled) apis.push_back(u.name);
  }
  md << "| variant | replicas | goodput/s | before / during / after trigger (per s) | recovery "
        "| attempts per request | wasted work | capacity refusals | retries | retries "
        "throttled | hedges | calls cancelled | rejected throttled |\n";
  md << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
        "---: |\n";
  for (const VariantRun& run : runs) {
    const OverloadMetrics& o = run.overload;
    const RecoveryResult& r = o.recovery;
    const std::string phases = r.measured
                                   ? Fixed(r.reference_per_s, 1) + " / " +
                                         Fixed(r.during_per_s, 1) + " / " + Fixed(r.after_per_s, 1)
                                   : "–";
    md << "| `" << run.variant << "` | " << o.replicas << " | " << Fixed(GoodputPerSecond(run), 1)
       << " | " << phases << " | " << RecoveryText(r) << " | " << Fixed(Amplification(run), 2)
       << " | " << Seconds1(o.wasted_time()) << " | " << N(o.capacity_refused()) << " | "
       << N(run.metrics.retries) << " | " << N(o.retries_throttled) << " | "
       << N(run.metrics.calls_of_kind(CallKind::kHedge)) << " | " << N(o.calls_cancelled) << " | "
       << N(run.metrics.outcome(Outcome::kRejectedThrottled)) << " |\n";
  }
  md << "\n*Attempts per request* is upstream calls the core sent / client requests (retry "
        "amplification). *Wasted work* is upstream service time spent on answers nobody waited "
        "for (the call was cancelled or its deadline had passed when the service ended): the "
        "server does not know the client gave up.\n\n";
  if (!apis.empty()) {
    md << "### Upstream load\n\n| variant | upstream | utilisation | mean queue | max queue | "
          "served | wasted | goodput answers | refused (full) | dropped (expired) |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const VariantRun& run : runs) {
      for (const std::string& api : apis) {
        auto it = run.overload.upstreams.find(api);
        if (it == run.overload.upstreams.end()) continue;
        const UpstreamLoad& l = it->second;
        md << "| `" << run.variant << "` | " << api << " | " << Fixed(100.0 * l.utilisation(), 1)
           << "% | " << Fixed(l.mean_waiting(), 1) << " | " << l.max_waiting << " | " << N(l.served)
           << " | " << N(l.wasted) << " | " << N(l.goodput) << " | " << N(l.refused) << " | "
           << N(l.dropped) << " |\n";
      }
    }
    md << "\n";
  }
  bool fleets = false;
  for (const VariantRun& run : runs) fleets = fleets || !run.overload.per_replica.empty();
  if (fleets) {
    md << "### Replicas\n\n| variant | replica | requests | goodput | client failures | calls "
          "| retries | hedges | duplicate calls | calls cancelled |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const VariantRun& run : runs) {
      const OverloadMetrics& o = run.overload;
      for (size_t i = 0; i < o.per_replica.size(); ++i) {
        const ReplicaMetrics& m = o.per_replica[i];
        md << "| `" << run.variant << "` | " << i << " | " << N(m.requests) << " | " << N(m.goodput)
           << " | " << N(m.client_failures) << " | " << N(m.calls) << " | " << N(m.retries) << " | "
           << N(m.hedges) << " | " << N(m.duplicate_calls) << " | " << N(m.calls_cancelled)
           << " |\n";
      }
    }
    md << "\n*Duplicate calls*: calls one replica sent while another had a call for the same "
          "key in flight (what coalescing would have saved in a single core).\n\n";
    for (const VariantRun& run : runs) {
      const OverloadMetrics& o = run.overload;
      if (!o.limiter_enabled) continue;
      md << "`" << run.variant << "`'s shared limiter: " << N(o.limiter.asks) << " asks, "
         << N(o.limiter.allowed) << " allowed, " << N(o.limiter.denied) << " denied, "
         << N(o.limiter.failures) << " failed, " << N(o.limiter.reserved)
         << " waited for a reserved token.\n\n";
    }
  }
  if (HasOverloadSeries(runs)) {
    md << "The overload plot (below, `overload.png`) shows per variant, over time: goodput, the "
          "upstream queue and the attempts sent per second, the trigger shaded. A variant "
          "that recovers returns to its level after the shaded span; a metastable one stays "
          "down with a full queue and attempts per second well above the requests. Numbers: "
          "`overload.csv`.\n\n";
  }
  return md.str();
}

}  // namespace orchsim::experiment
