#include "engine/experiment/results_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/build_info.h"
#include "engine/experiment/comparison.h"
#include "engine/experiment/number_format.h"
#include "engine/experiment/replications.h"
#include "engine/experiment/report.h"
#include "engine/experiment/slo.h"
#include "policies/config/input_file.h"

namespace orchsim::experiment {

using scenario::Json;
namespace {

// Doubles in JSON rounded to fixed digits, so the text does not depend on
// the last bits of a sum.
double Round(double v, int digits) { return std::stod(Fixed(v, digits)); }

Json WaitJson(const Histogram& h) {
  Json w;
  w["count"] = h.count();
  w["p50_ms"] = Round(InMillis(h.Quantile(0.5)), 3);
  w["p90_ms"] = Round(InMillis(h.Quantile(0.9)), 3);
  w["p99_ms"] = Round(InMillis(h.Quantile(0.99)), 3);
  w["max_ms"] = Round(InMillis(h.max()), 3);
  w["mean_ms"] = Round(h.mean() / 1e3, 3);
  return w;
}

// The call balance (metrics.h): calls = requests - served_without_call -
// failed_without_call + added + other.
Json BalanceJson(const RequestAccounting& a, const CallBalance& b) {
  Json out;
  out["requests"] = a.requests;
  out["served_without_call"] = {{"total", b.served_without_call},
                                {"cache_hits", a.cache_hits},
                                {"stale_answers", a.stale_without_call},
                                {"coalescing", a.coalesced},
                                {"batching", a.batched_keys}};
  Json failed = {{"total", b.failed_without_call}};
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (IsClientFailure(static_cast<Outcome>(i))) {
      failed[std::string(OutcomeName(static_cast<Outcome>(i)))] = a.failed_without_call[i];
    }
  }
  out["failed_without_call"] = failed;
  out["calls_added"] = b.added;
  out["other"] = b.other;
  out["calls"] = b.calls;
  return out;
}

Json KindsJson(const std::array<uint64_t, kCallKindCount>& kinds) {
  Json out;
  for (int k = 0; k < kCallKindCount; ++k) {
    out[std::string(CallKindName(static_cast<CallKind>(k)))] = kinds[k];
  }
  return out;
}

// Rows to a string (str()) or straight to a stream (files of a long run).
class Csv {
 public:
  explicit Csv(const std::string& header) : out_(&own_) { *out_ << header << "\n"; }
  Csv(std::ostream& out, const std::string& header) : out_(&out) { *out_ << header << "\n"; }
  template <typename... Cells>
  void Row(const Cells&... cells) {
    bool first = true;
    ((*out_ << (first ? "" : ",") << cells, first = false), ...);
    *out_ << "\n";
  }
  std::string str() const { return own_.str(); }

 private:
  std::ostringstream own_;
  std::ostream* out_;
};

bool Quiet(const TimeBucket& b) {
  return b.requests == 0 && b.completed == 0 && b.upstream_calls == 0 && b.breaker_trips == 0 &&
         b.retry_budget_denied == 0 && b.credits == 0.0;
}

void BucketRows(Csv& csv, const std::string& variant, const char* bucket, Instant start,
                const TimeBucket& b) {
  const std::string at = FormatInstant(start);
  auto row = [&](const char* metric, const std::string& label, const std::string& value) {
    csv.Row(variant, bucket, at, metric, label, value);
  };
  row("requests", "", std::to_string(b.requests));
  row("completed", "", std::to_string(b.completed));
  row("upstream_calls", "", std::to_string(b.upstream_calls));
  row("retry_calls", "", std::to_string(b.retry_calls));
  row("cache_hits", "", std::to_string(b.cache_hits));
  row("coalesced", "", std::to_string(b.coalesced));
  row("client_failures", "", std::to_string(b.client_failures));
  row("breaker_trips", "", std::to_string(b.breaker_trips));
  row("retry_budget_denied", "", std::to_string(b.retry_budget_denied));
  row("answered_with_data", "", std::to_string(b.answered_with_data));
  row("outdated", "", std::to_string(b.outdated));
  row("credits", "", Fixed(b.credits, 3));
  for (const auto& [api, credits] : b.credits_by_api) row("api_credits", api, Fixed(credits, 3));
  if (b.completed > 0) {
    const double n = static_cast<double>(b.completed);
    row("wait_mean_ms", "", Fixed(static_cast<double>(b.wait_sum_us) / n / 1e3, 3));
    row("latency_mean_ms", "", Fixed(static_cast<double>(b.latency_sum_us) / n / 1e3, 3));
  }
  row("wait_max_ms", "", Fixed(static_cast<double>(b.wait_max_us) / 1e3, 3));
  row("latency_max_ms", "", Fixed(static_cast<double>(b.latency_max_us) / 1e3, 3));
}

}  // namespace

