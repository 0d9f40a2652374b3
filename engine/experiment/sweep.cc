#include "engine/experiment/sweep.h"

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <boost/math/distributions/students_t.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "engine/experiment/runner.h"
#include "engine/kernel/random.h"
#include "engine/world/data_change_book.h"
#include "policies/config/input_file.h"
#include "policies/config/policy_reader.h"

namespace orchsim::experiment {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "orchsim-sweep-1";
constexpr size_t kMaxPoints = 1000000;
constexpr size_t kMaxListedValues = 100000;

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseReal(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// Keeps 6 significant digits so generated values read (and paste) cleanly.
double RoundSignificant(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", v);
  return std::strtod(buffer, nullptr);
}

// A list element: bool, integer, real, quoted JSON string or bare string.
Json ParseScalar(const std::string& token) {
  if (token == "true") return true;
  if (token == "false") return false;
  int64_t i = 0;
  if (ParseInt(token, &i)) return i;
  double d = 0;
  if (ParseReal(token, &d)) return d;
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    return token.substr(1, token.size() - 2);
  }
  return token;
}

// The coarsest of 1s, 1ms, 1us dividing both range ends (microseconds).
int64_t DurationUnit(double low, double high) {
  for (int64_t unit : {int64_t{1000000}, int64_t{1000}}) {
    if (static_cast<int64_t>(low) % unit == 0 && static_cast<int64_t>(high) % unit == 0) {
      return unit;
    }
  }
  return 1;
}

// The value at position u in [0, 1] of a range parameter (u = 1 is the top).
Json RangeValue(const ParameterSpec& p, double u) {
  const double x = p.log_scale
                       ? std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)))
                       : p.low + u * (p.high - p.low);
  switch (p.kind) {
    case ParameterKind::kIntRange:
      return static_cast<int64_t>(std::clamp(std::llround(x), static_cast<long long>(p.low),
                                             static_cast<long long>(p.high)));
    case ParameterKind::kRealRange:
      return RoundSignificant(std::clamp(x, p.low, p.high));
    case ParameterKind::kDurationRange: {
      const int64_t unit = DurationUnit(p.low, p.high);
      const int64_t us =
          std::llround(std::clamp(x, p.low, p.high) / static_cast<double>(unit)) * unit;
      return FormatDuration(Duration::FromMicros(us));
    }
    case ParameterKind::kList:
      break;
  }
  return nullptr;
}

// A value drawn for stratum position u in [0, 1).
Json DrawValue(const ParameterSpec& p, double u) {
  if (p.kind == ParameterKind::kList) {
    const size_t i = std::min(p.values.size() - 1, static_cast<size_t>(u * p.values.size()));
    return p.values[i];
  }
  if (p.kind == ParameterKind::kIntRange && !p.log_scale) {
    // Every integer of [low, high] equally likely.
    const double span = p.high - p.low + 1;
    return static_cast<int64_t>(std::min(p.high, p.low + std::floor(u * span)));
  }
  return RangeValue(p, u);
}

