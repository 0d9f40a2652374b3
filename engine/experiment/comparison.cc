#include "engine/experiment/comparison.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace orchsim::experiment {

using scenario::Json;
namespace {

std::string Fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

double Seconds(Duration d) { return static_cast<double>(d.micros()) / 1e6; }
double Millis(Duration d) { return static_cast<double>(d.micros()) / 1e3; }

std::string Percent(double fraction) { return Fixed(100.0 * fraction, 1) + "%"; }

const VariantRun* FindRun(const std::vector<VariantRun>& runs, const std::string& name) {
  for (const VariantRun& r : runs) {
    if (r.variant == name) return &r;
  }
  return nullptr;
}

// Renders rows as columns padded to their widest cell; column 0 left-aligned.
std::string Align(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < rows[r].size(); ++i) {
      const std::string& cell = rows[r][i];
      const std::string pad(widths[i] - cell.size(), ' ');
      out += i == 0 ? cell + pad : "  " + pad + cell;
    }
    out += "\n";
    if (r == 0) {
      size_t total = 0;
      for (size_t w : widths) total += w + 2;
      out += std::string(total - 2, '-') + "\n";
    }
  }
  return out;
}

std::string WaitCell(const Histogram& h) {
  if (h.count() == 0) return "-";
  return Fixed(Millis(h.Quantile(0.5)), 0) + "/" + Fixed(Millis(h.Quantile(0.99)), 0);
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int64_t CallsSaved(const std::vector<VariantRun>& runs, const std::string& baseline,
                   const VariantRun& run) {
  const VariantRun* base = FindRun(runs, baseline);
  if (base == nullptr) return 0;
  return static_cast<int64_t>(base->metrics.upstream_calls) -
         static_cast<int64_t>(run.metrics.upstream_calls);
}

std::string ComparisonTable(const scenario::Scenario& scenario,
                            const std::vector<VariantRun>& runs) {
  const bool has_baseline = FindRun(runs, scenario.baseline) != nullptr;
  std::vector<std::vector<std::string>> main_rows = {
      {"variant", "requests", "upstream calls",
       has_baseline ? "saved vs " + scenario.baseline : "saved", "credits", "breaker trips",
       "retries", "outdated", "data age p99", "client failures"}};
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    std::string saved = "-";
    if (has_baseline) {
      const int64_t s = CallsSaved(runs, scenario.baseline, run);
      const VariantRun* base = FindRun(runs, scenario.baseline);
      const double fraction =
          base->metrics.upstream_calls == 0
              ? 0.0
              : static_cast<double>(s) / static_cast<double>(base->metrics.upstream_calls);
      saved = std::to_string(s) + " (" + Percent(fraction) + ")";
    }
    main_rows.push_back({run.variant, std::to_string(m.submitted), std::to_string(m.upstream_calls),
                         saved, Fixed(m.credits, 0), std::to_string(m.breaker_trips),
                         std::to_string(m.retries), Percent(m.outdated_fraction()),
                         Fixed(Seconds(m.data_age.Quantile(0.99)), 0) + "s",
                         std::to_string(m.client_failures()) + " (" +
                             Percent(m.submitted == 0 ? 0.0
                                                      : static_cast<double>(m.client_failures()) /
                                                            static_cast<double>(m.submitted)) +
                             ")"});
  }
  std::vector<std::vector<std::string>> wait_rows = {{"queue wait p50/p99 (ms)"}};
  for (Priority p : kAllPriorities) wait_rows[0].push_back(std::string(PriorityName(p)));
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {run.variant};
    for (Priority p : kAllPriorities) {
      row.push_back(WaitCell(run.metrics.wait_by_priority[PriorityIndex(p)]));
    }
    wait_rows.push_back(row);
  }
  std::vector<std::vector<std::string>> outcome_rows = {{"outcomes"}};
  for (int i = 0; i < kOutcomeCount; ++i) {
    outcome_rows[0].push_back(std::string(OutcomeName(static_cast<Outcome>(i))));
  }
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {run.variant};
    for (int i = 0; i < kOutcomeCount; ++i) row.push_back(std::to_string(run.metrics.outcomes[i]));
    outcome_rows.push_back(row);
  }
  return Align(main_rows) + "\n" + Align(wait_rows) + "\n" + Align(outcome_rows);
}