Json SummaryJson(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                 const ReplicationSummary* replications) {
  Json out;
  out["schema_version"] = kSummarySchemaVersion;
  out["orchsim"] = {{"version", std::string(OrchsimVersion())},
                    {"git_commit", std::string(OrchsimGitCommit())}};
  out["scenario"] = scenario.name;
  out["description"] = scenario.description;
  out["seed"] = runs.empty() ? scenario.seed : runs.front().seed;
  out["start"] = FormatInstant(scenario.start);
  out["end"] = FormatInstant(scenario.end);
  out["warmup"] = FormatDuration(scenario.warmup);
  out["steady_from"] = FormatInstant(scenario.start + scenario.warmup);
  out["baseline"] = scenario.baseline;
  Json upstreams = Json::object();
  for (const world::UpstreamModelConfig& u : scenario.upstreams) {
    Json q;
    q["enabled"] = u.quota.enabled;
    q["limit"] = u.quota.limit;
    q["period"] = std::string(world::QuotaPeriodName(u.quota.period));
    q["period_length_s"] = Round(InSeconds(u.quota.PeriodLength()), 3);  // 0: calendar months
    q["charge"] = std::string(world::QuotaChargeName(u.quota.charge));
    upstreams[u.name] = {{"quota", q}};
  }
  out["upstreams"] = upstreams;
  out["variants"] = Json::array();
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    Json v;
    v["name"] = run.variant;
    v["seed"] = run.seed;
    v["requests"] = m.submitted;
    Json outcomes;
    for (int i = 0; i < kOutcomeCount; ++i) {
      outcomes[std::string(OutcomeName(static_cast<Outcome>(i)))] = m.outcomes[i];
    }
    v["outcomes"] = outcomes;
    v["client_failures"] = m.client_failures();
    v["upstream_calls"] = UpstreamCalls(run);
    std::array<uint64_t, kCallKindCount> kinds{};
    for (int k = 0; k < kCallKindCount; ++k) {
      kinds[k] = UpstreamCallsOfKind(run, static_cast<CallKind>(k));
    }
    v["calls_by_kind"] = KindsJson(kinds);
    v["calls_sent_by_core"] = m.upstream_calls;
    const std::vector<std::string> mismatches = CountMismatches(run);
    v["counts_match_upstreams"] = mismatches.empty();
    v["calls_saved_vs_baseline"] = CallsSaved(runs, scenario.baseline, run);
    if (auto b = SavedAgainst(runs, scenario.baseline, run)) {
      v["calls_saved"] = {{"baseline", b->baseline},
                          {"total", b->saved},
                          {"percent", Round(100.0 * b->saved_fraction, 3)}};
    } else {
      v["calls_saved"] = nullptr;
    }
    v["call_balance"] = BalanceJson(m.accounting, m.balance());
    Json apis = Json::object();
    for (const auto& [name, a] : m.apis) {
      Json api;
      auto up = run.upstreams.find(name);
      api["calls"] = up != run.upstreams.end() ? up->second.calls : a.calls;
      api["calls_by_kind"] =
          KindsJson(up != run.upstreams.end() ? up->second.calls_by_kind : a.calls_by_kind);
      api["credits"] = Round(a.credits, 3);
      Json months = Json::object();
      for (const auto& [month, credits] : a.credits_by_month) months[month] = Round(credits, 3);
      api["credits_by_month"] = months;
      api["late_answers"] = a.late_answers;
      Json statuses = Json::object();
      for (const auto& [status, count] : a.statuses) statuses[std::to_string(status)] = count;
      api["statuses"] = statuses;
      Json api_outcomes;
      for (int i = 0; i < kOutcomeCount; ++i) {
        api_outcomes[std::string(OutcomeName(static_cast<Outcome>(i)))] = a.outcomes[i];
      }
      api["outcomes"] = api_outcomes;
      api["call_balance"] = BalanceJson(a.accounting, a.balance());
      api["latency"] = WaitJson(a.latency);
      if (up != run.upstreams.end()) {
        api["quota_exhausted_s"] = Round(InSeconds(up->second.quota_exhausted_time), 3);
        api["quota_rejected"] = up->second.quota_rejected;
        api["rate_limited"] = up->second.rate_limited;
      }
      apis[name] = api;
    }
    v["apis"] = apis;
    v["credits"] = Round(m.credits, 3);
    v["quota_exhausted_s"] = Round(InSeconds(m.quota_exhausted_time), 3);
    v["quota_refused_calls"] = QuotaRefusedCalls(run);
    Json breakers = Json::object();
    for (const auto& [key, b] : m.breakers) {
      breakers[key] = {{"trips", b.trips},
                       {"open_s", Round(InSeconds(b.open_time), 3)},
                       {"half_open_s", Round(InSeconds(b.half_open_time), 3)},
                       {"half_open_calls", b.half_open_calls}};
    }
    v["breakers"] = breakers;
    v["breaker_trips"] = m.breaker_trips;
    v["breaker_open_s"] = Round(InSeconds(m.breaker_open_time), 3);
    v["half_open_calls"] = m.half_open_calls;
    v["retries"] = m.retries;
    v["retry_budget_denied"] = m.retry_budget_denied;
    Json waits;
    Json latency;
    latency["all"] = WaitJson(m.latency);
    for (Priority p : kAllPriorities) {
      const int i = PriorityIndex(p);
      Json w = WaitJson(m.wait_by_priority[i]);
      w["waited"] = m.waited_by_priority[i];
      w["waited_fraction"] = Round(m.wait_by_priority[i].count() == 0
                                       ? 0.0
                                       : static_cast<double>(m.waited_by_priority[i]) /
                                             static_cast<double>(m.wait_by_priority[i].count()),
                                   6);
      waits[std::string(PriorityName(p))] = w;
      latency[std::string(PriorityName(p))] = WaitJson(m.latency_by_priority[i]);
    }
    v["wait"] = waits;
    v["latency"] = latency;
    Json staleness;
    staleness["answered_with_data"] = m.answered_with_data;
    staleness["outdated"] = m.answered_outdated;
    staleness["outdated_fraction"] = Round(m.outdated_fraction(), 6);
    staleness["age_p50_s"] = Round(InSeconds(m.data_age.Quantile(0.5)), 3);
    staleness["age_p90_s"] = Round(InSeconds(m.data_age.Quantile(0.9)), 3);
    staleness["age_p99_s"] = Round(InSeconds(m.data_age.Quantile(0.99)), 3);
    staleness["age_max_s"] = Round(InSeconds(m.data_age.max()), 3);
    staleness["versions_behind_p50"] = m.versions_behind.ValueAtQuantile(0.5);
    staleness["versions_behind_p99"] = m.versions_behind.ValueAtQuantile(0.99);
    staleness["versions_behind_max"] = m.versions_behind.max_value();
    staleness["versions_behind_mean"] = Round(m.versions_behind.mean(), 6);
    v["staleness"] = staleness;
    v["cost"] = Round(m.cost, 6);
    v["events"] = run.events;
    out["variants"].push_back(v);
  }
  if (replications != nullptr) out["replications"] = ReplicationsJson(*replications);
  const SloVerdict verdict = VerdictFor(scenario, runs, replications);
  if (!verdict.empty()) out["slo"] = SloJson(verdict);
  return out;
}