void ParseRange(const std::string& text, const std::string& values, ParameterSpec* p) {
  const size_t dots = values.find("..");
  const std::vector<std::string> tail = Split(values.substr(dots + 2), ':');
  const std::string a = Trim(values.substr(0, dots));
  const std::string b = Trim(tail[0]);
  auto fail = [&](const std::string& why) { throw SweepError("--param " + text + ": " + why); };
  if (tail.size() > 3 || (tail.size() == 3 && Trim(tail[2]) != "log")) {
    fail("expected A..B, A..B:N or A..B:N:log");
  }
  int64_t count = 0;
  if (tail.size() >= 2 && (!ParseInt(Trim(tail[1]), &count) || count < 2 || count > 100000)) {
    fail("expected N (the number of values) to be an integer from 2 to 100000, got \"" +
         Trim(tail[1]) + "\"");
  }
  p->log_scale = tail.size() == 3;
  int64_t ia = 0, ib = 0;
  double da = 0, db = 0;
  if (ParseInt(a, &ia) && ParseInt(b, &ib)) {
    p->kind = ParameterKind::kIntRange;
    p->low = static_cast<double>(ia);
    p->high = static_cast<double>(ib);
  } else if (ParseReal(a, &da) && ParseReal(b, &db)) {
    p->kind = ParameterKind::kRealRange;
    p->low = da;
    p->high = db;
  } else {
    const auto pa = ParseDuration(a);
    const auto pb = ParseDuration(b);
    if (!pa.ok() || !pb.ok()) {
      fail("expected both range ends to be numbers or both durations (\"30s\"), got \"" + a +
           "\" and \"" + b + "\"");
    }
    p->kind = ParameterKind::kDurationRange;
    p->low = static_cast<double>(pa->micros());
    p->high = static_cast<double>(pb->micros());
  }
  if (!(p->low < p->high)) fail("expected A < B");
  if (p->log_scale && p->low <= 0) fail("a :log range needs A > 0");
  if (count == 0) {
    if (p->kind != ParameterKind::kIntRange) {
      fail("a range of reals or durations needs :N, the number of values (e.g. A..B:5)");
    }
    if (p->high - p->low + 1 > static_cast<double>(kMaxListedValues)) fail("too many values");
    for (int64_t v = ia; v <= ib; ++v) p->values.push_back(v);
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    Json v = RangeValue(*p, static_cast<double>(i) / static_cast<double>(count - 1));
    if (p->values.empty() || p->values.back() != v) p->values.push_back(std::move(v));
  }
}

std::string PointFileName(size_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "p%06zu.json", index);
  return buffer;
}

Json RunsJson(const std::vector<uint64_t>& seeds, const std::vector<MetricValues>& runs) {
  Json out = Json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    Json metrics = Json::object();
    for (const auto& [name, value] : runs[i]) metrics[name] = value;
    out.push_back({{"seed", seeds[i]}, {"metrics", metrics}});
  }
  return out;
}

std::vector<MetricValues> RunsFromJson(const Json& runs, std::vector<uint64_t>* seeds) {
  std::vector<MetricValues> out;
  for (const Json& run : runs) {
    if (seeds != nullptr) seeds->push_back(run.at("seed").get<uint64_t>());
    MetricValues values;
    for (const auto& [name, value] : run.at("metrics").items()) values[name] = value.get<double>();
    out.push_back(std::move(values));
  }
  return out;
}

std::string PointText(size_t index, const std::vector<Json>& values,
                      const std::vector<uint64_t>& seeds, const std::vector<MetricValues>& runs) {
  const Json point = {{"point", index}, {"values", values}, {"runs", RunsJson(seeds, runs)}};
  return point.dump() + "\n";
}

// The text of a file of a sweep folder; never blocks on a FIFO. Throws
// SweepError naming the file and the problem.
std::string ReadText(const fs::path& path) {
  config::InputFile file = config::ReadInputFile(path.string());
  if (!file.ok()) {
    throw SweepError(path.string() + ": " + config::DescribeInputFileProblem(file));
  }
  return std::move(file.text);
}

// The parsed file, or null when it is absent, not a readable regular file,
// or not JSON.
Json ReadJsonOrNull(const fs::path& path) {
  const config::InputFile file = config::ReadInputFile(path.string());
  if (!file.ok()) return nullptr;
  Json json = Json::parse(file.text, nullptr, false);
  return json.is_discarded() ? Json(nullptr) : json;
}

// Runs fn(i) for i in [0, n) on `jobs` threads, in index order of pick-up;
// rethrows the first exception after every thread stopped.
template <typename Fn>
void ParallelFor(size_t n, int jobs, Fn fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    while (!failed.load()) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
    }
  };
  const size_t threads = std::min(static_cast<size_t>(std::max(1, jobs)), std::max<size_t>(n, 1));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