scenario::Json SummaryJson(const scenario::Scenario& scenario,
                           const std::vector<VariantRun>& runs) {
  Json out;
  out["scenario"] = scenario.name;
  out["start"] = FormatInstant(scenario.start);
  out["end"] = FormatInstant(scenario.end);
  out["baseline"] = scenario.baseline;
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
    v["upstream_calls"] = m.upstream_calls;
    Json kinds;
    for (int k = 0; k < kCallKindCount; ++k) {
      kinds[std::string(CallKindName(static_cast<CallKind>(k)))] = m.calls_by_kind[k];
    }
    v["calls_by_kind"] = kinds;
    v["calls_saved_vs_baseline"] = CallsSaved(runs, scenario.baseline, run);
    Json apis = Json::object();
    for (const auto& [name, a] : m.apis) {
      Json api;
      api["calls"] = a.calls;
      api["credits"] = a.credits;
      api["late_answers"] = a.late_answers;
      Json statuses = Json::object();
      for (const auto& [status, count] : a.statuses) statuses[std::to_string(status)] = count;
      api["statuses"] = statuses;
      auto up = run.upstreams.find(name);
      if (up != run.upstreams.end()) {
        api["quota_exhausted_s"] = Seconds(up->second.quota_exhausted_time);
      }
      apis[name] = api;
    }
    v["apis"] = apis;
    v["credits"] = m.credits;
    v["quota_exhausted_s"] = Seconds(m.quota_exhausted_time);
    v["breaker_trips"] = m.breaker_trips;
    v["breaker_open_s"] = Seconds(m.breaker_open_time);
    v["retries"] = m.retries;
    v["retry_budget_denied"] = m.retry_budget_denied;
    Json waits;
    for (Priority p : kAllPriorities) {
      const Histogram& h = m.wait_by_priority[PriorityIndex(p)];
      Json w;
      w["count"] = h.count();
      w["p50_ms"] = Millis(h.Quantile(0.5));
      w["p90_ms"] = Millis(h.Quantile(0.9));
      w["p99_ms"] = Millis(h.Quantile(0.99));
      w["max_ms"] = Millis(h.max());
      waits[std::string(PriorityName(p))] = w;
    }
    v["wait"] = waits;
    Json staleness;
    staleness["answered_with_data"] = m.answered_with_data;
    staleness["outdated"] = m.answered_outdated;
    staleness["outdated_fraction"] = m.outdated_fraction();
    staleness["age_p50_s"] = Seconds(m.data_age.Quantile(0.5));
    staleness["age_p99_s"] = Seconds(m.data_age.Quantile(0.99));
    v["staleness"] = staleness;
    v["cost"] = m.cost;
    out["variants"].push_back(v);
  }
  return out;
}

std::string SummaryCsv(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs) {
  std::ostringstream csv;
  csv << "variant,seed,requests,upstream_calls,calls_saved,credits,quota_exhausted_s,"
         "breaker_trips,breaker_open_s,retries,client_failures,outdated_fraction,age_p99_s,cost";
  for (Priority p : kAllPriorities) {
    csv << ",wait_p50_ms_" << PriorityName(p) << ",wait_p99_ms_" << PriorityName(p);
  }
  for (int i = 0; i < kOutcomeCount; ++i) csv << "," << OutcomeName(static_cast<Outcome>(i));
  csv << "\n";
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    csv << run.variant << "," << run.seed << "," << m.submitted << "," << m.upstream_calls << ","
        << CallsSaved(runs, scenario.baseline, run) << "," << Fixed(m.credits, 3) << ","
        << Fixed(Seconds(m.quota_exhausted_time), 3) << "," << m.breaker_trips << ","
        << Fixed(Seconds(m.breaker_open_time), 3) << "," << m.retries << "," << m.client_failures()
        << "," << Fixed(m.outdated_fraction(), 6) << ","
        << Fixed(Seconds(m.data_age.Quantile(0.99)), 3) << "," << Fixed(m.cost, 4);
    for (Priority p : kAllPriorities) {
      const Histogram& h = m.wait_by_priority[PriorityIndex(p)];
      csv << "," << Fixed(Millis(h.Quantile(0.5)), 3) << "," << Fixed(Millis(h.Quantile(0.99)), 3);
    }
    for (int i = 0; i < kOutcomeCount; ++i) csv << "," << m.outcomes[i];
    csv << "\n";
  }
  return csv.str();
}

std::string TimeseriesCsv(const std::vector<VariantRun>& runs) {
  std::ostringstream csv;
  csv << "variant,hour_start,requests,upstream_calls,credits,client_failures\n";
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    for (size_t i = 0; i < m.timeline.size(); ++i) {
      const TimeBucket& b = m.timeline[i];
      csv << run.variant << ","
          << FormatInstant(m.start +
                           Duration::FromMicros(m.bucket_width.micros() * static_cast<int64_t>(i)))
          << "," << b.requests << "," << b.upstream_calls << "," << Fixed(b.credits, 3) << ","
          << b.client_failures << "\n";
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
  if (ec) throw std::runtime_error("cannot create " + target.string() + ": " + ec.message());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"summary.json", SummaryJson(scenario, runs).dump(2) + "\n"},
      {"summary.csv", SummaryCsv(scenario, runs)},
      {"timeseries.csv", TimeseriesCsv(runs)},
  };
  // Every file is complete under a temporary name before any is renamed.
  try {
    for (const auto& [name, text] : files) WriteFile(target / (name + ".partial"), text);
  } catch (...) {
    for (const auto& [name, text] : files) fs::remove(target / (name + ".partial"), ec);
    throw;
  }
  for (const auto& [name, text] : files) {
    fs::rename(target / (name + ".partial"), target / name, ec);
    if (ec)
      throw std::runtime_error("cannot write " + (target / name).string() + ": " + ec.message());
  }
}

}  // namespace orchsim::experiment