std::string SummaryCsv(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs) {
  Csv csv("variant,metric,label,value");
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    auto row = [&](const std::string& metric, const std::string& label, const std::string& value) {
      csv.Row(run.variant, metric, label, value);
    };
    auto count = [&](const std::string& metric, const std::string& label, uint64_t value) {
      row(metric, label, std::to_string(value));
    };
    count("seed", "", run.seed);
    count("requests", "", m.submitted);
    for (int i = 0; i < kOutcomeCount; ++i) {
      count("outcome", std::string(OutcomeName(static_cast<Outcome>(i))), m.outcomes[i]);
    }
    count("client_failures", "", m.client_failures());
    count("upstream_calls", "", UpstreamCalls(run));
    for (int k = 0; k < kCallKindCount; ++k) {
      count("upstream_calls_by_kind", std::string(CallKindName(static_cast<CallKind>(k))),
            UpstreamCallsOfKind(run, static_cast<CallKind>(k)));
    }
    for (const auto& [name, a] : m.apis) {
      auto up = run.upstreams.find(name);
      count("api_calls", name, up != run.upstreams.end() ? up->second.calls : a.calls);
      row("api_credits", name, Fixed(a.credits, 3));
      for (const auto& [month, credits] : a.credits_by_month) {
        row("api_credits_" + month, name, Fixed(credits, 3));
      }
      if (up != run.upstreams.end()) {
        row("api_quota_exhausted_s", name, Fixed(InSeconds(up->second.quota_exhausted_time), 3));
        count("api_quota_rejected", name, up->second.quota_rejected);
        count("api_rate_limited", name, up->second.rate_limited);
      }
    }
    {
      const RequestAccounting& a = m.accounting;
      const CallBalance b = m.balance();
      count("call_balance", "requests", a.requests);
      count("call_balance", "cache_hits", a.cache_hits);
      count("call_balance", "stale_answers", a.stale_without_call);
      count("call_balance", "coalescing", a.coalesced);
      count("call_balance", "batching", a.batched_keys);
      for (int i = 0; i < kOutcomeCount; ++i) {
        if (IsClientFailure(static_cast<Outcome>(i))) {
          count("call_balance",
                "failed_without_call_" + std::string(OutcomeName(static_cast<Outcome>(i))),
                a.failed_without_call[i]);
        }
      }
      count("call_balance", "calls_added", b.added);
      row("call_balance", "other", std::to_string(b.other));
      count("call_balance", "calls", b.calls);
    }
    if (auto b = SavedAgainst(runs, scenario.baseline, run)) {
      row("calls_saved", "", std::to_string(b->saved));
      row("calls_saved_percent", "", Fixed(100.0 * b->saved_fraction, 3));
    }
    count("quota_refused_calls", "", QuotaRefusedCalls(run));
    row("credits", "", Fixed(m.credits, 3));
    row("quota_exhausted_s", "", Fixed(InSeconds(m.quota_exhausted_time), 3));
    count("breaker_trips", "", m.breaker_trips);
    row("breaker_open_s", "", Fixed(InSeconds(m.breaker_open_time), 3));
    count("half_open_calls", "", m.half_open_calls);
    for (const auto& [key, b] : m.breakers) {
      count("breaker_trips_of", key, b.trips);
      row("breaker_open_s_of", key, Fixed(InSeconds(b.open_time), 3));
      row("breaker_half_open_s_of", key, Fixed(InSeconds(b.half_open_time), 3));
      count("breaker_half_open_calls_of", key, b.half_open_calls);
    }
    count("retries", "", m.retries);
    count("retry_budget_denied", "", m.retry_budget_denied);
    auto quantiles = [&](const std::string& prefix, const std::string& label, const Histogram& h) {
      count(prefix + "_count", label, h.count());
      row(prefix + "_p50_ms", label, Fixed(InMillis(h.Quantile(0.5)), 3));
      row(prefix + "_p90_ms", label, Fixed(InMillis(h.Quantile(0.9)), 3));
      row(prefix + "_p99_ms", label, Fixed(InMillis(h.Quantile(0.99)), 3));
      row(prefix + "_max_ms", label, Fixed(InMillis(h.max()), 3));
      row(prefix + "_mean_ms", label, Fixed(h.mean() / 1e3, 3));
    };
    for (Priority p : kAllPriorities) {
      quantiles("wait", std::string(PriorityName(p)), m.wait_by_priority[PriorityIndex(p)]);
    }
    quantiles("latency", "", m.latency);
    for (Priority p : kAllPriorities) {
      quantiles("latency", std::string(PriorityName(p)), m.latency_by_priority[PriorityIndex(p)]);
    }
    for (Priority p : kAllPriorities) {
      count("waited", std::string(PriorityName(p)), m.waited_by_priority[PriorityIndex(p)]);
    }
    for (const auto& [name, a] : m.apis) quantiles("api_latency", name, a.latency);
    count("answered_with_data", "", m.answered_with_data);
    count("outdated", "", m.answered_outdated);
    row("outdated_fraction", "", Fixed(m.outdated_fraction(), 6));
    row("age_p50_s", "", Fixed(InSeconds(m.data_age.Quantile(0.5)), 3));
    row("age_p90_s", "", Fixed(InSeconds(m.data_age.Quantile(0.9)), 3));
    row("age_p99_s", "", Fixed(InSeconds(m.data_age.Quantile(0.99)), 3));
    row("age_max_s", "", Fixed(InSeconds(m.data_age.max()), 3));
    row("versions_behind_mean", "", Fixed(m.versions_behind.mean(), 6));
    count("versions_behind_p99", "",
          static_cast<uint64_t>(m.versions_behind.ValueAtQuantile(0.99)));
    count("versions_behind_max", "", static_cast<uint64_t>(m.versions_behind.max_value()));
    row("cost", "", Fixed(m.cost, 6));
  }
  return csv.str();
}