std::string Hex(uint64_t v) {
  char buffer[20];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

// The variant as written: its preset's policy JSON and its overrides, so a
// recommendation can be written as a complete preset.
Json VariantPolicySource(const scenario::Scenario& scenario, const std::string& scenario_text,
                         const std::string& variant) {
  Json source = {{"preset", ""}, {"preset_policy", Json::object()}, {"overrides", Json::object()}};
  const Json text = Json::parse(scenario_text, nullptr, false);
  if (!text.is_object() || !text.contains("variants")) return source;
  for (const Json& v : text["variants"]) {
    if (!v.is_object() || v.value("name", "") != variant) continue;
    if (v.contains("overrides")) source["overrides"] = v["overrides"];
    const std::string preset = v.value("preset", "");
    source["preset"] = preset;
    if (!preset.empty()) {
      const fs::path file = fs::path(scenario.file).parent_path() / "policies" / (preset + ".json");
      Json policy = Json::parse(config::ReadFileOrThrow(file.string()), nullptr, false);
      if (policy.is_object()) {
        policy.erase("description");
        source["preset_policy"] = policy;
      }
    }
  }
  return source;
}

SweepResults LoadSweepFiles(const std::vector<std::string>& dirs);

}  // namespace

ParameterSpec ParseParameter(const std::string& text) {
  ParameterSpec p;
  p.text = text;
  const size_t eq = text.find('=');
  if (eq == std::string::npos) {
    throw SweepError("--param " + text +
                     ": expected PATH=VALUES, e.g. breaker.failure_threshold=3,5,8");
  }
  p.path = Trim(text.substr(0, eq));
  const std::string values = Trim(text.substr(eq + 1));
  for (const std::string& segment : Split(p.path, '.')) {
    const bool ok = !segment.empty() && std::all_of(segment.begin(), segment.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!ok) {
      throw SweepError("--param " + text + ": expected a dotted policy path such as " +
                       "\"retry.max_attempts\", got \"" + p.path + "\"");
    }
  }
  if (values.empty()) throw SweepError("--param " + text + ": no values after '='");
  if (values.find("..") != std::string::npos && values.find(',') == std::string::npos) {
    ParseRange(text, values, &p);
    return p;
  }
  p.kind = ParameterKind::kList;
  for (const std::string& token : Split(values, ',')) {
    const std::string t = Trim(token);
    if (t.empty()) throw SweepError("--param " + text + ": empty value in the list");
    p.values.push_back(ParseScalar(t));
  }
  return p;
}

SampleSpec ParseSample(const std::string& text) {
  SampleSpec s;
  if (text == "grid") return s;
  const size_t colon = text.find(':');
  const std::string method = text.substr(0, colon);
  int64_t count = 0;
  if (colon == std::string::npos || (method != "random" && method != "lhs") ||
      !ParseInt(text.substr(colon + 1), &count) || count < 1 ||
      count > static_cast<int64_t>(kMaxPoints)) {
    throw SweepError("--sample " + text +
                     ": expected \"grid\", \"random:N\" or \"lhs:N\" with 1 <= N <= 1000000");
  }
  s.method = method == "random" ? SampleMethod::kRandom : SampleMethod::kLatinHypercube;
  s.count = static_cast<size_t>(count);
  return s;
}

std::string SampleText(const SampleSpec& sample) {
  switch (sample.method) {
    case SampleMethod::kGrid:
      return "grid";
    case SampleMethod::kRandom:
      return "random:" + std::to_string(sample.count);
    case SampleMethod::kLatinHypercube:
      return "lhs:" + std::to_string(sample.count);
  }
  return "grid";
}

