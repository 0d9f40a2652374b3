#include "engine/experiment/tuning.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "policies/config/policy_reader.h"

namespace orchsim::experiment {
namespace fs = std::filesystem;
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

const MetricSummary& SummaryOf(const PointResult& p, const std::string& metric) {
  auto it = p.summary.find(metric);
  if (it == p.summary.end()) {
    std::vector<std::string> known;
    for (const auto& [name, s] : p.summary) known.push_back(name);
    throw UnknownMetricError(metric, known);
  }
  return it->second;
}

double Signed(const Objective& o, double value) { return o.minimize ? value : -value; }

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string PointLabel(const SweepResults& r, const PointResult& p) {
  std::string out;
  for (size_t j = 0; j < r.params.size(); ++j) {
    out += (j == 0 ? "" : ", ") + r.params[j].path + "=" + ValueText(p.values[j]);
  }
  return out;
}

// 4 significant digits for people, never an exponent ("71322", not
// "7.132e+04"); the files keep full precision.
std::string Short(double v) {
  if (v == 0.0) return "0";
  char buffer[64];
  if (std::fabs(v) >= 1e4) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", v);
  } else if (std::fabs(v) < 1e-3) {
    std::snprintf(buffer, sizeof(buffer), "%.6f", v);
    std::string s = buffer;
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.4g", v);
  }
  return buffer;
}

std::string MeanCi(const MetricSummary& s) {
  std::string out = Short(s.mean);
  if (s.n >= 2) out += " ± " + Short(s.ci95_half);
  return out;
}

std::string Fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, v);
  std::string s = buffer;
  return s == "-0.00" ? "0.00" : s;
}

std::string ResultsCsv(const SweepResults& r) {
  std::string out = "point";
  for (const ParameterSpec& p : r.params) {
    out += ',';
    out += CsvCell(p.path);
  }
  out += ",metric,n,mean,sd,ci95_low,ci95_high\n";
  for (const PointResult& p : r.points) {
    std::string prefix = std::to_string(p.index);
    for (const Json& v : p.values) {
      prefix += ',';
      prefix += CsvCell(ValueText(v));
    }
    for (const auto& [name, s] : p.summary) {
      out += prefix + "," + CsvCell(name) + "," + std::to_string(s.n) + "," + FormatNumber(s.mean) +
             "," + FormatNumber(s.sd) + "," + FormatNumber(s.ci95_low()) + "," +
             FormatNumber(s.ci95_high()) + "\n";
    }
  }
  return out;
}

