#include "tools/run_command.h"

#include <iostream>
#include <map>
#include <optional>

#include "engine/experiment/check.h"
#include "engine/experiment/comparison.h"
#include "engine/experiment/replications.h"
#include "engine/experiment/runner.h"
#include "engine/experiment/tuning.h"
#include "engine/scenario/scenario.h"
#include "tools/cli_common.h"
#include "tools/plot_command.h"
#include "tools/run_outputs.h"

namespace orchsim::tools {

int RunCommand(const std::vector<std::string>& args) {
  std::vector<std::string> variants;
  uint64_t seed = 0;
  int seed_count = 1;
  std::string out_dir;
  std::string record;
  std::string openmetrics;
  std::string openmetrics_step;
  po::options_description options(
      "orchsim run SCENARIO [options]\n\n"
      "Runs every variant of SCENARIO (or those named with --variant) on the same seed,\n"
      "prints the comparison and writes summary.json, summary.csv, timeseries.csv,\n"
      "quota.csv, breaker_transitions.csv, staleness.csv, report.md and the plots\n"
      "(PNG and SVG, when Python with matplotlib is available) to the output folder.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "variant", po::value<std::vector<std::string>>(&variants),
      "run only this variant (repeatable; default: all)")(
      "seed", po::value<uint64_t>(&seed), "root seed (default: the scenario's seed)")(
      "seeds", po::value<int>(&seed_count),
      "replications: run seeds S..S+N-1 and report means with 95% confidence intervals; the "
      "result files are those of seed S (default 1)")(
      "out", po::value<std::string>(&out_dir), "results folder (default: results/<scenario name>)")(
      "quiet,q", "no progress on stderr")("no-plots", "do not draw the plots")(
      "record", po::value<std::string>(&record),
      "write each variant's trace (JSON lines): FILE with one variant, a pattern with\n"
      "{variant} (traces/{variant}.jsonl) or a folder (traces/) with several")(
      "openmetrics", po::value<std::string>(&openmetrics),
      "write the run's time series in OpenMetrics text (for promtool tsdb\n"
      "create-blocks-from openmetrics)")(
      "openmetrics-step", po::value<std::string>(&openmetrics_step),
      "sampling step of --openmetrics (default: 1m up to a 2-day window, else 1h)");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", 1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim run: missing SCENARIO (a scenario JSON file)\n\n" << options;
    return 2;
  }
  const std::string scenario_path = vm["scenario"].as<std::vector<std::string>>().front();
  const scenario::Scenario scenario = scenario::LoadScenario(scenario_path);
  PrintScenarioWarnings("run", scenario);
  for (const std::string& v : variants) {
    if (scenario.FindVariant(v) == nullptr) {
      std::string known;
      for (const auto& variant : scenario.variants) known += " " + variant.name;
      std::cerr << "orchsim run: " << scenario_path << ": unknown variant \"" << v
                << "\"; the scenario has:" << known << "\n";
      return 2;
    }
  }
  if (seed_count < 1 || seed_count > 10000) {
    std::cerr << "orchsim run: --seeds " << seed_count << ": expected 1 to 10000\n";
    return 2;
  }
  if (!vm.count("seed")) seed = scenario.seed;
  if (out_dir.empty()) out_dir = "results/" + scenario.name;
  std::vector<std::string> chosen = variants;
  if (chosen.empty()) {
    for (const auto& variant : scenario.variants) chosen.push_back(variant.name);
  }
  std::vector<RecordTarget> record_targets;
  if (vm.count("record")) {
    StatusOr<std::vector<RecordTarget>> resolved = ResolveRecordPaths(record, chosen);
    if (!resolved.ok()) {
      std::cerr << "orchsim run: " << resolved.status().message() << "\n";
      return 2;
    }
    record_targets = std::move(resolved).value();
  }
  std::optional<Duration> step;
  if (vm.count("openmetrics-step")) {
    ParseResult<Duration> parsed = ParseDuration(openmetrics_step);
    if (!parsed.ok() || *parsed < Seconds(1)) {
      std::cerr << "orchsim run: --openmetrics-step " << openmetrics_step
                << ": expected a duration of at least 1s (\"1m\", \"1h\")\n";
      return 2;
    }
    step = *parsed;
  }
  if (vm.count("openmetrics") && openmetrics.empty()) {
    std::cerr << "orchsim run: --openmetrics: empty path\n";
    return 2;
  }
  RunOutputs outputs(scenario, seed, std::move(record_targets), openmetrics, step);
  Progress progress(!vm.count("quiet"));
  std::vector<experiment::VariantRun> runs;
  for (const std::string& name : chosen) {
    experiment::RunOptions run_options =
        outputs.Begin(name, [&progress, &name](double f) { progress.Update(name, f); });
    runs.push_back(
        experiment::RunVariant(scenario, *scenario.FindVariant(name), seed, run_options));
    outputs.End();
  }
  outputs.Finish();
  progress.Done();
  std::cout << "scenario " << scenario.name << ", seed " << seed << "\n\n"
            << experiment::ComparisonTable(scenario, runs);
  // Replications: the other seeds' flat metrics only (the files are seed S's).
  std::optional<experiment::ReplicationSummary> replications;
  if (seed_count > 1) {
    std::vector<uint64_t> seeds = {seed};
    std::vector<std::map<std::string, experiment::MetricValues>> per_seed = {
        experiment::FlattenRuns(scenario, runs)};
    for (int k = 1; k < seed_count; ++k) {
      const uint64_t s = seed + static_cast<uint64_t>(k);
      const auto more = experiment::RunComparison(
          scenario, variants, s, [&progress, s](const std::string& variant, double f) {
            progress.Update(variant + " seed " + std::to_string(s), f);
          });
      progress.Done();
      seeds.push_back(s);
      per_seed.push_back(experiment::FlattenRuns(scenario, more));
    }
    std::vector<std::string> names;
    for (const auto& run : runs) names.push_back(run.variant);
    replications = experiment::SummarizeReplications(seeds, names, per_seed);
    std::cout << "\n" << experiment::ReplicationsTable(*replications);
  }
  for (const auto& run : runs) {
    for (const std::string& mismatch : experiment::CountMismatches(run)) {
      std::cerr << "orchsim run: warning: call counts differ: " << mismatch << "\n";
    }
  }
  experiment::WriteResults(out_dir, scenario, runs, replications ? &*replications : nullptr);
  if (!vm.count("no-plots")) {
    const std::string error = DrawPlots(out_dir);
    if (!error.empty()) std::cerr << "orchsim run: warning: plots not drawn: " << error << "\n";
  }
  std::cout << "\nresults written to " << out_dir << "/\n";
  for (const std::string& line : outputs.written()) std::cout << line << "\n";
  return 0;
}