std::vector<std::vector<Json>> GeneratePoints(const std::vector<ParameterSpec>& params,
                                              const SampleSpec& sample, uint64_t seed) {
  std::vector<std::vector<Json>> points;
  if (params.empty()) return points;
  if (sample.method == SampleMethod::kGrid) {
    size_t total = 1;
    for (const ParameterSpec& p : params) {
      total *= p.values.size();
      if (total > kMaxPoints) throw SweepError("the grid has more than 1000000 points");
    }
    std::vector<size_t> at(params.size(), 0);
    for (size_t n = 0; n < total; ++n) {
      std::vector<Json> point;
      for (size_t i = 0; i < params.size(); ++i) point.push_back(params[i].values[at[i]]);
      points.push_back(std::move(point));
      for (size_t i = params.size(); i-- > 0;) {  // the last parameter varies fastest
        if (++at[i] < params[i].values.size()) break;
        at[i] = 0;
      }
    }
    return points;
  }
  const size_t n = sample.count;
  points.assign(n, std::vector<Json>(params.size()));
  if (sample.method == SampleMethod::kRandom) {
    kernel::Rng rng = kernel::SeedTree(seed).Stream("sweep/random");
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < params.size(); ++j)
        points[i][j] = DrawValue(params[j], rng.Uniform01());
    }
    return points;
  }
  kernel::Rng rng = kernel::SeedTree(seed).Stream("sweep/lhs");
  for (size_t j = 0; j < params.size(); ++j) {
    std::vector<size_t> strata(n);
    for (size_t i = 0; i < n; ++i) strata[i] = i;
    for (size_t i = n; i-- > 1;) std::swap(strata[i], strata[rng.UniformInt(i + 1)]);
    for (size_t i = 0; i < n; ++i) {
      const double u = (static_cast<double>(strata[i]) + rng.Uniform01()) / static_cast<double>(n);
      points[i][j] = DrawValue(params[j], u);
    }
  }
  return points;
}

Json OverridesFor(const std::vector<ParameterSpec>& params, const std::vector<Json>& values) {
  Json out = Json::object();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::vector<std::string> segments = Split(params[i].path, '.');
    Json* node = &out;
    for (size_t s = 0; s + 1 < segments.size(); ++s) {
      Json& child = (*node)[segments[s]];
      if (!child.is_null() && !child.is_object()) {
        throw SweepError("--param " + params[i].text + " conflicts with another parameter");
      }
      node = &child;
    }
    if (node->contains(segments.back())) {
      throw SweepError("--param " + params[i].text + " conflicts with another parameter");
    }
    (*node)[segments.back()] = values[i];
  }
  return out;
}

scenario::Variant ApplyOverrides(const scenario::Variant& base, const Json& overrides,
                                 const std::string& where) {
  scenario::Variant v = base;
  config::CheckPolicyLayer(overrides, where);
  v.policy_document = config::MergePolicyLayers(std::move(v.policy_document), overrides);
  v.policy = config::ResolvePolicy(v.policy_document, where);
  const Status status = v.policy.validate();
  if (!status.ok()) {
    throw config::ConfigError(where, "", "the policy is invalid: " + status.message());
  }
  return v;
}

double NumericValue(const ParameterSpec& param, const Json& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto d = ParseDuration(value.get<std::string>());
    if (d.ok()) return static_cast<double>(d->micros()) / 1e6;
    for (size_t i = 0; i < param.values.size(); ++i) {
      if (param.values[i] == value) return static_cast<double>(i);
    }
  }
  return 0.0;
}

std::string ValueText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return FormatNumber(value.get<double>());
  return value.dump();
}

