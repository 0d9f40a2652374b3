#include "engine/experiment/results_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/build_info.h"
#include "engine/experiment/comparison.h"
#include "engine/experiment/number_format.h"
#include "engine/experiment/report.h"
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

Json KindsJson(const std::array<uint64_t, kCallKindCount>& kinds) {
  Json out;
  for (int k = 0; k < kCallKindCount; ++k) {
    out[std::string(CallKindName(static_cast<CallKind>(k)))] = kinds[k];
  }
  return out;
}

// 00:00Z of the first day of `t`'s month, and of the next month.
Instant MonthStart(Instant t, int add_months) {
  const int64_t day_us = Days(1).micros();
  const int64_t days = t.unix_micros() / day_us;
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(days, &year, &month, &day);
  int64_t m = static_cast<int64_t>(month) - 1 + add_months;
  year += m / 12;
  m %= 12;
  return Instant::FromUnixMicros(DaysFromCivil(year, static_cast<unsigned>(m + 1), 1) * day_us);
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

Json SummaryJson(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs) {
  Json out;
  out["schema_version"] = kSummarySchemaVersion;
  out["orchsim"] = {{"version", std::string(OrchsimVersion())},
                    {"git_commit", std::string(OrchsimGitCommit())}};
  out["scenario"] = scenario.name;
  out["description"] = scenario.description;
  out["seed"] = runs.empty() ? scenario.seed : runs.front().seed;
  out["start"] = FormatInstant(scenario.start);
  out["end"] = FormatInstant(scenario.end);
  out["baseline"] = scenario.baseline;
  Json upstreams = Json::object();
  for (const world::UpstreamModelConfig& u : scenario.upstreams) {
    Json q;
    q["enabled"] = u.quota.enabled;
    q["limit"] = u.quota.limit;
    q["period"] = std::string(world::QuotaPeriodName(u.quota.period));
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
    Json avoided;
    for (int i = 0; i < kSavingMechanismCount; ++i) {
      avoided[std::string(SavingMechanismName(static_cast<SavingMechanism>(i)))] =
          m.avoided_calls[i];
    }
    v["avoided_calls"] = avoided;
    if (auto b = SavedAgainst(runs, scenario.baseline, run)) {
      Json saved;
      saved["baseline"] = b->baseline;
      saved["total"] = b->saved;
      saved["percent"] = Round(100.0 * b->saved_fraction, 3);
      Json by;
      for (int i = 0; i < kSavingMechanismCount; ++i) {
        by[std::string(SavingMechanismName(static_cast<SavingMechanism>(i)))] = b->by_mechanism[i];
      }
      saved["by_mechanism"] = by;
      saved["added_calls"] = b->added_calls;
      saved["other"] = b->other;
      v["calls_saved"] = saved;
    } else {
      v["calls_saved"] = nullptr;
    }
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
      waits[std::string(PriorityName(p))] = WaitJson(m.wait_by_priority[PriorityIndex(p)]);
      latency[std::string(PriorityName(p))] = WaitJson(m.latency_by_priority[PriorityIndex(p)]);
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
    for (int i = 0; i < kSavingMechanismCount; ++i) {
      count("avoided_calls", std::string(SavingMechanismName(static_cast<SavingMechanism>(i))),
            m.avoided_calls[i]);
    }
    if (auto b = SavedAgainst(runs, scenario.baseline, run)) {
      row("calls_saved", "", std::to_string(b->saved));
      row("calls_saved_percent", "", Fixed(100.0 * b->saved_fraction, 3));
      for (int i = 0; i < kSavingMechanismCount; ++i) {
        row("calls_saved_by", std::string(SavingMechanismName(static_cast<SavingMechanism>(i))),
            std::to_string(b->by_mechanism[i]));
      }
      row("calls_saved_by", "added_calls", std::to_string(-b->added_calls));
      row("calls_saved_by", "other", std::to_string(b->other));
    }
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
    };
    for (Priority p : kAllPriorities) {
      quantiles("wait", std::string(PriorityName(p)), m.wait_by_priority[PriorityIndex(p)]);
    }
    quantiles("latency", "", m.latency);
    for (Priority p : kAllPriorities) {
      quantiles("latency", std::string(PriorityName(p)), m.latency_by_priority[PriorityIndex(p)]);
    }
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
          "exhausted");
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    for (const world::UpstreamModelConfig& u : scenario.upstreams) {
      if (!u.quota.enabled) continue;
      double dearest = u.quota.default_credits;
      for (const auto& [endpoint, credits] : u.quota.credits_per_endpoint) {
        dearest = std::max(dearest, credits);
      }
      auto credits_in = [&](const TimeBucket& bucket) {
        auto it = bucket.credits_by_api.find(u.name);
        return it == bucket.credits_by_api.end() ? 0.0 : it->second;
      };
      const int64_t window_buckets =
          std::max<int64_t>(1, u.quota.rolling_window.micros() / m.bucket_width.micros());
      // Credits of the last window_buckets hours (rolling windows only).
      std::vector<double> window;
      if (u.quota.period == world::QuotaPeriod::kRollingWindow) {
        window.assign(static_cast<size_t>(window_buckets), 0.0);
      }
      Instant period_start;
      double used = 0.0;
      m.timeline.ForEach([&](size_t i, const TimeBucket& bucket) {
        const Instant hour = m.BucketStart(i);
        Instant start;
        switch (u.quota.period) {
          case world::QuotaPeriod::kCalendarMonthUtc:
            start = MonthStart(hour, 0);
            break;
          case world::QuotaPeriod::kCalendarDayUtc:
            start =
                Instant::FromUnixMicros(hour.unix_micros() - hour.unix_micros() % Days(1).micros());
            break;
          case world::QuotaPeriod::kRollingWindow:
            start = hour + m.bucket_width - u.quota.rolling_window;
            break;
        }
        if (u.quota.period == world::QuotaPeriod::kRollingWindow) {
          const double credits = credits_in(bucket);
          used += credits;
          double& slot = window[i % window.size()];
          if (static_cast<int64_t>(i) >= window_buckets) used -= slot;
          slot = credits;
        } else {
          if (i == 0 || start != period_start) used = 0.0;
          used += credits_in(bucket);
        }
        period_start = start;
        const double remaining = std::max(0.0, u.quota.limit - used);
        csv.Row(run.variant, u.name, FormatInstant(hour), FormatInstant(start),
                Fixed(u.quota.limit, 3), Fixed(used, 3), Fixed(remaining, 3),
                remaining < dearest ? 1 : 0);
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
                  const std::vector<VariantRun>& runs) {
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
      {"summary.json", text([&] { return SummaryJson(scenario, runs).dump(2) + "\n"; })},
      {"summary.csv", text([&] { return SummaryCsv(scenario, runs); })},
      {"timeseries.csv", [&](std::ostream& out) { WriteTimeseriesCsv(out, runs); }},
      {"quota.csv", [&](std::ostream& out) { WriteQuotaCsv(out, scenario, runs); }},
      {"breaker_transitions.csv", text([&] { return BreakerTransitionsCsv(scenario, runs); })},
      {"staleness.csv", text([&] { return StalenessCsv(runs); })},
      {"report.md", text([&] { return ReportMarkdown(scenario, runs); })},
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
