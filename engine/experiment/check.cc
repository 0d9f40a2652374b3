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

std::string Number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", v);
  return buffer;
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
  return t;
}

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

const Tolerance& CheckSpec::ToleranceFor(const std::string& metric) const {
  auto it = tolerances.find(metric);
  return it == tolerances.end() ? default_tolerance : it->second;
}

CheckSpec ReadCheckSpec(const scenario::Scenario& s) {
  CheckSpec spec;
  const std::vector<MetricInfo> catalog = MetricCatalog(ApiNames(s));
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
        const MetricInfo& info = info_for(metric, mpath);
        ObjectReader b(bound, mpath, s.file);
        Expectation e;
        e.variant = variant;
        e.metric = metric;
        e.where = mpath;
        if (b.Has("min")) e.min = ReadBoundValue(b.Raw("min"), info, mpath + "/min", s.file);
        if (b.Has("max")) e.max = ReadBoundValue(b.Raw("max"), info, mpath + "/max", s.file);
        b.Allow("min");
        b.Allow("max");
        b.Finish();
        if (!e.min && !e.max) throw ConfigError(s.file, mpath, "expected \"min\" and/or \"max\"");
        if (e.min && e.max && *e.min > *e.max) {
          throw ConfigError(s.file, mpath, "\"min\" is greater than \"max\"");
        }
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

std::vector<CheckResult> EvaluateExpectations(const scenario::Scenario& s, const CheckSpec& spec,
                                              const std::map<std::string, MetricValues>& values) {
  std::vector<CheckResult> results;
  for (const Expectation& e : spec.expectations) {
    CheckResult r{s.name, e.variant, e.metric, "expect", false, ""};
    auto run = values.find(e.variant);
    if (run == values.end()) {
      r.message = "variant \"" + e.variant + "\" was not run";
      results.push_back(r);
      continue;
    }
    const double v = LookupMetric(run->second, e.metric);
    std::string expected;
    if (e.min) expected += ">= " + Number(*e.min);
    if (e.max) expected += std::string(expected.empty() ? "" : " and ") + "<= " + Number(*e.max);
    r.passed = (!e.min || v >= *e.min) && (!e.max || v <= *e.max);
    r.message = Number(v) + (r.passed ? " is " : " is not ") + expected;
    results.push_back(r);
  }
  return results;
}

Json BaselineJson(const scenario::Scenario& s, uint64_t seed,
                  const std::map<std::string, MetricValues>& values) {
  Json out;
  out["baseline_version"] = 1;
  out["scenario"] = s.name;
  out["seed"] = seed;
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
                                             const std::map<std::string, MetricValues>& values) {
  std::vector<CheckResult> results;
  if (!baseline.contains("variants") || !baseline["variants"].is_object()) {
    results.push_back({s.name, "", "", "baseline", false, "the baseline has no \"variants\""});
    return results;
  }
  for (const auto& [variant, metrics] : baseline["variants"].items()) {
    auto run = values.find(variant);
    if (run == values.end()) {
      results.push_back(
          {s.name, variant, "", "baseline", false, "variant in the baseline was not run"});
      continue;
    }
    for (const auto& [metric, old_json] : metrics.items()) {
      CheckResult r{s.name, variant, metric, "baseline", false, ""};
      auto now = run->second.find(metric);
      if (now == run->second.end() || !old_json.is_number()) {
        r.message = "metric in the baseline is missing from the run";
        results.push_back(r);
        continue;
      }
      const double old_value = old_json.get<double>();
      const double new_value = now->second;
      const Tolerance& t = spec.ToleranceFor(metric);
      const double allowed = std::max(t.absolute, t.relative * std::fabs(old_value));
      const double delta = new_value - old_value;
      r.passed = std::fabs(delta) <= allowed;
      r.message = "baseline " + Number(old_value) + ", now " + Number(new_value);
      if (!r.passed) {
        r.message += " (" + std::string(delta > 0 ? "+" : "") + Number(delta);
        if (old_value != 0) r.message += ", " + Number(100.0 * delta / std::fabs(old_value)) + "%";
        r.message += "; tolerance " + Number(allowed) + ")";
      }
      results.push_back(r);
    }
    for (const auto& [metric, value] : run->second) {
      if (!metrics.contains(metric)) {
        results.push_back({s.name, variant, metric, "baseline", true,
                           "new metric (" + Number(value) + "), not in the baseline yet"});
      }
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

std::string MarkdownSummary(const std::vector<CheckResult>& results) {
  size_t failures = 0;
  for (const CheckResult& r : results) failures += r.passed ? 0 : 1;
  std::string md = "## orchsim check: ";
  md += failures == 0
            ? "all " + std::to_string(results.size()) + " checks pass\n"
            : std::to_string(failures) + " of " + std::to_string(results.size()) + " checks fail\n";
  if (failures > 0) {
    md += "\n| scenario | variant | metric | check | result |\n|---|---|---|---|---|\n";
    for (const CheckResult& r : results) {
      if (r.passed) continue;
      md += "| " + r.scenario + " | " + r.variant + " | `" + r.metric + "` | " + r.kind + " | " +
            r.message + " |\n";
    }
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