void ReadSweepSpec(const Json& sweep, const std::string& file, SweepSpec* spec) {
  scenario::ObjectReader r(sweep, "/sweep", file);
  r.String("variant", &spec->variant);
  r.Strings("params", &spec->params);
  r.String("sample", &spec->sample);
  r.Int("seeds", &spec->seeds, false, 1, kMaxSweepSeeds);
  if (r.Has("first_seed")) {
    int64_t s = 0;
    r.Int("first_seed", &s, true, 0);
    spec->first_seed = static_cast<uint64_t>(s);
  }
  if (r.Has("sample_seed")) {
    int64_t s = 0;
    r.Int("sample_seed", &s, true, 0);
    spec->sample_seed = static_cast<uint64_t>(s);
  }
  r.Allow("first_seed");
  r.Allow("sample_seed");
  if (r.Has("objective")) {
    std::string objective;
    r.String("objective", &objective, true);
    spec->analysis["objective"] = objective;
  }
  for (const char* key : {"constraints", "pareto"}) {
    if (!r.Has(key)) {
      r.Allow(key);
      continue;
    }
    std::vector<std::string> list;
    r.Strings(key, &list, true);
    spec->analysis[key] = list;
  }
  r.Bool("slo", &spec->slo);
  r.Finish();
}

size_t CountSweepPoints(const SweepSpec& spec) {
  const SampleSpec sample = ParseSample(spec.sample);
  if (sample.method != SampleMethod::kGrid) return sample.count;
  size_t total = 1;
  for (const std::string& text : spec.params) {
    total *= ParseParameter(text).values.size();
    if (total > kMaxPoints) return kMaxPoints + 1;
  }
  return spec.params.empty() ? 0 : total;
}

SweepPlan PlanSweep(const scenario::Scenario& scenario, const std::string& scenario_text,
                    const SweepSpec& spec) {
  SweepPlan plan;
  const std::string variant_name =
      spec.variant.empty() ? scenario.variants.back().name : spec.variant;
  const scenario::Variant* base = scenario.FindVariant(variant_name);
  if (base == nullptr) {
    std::string known;
    for (const auto& v : scenario.variants) known += (known.empty() ? "" : ", ") + v.name;
    throw SweepError("unknown variant \"" + variant_name + "\"; the scenario has: " + known);
  }
  if (spec.params.empty()) {
    throw SweepError(
        "no parameters: give --param PATH=VALUES (or \"params\" in the scenario's "
        "\"sweep\")");
  }
  if (spec.seeds < 1 || spec.seeds > kMaxSweepSeeds) {
    throw SweepError("--seeds " + std::to_string(spec.seeds) + ": expected 1 to " +
                     std::to_string(kMaxSweepSeeds) + " replications per point");
  }
  std::set<std::string> paths;
  std::set<std::string> apis;
  for (const auto& upstream : scenario.upstreams) apis.insert(upstream.name);
  for (const std::string& text : spec.params) {
    ParameterSpec p = ParseParameter(text);
    if (!paths.insert(p.path).second) throw SweepError("--param " + text + ": path given twice");
    // "apis.<name>...." for an API the scenario lacks would change nothing,
    // and the sweep would still "recommend" one of its values.
    const std::vector<std::string> segments = Split(p.path, '.');
    if (segments.size() >= 2 && segments[0] == "apis" && apis.count(segments[1]) == 0) {
      throw SweepError(
          "--param " + text + ": unknown API \"" + segments[1] +
          "\"; expected one of the scenario's upstreams: " + scenario::KnownApis(apis));
    }
    // Each value alone first, so an error names the parameter that caused it.
    for (const Json& value : p.values) {
      ApplyOverrides(*base, OverridesFor({p}, {value}), "--param " + text);
    }
    plan.params.push_back(std::move(p));
  }
  const SampleSpec sample = ParseSample(spec.sample);
  const uint64_t sample_seed = spec.sample_seed.value_or(scenario.seed);
  plan.points = GeneratePoints(plan.params, sample, sample_seed);
  for (size_t i = 0; i < plan.points.size(); ++i) {
    std::string where = "sweep point " + std::to_string(i) + " (";
    for (size_t j = 0; j < plan.params.size(); ++j) {
      where += (j == 0 ? "" : ", ") + plan.params[j].path + "=" + ValueText(plan.points[i][j]);
    }
    plan.variants.push_back(
        ApplyOverrides(*base, OverridesFor(plan.params, plan.points[i]), where + ")"));
  }
  const uint64_t first_seed = spec.first_seed.value_or(scenario.seed);
  for (int i = 0; i < spec.seeds; ++i) plan.seeds.push_back(first_seed + static_cast<uint64_t>(i));
  plan.baseline = scenario.baseline;

  Json& m = plan.manifest;
  m["format"] = kFormat;
  m["scenario"] = scenario.name;
  m["scenario_fingerprint"] = Hex(kernel::Fnv1a64(scenario_text));
  m["variant"] = variant_name;
  m["variant_policy"] = VariantPolicySource(scenario, scenario_text, variant_name);
  m["baseline"] = plan.baseline;
  m["params"] = spec.params;
  m["sample"] = SampleText(sample);
  m["sample_seed"] = sample_seed;
  m["seeds"] = plan.seeds;
  m["analysis"] = spec.analysis;
  m["points"] = plan.points;
  return plan;
}

