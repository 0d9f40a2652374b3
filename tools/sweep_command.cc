#include "tools/sweep_command.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "engine/experiment/progress_line.h"
#include "engine/experiment/sweep.h"
#include "engine/experiment/tuning.h"
#include "engine/scenario/scenario.h"
#include "policies/config/input_file.h"
#include "tools/cli_common.h"
#include "tools/plot_script.h"

namespace orchsim::tools {
namespace fs = std::filesystem;
using experiment::Json;

namespace {

// Tuning options shared by sweep, merge and tune.
struct AnalysisOptions {
  std::string objective;
  std::vector<std::string> constraints;
  std::string pareto;
  bool no_plots = false;
};

void AddAnalysisOptions(po::options_description* options, AnalysisOptions* a) {
  options->add_options()(
      "objective", po::value<std::string>(&a->objective),
      "metric to optimize: min:METRIC or max:METRIC (default min:upstream_calls)")(
      "constraint", po::value<std::vector<std::string>>(&a->constraints),
      "METRIC<=BOUND or METRIC>=BOUND, e.g. wait_p99_s.CRITICAL<=2s (repeatable)")(
      "pareto", po::value<std::string>(&a->pareto),
      "two metrics for the Pareto front, e.g. credits,data_age_p90_s")(
      "no-plots", po::bool_switch(&a->no_plots), "do not draw plots");
}

// Command-line analysis settings replace the stored ones key by key.
Json MergeAnalysis(Json analysis, const AnalysisOptions& a) {
  if (!analysis.is_object()) analysis = Json::object();
  if (!a.objective.empty()) analysis["objective"] = a.objective;
  if (!a.constraints.empty()) analysis["constraints"] = a.constraints;
  if (!a.pareto.empty()) {
    const size_t comma = a.pareto.find(',');
    if (comma == std::string::npos) {
      throw experiment::SweepError("--pareto " + a.pareto + ": expected two metrics, A,B");
    }
    analysis["pareto"] = {a.pareto.substr(0, comma), a.pareto.substr(comma + 1)};
  }
  return analysis;
}

std::string Clock(double seconds) { return experiment::ClockText(seconds); }

// Progress on stderr: rewritten in place on a terminal, a line every few
// seconds in a log (experiment/progress_line.h).
class SweepProgress {
 public:
  explicit SweepProgress(bool enabled)
      : enabled_(enabled), line_("sweep", isatty(STDERR_FILENO) == 1) {}
  void Update(size_t done, size_t total) {
    if (!enabled_) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    Write(line_.Update(done, total, elapsed));
  }
  void Done() {
    if (enabled_) Write(line_.Done());
  }

 private:
  static void Write(const std::string& text) {
    if (text.empty()) return;
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  }
  bool enabled_;
  experiment::ProgressLine line_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Draws the plots with tools/plot_sweep.py ($ORCHSIM_PLOT_SWEEP overrides);
// returns the image files made (relative to dir), or none with a warning when
// Python, matplotlib or the script is missing.
std::vector<std::string> DrawPlots(const std::string& dir) {
  const std::string problem =
      RunPlotScript(PlotScriptPath("ORCHSIM_PLOT_SWEEP", "plot_sweep.py"), dir,
                    /*stdout_to_stderr=*/true);
  if (!problem.empty()) {
    std::cerr << "warning: " << problem << "; no plots\n";
    return {};
  }
  std::vector<std::string> plots;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "plots", ec)) {
    if (e.path().extension() == ".png") plots.push_back("plots/" + e.path().filename().string());
  }
  std::sort(plots.begin(), plots.end());
  return plots;
}

// Analysis, outputs, plots and the printed recommendation for a finished sweep.
int Finish(const std::vector<std::string>& from, const std::string& out, bool store,
           const AnalysisOptions& analysis) {
  const experiment::SweepResults results = experiment::LoadSweep(from);
  if (store) experiment::StoreSweep(out, results);
  const experiment::TuningSpec spec =
      experiment::ParseTuningSpec(MergeAnalysis(results.manifest["analysis"], analysis));
  const experiment::TuningResult tuning = experiment::AnalyzeSweep(results, spec);
  experiment::WriteSweepOutputs(out, results, tuning, {});
  if (!analysis.no_plots) {
    const std::vector<std::string> plots = DrawPlots(out);
    if (!plots.empty()) experiment::WriteSweepOutputs(out, results, tuning, plots);
  }
  std::cout << experiment::RecommendationText(results, tuning);
  std::cout << "\nreport: " << out << "/report.md";
  if (tuning.recommended) std::cout << ", preset: " << out << "/recommended.json";
  std::cout << "\n";
  return 0;
}

int Fail(const std::string& command, const std::exception& e) {
  std::cerr << "orchsim " << command << ": " << e.what() << "\n";
  return 2;
}

}  // namespace