Json SummaryStatsJson(const MetricSummary& s) {
  return {{"n", s.n},
          {"mean", s.mean},
          {"sd", s.sd},
          {"ci95_low", s.ci95_low()},
          {"ci95_high", s.ci95_high()}};
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out += "|";
    for (const std::string& cell : rows[r]) out += " " + cell + " |";
    out += "\n";
    if (r == 0) {
      out += "|";
      for (size_t i = 0; i < rows[r].size(); ++i) out += i == 0 ? "---|" : "---:|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

Objective ParseObjective(const std::string& text) {
  Objective o;
  std::string t = Trim(text);
  if (t.rfind("min:", 0) == 0) {
    t = t.substr(4);
  } else if (t.rfind("max:", 0) == 0) {
    o.minimize = false;
    t = t.substr(4);
  } else if (t.find(':') != std::string::npos) {
    throw SweepError("objective \"" + text + "\": expected METRIC, min:METRIC or max:METRIC");
  }
  o.metric = Trim(t);
  if (o.metric.empty()) throw SweepError("objective \"" + text + "\": no metric name");
  return o;
}

Constraint ParseConstraint(const std::string& text) {
  Constraint c;
  c.text = Trim(text);
  std::string body = c.text;
  if (body.rfind("ci95:", 0) == 0) {
    c.whole_interval = true;
    body = Trim(body.substr(5));
  }
  size_t at = body.find("<=");
  if (at == std::string::npos) {
    at = body.find(">=");
    c.at_most = false;
  }
  if (at == std::string::npos) {
    throw SweepError("constraint \"" + text +
                     "\": expected METRIC<=BOUND or METRIC>=BOUND, e.g. "
                     "wait_p99_s.CRITICAL<=2s");
  }
  c.metric = Trim(body.substr(0, at));
  const std::string bound = Trim(body.substr(at + 2));
  char* end = nullptr;
  c.bound = std::strtod(bound.c_str(), &end);
  if (bound.empty() || *end != '\0') {
    const auto d = ParseDuration(bound);
    if (!d.ok()) {
      throw SweepError("constraint \"" + text +
                       "\": expected a number or a duration bound, got \"" + bound + "\"");
    }
    if (c.metric.size() < 2 || c.metric.find("_s") == std::string::npos) {
      throw SweepError("constraint \"" + text + "\": a duration bound needs a metric in seconds");
    }
    c.bound = static_cast<double>(d->micros()) / 1e6;
  }
  if (c.metric.empty()) throw SweepError("constraint \"" + text + "\": no metric name");
  return c;
}

TuningSpec ParseTuningSpec(const Json& analysis) {
  TuningSpec spec;
  if (!analysis.is_object()) return spec;
  if (analysis.contains("objective")) {
    spec.objective = ParseObjective(analysis["objective"].get<std::string>());
  }
  if (analysis.contains("constraints")) {
    for (const Json& c : analysis["constraints"]) {
      spec.constraints.push_back(ParseConstraint(c.get<std::string>()));
    }
  }
  if (analysis.contains("pareto")) {
    const Json& p = analysis["pareto"];
    if (p.size() != 2) throw SweepError("pareto: expected exactly two metrics");
    spec.pareto = {ParseObjective(p[0].get<std::string>()),
                   ParseObjective(p[1].get<std::string>())};
  } else {
    spec.pareto[0] = spec.objective;
    if (!spec.constraints.empty()) {
      spec.pareto[1] = Objective{spec.constraints[0].metric, spec.constraints[0].at_most};
    }
    if (spec.pareto[1].metric == spec.pareto[0].metric) {
      spec.pareto[1] = Objective{"client_failures_pct", true};
    }
  }
  return spec;
}

void CheckTuningMetrics(const TuningSpec& spec, const std::vector<MetricInfo>& catalog) {
  FindMetricInfo(catalog, spec.objective.metric);
  for (const Constraint& c : spec.constraints) FindMetricInfo(catalog, c.metric);
  for (const Objective& o : spec.pareto) FindMetricInfo(catalog, o.metric);
}

std::vector<size_t> ParetoFront(const std::vector<std::array<double, 2>>& values) {
  std::vector<size_t> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return values[a] < values[b];  // by first coordinate, then second; stable keeps index order
  });
  std::vector<size_t> front;
  double best_second = INFINITY;
  for (size_t i : order) {
    // Sorted by the first coordinate, a point is on the front exactly when
    // its second coordinate beats every point before it.
    if (values[i][1] < best_second) {
      front.push_back(i);
      best_second = values[i][1];
    }
  }
  return front;
}