ShardSpec ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  int64_t k = 0, n = 0;
  if (slash == std::string::npos || !ParseInt(text.substr(0, slash), &k) ||
      !ParseInt(text.substr(slash + 1), &n) || n < 1 || k < 1 || k > n || n > 1000000) {
    throw SweepError("--shard " + text + ": expected K/N with 1 <= K <= N, e.g. 2/8");
  }
  return ShardSpec{static_cast<int>(k), static_cast<int>(n)};
}

RunSweepStats RunSweep(const scenario::Scenario& scenario, const SweepPlan& plan,
                       const std::string& dir, const RunSweepOptions& options) {
  const fs::path root(dir);
  const fs::path points_dir = root / "points";
  std::error_code ec;
  fs::create_directories(points_dir, ec);
  if (ec) ThrowIoError("create", points_dir.string(), ec.value());

  const std::string manifest_text = plan.manifest.dump(1) + "\n";
  if (fs::exists(root / "sweep.json")) {
    const std::string stored = ReadText(root / "sweep.json");
    if (Json::parse(stored, nullptr, false).is_discarded()) {
      throw SweepError(dir +
                       "/sweep.json is damaged (not valid JSON), so the folder cannot be "
                       "resumed or compared with this sweep; remove the folder or use another "
                       "--out");
    }
    if (stored != manifest_text) {
      throw SweepError(dir +
                       " holds a different sweep (its sweep.json differs: scenario, "
                       "variant, parameters, sample, seeds or analysis); use another --out");
    }
  }
  RunSweepStats stats;
  std::vector<size_t> pending;
  size_t finished_before = 0;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    if (!options.shard.Owns(i)) continue;
    ++stats.owned;
    const Json stored = ReadJsonOrNull(points_dir / PointFileName(i));
    const bool done = stored.is_object() && stored.value("point", Json()) == Json(i) &&
                      stored.value("values", Json()) == Json(plan.points[i]) &&
                      stored.at("runs").size() == plan.seeds.size();
    if (done) ++finished_before;
    if (done && options.resume) {
      ++stats.resumed;
    } else {
      pending.push_back(i);
    }
  }
  if (finished_before > 0 && !options.resume) {
    throw SweepError(dir + " already holds " + std::to_string(finished_before) +
                     " finished points of this sweep; pass --resume to keep them and run the "
                     "rest, or use another --out");
  }
  WriteFileAtomically((root / "sweep.json").string(), manifest_text, options.temp_dir);

  const int jobs = std::max(1, options.jobs);
  std::vector<MetricValues> baseline_metrics;
  std::vector<VariantRun> baseline_runs;
  const scenario::Variant* baseline = scenario.FindVariant(plan.baseline);
  // Every run reads the data changes the first to need them drew (the same
  // numbers, drawn once per seed: world/data_change_book.h).
  RunOptions shared;
  if ((pending.size() + (baseline != nullptr ? 1 : 0)) * plan.seeds.size() > 1) {
    shared.data_changes = std::make_shared<world::DataChangeBook>();
  }
  if (baseline != nullptr) {
    // The baseline's full runs are needed for calls_saved; they are re-run
    // (one per seed) rather than stored, since a VariantRun is not a file format.
    baseline_runs.resize(plan.seeds.size());
    ParallelFor(plan.seeds.size(), jobs, [&](size_t s) {
      baseline_runs[s] = RunVariant(scenario, *baseline, plan.seeds[s], shared);
    });
    for (const VariantRun& run : baseline_runs)
      baseline_metrics.push_back(FlattenMetrics(run, &run));
    const Json base = {{"variant", plan.baseline},
                       {"runs", RunsJson(plan.seeds, baseline_metrics)}};
    WriteFileAtomically((points_dir / "baseline.json").string(), base.dump() + "\n",
                        options.temp_dir);
  }

  const size_t seeds = plan.seeds.size();
  std::vector<std::vector<MetricValues>> results(pending.size(), std::vector<MetricValues>(seeds));
  std::vector<std::atomic<size_t>> remaining(pending.size());
  for (auto& r : remaining) r.store(seeds);
  std::mutex progress_mutex;
  size_t done = stats.resumed;
  if (options.progress) options.progress(done, stats.owned);
  ParallelFor(pending.size() * seeds, jobs, [&](size_t task) {
    const size_t slot = task / seeds;
    const size_t s = task % seeds;
    const size_t point = pending[slot];
    const VariantRun run = RunVariant(scenario, plan.variants[point], plan.seeds[s], shared);
    results[slot][s] = FlattenMetrics(run, baseline == nullptr ? nullptr : &baseline_runs[s]);
    if (remaining[slot].fetch_sub(1) != 1) return;
    WriteFileAtomically((points_dir / PointFileName(point)).string(),
                        PointText(point, plan.points[point], plan.seeds, results[slot]),
                        options.temp_dir);
    results[slot].clear();
    std::lock_guard<std::mutex> lock(progress_mutex);
    ++done;
    ++stats.ran;
    if (options.progress) options.progress(done, stats.owned);
  });
  return stats;
}

