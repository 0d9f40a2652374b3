#include "engine/experiment/slo.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/experiment/check.h"
#include "engine/experiment/replications.h"
#include "engine/experiment/report.h"

namespace orchsim::experiment {
namespace {

using scenario::ConfigError;
using scenario::Json;
using scenario::ObjectReader;

std::string Format(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, v);
  return buffer;
}

// One number in `unit`, without an interval.
std::string OneValue(double v, const std::string& unit) {
  if (!std::isfinite(v)) return Format("%g", v);
  if (unit == "s") {
    const double a = std::fabs(v);
    if (a == 0.0) return "0 s";
    if (a < 0.01) return Format("%.2g ms", v * 1e3);
    if (a < 1.0) return Format("%.0f ms", v * 1e3);
    if (a < 60.0) return Format("%.3g s", v);
    if (a < 3600.0) return Format("%.3g min", v / 60.0);
    return Format("%.3g h", v / 3600.0);
  }
  if (unit == "%") return Format("%.3g", v) + "%";
  if (unit == "fraction") return Format("%.3g", 100.0 * v) + "%";
  if (unit == "money") return Format("%.2f", v);
  // count, credits and anything else: whole numbers with separators.
  if (std::fabs(v) >= 100.0 || v == std::floor(v)) {
    return WithCommas(static_cast<int64_t>(std::llround(v)));
  }
  return Format("%.3g", v);
}

std::string Label(const std::string& metric) {
  std::string out = metric;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string CostLabel(const std::vector<std::string>& cheapest_by) {
  std::string out;
  for (size_t i = 0; i < cheapest_by.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == cheapest_by.size() ? ", then " : ", ") + Label(cheapest_by[i]);
  }
  return out;
}

std::string SeedsText(const std::vector<uint64_t>& seeds) {
  if (seeds.size() == 1) return "seed " + std::to_string(seeds.front());
  return std::to_string(seeds.size()) + " seeds (" + std::to_string(seeds.front()) + "–" +
         std::to_string(seeds.back()) + ")";
}

// The cost text of a variant: "95,412 credits, 60,000 upstream calls".
std::string CostText(const SloVerdict& v, const VariantSlo& variant, size_t metrics) {
  std::string out;
  for (size_t i = 0; i < std::min(metrics, variant.cost.size()); ++i) {
    const std::string& m = v.spec.cheapest_by[i];
    out += (i == 0 ? "" : ", ") + OneValue(variant.cost[i], v.spec.CostUnit(i)) + " " + Label(m);
  }
  return out;
}

// "client_failures_pct 1.3% > 1%": why an objective is not met.
std::string Why(const SloObjective& o, const ObjectiveResult& r) {
  const double h = r.value.n >= 2 ? r.value.ci95_half : 0.0;
  std::string out = o.metric + " " + SloValueText(r.value, o.unit);
  if (o.max && r.value.mean + h > *o.max) {
    out += (r.status == SloStatus::kUnsure ? " (interval crosses " : " > ") +
           OneValue(*o.max, o.unit) + (r.status == SloStatus::kUnsure ? ")" : "");
  } else if (o.min) {
    out += (r.status == SloStatus::kUnsure ? " (interval crosses " : " < ") +
           OneValue(*o.min, o.unit) + (r.status == SloStatus::kUnsure ? ")" : "");
  }
  return out;
}

bool CostLess(const std::vector<double>& a, const std::vector<double>& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

// Display width: "±", "–" and "…" are one character of several bytes.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

// Bounds no run can meet (a max below 0 on a metric that is never
// negative) and fractions written as percentages (0.3 means 30%).
void CheckAttainable(const std::string& metric, const std::string& unit, const MetricBound& b,
                     const std::string& path, const std::string& file) {
  const bool may_be_negative =
      metric == "calls_saved" || metric == "calls_saved_pct" || metric == "calls_other";
  if (!may_be_negative && b.max && *b.max < 0) {
    throw ConfigError(file, path + "/max",
                      "a maximum of " + Format("%g", *b.max) + " can never hold: " + metric +
                          " is never below 0");
  }
  if (unit == "fraction") {
    for (const auto& [key, value] : {std::pair{"min", b.min}, std::pair{"max", b.max}}) {
      if (value && (*value < 0 || *value > 1)) {
        throw ConfigError(
            file, path + "/" + key,
            "expected a fraction from 0 to 1 (0.3 for 30%), got " + Format("%g", *value));
      }
    }
  }
  if (unit == "%" && b.min && *b.min > 100) {
    throw ConfigError(file, path + "/min",
                      "a minimum of " + Format("%g", *b.min) + "% can never hold: " + metric +
                          " is at most 100%");
  }
}

}  // namespace

std::string SloObjective::Text() const {
  if (min && max) {
    return metric + " in [" + OneValue(*min, unit) + ", " + OneValue(*max, unit) + "]";
  }
  if (max) return metric + " <= " + OneValue(*max, unit);
  return metric + " >= " + OneValue(min.value_or(0.0), unit);
}

const char* SloStatusName(SloStatus status) {
  switch (status) {
    case SloStatus::kMet:
      return "met";
    case SloStatus::kUnsure:
      return "unsure";
    case SloStatus::kMissed:
      break;
  }
  return "missed";
}

SloSpec ReadSloSpec(const scenario::Scenario& s) {
  SloSpec spec;
  if (s.slo.is_null()) {
    // A sweep that tunes under the objectives needs some.
    if (s.sweep.is_object() && s.sweep.value("slo", Json(false)) == Json(true)) {
      throw ConfigError(s.file, "/sweep/slo",
                        "true needs the scenario's service-level objectives (\"slo\"); it has "
                        "none");
    }
    return spec;
  }
  std::vector<std::string> apis;
  for (const auto& u : s.upstreams) apis.push_back(u.name);
  const std::vector<MetricInfo> catalog = MetricCatalog(apis);
  ObjectReader r(s.slo, "/slo", s.file);
  if (!r.Has("objectives")) {
    r.Fail("objectives",
           "expected an object of objectives by metric, e.g. {\"client_failures_pct\": "
           "{\"max\": 1}}");
  }
  const Json& objectives = r.Raw("objectives");
  const std::string opath = "/slo/objectives";
  if (!objectives.is_object() || objectives.empty()) {
    throw ConfigError(s.file, opath,
                      "expected a non-empty object of objectives by metric, got " +
                          scenario::JsonPreview(objectives));
  }
  for (const auto& [metric, bound] : objectives.items()) {
    const std::string path = opath + "/" + metric;
    const MetricBound b = ReadMetricBound(bound, catalog, metric, path, s.file);
    SloObjective o;
    o.metric = metric;
    o.unit = FindMetricInfo(catalog, metric).unit;
    CheckAttainable(metric, o.unit, b, path, s.file);
    o.min = b.min;
    o.max = b.max;
    o.where = path;
    spec.objectives.push_back(o);
  }
  r.Allow("cheapest_by");
  if (r.Has("cheapest_by")) {
    std::vector<std::string> by;
    r.Strings("cheapest_by", &by);
    if (by.empty()) r.Fail("cheapest_by", "expected at least one metric name");
    std::vector<std::string> units;
    for (size_t i = 0; i < by.size(); ++i) {
      try {
        units.push_back(FindMetricInfo(catalog, by[i]).unit);
      } catch (const UnknownMetricError& e) {
        throw ConfigError(s.file, "/slo/cheapest_by/" + std::to_string(i), e.what());
      }
    }
    spec.cheapest_by = by;
    spec.cheapest_by_units = units;
  }
  r.Finish();
  // Catalog order: how the tables list them, whatever the file's order.
  auto rank = [&](const std::string& metric) {
    for (size_t i = 0; i < catalog.size(); ++i) {
      if (catalog[i].name == metric) return i;
    }
    return catalog.size();
  };
  std::stable_sort(spec.objectives.begin(), spec.objectives.end(),
                   [&](const SloObjective& a, const SloObjective& b) {
                     return rank(a.metric) < rank(b.metric);
                   });
  return spec;
}

std::vector<std::string> SloConstraints(const SloSpec& spec) {
  std::vector<std::string> out;
  for (const SloObjective& o : spec.objectives) {
    if (o.min) out.push_back("ci95:" + o.metric + ">=" + FormatNumber(*o.min));
    if (o.max) out.push_back("ci95:" + o.metric + "<=" + FormatNumber(*o.max));
  }
  return out;
}

SloVerdict JudgeSlo(const SloSpec& spec, const std::vector<uint64_t>& seeds,
                    const std::vector<std::string>& variants,
                    const VariantMetricSummaries& values) {
  SloVerdict v;
  v.spec = spec;
  v.seeds = seeds;
  if (spec.empty()) return v;
  for (const std::string& name : variants) {
    auto found = values.find(name);
    if (found == values.end()) continue;
    const auto& metrics = found->second;
    auto get = [&](const std::string& metric) {
      auto it = metrics.find(metric);
      if (it == metrics.end()) {
        std::vector<std::string> known;
        for (const auto& [m, s] : metrics) known.push_back(m);
        throw UnknownMetricError(metric, known);
      }
      return it->second;
    };
    VariantSlo variant;
    variant.variant = name;
    for (const SloObjective& o : spec.objectives) {
      ObjectiveResult r;
      r.value = get(o.metric);
      const double h = r.value.n >= 2 ? r.value.ci95_half : 0.0;
      const double low = r.value.mean - h;
      const double high = r.value.mean + h;
      const bool inside = (!o.min || low >= *o.min) && (!o.max || high <= *o.max);
      const bool outside = (o.min && high < *o.min) || (o.max && low > *o.max);
      r.status = inside ? SloStatus::kMet : outside ? SloStatus::kMissed : SloStatus::kUnsure;
      if (!inside) {
        double worst = 0.0;
        if (o.max && high > *o.max) {
          worst = std::max(worst, (high - *o.max) / std::max(std::fabs(*o.max), std::fabs(high)));
        }
        if (o.min && low < *o.min) {
          worst = std::max(worst, (*o.min - low) / std::max(std::fabs(*o.min), std::fabs(low)));
        }
        r.shortfall = worst;
        ++variant.not_met;
        variant.shortfall += worst;
      }
      variant.results.push_back(r);
    }
    for (const std::string& m : spec.cheapest_by) variant.cost.push_back(get(m).mean);
    v.variants.push_back(std::move(variant));
  }
  for (size_t i = 0; i < v.variants.size(); ++i) {
    const VariantSlo& c = v.variants[i];
    if (!c.meets_all()) continue;
    if (!v.chosen || CostLess(c.cost, v.variants[*v.chosen].cost)) v.chosen = i;
  }
  if (!v.chosen) {
    for (size_t i = 0; i < v.variants.size(); ++i) {
      const VariantSlo& c = v.variants[i];
      if (!v.closest) {
        v.closest = i;
        continue;
      }
      const VariantSlo& best = v.variants[*v.closest];
      if (c.not_met != best.not_met) {
        if (c.not_met < best.not_met) v.closest = i;
      } else if (c.shortfall != best.shortfall) {
        if (c.shortfall < best.shortfall) v.closest = i;
      } else if (CostLess(c.cost, best.cost)) {
        v.closest = i;
      }
    }
  }
  return v;
}

SloVerdict VerdictFor(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                      const ReplicationSummary* replications) {
  const SloSpec spec = ReadSloSpec(scenario);
  if (spec.empty() || runs.empty()) {
    SloVerdict v;
    v.spec = spec;
    return v;
  }
  if (replications != nullptr) {
    return JudgeSlo(spec, replications->seeds, replications->variants, replications->metrics);
  }
  VariantMetricSummaries values;
  std::vector<std::string> names;
  for (const auto& [variant, metrics] : FlattenRuns(scenario, runs)) {
    for (const auto& [metric, value] : metrics) {
      MetricSummary s;
      s.n = 1;
      s.mean = value;
      values[variant][metric] = s;
    }
  }
  for (const VariantRun& run : runs) names.push_back(run.variant);
  return JudgeSlo(spec, {runs.front().seed}, names, values);
}

std::string SloValueText(const MetricSummary& value, const std::string& unit) {
  std::string out = OneValue(value.mean, unit);
  if (value.n >= 2) out += " ± " + OneValue(value.ci95_half, unit);
  return out;
}

std::string VerdictSentence(const SloVerdict& v, bool markdown) {
  if (v.empty() || v.variants.empty()) return "";
  const std::string b = markdown ? "**" : "";
  auto name = [&](const VariantSlo& s) { return markdown ? "`" + s.variant + "`" : s.variant; };
  const size_t n = v.spec.objectives.size();
  const std::string all = n == 1 ? "the objective" : "all " + std::to_string(n) + " objectives";
  // With replications the verdict says on what it was judged.
  const std::string judged =
      v.seeds.size() >= 2 ? " Judged over " + SeedsText(v.seeds) +
                                ": an objective counts as met only when its whole 95% interval "
                                "lies inside the bound."
                          : "";
  std::string out;
  if (v.chosen) {
    const VariantSlo& c = v.variants[*v.chosen];
    out = b + "Verdict: " + name(c) + "." + b + " It meets " + all +
          " and is the cheapest variant that does (cost: " + CostLabel(v.spec.cheapest_by) + "; " +
          CostText(v, c, v.spec.cheapest_by.size()) + ").";
    std::string also;
    std::string others;
    for (size_t i = 0; i < v.variants.size(); ++i) {
      if (i == *v.chosen) continue;
      const VariantSlo& o = v.variants[i];
      if (o.meets_all()) {
        also += (also.empty() ? "" : ", ") + name(o) + " (" + CostText(v, o, 1) + ")";
      } else {
        others += (others.empty() ? "" : ", ") + name(o) + " (" + std::to_string(o.not_met) +
                  " of " + std::to_string(n) + ")";
      }
    }
    if (!also.empty()) out += " Also meeting every objective, at a higher cost: " + also + ".";
    if (!others.empty()) out += " Not meeting every objective: " + others + ".";
    return out + judged;
  }
  out = b + "Verdict: no variant meets every objective." + b;
  if (v.closest) {
    const VariantSlo& c = v.variants[*v.closest];
    out += " Closest: " + name(c) + ", with " + std::to_string(c.not_met) + " of " +
           std::to_string(n) + " not met (";
    std::string why;
    for (size_t i = 0; i < n; ++i) {
      if (c.results[i].status == SloStatus::kMet) continue;
      why += (why.empty() ? "" : "; ") + Why(v.spec.objectives[i], c.results[i]);
    }
    out += why + ").";
  }
  return out + judged;
}

std::string VerdictRules(const SloVerdict& v) {
  if (v.empty()) return "";
  std::string out;
  if (v.seeds.size() <= 1) {
    out = "Objectives are judged on " + SeedsText(v.seeds) +
          ": met when the value lies within the bound. ";
  } else {
    out = "Objectives are judged over " + SeedsText(v.seeds) +
          ": an objective counts as met only when the whole 95% confidence interval of the "
          "mean (mean ± half-width, Student t) lies within its bound; missed when the whole "
          "interval lies outside; unsure when the interval crosses the bound (more seeds may "
          "decide). Only met counts. ";
  }
  out += "The verdict is the cheapest variant (by " + CostLabel(v.spec.cheapest_by) +
         ", lower first) that meets every objective. When none does, the closest is the one "
         "with the fewest objectives not met, then the smallest summed shortfall (how far the "
         "value lies past the bound, as a share of the larger of bound and value), then the "
         "lowest cost.";
  return out;
}

std::string SloTable(const SloVerdict& v) {
  if (v.empty() || v.variants.empty()) return "";
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"service-level objectives (" + SeedsText(v.seeds) + ")"};
  for (const VariantSlo& s : v.variants) head.push_back(s.variant);
  rows.push_back(head);
  for (size_t i = 0; i < v.spec.objectives.size(); ++i) {
    const SloObjective& o = v.spec.objectives[i];
    std::vector<std::string> row = {o.Text()};
    for (const VariantSlo& s : v.variants) {
      const ObjectiveResult& r = s.results[i];
      const char* mark = r.status == SloStatus::kMet      ? "ok "
                         : r.status == SloStatus::kUnsure ? "?? "
                                                          : "MISS ";
      row.push_back(mark + SloValueText(r.value, o.unit));
    }
    rows.push_back(row);
  }
  for (size_t k = 0; k < v.spec.cheapest_by.size(); ++k) {
    std::vector<std::string> row = {"cost: " + v.spec.cheapest_by[k]};
    for (const VariantSlo& s : v.variants) row.push_back(OneValue(s.cost[k], v.spec.CostUnit(k)));
    rows.push_back(row);
  }
  std::vector<std::string> meets = {"meets every objective"};
  for (const VariantSlo& s : v.variants) {
    meets.push_back(s.meets_all() ? "yes" : "no (" + std::to_string(s.not_met) + " not met)");
  }
  rows.push_back(meets);
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      const std::string pad(widths[i] - Width(rows[r][i]), ' ');
      line += i == 0 ? rows[r][i] + pad : "  " + pad + rows[r][i];
    }
    out += line + "\n";
    if (r == 0) out += std::string(Width(line), '-') + "\n";
  }
  return out + "\n" + VerdictSentence(v, false) + "\n";
}