Sensitivity StandardizedSensitivity(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                    std::vector<std::string> params,
                                    std::vector<std::string> metrics) {
  Sensitivity s;
  s.params = std::move(params);
  s.metrics = std::move(metrics);
  s.coefficients = Eigen::MatrixXd::Zero(y.cols(), x.cols());
  s.r_squared.assign(static_cast<size_t>(y.cols()), 0.0);
  const Eigen::Index n = x.rows();
  if (n < 2) return s;
  auto standardize = [n](const Eigen::VectorXd& v, Eigen::VectorXd* out) {
    const double mean = v.mean();
    const double sd = std::sqrt((v.array() - mean).square().sum() / static_cast<double>(n - 1));
    if (!(sd > 1e-12 * std::max(1.0, std::abs(mean)))) return false;
    *out = (v.array() - mean) / sd;
    return true;
  };
  std::vector<Eigen::Index> varying;
  std::vector<Eigen::VectorXd> columns;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    Eigen::VectorXd z;
    if (standardize(x.col(j), &z)) {
      varying.push_back(j);
      columns.push_back(z);
    }
  }
  if (varying.empty()) return s;
  Eigen::MatrixXd xs(n, static_cast<Eigen::Index>(varying.size()));
  for (size_t k = 0; k < varying.size(); ++k) xs.col(static_cast<Eigen::Index>(k)) = columns[k];
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(xs);
  for (Eigen::Index m = 0; m < y.cols(); ++m) {
    Eigen::VectorXd z;
    if (!standardize(y.col(m), &z)) continue;
    const Eigen::VectorXd beta = qr.solve(z);
    for (size_t k = 0; k < varying.size(); ++k) {
      s.coefficients(m, varying[k]) = beta(static_cast<Eigen::Index>(k));
    }
    const double residual = (xs * beta - z).squaredNorm();
    s.r_squared[static_cast<size_t>(m)] = 1.0 - residual / z.squaredNorm();
  }
  return s;
}

Json MergeJson(Json base, const Json& overlay) {
  if (!base.is_object() || !overlay.is_object()) return overlay;
  for (const auto& [key, value] : overlay.items()) {
    base[key] = base.contains(key) ? MergeJson(base[key], value) : value;
  }
  return base;
}

TuningResult AnalyzeSweep(const SweepResults& results, const TuningSpec& spec) {
  TuningResult t;
  t.spec = spec;
  std::vector<std::string> metrics = {spec.objective.metric};
  for (const Constraint& c : spec.constraints) metrics.push_back(c.metric);
  metrics.push_back(spec.pareto[0].metric);
  metrics.push_back(spec.pareto[1].metric);
  for (const char* m : {"upstream_calls", "calls_saved_pct", "credits", "client_failures_pct",
                        "breaker_trips", "retries", "outdated_fraction", "data_age_p90_s",
                        "wait_p99_s.CRITICAL", "wait_p99_s.HIGH"}) {
    // The usual metrics too, when the sweep has them.
    if (!results.points.empty() && results.points.front().summary.count(m) != 0) {
      metrics.push_back(m);
    }
  }
  std::set<std::string> seen;
  for (const std::string& m : metrics) {
    if (seen.insert(m).second) t.metrics.push_back(m);
  }
  if (results.points.empty()) return t;
  for (const std::string& m : t.metrics) SummaryOf(results.points.front(), m);  // names exist

  for (const PointResult& p : results.points) {
    bool ok = true;
    for (const Constraint& c : spec.constraints) ok = ok && c.Satisfied(SummaryOf(p, c.metric));
    t.feasible.push_back(ok);
    if (ok) ++t.feasible_count;
  }
  std::vector<size_t> candidates;
  for (size_t i = 0; i < results.points.size(); ++i) {
    if (t.feasible[i] || t.feasible_count == 0) candidates.push_back(i);
  }
  std::vector<std::array<double, 2>> coords;
  for (size_t i : candidates) {
    const PointResult& p = results.points[i];
    coords.push_back({Signed(spec.pareto[0], SummaryOf(p, spec.pareto[0].metric).mean),
                      Signed(spec.pareto[1], SummaryOf(p, spec.pareto[1].metric).mean)});
  }
  for (size_t k : ParetoFront(coords))
    t.pareto_front.push_back(results.points[candidates[k]].index);

  for (size_t i = 0; i < results.points.size(); ++i) {
    if (!t.feasible[i]) continue;
    const double v =
        Signed(spec.objective, SummaryOf(results.points[i], spec.objective.metric).mean);
    if (!t.recommended ||
        v < Signed(spec.objective,
                   SummaryOf(results.points[*t.recommended], spec.objective.metric).mean)) {
      t.recommended = i;
    }
  }
  if (t.recommended) {
    const PointResult& best = results.points[*t.recommended];
    t.recommended_overrides = OverridesFor(results.params, best.values);
    const Json& source = results.manifest.value("variant_policy", Json::object());
    const Json variant_overrides = source.value("overrides", Json::object());
    const std::string preset = source.value("preset", "");
    t.recommended_variant = {{"name", results.manifest.value("variant", "") + "-recommended"}};
    if (!preset.empty()) t.recommended_variant["preset"] = preset;
    t.recommended_variant["overrides"] = MergeJson(variant_overrides, t.recommended_overrides);
    Json policy = MergeJson(source.value("preset_policy", Json::object()), variant_overrides);
    policy = MergeJson(policy, t.recommended_overrides);
    t.recommended_preset = {{"description", "Recommended by orchsim sweep for scenario " +
                                                results.manifest.value("scenario", "") + ", " +
                                                spec.objective.Text() + ": " +
                                                PointLabel(results, best)}};
    t.recommended_preset.update(policy);
  }

  Eigen::MatrixXd x(static_cast<Eigen::Index>(results.points.size()),
                    static_cast<Eigen::Index>(results.params.size()));
  Eigen::MatrixXd y(static_cast<Eigen::Index>(results.points.size()),
                    static_cast<Eigen::Index>(t.metrics.size()));
  for (size_t i = 0; i < results.points.size(); ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    for (size_t j = 0; j < results.params.size(); ++j) {
      x(row, static_cast<Eigen::Index>(j)) =
          NumericValue(results.params[j], results.points[i].values[j]);
    }
    for (size_t m = 0; m < t.metrics.size(); ++m) {
      y(row, static_cast<Eigen::Index>(m)) = SummaryOf(results.points[i], t.metrics[m]).mean;
    }
  }
  std::vector<std::string> param_paths;
  for (const ParameterSpec& p : results.params) param_paths.push_back(p.path);
  t.sensitivity = StandardizedSensitivity(x, y, param_paths, t.metrics);
  t.warnings = SweepWarnings(results, t);
  return t;
}