void WriteTimeseriesCsv(std::ostream& out, const std::vector<VariantRun>& runs) {
  Csv csv(out, "variant,bucket,bucket_start,metric,label,value");
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    m.timeline.ForEach([&](size_t i, const TimeBucket& bucket) {
      if (!Quiet(bucket)) BucketRows(csv, run.variant, "hour", m.BucketStart(i), bucket);
    });
  }
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    const size_t per_day = static_cast<size_t>(Days(1).micros() / m.bucket_width.micros());
    TimeBucket day;
    size_t first = 0;
    m.timeline.ForEach([&](size_t i, const TimeBucket& bucket) {
      if (i == first + per_day) {
        if (!Quiet(day)) BucketRows(csv, run.variant, "day", m.BucketStart(first), day);
        day = TimeBucket();
        first = i;
      }
      day.Add(bucket);
    });
    if (!m.timeline.empty() && !Quiet(day)) {
      BucketRows(csv, run.variant, "day", m.BucketStart(first), day);
    }
  }
}

std::string TimeseriesCsv(const std::vector<VariantRun>& runs) {
  std::ostringstream out;
  WriteTimeseriesCsv(out, runs);
  return out.str();
}

void WriteQuotaCsv(std::ostream& out, const scenario::Scenario& scenario,
                   const std::vector<VariantRun>& runs) {
  Csv csv(out,
          "variant,api,hour_start,period_start,limit,credits_used_in_period,credits_remaining,"
          "exhausted,refused_calls");
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    for (const world::UpstreamModelConfig& u : scenario.upstreams) {
      if (!u.quota.enabled) continue;
      const world::QuotaConfig& q = u.quota;
      double dearest = q.default_credits;
      for (const auto& [endpoint, credits] : q.credits_per_endpoint) {
        dearest = std::max(dearest, credits);
      }
      auto credits_in = [&](const TimeBucket& bucket) {
        auto it = bucket.credits_by_api.find(u.name);
        return it == bucket.credits_by_api.end() ? 0.0 : it->second;
      };
      // Periods made of whole buckets are summed from the hourly credits;
      // shorter or unaligned fixed periods come from the upstream's own
      // samples (the most used in one period during the hour).
      const int64_t width = m.bucket_width.micros();
      const bool from_samples =
          q.period == world::QuotaPeriod::kFixedWindow && q.window.micros() % width != 0;
      const int64_t window_buckets = std::max<int64_t>(1, q.rolling_window.micros() / width);
      // Credits of the last window_buckets hours (rolling windows only).
      std::vector<double> window;
      if (q.period == world::QuotaPeriod::kRollingWindow) {
        window.assign(static_cast<size_t>(window_buckets), 0.0);
      }
      Instant period_start;
      double used = 0.0;
      std::optional<QuotaSample> last_sample;
      m.timeline.ForEach([&](size_t i, const TimeBucket& bucket) {
        const Instant hour = m.BucketStart(i);
        const auto sample_it = bucket.quota_by_api.find(u.name);
        const QuotaSample* sample =
            sample_it == bucket.quota_by_api.end() ? nullptr : &sample_it->second;
        const Instant start = q.period == world::QuotaPeriod::kRollingWindow
                                  ? hour + m.bucket_width - q.rolling_window
                                  : q.PeriodAt(hour).first;
        if (q.period == world::QuotaPeriod::kRollingWindow) {
          const double credits = credits_in(bucket);
          used += credits;
          double& slot = window[i % window.size()];
          if (static_cast<int64_t>(i) >= window_buckets) used -= slot;
          slot = credits;
        } else if (from_samples) {
          if (sample != nullptr) {
            used = sample->peak_used;
          } else if (last_sample &&
                     q.PeriodAt(Instant::FromUnixMicros(last_sample->last_at_us)).second > hour) {
            used = last_sample->last_used;  // the period of the last charge goes on
          } else {
            used = 0.0;
          }
        } else {
          if (i == 0 || start != period_start) used = 0.0;
          used += credits_in(bucket);
        }
        if (sample != nullptr) last_sample = *sample;
        period_start = start;
        const uint64_t refused = sample == nullptr ? 0 : sample->refused;
        const double remaining = std::max(0.0, q.limit - used);
        csv.Row(run.variant, u.name, FormatInstant(hour), FormatInstant(start), Fixed(q.limit, 3),
                Fixed(used, 3), Fixed(remaining, 3), remaining < dearest || refused > 0 ? 1 : 0,
                refused);
      });
    }
  }
}