int SweepCommand(const std::vector<std::string>& args) {
  std::string variant, sample, shard_text = "1/1", out_dir;
  std::vector<std::string> params;
  int seeds = 0;
  uint64_t seed = 0, sample_seed = 0;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  AnalysisOptions analysis;
  po::options_description options(
      "orchsim sweep SCENARIO --param PATH=VALUES... [options]\n\n"
      "Runs a variant of SCENARIO at every point of a parameter sweep, on several seeds,\n"
      "and writes results.csv, summary.json, report.md, recommended.json and plots.\n"
      "PATH addresses the policy JSON (breaker.failure_threshold, apis.odds.bucket.rate_per_s);\n"
      "VALUES is a list (3,5,8 or 30s,2m,10m), an integer range (1..4), or N spaced values\n"
      "(0.5..2:4, 30s..10m:5, 1s..1h:6:log). Settings may also come from the scenario's\n"
      "\"sweep\" object; command-line values replace them.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "param,p", po::value<std::vector<std::string>>(&params), "PATH=VALUES (repeatable)")(
      "variant", po::value<std::string>(&variant), "variant to tune (default: the last one)")(
      "sample", po::value<std::string>(&sample), "grid (default), random:N or lhs:N")(
      "seeds", po::value<int>(&seeds), "replications per point (default 1)")(
      "seed", po::value<uint64_t>(&seed), "first replication seed (default: the scenario's)")(
      "sample-seed", po::value<uint64_t>(&sample_seed),
      "seed of random/lhs sampling (default: the scenario's)")(
      "jobs,j", po::value<int>(&jobs), "worker threads (default: the number of cores)")(
      "shard", po::value<std::string>(&shard_text),
      "run only shard K/N (round-robin points); combine with 'orchsim merge'")(
      "resume", "keep the finished points in --out and run the rest")(
      "out", po::value<std::string>(&out_dir), "sweep folder (default results/<scenario>-sweep)")(
      "quiet,q", "no progress on stderr");
  AddAnalysisOptions(&options, &analysis);
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", 1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim sweep: missing SCENARIO (a scenario JSON file)\n\n" << options;
    return 2;
  }
  const std::string path = vm["scenario"].as<std::vector<std::string>>().front();
  const scenario::Scenario scenario = scenario::LoadScenario(path);
  PrintScenarioWarnings("sweep", scenario);
  try {
    experiment::SweepSpec spec;
    if (!scenario.sweep.is_null()) experiment::ReadSweepSpec(scenario.sweep, path, &spec);
    if (!params.empty()) spec.params = params;
    if (vm.count("variant")) spec.variant = variant;
    if (vm.count("sample")) spec.sample = sample;
    if (vm.count("seeds")) spec.seeds = seeds;
    if (vm.count("seed")) spec.first_seed = seed;
    if (vm.count("sample-seed")) spec.sample_seed = sample_seed;
    spec.analysis = MergeAnalysis(spec.analysis, analysis);
    // Fail on a bad objective, constraint or metric name now, not after the runs.
    std::vector<std::string> apis;
    for (const auto& upstream : scenario.upstreams) apis.push_back(upstream.name);
    experiment::CheckTuningMetrics(experiment::ParseTuningSpec(spec.analysis),
                                   experiment::MetricCatalog(apis));
    const experiment::ShardSpec shard = experiment::ParseShard(shard_text);
    if (jobs < 1) throw experiment::SweepError("--jobs must be at least 1");
    const experiment::SweepPlan plan =
        experiment::PlanSweep(scenario, config::ReadFileOrThrow(path), spec);
    if (out_dir.empty()) out_dir = "results/" + scenario.name + "-sweep";

    std::cout << "sweep " << scenario.name << ", variant "
              << plan.manifest["variant"].get<std::string>() << ": " << plan.points.size()
              << " points x " << plan.seeds.size() << " seeds ("
              << plan.manifest["sample"].get<std::string>() << ")";
    if (shard.count > 1) std::cout << ", shard " << shard.index << "/" << shard.count;
    std::cout << ", " << jobs << " jobs\n";
    experiment::RunSweepOptions run_options;
    run_options.jobs = jobs;
    run_options.shard = shard;
    run_options.resume = vm.count("resume") > 0;
    SweepProgress progress(!vm.count("quiet"));
    run_options.progress = [&progress](size_t done, size_t total) { progress.Update(done, total); };
    const auto started = std::chrono::steady_clock::now();
    const experiment::RunSweepStats stats =
        experiment::RunSweep(scenario, plan, out_dir, run_options);
    progress.Done();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "ran " << stats.ran << " points";
    if (stats.resumed > 0) std::cout << " (" << stats.resumed << " kept from before)";
    std::cout << " in " << Clock(seconds) << "\n";
    if (shard.count > 1) {
      std::cout << "shard " << shard.index << "/" << shard.count << " stored in " << out_dir
                << "/; when every shard is done: orchsim merge DIR... --out MERGED\n";
      return 0;
    }
    std::cout << "\n";
    return Finish({out_dir}, out_dir, false, analysis);
  } catch (const experiment::SweepError& e) {
    return Fail("sweep", e);
  } catch (const experiment::UnknownMetricError& e) {
    return Fail("sweep", e);
  }
}