std::vector<std::string> SweepWarnings(const SweepResults& r, const TuningResult& t) {
  std::vector<std::string> warnings;
  if (r.points.size() < 2) return warnings;
  auto same_means = [](const PointResult& a, const PointResult& b) {
    for (const auto& [name, s] : a.summary) {
      auto it = b.summary.find(name);
      if (it == b.summary.end() || it->second.mean != s.mean) return false;
    }
    return true;
  };
  bool all_same = true;
  for (size_t i = 1; i < r.points.size() && all_same; ++i) {
    all_same = same_means(r.points[0], r.points[i]);
  }
  if (all_same) {
    std::string params;
    for (const ParameterSpec& p : r.params) params += (params.empty() ? "" : ", ") + p.path;
    warnings.push_back("every point gave the same numbers: " + params +
                       " changed no metric in this scenario (does the scenario use what they "
                       "tune?), so any point could be \"recommended\"");
  } else {
    // A parameter changed nothing when every two points differing only in it
    // agree (and at least two such points exist).
    for (size_t j = 0; j < r.params.size(); ++j) {
      std::map<std::string, std::vector<size_t>> groups;  // by the other values
      for (size_t i = 0; i < r.points.size(); ++i) {
        std::string key;
        for (size_t k = 0; k < r.params.size(); ++k) {
          if (k != j) key += r.points[i].values[k].dump() + "|";
        }
        groups[key].push_back(i);
      }
      bool compared = false;
      bool differs = false;
      for (const auto& [key, members] : groups) {
        for (size_t m = 1; m < members.size(); ++m) {
          if (r.points[members[0]].values[j] == r.points[members[m]].values[j]) continue;
          compared = true;
          differs = differs || !same_means(r.points[members[0]], r.points[members[m]]);
        }
      }
      if (compared && !differs) {
        warnings.push_back("parameter " + r.params[j].path +
                           " changed no metric: points that differ only in it gave the same "
                           "numbers");
      }
    }
  }
  if (t.recommended) {
    // The runner-up: the feasible point with the next best objective mean.
    const std::string& metric = t.spec.objective.metric;
    const PointResult& best = r.points[*t.recommended];
    std::optional<size_t> second;
    for (size_t i = 0; i < r.points.size(); ++i) {
      if (i == *t.recommended || !t.feasible[i]) continue;
      const double v = Signed(t.spec.objective, SummaryOf(r.points[i], metric).mean);
      if (!second || v < Signed(t.spec.objective, SummaryOf(r.points[*second], metric).mean)) {
        second = i;
      }
    }
    if (second && !all_same) {
      const MetricSummary& a = SummaryOf(best, metric);
      const MetricSummary& b = SummaryOf(r.points[*second], metric);
      const std::string versus = "point " + std::to_string(best.index) + " (" + metric + " " +
                                 MeanCi(a) + ") over point " +
                                 std::to_string(r.points[*second].index) + " (" + MeanCi(b) + ")";
      if (a.n >= 2 && a.ci95_low() <= b.ci95_high() && b.ci95_low() <= a.ci95_high()) {
        warnings.push_back(
            "the recommendation is not significantly better than the runner-up: " + versus +
            "; their 95% intervals overlap (run more --seeds, or treat them as "
            "equal)");
      } else if (a.n < 2 && std::fabs(a.mean - b.mean) <=
                                0.05 * std::max(std::fabs(a.mean), std::fabs(b.mean))) {
        warnings.push_back("one seed, so no confidence interval: " + versus +
                           " are within 5%, which may be noise (run --seeds 3 or more)");
      }
    }
  }
  return warnings;
}