int ValidateCommand(const std::vector<std::string>& args) {
  po::options_description options(
      "orchsim validate SCENARIO...\n\n"
      "Loads each SCENARIO with its presets and schedule, and checks its \"expect\",\n"
      "\"tolerances\" and \"sweep\" blocks as check and sweep read them; reports the first\n"
      "problem (exit status 2) or a one-line summary per file (exit status 0).\n\noptions");
  options.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", -1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim validate: missing SCENARIO (a scenario JSON file)\n";
    return 2;
  }
  for (const std::string& path : vm["scenario"].as<std::vector<std::string>>()) {
    const scenario::Scenario s = scenario::LoadScenario(path);
    PrintScenarioWarnings("validate", s);
    // What `check` and `sweep` read from the file is checked here too, so a
    // file that validates is not refused by them.
    experiment::ReadCheckSpec(s);
    if (!s.sweep.is_null()) {
      experiment::SweepSpec spec;
      experiment::ReadSweepSpec(s.sweep, path, &spec);
      try {
        std::vector<std::string> apis;
        for (const auto& upstream : s.upstreams) apis.push_back(upstream.name);
        experiment::CheckTuningMetrics(experiment::ParseTuningSpec(spec.analysis),
                                       experiment::MetricCatalog(apis));
      } catch (const std::invalid_argument& e) {
        throw config::ConfigError(path, "/sweep", e.what());
      }
    }
    std::cout << path << ": ok (" << s.games.size() << " games, " << s.upstreams.size()
              << " upstreams, " << s.demand.size() << " demand generators, " << s.variants.size()
              << " variants)\n";
  }
  return 0;
}

}  // namespace orchsim::tools
