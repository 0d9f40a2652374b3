#include "engine/experiment/replications.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace orchsim::experiment {
namespace {

// The metrics the report and terminal show, with how to print them.
struct Headline {
  const char* metric;
  const char* label;
  const char* unit;  // "", "%", "s"
};
constexpr Headline kHeadlines[] = {
    {"upstream_calls", "upstream calls", ""},
    {"calls_saved_pct", "saved", "%"},
    {"credits", "credits", ""},
    {"client_failures_pct", "client failures", "%"},
    {"failed_without_call", "failed w/o call", ""},
    {"latency_p99_s", "latency p99", "s"},
    {"outdated_fraction", "outdated", "fraction"},
    {"breaker_trips", "breaker trips", ""},
};

// 4 significant digits, no exponent for what people read.
std::string Short(double v) {
  char buffer[64];
  if (std::fabs(v) >= 1e4) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", v);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.4g", v);
  }
  return buffer;
}

std::string Cell(const MetricSummary& s, const std::string& unit) {
  double scale = 1.0;
  std::string suffix;
  if (unit == "%") suffix = "%";
  if (unit == "s") suffix = " s";
  if (unit == "fraction") {
    scale = 100.0;
    suffix = "%";
  }
  std::string out = Short(s.mean * scale) + suffix;
  if (s.n >= 2) out += " ± " + Short(s.ci95_half * scale) + suffix;
  return out;
}

double Rounded(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9g", v);
  return std::stod(buffer);
}

std::string SeedsText(const std::vector<uint64_t>& seeds) {
  std::string out;
  for (size_t i = 0; i < seeds.size(); ++i) out += (i ? ", " : "") + std::to_string(seeds[i]);
  return out;
}

}  // namespace

ReplicationSummary SummarizeReplications(
    const std::vector<uint64_t>& seeds, const std::vector<std::string>& variants,
    const std::vector<std::map<std::string, MetricValues>>& per_seed) {
  ReplicationSummary r;
  r.seeds = seeds;
  r.variants = variants;
  for (const std::string& variant : variants) {
    auto first = per_seed.front().find(variant);
    if (first == per_seed.front().end()) continue;
    for (const auto& [metric, value] : first->second) {
      std::vector<double> samples;
      for (const auto& seed : per_seed) {
        auto v = seed.find(variant);
        if (v != seed.end() && v->second.count(metric) != 0)
          samples.push_back(v->second.at(metric));
      }
      r.metrics[variant][metric] = Summarize(samples);
    }
  }
  return r;
}

Json ReplicationsJson(const ReplicationSummary& r) {
  Json out;
  out["seeds"] = r.seeds;
  out["interval"] =
      "mean, sample standard deviation and 95% confidence half-width (Student t, n - 1 degrees "
      "of freedom) over the seeds; every seed runs every variant on the same demand";
  Json variants = Json::object();
  for (const auto& [variant, metrics] : r.metrics) {
    Json v = Json::object();
    for (const auto& [name, s] : metrics) {
      v[name] = {{"n", s.n},
                 {"mean", Rounded(s.mean)},
                 {"sd", Rounded(s.sd)},
                 {"ci95_half", Rounded(s.ci95_half)}};
    }
    variants[variant] = v;
  }
  out["variants"] = variants;
  return out;
}

std::string ReplicationsMarkdown(const ReplicationSummary& r) {
  std::string md = "## Replications: " + std::to_string(r.seeds.size()) + " seeds (" +
                   SeedsText(r.seeds) + ")\n\n";
  md +=
      "Mean ± the 95% confidence half-width (Student t, n − 1 degrees of freedom) over the "
      "seeds; each seed runs every variant on the same demand and outages. The other tables "
      "and the plots are for seed " +
      std::to_string(r.seeds.front()) +
      ". `orchsim check --seeds N` holds expectations on every seed and compares the means "
      "with the baseline.\n\n";
  md += "| variant |";
  std::string sep = "| --- |";
  for (const Headline& h : kHeadlines) {
    md += std::string(" ") + h.label + " |";
    sep += " ---: |";
  }
  md += "\n" + sep + "\n";
  for (const std::string& variant : r.variants) {
    auto it = r.metrics.find(variant);
    if (it == r.metrics.end()) continue;
    md += "| `" + variant + "` |";
    for (const Headline& h : kHeadlines) {
      auto m = it->second.find(h.metric);
      md += ' ';
      md += m == it->second.end() ? std::string("–") : Cell(m->second, h.unit);
      md += " |";
    }
    md += "\n";
  }
  return md + "\n";
}

std::string ReplicationsTable(const ReplicationSummary& r) {
  std::vector<std::vector<std::string>> rows = {
      {"mean ± 95% CI, " + std::to_string(r.seeds.size()) + " seeds"}};
  for (const Headline& h : kHeadlines) rows[0].push_back(h.label);
  for (const std::string& variant : r.variants) {
    auto it = r.metrics.find(variant);
    if (it == r.metrics.end()) continue;
    std::vector<std::string> row = {variant};
    for (const Headline& h : kHeadlines) {
      auto m = it->second.find(h.metric);
      row.push_back(m == it->second.end() ? "-" : Cell(m->second, h.unit));
    }
    rows.push_back(row);
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      // Width in characters: "±" is one character of two bytes.
      size_t w = row[i].size();
      for (size_t at = row[i].find("±"); at != std::string::npos; at = row[i].find("±", at + 1)) {
        --w;
      }
      widths[i] = std::max(widths[i], w);
    }
  }
  std::string out;
  for (size_t r_i = 0; r_i < rows.size(); ++r_i) {
    for (size_t i = 0; i < rows[r_i].size(); ++i) {
      const std::string& cell = rows[r_i][i];
      size_t w = cell.size();
      for (size_t at = cell.find("±"); at != std::string::npos; at = cell.find("±", at + 1)) --w;
      const std::string pad(widths[i] - w, ' ');
      out += i == 0 ? cell + pad : "  " + pad + cell;
    }
    out += "\n";
  }
  return out;
}

}  // namespace orchsim::experiment
