// sweep.h — parameter sweeps over a variant's policy: which points to run,
// running them on a thread pool, storing each finished point, merging shards,
// and the replication statistics.
//
// Parameters. "PATH=VALUES", where PATH addresses a field of the policy JSON
// (policy_reader.h) with dots ("breaker.failure_threshold",
// "apis.odds.bucket.rate_per_s", "cache.default_ttl") and VALUES is
//   v1,v2,...        a list: integers, reals, true/false, or strings (durations
//                    such as "30s", enum names such as "full_jitter")
//   A..B             every integer from A to B (A, B integers)
//   A..B:N           N evenly spaced values from A to B; A and B are numbers
//                    or durations ("30s..10m:5"); integer ends give integers
//   A..B:N:log       the same, spaced evenly in log(value) (A, B > 0)
// Grid sampling visits the listed/spaced values; random and Latin-hypercube
// sampling draw from the list, or uniformly from [A, B] for a range (in log
// space with :log). Drawn reals keep 4 significant digits, drawn durations
// the coarsest of 1s/1ms/1us that divides both ends, so values are readable
// and paste cleanly into a preset.
//
// A point's values become an overrides object ({"breaker": {"failure_threshold":
// 5}}) overlaid on the variant's policy with config::MergePolicyLayers + ResolvePolicy and then
// validated, so a bad path or value is reported by the same strict reader
// (ConfigError naming the parameter) before anything runs.
//
// Determinism. Points come from the seeded Rng (stream "sweep/<method>" of
// the sweep seed); every point runs on the same replication seeds (common
// random numbers). Results are stored per point and every output is computed
// from the stored files in point order, so they are byte-identical for any
// number of threads, for shards merged, and for interrupted-then-resumed runs.
//
// Storage (the sweep folder):
//   sweep.json            the manifest: scenario, variant, parameters, points,
//                         seeds, analysis settings (identical in every shard)
//   points/p000017.json   one finished point: its values and, per seed, the
//                         flat metrics (metric_catalog.h); written under a
//                         temporary name (in RunSweepOptions::temp_dir) and
//                         renamed, so a killed sweep leaves only complete
//                         points
//   points/baseline.json  the baseline variant's runs (for calls_saved)
#ifndef ORCHSIM_ENGINE_EXPERIMENT_SWEEP_H_
#define ORCHSIM_ENGINE_EXPERIMENT_SWEEP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/metric_catalog.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

using scenario::Json;

// Malformed sweep settings (parameter syntax, sample, shard, stored files).
class SweepError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class ParameterKind { kList, kIntRange, kRealRange, kDurationRange };

struct ParameterSpec {
  std::string text;  // as written, "retry.max_attempts=1..4"
  std::string path;  // "retry.max_attempts"
  ParameterKind kind = ParameterKind::kList;
  std::vector<Json> values;  // the values a grid visits
  double low = 0.0;          // range ends (microseconds for durations)
  double high = 0.0;
  bool log_scale = false;
};

// Throws SweepError naming the text and what was expected.
ParameterSpec ParseParameter(const std::string& text);

enum class SampleMethod { kGrid, kRandom, kLatinHypercube };
struct SampleSpec {
  SampleMethod method = SampleMethod::kGrid;
  size_t count = 0;  // points for random / lhs
};
// "grid", "random:N", "lhs:N". Throws SweepError.
SampleSpec ParseSample(const std::string& text);
std::string SampleText(const SampleSpec& sample);

// The points to run: one value per parameter each, in a fixed order. Grid:
// the Cartesian product, the first parameter varying slowest. Random: each
// value drawn independently. LHS: each parameter's range cut into `count`
// strata, every stratum used once, strata paired by seeded permutations.
std::vector<std::vector<Json>> GeneratePoints(const std::vector<ParameterSpec>& params,
                                              const SampleSpec& sample, uint64_t seed);

// {"a": {"b": value}} for the paths and values.
Json OverridesFor(const std::vector<ParameterSpec>& params, const std::vector<Json>& values);

// A copy of `base` with `overrides` overlaid on its policy and validated.
// Throws ConfigError with `where` as the file name.
scenario::Variant ApplyOverrides(const scenario::Variant& base, const Json& overrides,
                                 const std::string& where);

// A number for a parameter value, for statistics and plots: numbers as they
// are, booleans 0/1, durations in seconds, other strings their list position.
double NumericValue(const ParameterSpec& param, const Json& value);
// A value as text ("5", "2m", "true").
std::string ValueText(const Json& value);

// Replications per point: 1 to this (command line and scenario file).
inline constexpr int kMaxSweepSeeds = 10000;