std::string RecommendationText(const SweepResults& results, const TuningResult& t) {
  std::string out = std::to_string(t.feasible_count) + " of " +
                    std::to_string(results.points.size()) + " points meet the constraints";
  for (size_t i = 0; i < t.spec.constraints.size(); ++i) {
    out += (i == 0 ? " (" : ", ") + t.spec.constraints[i].text;
  }
  out += t.spec.constraints.empty() ? " (none given)\n" : ")\n";
  for (const std::string& w : t.warnings) out += "warning: " + w + "\n";
  if (!t.recommended) {
    return out +
           "no recommendation: no point meets every constraint; relax a constraint or "
           "widen the parameter ranges\n";
  }
  const PointResult& best = results.points[*t.recommended];
  out += "recommended (" + t.spec.objective.Text() + "): point " + std::to_string(best.index) +
         ": " + PointLabel(results, best) + "\n";
  const int n = SummaryOf(best, t.spec.objective.metric).n;
  out += n >= 2 ? "  (mean ± 95% confidence half-width over " + std::to_string(n) + " seeds)\n"
                : "  (one seed: no confidence interval)\n";
  for (const std::string& m : t.metrics) {
    out += "  " + m + " = " + MeanCi(SummaryOf(best, m)) + "\n";
  }
  out += "\nadd to the \"overrides\" of variant \"" + results.manifest.value("variant", "") +
         "\" (or use the complete preset recommended.json):\n" + t.recommended_overrides.dump(2) +
         "\n";
  return out;
}