std::string SloMarkdownTable(const SloVerdict& v) {
  if (v.empty() || v.variants.empty()) return "";
  std::string md = "| objective |";
  std::string sep = "| --- |";
  for (const VariantSlo& s : v.variants) {
    md += " `" + s.variant + "` |";
    sep += " ---: |";
  }
  md += "\n" + sep + "\n";
  for (size_t i = 0; i < v.spec.objectives.size(); ++i) {
    const SloObjective& o = v.spec.objectives[i];
    std::string text = "`" + o.metric + "` ";
    if (o.min && o.max) {
      text += "in [" + OneValue(*o.min, o.unit) + ", " + OneValue(*o.max, o.unit) + "]";
    } else {
      text += o.max ? "≤ " + OneValue(*o.max, o.unit) : "≥ " + OneValue(*o.min, o.unit);
    }
    md += "| " + text + " |";
    for (const VariantSlo& s : v.variants) {
      const ObjectiveResult& r = s.results[i];
      const char* mark = r.status == SloStatus::kMet      ? "✅ "
                         : r.status == SloStatus::kUnsure ? "❔ "
                                                          : "❌ ";
      md += ' ';
      md += mark;
      md += SloValueText(r.value, o.unit);
      md += " |";
    }
    md += "\n";
  }
  for (size_t k = 0; k < v.spec.cheapest_by.size(); ++k) {
    md += "| cost: ";
    md += Label(v.spec.cheapest_by[k]);
    md += " |";
    for (const VariantSlo& s : v.variants) {
      md += ' ';
      md += OneValue(s.cost[k], v.spec.CostUnit(k));
      md += " |";
    }
    md += "\n";
  }
  md += "| **meets every objective** |";
  for (size_t i = 0; i < v.variants.size(); ++i) {
    const VariantSlo& s = v.variants[i];
    const bool chosen = v.chosen && *v.chosen == i;
    md += std::string(" ") + (chosen ? "**yes: chosen**" : s.meets_all() ? "yes" : "no") + " |";
  }
  return md + "\n";
}

