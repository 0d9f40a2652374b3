#include "engine/experiment/check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace orchsim::experiment {
namespace {

using config::ConfigError;
using scenario::Json;
using scenario::ObjectReader;

// A number without exponents for what people read: integers exactly,
// larger reals with one decimal, small ones with 6 significant digits.
std::string Number(double v) {
  char buffer[64];
  if (std::isfinite(v) && std::fabs(v) < 1e15 && v == std::floor(v)) {
    std::snprintf(buffer, sizeof(buffer), "%lld", static_cast<long long>(v));
  } else if (std::fabs(v) >= 1e5) {
    std::snprintf(buffer, sizeof(buffer), "%.1f", v);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.6g", v);
  }
  return buffer;
}

std::string WithThousands(const std::string& digits) {
  const bool negative = !digits.empty() && digits[0] == '-';
  const std::string body = negative ? digits.substr(1) : digits;
  if (body.find_first_not_of("0123456789") != std::string::npos) return digits;
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (i > 0 && (body.size() - i) % 3 == 0) out += ',';
    out += body[i];
  }
  return (negative ? "-" : "") + out;
}

std::string SeedList(const std::vector<uint64_t>& seeds) {
  std::string out = "[";
  for (size_t i = 0; i < seeds.size(); ++i) out += (i ? ", " : "") + std::to_string(seeds[i]);
  return out + "]";
}

std::vector<std::string> ApiNames(const scenario::Scenario& s) {
  std::vector<std::string> names;
  for (const auto& u : s.upstreams) names.push_back(u.name);
  return names;
}

// A bound value: a number, or a duration string for metrics in seconds.
double ReadBoundValue(const Json& v, const MetricInfo& info, const std::string& path,
                      const std::string& file) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) throw ConfigError(file, path, "expected a finite number");
    return d;
  }
  if (v.is_string() && info.unit == "s") {
    return static_cast<double>(scenario::ReadDuration(v, path, file).micros()) / 1e6;
  }
  throw ConfigError(file, path,
                    "expected a number in " + info.unit +
                        (info.unit == "s" ? " or a duration string such as \"2s\"" : "") +
                        " for metric \"" + info.name + "\", got " + scenario::JsonPreview(v));
}