void WriteSweepOutputs(const std::string& dir, const SweepResults& r, const TuningResult& t,
                       const std::vector<std::string>& plots) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw SweepError("cannot create " + dir + ": " + ec.message());
  const Json& m = r.manifest;

  Json summary;
  summary["scenario"] = m.at("scenario");
  summary["variant"] = m.at("variant");
  summary["baseline"] = m.at("baseline");
  summary["sample"] = m.at("sample");
  summary["seeds"] = m.at("seeds");
  summary["params"] = m.at("params");
  summary["points"] = r.points.size();
  summary["objective"] = t.spec.objective.Text();
  summary["constraints"] = Json::array();
  for (const Constraint& c : t.spec.constraints) summary["constraints"].push_back(c.text);
  summary["pareto_metrics"] = {t.spec.pareto[0].Text(), t.spec.pareto[1].Text()};
  summary["metrics"] = t.metrics;
  summary["feasible_points"] = Json::array();
  for (size_t i = 0; i < t.feasible.size(); ++i) {
    if (t.feasible[i]) summary["feasible_points"].push_back(r.points[i].index);
  }
  summary["pareto_front"] = t.pareto_front;
  summary["recommended"] = nullptr;
  if (t.recommended) {
    const PointResult& best = r.points[*t.recommended];
    Json metrics = Json::object();
    for (const std::string& name : t.metrics)
      metrics[name] = SummaryStatsJson(SummaryOf(best, name));
    summary["recommended"] = {{"point", best.index},
                              {"values", best.values},
                              {"overrides", t.recommended_overrides},
                              {"variant", t.recommended_variant},
                              {"metrics", metrics}};
  }
  Json baseline = Json::object();
  if (!r.baseline_runs.empty()) {
    for (const std::string& name : t.metrics) {
      std::vector<double> samples;
      for (const MetricValues& run : r.baseline_runs) samples.push_back(LookupMetric(run, name));
      baseline[name] = SummaryStatsJson(Summarize(samples));
    }
  }
  summary["baseline_metrics"] = baseline;
  Json sens = {{"params", t.sensitivity.params}, {"metrics", t.sensitivity.metrics}};
  sens["coefficients"] = Json::array();
  for (Eigen::Index i = 0; i < t.sensitivity.coefficients.rows(); ++i) {
    Json row = Json::array();
    for (Eigen::Index j = 0; j < t.sensitivity.coefficients.cols(); ++j) {
      row.push_back(std::stod(FormatNumber(t.sensitivity.coefficients(i, j))));
    }
    sens["coefficients"].push_back(row);
  }
  sens["r_squared"] = Json::array();
  for (double r2 : t.sensitivity.r_squared)
    sens["r_squared"].push_back(std::stod(FormatNumber(r2)));
  summary["sensitivity"] = sens;
  summary["warnings"] = t.warnings;

  // The report.
  std::string md = "# Sweep report: " + m.at("scenario").get<std::string>() + ", variant " +
                   m.at("variant").get<std::string>() + "\n\n";
  md += "- parameters: ";
  for (size_t j = 0; j < r.params.size(); ++j)
    md += (j == 0 ? "`" : ", `") + r.params[j].text + "`";
  md += "\n- sample: " + m.at("sample").get<std::string>() + " (" +
        std::to_string(r.points.size()) +
        " points), replications: " + std::to_string(m.at("seeds").size()) + " seeds (" +
        m.at("seeds").dump() + "), common random numbers across points\n";
  md += "- objective: `" + t.spec.objective.Text() + "`; constraints: ";
  if (t.spec.constraints.empty()) md += "none";
  for (size_t i = 0; i < t.spec.constraints.size(); ++i) {
    md += (i == 0 ? "`" : ", `") + t.spec.constraints[i].text + "`";
  }
  md +=
      "\n- values are replication means ± the 95% confidence half-width (Student t, n − 1 "
      "degrees of freedom; no ± with one seed)\n\n";
  if (!t.warnings.empty()) {
    md += "## Warnings\n\n";
    for (const std::string& w : t.warnings) md += "- " + w + "\n";
    md += "\n";
  }
  md += "## Recommendation\n\n";
  md += std::to_string(t.feasible_count) + " of " + std::to_string(r.points.size()) +
        " points meet every constraint.\n\n";
  if (t.recommended) {
    const PointResult& best = r.points[*t.recommended];
    md += "Point " + std::to_string(best.index) + ": **" + PointLabel(r, best) + "**\n\n";
    std::vector<std::vector<std::string>> rows = {
        {"metric", "recommended", "baseline " + m.value("baseline", "")}};
    for (const std::string& name : t.metrics) {
      const std::string base =
          baseline.contains(name) ? Short(baseline[name]["mean"].get<double>()) : "-";
      rows.push_back({name, MeanCi(SummaryOf(best, name)), base});
    }
    md += Table(rows) + "\nAs a variant (paste into the scenario's \"variants\"):\n\n```json\n" +
          t.recommended_variant.dump(2) + "\n```\n\nThe full preset is in `recommended.json` " +
          "(copy it to `scenarios/policies/<name>.json`).\n\n";
  } else {
    md += "No point meets every constraint: relax a constraint or widen the parameter ranges.\n\n";
  }
  md += "## Pareto front: " + t.spec.pareto[0].Text() + " vs " + t.spec.pareto[1].Text() + "\n\n";
  {
    std::vector<std::vector<std::string>> rows = {
        {"point", "setting", t.spec.pareto[0].metric, t.spec.pareto[1].metric}};
    for (size_t index : t.pareto_front) {
      const PointResult& p = r.points[index];
      rows.push_back({std::to_string(index), PointLabel(r, p),
                      MeanCi(SummaryOf(p, t.spec.pareto[0].metric)),
                      MeanCi(SummaryOf(p, t.spec.pareto[1].metric))});
    }
    md += Table(rows) + "\n";
  }
  md +=
      "## Sensitivity (standardized least-squares coefficients)\n\n"
      "Change of the metric, in standard deviations, per standard deviation of the "
      "parameter, across the sweep's points; R² is the share a linear model explains.\n\n";
  {
    std::vector<std::vector<std::string>> rows = {{"metric"}};
    for (const std::string& p : t.sensitivity.params) rows[0].push_back("`" + p + "`");
    rows[0].push_back("R²");
    for (size_t i = 0; i < t.sensitivity.metrics.size(); ++i) {
      std::vector<std::string> row = {t.sensitivity.metrics[i]};
      for (size_t j = 0; j < t.sensitivity.params.size(); ++j) {
        row.push_back(Fixed(
            t.sensitivity.coefficients(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)),
            2));
      }
      row.push_back(Fixed(t.sensitivity.r_squared[i], 2));
      rows.push_back(row);
    }
    md += Table(rows) + "\n";
  }
  md += "## Points\n\n";
  {
    std::vector<std::vector<std::string>> rows = {{"point"}};
    for (const ParameterSpec& p : r.params) rows[0].push_back("`" + p.path + "`");
    rows[0].push_back("feasible");
    for (const std::string& name : t.metrics) rows[0].push_back(name);
    const size_t shown = std::min<size_t>(r.points.size(), 200);
    for (size_t i = 0; i < shown; ++i) {
      const PointResult& p = r.points[i];
      std::vector<std::string> row = {std::to_string(p.index)};
      for (const Json& v : p.values) row.push_back(ValueText(v));
      row.push_back(t.feasible[i] ? "yes" : "no");
      for (const std::string& name : t.metrics) row.push_back(MeanCi(SummaryOf(p, name)));
      rows.push_back(row);
    }
    md += Table(rows);
    if (shown < r.points.size()) {
      md += "\n(first " + std::to_string(shown) + " of " + std::to_string(r.points.size()) +
            " points; all are in results.csv)\n";
    }
  }
  if (!plots.empty()) {
    md += "\n## Plots\n\n";
    for (const std::string& p : plots) md += "![" + p + "](" + p + ")\n";
  }
  md +=
      "\nFiles: `results.csv` (every point and metric: n, mean, sd, 95% CI), `summary.json`, "
      "`recommended.json`, `points/` (per-seed metrics of each point), `sweep.json`.\n";

  WriteFileAtomically((fs::path(dir) / "results.csv").string(), ResultsCsv(r));
  WriteFileAtomically((fs::path(dir) / "summary.json").string(), summary.dump(1) + "\n");
  if (t.recommended) {
    WriteFileAtomically((fs::path(dir) / "recommended.json").string(),
                        t.recommended_preset.dump(2) + "\n");
  }
  WriteFileAtomically((fs::path(dir) / "report.md").string(), md);
}

}  // namespace orchsim::experiment