std::string QuotaCsv(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs) {
  std::ostringstream out;
  WriteQuotaCsv(out, scenario, runs);
  return out.str();
}

std::string BreakerTransitionsCsv(const scenario::Scenario& scenario,
                                  const std::vector<VariantRun>& runs) {
  Csv csv("variant,breaker,at,hours_since_start,from,to");
  for (const VariantRun& run : runs) {
    for (const BreakerTransition& t : run.metrics.breaker_transitions) {
      csv.Row(run.variant, t.breaker, FormatInstant(t.at),
              Fixed(static_cast<double>((t.at - scenario.start).micros()) / 3.6e9, 6),
              BreakerStateName(t.from), BreakerStateName(t.to));
    }
  }
  return csv.str();
}

std::string StalenessCsv(const std::vector<VariantRun>& runs) {
  Csv csv("variant,metric,low,high,count");
  for (const VariantRun& run : runs) {
    // The denominators: every request, and those answered with data (the
    // histograms below hold only the latter).
    csv.Row(run.variant, "requests", "", "", run.metrics.submitted);
    csv.Row(run.variant, "answered_with_data", "", "", run.metrics.answered_with_data);
    for (const HistogramBucket& b : run.metrics.data_age.Buckets(2)) {
      csv.Row(run.variant, "age_s", Fixed(static_cast<double>(b.lower) / 1e6, 6),
              Fixed(static_cast<double>(b.upper + 1) / 1e6, 6), b.count);
    }
    for (const HistogramBucket& b : run.metrics.versions_behind.Buckets(2)) {
      csv.Row(run.variant, "versions_behind", b.lower, b.upper + 1, b.count);
    }
  }
  return csv.str();
}