Tolerance ReadTolerance(ObjectReader& r) {
  Tolerance t;
  t.absolute = 0;
  r.Number("relative", &t.relative, false, 0);
  r.Number("absolute", &t.absolute, false, 0);
  if (r.Has("direction")) {
    Direction d = Direction::kBoth;
    r.Enum("direction", &d,
           {{"both", Direction::kBoth},
            {"lower_is_better", Direction::kLowerIsBetter},
            {"higher_is_better", Direction::kHigherIsBetter}});
    t.direction = d;
  } else {
    r.Allow("direction");
  }
  return t;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string DirectionName(Direction d) {
  switch (d) {
    case Direction::kLowerIsBetter:
      return "lower_is_better";
    case Direction::kHigherIsBetter:
      return "higher_is_better";
    case Direction::kBoth:
      break;
  }
  return "both";
}

Direction DefaultDirection(const std::string& m) {
  if (m == "calls_saved" || m == "calls_saved_pct" || StartsWith(m, "calls_avoided")) {
    return Direction::kHigherIsBetter;
  }
  if (StartsWith(m, "outcome.")) {
    const std::string outcome = m.substr(8);
    for (int i = 0; i < kOutcomeCount; ++i) {
      const Outcome o = static_cast<Outcome>(i);
      if (OutcomeName(o) == outcome) {
        return IsClientFailure(o) ? Direction::kLowerIsBetter : Direction::kBoth;
      }
    }
    return Direction::kBoth;
  }
  static const char* const kLower[] = {
      "upstream_calls", "calls.", "credits",          "cost",     "breaker_",    "retries",
      "retry_budget_",  "quota_", "client_",          "failed_",  "calls_added", "outdated_",
      "data_age_",      "wait_",  "waited_fraction.", "latency_", "api_latency_"};
  for (const char* prefix : kLower) {
    if (StartsWith(m, prefix)) return Direction::kLowerIsBetter;
  }
  return Direction::kBoth;  // requests, calls_other, anything new
}

const Tolerance& CheckSpec::ToleranceFor(const std::string& metric) const {
  auto it = tolerances.find(metric);
  return it == tolerances.end() ? default_tolerance : it->second;
}

Direction CheckSpec::DirectionFor(const std::string& metric) const {
  auto it = tolerances.find(metric);
  if (it != tolerances.end() && it->second.direction) return *it->second.direction;
  if (default_tolerance.direction) return *default_tolerance.direction;
  return DefaultDirection(metric);
}

std::string CheckSpec::UnitOf(const std::string& metric) const {
  for (const MetricInfo& info : catalog) {
    if (info.name == metric) return info.unit;
  }
  return "";
}

std::string FormatWithUnit(double value, const std::string& unit) {
  const std::string n = Number(value);
  if (unit == "s") return n + " s";
  if (unit == "%") return n + "%";
  if (unit == "credits") return WithThousands(n) + " credits";
  if (unit == "count") return WithThousands(n);
  return n;
}

MetricBound ReadMetricBound(const Json& bound, const std::vector<MetricInfo>& catalog,
                            const std::string& metric, const std::string& path,
                            const std::string& file) {
  const MetricInfo* info = nullptr;
  try {
    info = &FindMetricInfo(catalog, metric);
  } catch (const UnknownMetricError& e) {
    throw ConfigError(file, path, e.what());
  }
  ObjectReader b(bound, path, file);
  MetricBound out;
  if (b.Has("min")) out.min = ReadBoundValue(b.Raw("min"), *info, path + "/min", file);
  if (b.Has("max")) out.max = ReadBoundValue(b.Raw("max"), *info, path + "/max", file);
  b.Allow("min");
  b.Allow("max");
  b.Finish();
  if (!out.min && !out.max) throw ConfigError(file, path, "expected \"min\" and/or \"max\"");
  if (out.min && out.max && *out.min > *out.max) {
    throw ConfigError(file, path, "\"min\" is greater than \"max\"");
  }
  return out;
}

CheckSpec ReadCheckSpec(const scenario::Scenario& s) {
  CheckSpec spec;
  spec.catalog = MetricCatalog(ApiNames(s));
  const std::vector<MetricInfo>& catalog = spec.catalog;
  auto info_for = [&](const std::string& metric, const std::string& path) -> const MetricInfo& {
    try {
      return FindMetricInfo(catalog, metric);
    } catch (const UnknownMetricError& e) {
      throw ConfigError(s.file, path, e.what());
    }
  };
  if (!s.expect.is_null()) {
    if (!s.expect.is_object()) {
      throw ConfigError(s.file, "/expect", "expected an object of variants");
    }
    for (const auto& [variant, metrics] : s.expect.items()) {
      const std::string vpath = "/expect/" + variant;
      if (s.FindVariant(variant) == nullptr) {
        std::string known;
        for (const auto& v : s.variants) known += (known.empty() ? "" : ", ") + v.name;
        throw ConfigError(s.file, vpath,
                          "unknown variant \"" + variant + "\"; the scenario has: " + known);
      }
      if (!metrics.is_object()) {
        throw ConfigError(s.file, vpath, "expected an object of metric bounds");
      }
      for (const auto& [metric, bound] : metrics.items()) {
        const std::string mpath = vpath + "/" + metric;
        const MetricBound b = ReadMetricBound(bound, catalog, metric, mpath, s.file);
        Expectation e;
        e.variant = variant;
        e.metric = metric;
        e.where = mpath;
        e.min = b.min;
        e.max = b.max;
        spec.expectations.push_back(e);
      }
    }
  }
  if (!s.tolerances.is_null()) {
    if (!s.tolerances.is_object()) {
      throw ConfigError(s.file, "/tolerances", "expected an object of tolerances by metric");
    }
    for (const auto& [metric, value] : s.tolerances.items()) {
      const std::string path = "/tolerances/" + metric;
      ObjectReader t(value, path, s.file);
      if (metric == "default") {
        spec.default_tolerance = ReadTolerance(t);
      } else {
        info_for(metric, path);
        spec.tolerances[metric] = ReadTolerance(t);
      }
      t.Finish();
    }
  }
  return spec;
}

std::map<std::string, MetricValues> FlattenRuns(const scenario::Scenario& s,
                                                const std::vector<VariantRun>& runs) {
  const VariantRun* baseline = nullptr;
  for (const VariantRun& r : runs) {
    if (r.variant == s.baseline) baseline = &r;
  }
  std::map<std::string, MetricValues> values;
  for (const VariantRun& r : runs) values[r.variant] = FlattenMetrics(r, baseline);
  return values;
}

std::map<std::string, MetricValues> SeedValues::Means() const {
  std::map<std::string, MetricValues> means;
  if (values.empty()) return means;
  for (const auto& [variant, metrics] : values.front()) {
    for (const auto& [name, first] : metrics) {
      double sum = 0.0;
      for (const auto& seed : values) {
        auto v = seed.find(variant);
        if (v == seed.end() || v->second.count(name) == 0) continue;
        sum += v->second.at(name);
      }
      means[variant][name] = sum / static_cast<double>(values.size());
    }
  }
  return means;
}

std::vector<CheckResult> EvaluateExpectations(const scenario::Scenario& s, const CheckSpec& spec,
                                              const SeedValues& values) {
  std::vector<CheckResult> results;
  const bool several = values.seeds.size() > 1;
  for (const Expectation& e : spec.expectations) {
    CheckResult r{s.name, e.variant, e.metric, "expect", true, ""};
    const std::string unit = spec.UnitOf(e.metric);
    std::string expected;
    if (e.min) expected += ">= " + FormatWithUnit(*e.min, unit);
    if (e.max) {
      expected +=
          std::string(expected.empty() ? "" : " and ") + "<= " + FormatWithUnit(*e.max, unit);
    }
    double worst = 0.0;
    bool seen = false;
    for (size_t i = 0; i < values.values.size() && r.passed; ++i) {
      auto run = values.values[i].find(e.variant);
      if (run == values.values[i].end()) {
        r.passed = false;
        r.message = "variant \"" + e.variant + "\" was not run";
        break;
      }
      const double v = LookupMetric(run->second, e.metric);
      const bool ok = (!e.min || v >= *e.min) && (!e.max || v <= *e.max);
      if (!ok) {
        r.passed = false;
        r.message = (several ? "seed " + std::to_string(values.seeds[i]) + ": " : "") +
                    FormatWithUnit(v, unit) + " is not " + expected;
        break;
      }
      // The value closest to a bound, for the passing message.
      const double margin = std::min(e.min ? v - *e.min : 1e300, e.max ? *e.max - v : 1e300);
      const double worst_margin =
          std::min(e.min ? worst - *e.min : 1e300, e.max ? *e.max - worst : 1e300);
      if (!seen || margin < worst_margin) worst = v;
      seen = true;
    }
    if (r.passed) {
      r.message =
          FormatWithUnit(worst, unit) + " is " + expected +
          (several ? " (closest of " + std::to_string(values.seeds.size()) + " seeds)" : "");
    }
    results.push_back(r);
  }
  return results;
}

std::vector<CheckResult> EvaluateExpectations(const scenario::Scenario& s, const CheckSpec& spec,
                                              const std::map<std::string, MetricValues>& values) {
  SeedValues one;
  one.seeds = {s.seed};
  one.values = {values};
  return EvaluateExpectations(s, spec, one);
}

Json BaselineJson(const scenario::Scenario& s, const std::vector<uint64_t>& seeds,
                  const std::map<std::string, MetricValues>& values) {
  Json out;
  out["baseline_version"] = kBaselineVersion;
  out["scenario"] = s.name;
  out["seeds"] = seeds;
  Json variants = Json::object();
  for (const auto& [variant, metrics] : values) {
    Json m = Json::object();
    for (const auto& [name, value] : metrics) m[name] = value;
    variants[variant] = m;
  }
  out["variants"] = variants;
  return out;
}

std::vector<CheckResult> CompareWithBaseline(const scenario::Scenario& s, const CheckSpec& spec,
                                             const Json& baseline,
                                             const std::vector<uint64_t>& seeds,
                                             const std::map<std::string, MetricValues>& values) {
  std::vector<CheckResult> results;
  auto whole = [&](const std::string& message) {
    results.push_back({s.name, "", "", "baseline", false, message});
  };
  // The baseline must be for this scenario, these seeds and this version;
  // otherwise its numbers mean something else and none is compared.
  const Json version = baseline.value("baseline_version", Json());
  if (version != Json(kBaselineVersion)) {
    // Another format: nothing else in it can be read the same way.
    whole("the baseline is version " + (version.is_null() ? "(none)" : version.dump()) +
          "; this orchsim writes version " + std::to_string(kBaselineVersion) +
          ": update it on purpose with orchsim check --update-baselines");
    return results;
  }
  const Json name = baseline.value("scenario", Json());
  if (name != Json(s.name)) {
    whole("the baseline is for scenario " + (name.is_null() ? "(none)" : name.dump()) + ", not \"" +
          s.name + "\"");
  }
  const Json base_seeds = baseline.value("seeds", Json());
  if (base_seeds != Json(seeds)) {
    whole("the baseline was written for seeds " +
          (base_seeds.is_null() ? std::string("(none)") : base_seeds.dump()) + ", this run used " +
          SeedList(seeds));
  }
  if (!baseline.contains("variants") || !baseline["variants"].is_object()) {
    whole("the baseline has no \"variants\"");
  }
  if (!results.empty()) return results;

  const Json& variants = baseline["variants"];
  for (const auto& [variant, metrics] : variants.items()) {
    auto run = values.find(variant);
    if (run == values.end()) {
      results.push_back({s.name, variant, "", "baseline", false,
                         "variant in the baseline was not run (renamed or removed?)"});
      continue;
    }
    for (const auto& [metric, old_json] : metrics.items()) {
      CheckResult r{s.name, variant, metric, "baseline", false, ""};
      const std::string unit = spec.UnitOf(metric);
      auto now = run->second.find(metric);
      if (now == run->second.end()) {
        r.message = "metric in the baseline is missing from the run";
        results.push_back(r);
        continue;
      }
      if (!old_json.is_number()) {
        r.message = "the baseline's value is not a number: " + old_json.dump();
        results.push_back(r);
        continue;
      }
      const double old_value = old_json.get<double>();
      const double new_value = now->second;
      const Tolerance& t = spec.ToleranceFor(metric);
      const Direction direction = spec.DirectionFor(metric);
      const double allowed = std::max(t.absolute, t.relative * std::fabs(old_value));
      const double delta = new_value - old_value;
      const bool within = std::fabs(delta) <= allowed;
      const bool improved = !within && ((direction == Direction::kLowerIsBetter && delta < 0) ||
                                        (direction == Direction::kHigherIsBetter && delta > 0));
      r.passed = within || improved;
      r.message = "baseline " + FormatWithUnit(old_value, unit) + ", now " +
                  FormatWithUnit(new_value, unit);
      if (!within) {
        std::string change = (delta > 0 ? "+" : "") + FormatWithUnit(delta, unit);
        if (old_value != 0) {
          char pct[32];
          std::snprintf(pct, sizeof(pct), "%+.3g%%", 100.0 * delta / std::fabs(old_value));
          change += ", " + std::string(pct);
        }
        if (improved) {
          r.message += " (" + change + "): improved (" + DirectionName(direction) +
                       "); update the baseline to keep it";
        } else {
          r.message += " (" + change + "; " + DirectionName(direction) + ", tolerance " +
                       (allowed <= 1e-9 ? std::string("exact") : FormatWithUnit(allowed, unit));
          if (old_value == 0 && t.relative > 0 && t.absolute == 0) {
            r.message +=
                "; a relative tolerance allows nothing on a baseline of 0: add "
                "\"absolute\"";
          }
          r.message += ")";
        }
      }
      results.push_back(r);
    }
    for (const auto& [metric, value] : run->second) {
      if (!metrics.contains(metric)) {
        results.push_back({s.name, variant, metric, "baseline", false,
                           "metric not in the baseline (now " +
                               FormatWithUnit(value, spec.UnitOf(metric)) +
                               "): update the baseline on purpose"});
      }
    }
  }
  for (const auto& [variant, metrics] : values) {
    if (!variants.contains(variant)) {
      results.push_back({s.name, variant, "", "baseline", false,
                         "variant not in the baseline (new or renamed?): update the baseline "
                         "on purpose"});
    }
  }
  return results;
}

std::vector<std::string> DescribeBaselineChanges(const Json& before, const Json& after) {
  std::vector<std::string> lines;
  const Json empty = Json::object();
  const Json& old_variants = before.contains("variants") ? before["variants"] : empty;
  const Json& new_variants = after.contains("variants") ? after["variants"] : empty;
  std::set<std::string> names;
  for (const auto& [v, m] : old_variants.items()) names.insert(v);
  for (const auto& [v, m] : new_variants.items()) names.insert(v);
  for (const std::string& v : names) {
    const Json& o = old_variants.contains(v) ? old_variants[v] : empty;
    const Json& n = new_variants.contains(v) ? new_variants[v] : empty;
    std::set<std::string> metrics;
    for (const auto& [m, x] : o.items()) metrics.insert(m);
    for (const auto& [m, x] : n.items()) metrics.insert(m);
    for (const std::string& m : metrics) {
      const bool had = o.contains(m), has = n.contains(m);
      if (had && has && o[m] == n[m]) continue;
      lines.push_back(v + " " + m + ": " + (had ? Number(o[m].get<double>()) : "(none)") + " -> " +
                      (has ? Number(n[m].get<double>()) : "(none)"));
    }
  }
  return lines;
}

std::string JUnitXml(const std::vector<CheckResult>& results) {
  std::map<std::string, std::vector<const CheckResult*>> by_scenario;
  for (const CheckResult& r : results) by_scenario[r.scenario].push_back(&r);
  size_t failures = 0;
  for (const CheckResult& r : results) failures += r.passed ? 0 : 1;
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"orchsim check\" tests=\"" + std::to_string(results.size()) +
         "\" failures=\"" + std::to_string(failures) + "\">\n";
  for (const auto& [scenario, list] : by_scenario) {
    size_t f = 0;
    for (const CheckResult* r : list) f += r->passed ? 0 : 1;
    xml += "  <testsuite name=\"" + XmlEscape(scenario) + "\" tests=\"" +
           std::to_string(list.size()) + "\" failures=\"" + std::to_string(f) + "\">\n";
    for (const CheckResult* r : list) {
      const std::string name = r->kind + " " + r->variant + " " + r->metric;
      xml += "    <testcase classname=\"" + XmlEscape(scenario + "." + r->variant) + "\" name=\"" +
             XmlEscape(name) + "\"";
      if (r->passed) {
        xml += "/>\n";
      } else {
        xml += ">\n      <failure message=\"" + XmlEscape(r->message) + "\"/>\n    </testcase>\n";
      }
    }
    xml += "  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  return xml;
}

std::string MarkdownSummary(const std::vector<CheckResult>& results,
                            const std::vector<CheckedScenario>& scenarios) {
  size_t failures = 0;
  for (const CheckResult& r : results) failures += r.passed ? 0 : 1;
  std::string md = "## orchsim check: ";
  md += failures == 0
            ? "all " + std::to_string(results.size()) + " checks pass\n"
            : std::to_string(failures) + " of " + std::to_string(results.size()) + " checks fail\n";
  // Headline numbers first, whatever the verdict.
  for (const CheckedScenario& c : scenarios) {
    md += "\n### " + c.name + " (" +
          (c.seeds.size() == 1 ? "seed " + std::to_string(c.seeds[0])
                               : "mean of seeds " + SeedList(c.seeds)) +
          ")\n\n";
    md +=
        "| variant | requests | upstream calls | saved | client failures | latency p99 | "
        "credits |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for (const std::string& variant : c.variants) {
      auto it = c.means.find(variant);
      if (it == c.means.end()) continue;
      auto get = [&](const char* metric) {
        auto v = it->second.find(metric);
        return v == it->second.end() ? 0.0 : v->second;
      };
      md += "| " + variant + " | " + FormatWithUnit(get("requests"), "count") + " | " +
            FormatWithUnit(get("upstream_calls"), "count") + " | " +
            FormatWithUnit(get("calls_saved_pct"), "%") + " | " +
            FormatWithUnit(get("client_failures_pct"), "%") + " | " +
            FormatWithUnit(get("latency_p99_s"), "s") + " | " +
            FormatWithUnit(get("credits"), "credits") + " |\n";
    }
    if (!c.verdict.empty()) md += "\n" + c.verdict + "\n";
  }
  if (failures > 0) {
    md +=
        "\n### Failures\n\n| scenario | variant | metric | check | result "
        "|\n|---|---|---|---|---|\n";
    for (const CheckResult& r : results) {
      if (r.passed) continue;
      md += "| " + r.scenario + " | " + r.variant + " | `" + r.metric + "` | " + r.kind + " | " +
            r.message + " |\n";
    }
  }
  std::string improvements;
  for (const CheckResult& r : results) {
    if (r.passed && r.message.find("improved") != std::string::npos) {
      improvements +=
          "| " + r.scenario + " | " + r.variant + " | `" + r.metric + "` | " + r.message + " |\n";
    }
  }
  if (!improvements.empty()) {
    md +=
        "\n### Improvements (passing; update the baseline to keep them)\n\n| scenario | "
        "variant | metric | result |\n|---|---|---|---|\n" +
        improvements;
  }
  std::map<std::string, std::pair<size_t, size_t>> per_scenario;
  for (const CheckResult& r : results) {
    auto& [pass, total] = per_scenario[r.scenario];
    pass += r.passed ? 1 : 0;
    ++total;
  }
  md += "\n| scenario | passed |\n|---|---|\n";
  for (const auto& [scenario, counts] : per_scenario) {
    md += "| " + scenario + " | " + std::to_string(counts.first) + " / " +
          std::to_string(counts.second) + " |\n";
  }
  return md;
}

}  // namespace orchsim::experiment