int MergeCommand(const std::vector<std::string>& args) {
  std::string out_dir;
  AnalysisOptions analysis;
  po::options_description options(
      "orchsim merge DIR... --out MERGED [options]\n\n"
      "Combines the shard folders of one sweep (orchsim sweep --shard K/N) into MERGED and\n"
      "writes the same results, report and recommendation an unsharded sweep writes.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(&out_dir)->required(), "merged sweep folder");
  AddAnalysisOptions(&options, &analysis);
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "dirs", -1, &vm)) return 0;
  if (!vm.count("dirs")) {
    std::cerr << "orchsim merge: missing DIR (shard folders)\n\n" << options;
    return 2;
  }
  try {
    return Finish(vm["dirs"].as<std::vector<std::string>>(), out_dir, true, analysis);
  } catch (const experiment::SweepError& e) {
    return Fail("merge", e);
  } catch (const experiment::UnknownMetricError& e) {
    return Fail("merge", e);
  }
}

int TuneCommand(const std::vector<std::string>& args) {
  AnalysisOptions analysis;
  po::options_description options(
      "orchsim tune DIR [options]\n\n"
      "Re-analyses a finished sweep folder with another objective, constraints or Pareto\n"
      "metrics, without running anything; rewrites its report and recommendation.\n\noptions");
  options.add_options()("help,h", "show this help");
  AddAnalysisOptions(&options, &analysis);
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "dir", 1, &vm)) return 0;
  if (!vm.count("dir")) {
    std::cerr << "orchsim tune: missing DIR (a sweep folder)\n\n" << options;
    return 2;
  }
  const std::string dir = vm["dir"].as<std::vector<std::string>>().front();
  try {
    return Finish({dir}, dir, false, analysis);
  } catch (const experiment::SweepError& e) {
    return Fail("tune", e);
  } catch (const experiment::UnknownMetricError& e) {
    return Fail("tune", e);
  }
}

}  // namespace orchsim::tools