void WriteResults(const std::string& dir, const scenario::Scenario& scenario,
                  const std::vector<VariantRun>& runs, const ReplicationSummary* replications) {
  namespace fs = std::filesystem;
  const fs::path target(dir);
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) ThrowIoError("create", target.string(), ec.value());
  // Each file is produced and written before the next one, and the long
  // ones (a row per hour) are streamed, so memory does not follow the run's
  // length.
  using Producer = std::function<void(std::ostream&)>;
  auto text = [](std::function<std::string()> make) {
    return [make = std::move(make)](std::ostream& out) { out << make(); };
  };
  const std::vector<std::pair<std::string, Producer>> files = {
      {"summary.json",
       text([&] { return SummaryJson(scenario, runs, replications).dump(2) + "\n"; })},
      {"summary.csv", text([&] { return SummaryCsv(scenario, runs); })},
      {"timeseries.csv", [&](std::ostream& out) { WriteTimeseriesCsv(out, runs); }},
      {"quota.csv", [&](std::ostream& out) { WriteQuotaCsv(out, scenario, runs); }},
      {"breaker_transitions.csv", text([&] { return BreakerTransitionsCsv(scenario, runs); })},
      {"staleness.csv", text([&] { return StalenessCsv(runs); })},
      {"report.md", text([&] { return ReportMarkdown(scenario, runs, replications); })},
  };
  // Every file is complete under a temporary name before any is renamed.
  try {
    for (const auto& [name, produce] : files) {
      WriteFileStreaming((target / (name + ".partial")).string(), produce);
    }
  } catch (...) {
    for (const auto& [name, produce] : files) fs::remove(target / (name + ".partial"), ec);
    throw;
  }
  for (const auto& [name, produce] : files) {
    fs::rename(target / (name + ".partial"), target / name, ec);
    if (ec) ThrowIoError("write", (target / name).string(), ec.value());
  }
}

void SetReportPlots(const std::string& dir, bool drawn) {
  const std::string path = (std::filesystem::path(dir) / "report.md").string();
  const config::InputFile report = config::ReadInputFile(path);
  if (!report.ok()) {
    throw IoError("cannot read " + path + ": " + config::DescribeInputFileProblem(report));
  }
  const std::string updated = WithPlotsSection(report.text, drawn);
  if (updated != report.text) WriteFileAtomically(path, updated);
}

}  // namespace orchsim::experiment