Json SloJson(const SloVerdict& v) {
  Json out;
  Json objectives = Json::array();
  for (const SloObjective& o : v.spec.objectives) {
    Json j = {{"metric", o.metric}, {"unit", o.unit}, {"text", o.Text()}};
    j["min"] = o.min ? Json(*o.min) : Json(nullptr);
    j["max"] = o.max ? Json(*o.max) : Json(nullptr);
    objectives.push_back(j);
  }
  out["objectives"] = objectives;
  out["cheapest_by"] = v.spec.cheapest_by;
  out["seeds"] = v.seeds;
  out["rule"] = VerdictRules(v);
  Json variants = Json::object();
  for (const VariantSlo& s : v.variants) {
    Json results = Json::object();
    for (size_t i = 0; i < v.spec.objectives.size(); ++i) {
      const ObjectiveResult& r = s.results[i];
      Json j = {{"status", SloStatusName(r.status)},
                {"value", std::stod(Format("%.9g", r.value.mean))}};
      if (r.value.n >= 2) j["ci95_half"] = std::stod(Format("%.9g", r.value.ci95_half));
      if (r.status != SloStatus::kMet) j["shortfall"] = std::stod(Format("%.6g", r.shortfall));
      results[v.spec.objectives[i].metric] = j;
    }
    Json cost = Json::object();
    for (size_t k = 0; k < v.spec.cheapest_by.size(); ++k) {
      cost[v.spec.cheapest_by[k]] = std::stod(Format("%.9g", s.cost[k]));
    }
    variants[s.variant] = {{"meets_all", s.meets_all()},
                           {"not_met", s.not_met},
                           {"shortfall", std::stod(Format("%.6g", s.shortfall))},
                           {"cost", cost},
                           {"objectives", results}};
  }
  out["variants"] = variants;
  out["verdict"] = {{"variant", v.chosen ? Json(v.variants[*v.chosen].variant) : Json(nullptr)},
                    {"closest", v.closest ? Json(v.variants[*v.closest].variant) : Json(nullptr)},
                    {"text", VerdictSentence(v, false)}};
  return out;
}

}  // namespace orchsim::experiment