MetricSummary Summarize(const std::vector<double>& samples) {
  MetricSummary s;
  s.n = static_cast<int>(samples.size());
  if (samples.empty()) return s;
  const Eigen::Map<const Eigen::VectorXd> v(samples.data(),
                                            static_cast<Eigen::Index>(samples.size()));
  s.mean = v.mean();
  if (s.n < 2) return s;
  s.sd = std::sqrt((v.array() - s.mean).square().sum() / static_cast<double>(s.n - 1));
  s.ci95_half = StudentT975(s.n - 1) * s.sd / std::sqrt(static_cast<double>(s.n));
  return s;
}

double StudentT975(int df) {
  const boost::math::students_t distribution(static_cast<double>(df));
  return boost::math::quantile(distribution, 0.975);
}

SweepResults LoadSweep(const std::vector<std::string>& dirs) {
  try {
    return LoadSweepFiles(dirs);
  } catch (const Json::exception& e) {
    // A file of the right syntax with the wrong shape: edited or damaged.
    throw SweepError("the sweep files of " + dirs.front() +
                     " are damaged (sweep.json or a points/ file lacks an expected field: " +
                     e.what() + "); rerun the sweep into a new --out");
  }
}

namespace {
SweepResults LoadSweepFiles(const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw SweepError("no sweep folder given");
  SweepResults results;
  std::string manifest_text;
  for (const std::string& dir : dirs) {
    const fs::path path = fs::path(dir) / "sweep.json";
    if (!fs::exists(path)) throw SweepError(dir + ": no sweep.json (not a sweep folder)");
    const std::string text = ReadText(path);
    if (Json::parse(text, nullptr, false).is_discarded()) {
      throw SweepError(path.string() +
                       " is damaged (not valid JSON); rerun that sweep (or shard) into a new "
                       "--out");
    }
    if (manifest_text.empty()) {
      manifest_text = text;
    } else if (text != manifest_text) {
      throw SweepError(dir + " holds a different sweep than " + dirs.front() +
                       " (their sweep.json differ); only shards of one sweep can be merged");
    }
  }
  try {
    results.manifest = Json::parse(manifest_text);
  } catch (const std::exception& e) {
    throw SweepError(dirs.front() + "/sweep.json: malformed: " + e.what());
  }
  if (results.manifest.value("format", "") != kFormat) {
    throw SweepError(dirs.front() + "/sweep.json: not an " + std::string(kFormat) + " manifest");
  }
  for (const Json& text : results.manifest.at("params")) {
    results.params.push_back(ParseParameter(text.get<std::string>()));
  }
  const Json& points = results.manifest.at("points");
  const Json& seeds = results.manifest.at("seeds");
  std::vector<size_t> missing;
  for (size_t i = 0; i < points.size(); ++i) {
    Json stored;
    for (const std::string& dir : dirs) {
      stored = ReadJsonOrNull(fs::path(dir) / "points" / PointFileName(i));
      if (stored.is_object()) break;
    }
    if (!stored.is_object() || stored.value("values", Json()) != points[i] ||
        stored.at("runs").size() != seeds.size()) {
      missing.push_back(i);
      continue;
    }
    PointResult p;
    p.index = i;
    p.values = points[i].get<std::vector<Json>>();
    p.runs = RunsFromJson(stored.at("runs"), &p.seeds);
    if (!p.runs.empty()) {
      for (const auto& [name, value] : p.runs.front()) {
        std::vector<double> samples;
        for (const MetricValues& run : p.runs) samples.push_back(run.at(name));
        p.summary[name] = Summarize(samples);
      }
    }
    results.points.push_back(std::move(p));
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 10; ++i) {
      list += (i == 0 ? "" : ", ") + std::to_string(missing[i]);
    }
    if (missing.size() > 10) list += ", ...";
    throw SweepError(std::to_string(missing.size()) + " of " + std::to_string(points.size()) +
                     " points are not finished (" + list +
                     "): run the missing shards, or rerun the sweep with --resume");
  }
  if (!results.manifest.value("baseline", "").empty()) {
    for (const std::string& dir : dirs) {
      const Json base = ReadJsonOrNull(fs::path(dir) / "points" / "baseline.json");
      if (base.is_object()) {
        results.baseline_runs = RunsFromJson(base.at("runs"), nullptr);
        break;
      }
    }
  }
  std::vector<std::string> apis;
  if (!results.points.empty() && !results.points.front().runs.empty()) {
    for (const auto& [name, value] : results.points.front().runs.front()) {
      if (name.rfind("calls.", 0) == 0) apis.push_back(name.substr(6));
    }
  }
  results.catalog = MetricCatalog(apis);
  return results;
}

}  // namespace

void StoreSweep(const std::string& dir, const SweepResults& results) {
  const fs::path points_dir = fs::path(dir) / "points";
  std::error_code ec;
  fs::create_directories(points_dir, ec);
  if (ec) ThrowIoError("create", points_dir.string(), ec.value());
  WriteFileAtomically((fs::path(dir) / "sweep.json").string(), results.manifest.dump(1) + "\n");
  for (const PointResult& p : results.points) {
    WriteFileAtomically((points_dir / PointFileName(p.index)).string(),
                        PointText(p.index, p.values, p.seeds, p.runs));
  }
  if (!results.baseline_runs.empty()) {
    std::vector<uint64_t> seeds = results.manifest.at("seeds").get<std::vector<uint64_t>>();
    const Json base = {{"variant", results.manifest.at("baseline")},
                       {"runs", RunsJson(seeds, results.baseline_runs)}};
    WriteFileAtomically((points_dir / "baseline.json").string(), base.dump() + "\n");
  }
}

std::string FormatNumber(double value) {
  if (value == 0.0) return "0";  // no "-0"
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.10g", value);
  return buffer;
}

}  // namespace orchsim::experiment