// What to sweep; read from the command line and/or the scenario's "sweep".
struct SweepSpec {
  std::string variant;              // "" = the scenario's last variant
  std::vector<std::string> params;  // "PATH=VALUES"
  std::string sample = "grid";
  int seeds = 1;                        // replications per point
  std::optional<uint64_t> first_seed;   // replication i runs on first_seed + i
                                        // (default: the scenario's seed)
  std::optional<uint64_t> sample_seed;  // seeds random/lhs (default: the scenario's)
  Json analysis = Json::object();       // objective, constraints, pareto (tuning.h)
  // The scenario's service-level objectives (slo.h) as constraints too
  // (SloConstraints: each must hold over its whole 95% interval). The CLI
  // adds them to the analysis; "slo": true in the scenario's "sweep".
  bool slo = false;
};

// Reads a scenario's "sweep" object into *spec (fields present replace).
// Throws ConfigError.
void ReadSweepSpec(const Json& sweep, const std::string& file, SweepSpec* spec);

// The number of points `spec` asks for, without generating or validating
// them (for the size limits; more than 10^6 is reported as 10^6 + 1).
// Throws SweepError for malformed parameters or sample.
size_t CountSweepPoints(const SweepSpec& spec);

// A validated sweep, ready to run.
struct SweepPlan {
  Json manifest;  // what sweep.json holds
  std::vector<ParameterSpec> params;
  std::vector<std::vector<Json>> points;
  std::vector<scenario::Variant> variants;  // one per point, validated
  std::vector<uint64_t> seeds;
  std::string baseline;  // "" when the scenario has none
};

// Parses, generates and validates every point. Throws SweepError or
// ConfigError before anything runs. `scenario_text` is fingerprinted into
// the manifest so --resume and merge notice a changed scenario.
SweepPlan PlanSweep(const scenario::Scenario& scenario, const std::string& scenario_text,
                    const SweepSpec& spec);

struct ShardSpec {
  int index = 1;  // 1-based
  int count = 1;
  // Round-robin: point i belongs to shard (i % count) + 1.
  bool Owns(size_t point) const { return static_cast<int>(point % count) + 1 == index; }
};
// "K/N" with 1 <= K <= N. Throws SweepError.
ShardSpec ParseShard(const std::string& text);

struct RunSweepOptions {
  int jobs = 1;  // worker threads (>= 1)
  // Where files are written before being renamed into `dir` (same file
  // system; atomic_file.h); "" = beside each file as "<name>.partial". The
  // CLI passes a folder it removes when interrupted.
  std::string temp_dir;
  ShardSpec shard;
  bool resume = false;  // keep finished points of an earlier run in `dir`
  // Called (from any thread, serialized) after each point: points done so
  // far (including resumed ones) of the points this shard owns.
  std::function<void(size_t done, size_t total)> progress;
};

struct RunSweepStats {
  size_t owned = 0;    // points this shard owns
  size_t resumed = 0;  // already finished in `dir`
  size_t ran = 0;
};

// Runs the shard's points not yet stored in `dir` and stores each. Throws
// SweepError when `dir` holds another sweep, a damaged sweep.json, or
// finished points and resume is off; IoError when files cannot be written;
// rethrows the first error of a run.
RunSweepStats RunSweep(const scenario::Scenario& scenario, const SweepPlan& plan,
                       const std::string& dir, const RunSweepOptions& options);

// Replication statistics of one metric at one point.
struct MetricSummary {
  int n = 0;
  double mean = 0.0;
  double sd = 0.0;       // sample standard deviation (n - 1); 0 when n < 2
  double ci95_half = 0;  // t(0.975, n - 1) * sd / sqrt(n); 0 when n < 2
  double ci95_low() const { return mean - ci95_half; }
  double ci95_high() const { return mean + ci95_half; }
};
MetricSummary Summarize(const std::vector<double>& samples);
// The 0.975 quantile of Student's t with `df` >= 1 degrees of freedom.
double StudentT975(int df);

struct PointResult {
  size_t index = 0;
  std::vector<Json> values;
  std::vector<uint64_t> seeds;
  std::vector<MetricValues> runs;  // per seed
  std::map<std::string, MetricSummary> summary;
};

struct SweepResults {
  Json manifest;
  std::vector<ParameterSpec> params;
  std::vector<PointResult> points;          // in point order, all present
  std::vector<MetricValues> baseline_runs;  // empty without a baseline
  std::vector<MetricInfo> catalog;
};

// Reads the manifests and point files of `dirs` (a whole sweep, or all its
// shards). Throws SweepError when the manifests differ, are damaged, or a
// point is missing (naming it and how to finish it).
SweepResults LoadSweep(const std::vector<std::string>& dirs);

// Writes the manifest, every point file and the baseline of `results` into
// `dir` (for merge), each file atomically; the files equal the originals.
void StoreSweep(const std::string& dir, const SweepResults& results);

// Fixed, locale-free formatting of a double ("%.10g").
std::string FormatNumber(double value);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_SWEEP_H_
