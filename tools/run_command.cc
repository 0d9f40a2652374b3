#include "tools/run_command.h"

#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "engine/experiment/check.h"
#include "engine/experiment/comparison.h"
#include "engine/experiment/output_folder.h"
#include "engine/experiment/replications.h"
#include "engine/experiment/results_writer.h"
#include "engine/experiment/run_size.h"
#include "engine/experiment/runner.h"
#include "engine/experiment/slo.h"
#include "engine/experiment/tuning.h"
#include "engine/scenario/scenario.h"
#include "tools/cli_common.h"
#include "tools/interrupts.h"
#include "tools/plot_command.h"
#include "tools/run_outputs.h"

namespace orchsim::tools {

int RunCommand(const std::vector<std::string>& args) {
  std::vector<std::string> variants;
  std::vector<std::string> limit_texts;
  std::string seed_text;
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
      "(PNG and SVG, when Python with matplotlib is available) to the output folder.\n"
      "The folder is replaced as a whole when the run is complete; a run interrupted\n"
      "or failed leaves it as it was. Exit status: 0 done, 2 bad input (also a run\n"
      "beyond the size limits, or a folder in use or holding something else),\n"
      "3 cannot write the results, 4 out of memory or internal error.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "variant", po::value<std::vector<std::string>>(&variants),
      "run only this variant (repeatable; default: all)")(
      "seed", po::value<std::string>(&seed_text),
      "root seed, 0 to 2^63-1 (default: the scenario's seed)")(
      "seeds", po::value<int>(&seed_count),
      "replications: run seeds S..S+N-1 and report means with 95% confidence intervals; the "
      "result files are those of seed S (default 1)")(
      "out", po::value<std::string>(&out_dir), "results folder (default: results/<scenario name>)")(
      "limit", po::value<std::vector<std::string>>(&limit_texts),
      "raise a size limit, NAME=VALUE: requests, burst, events or rows (repeatable; README "
      "\"Limits\")")("quiet,q", "no progress on stderr")("no-plots", "do not draw the plots")(
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
  for (const char* option : {"out", "record", "openmetrics"}) RequireNonEmpty(vm, option);
  const uint64_t seed_option = vm.count("seed") ? ParseSeed(seed_text, "--seed") : 0;
  experiment::RunLimits limits;
  for (const std::string& text : limit_texts) limits.Set(text);
  const std::string scenario_path = vm["scenario"].as<std::vector<std::string>>().front();
  const scenario::Scenario scenario = scenario::LoadScenario(scenario_path);
  PrintScenarioWarnings("run", scenario);
  // Bad objectives are bad input before anything runs.
  experiment::ReadSloSpec(scenario);
  std::set<std::string> seen;
  for (const std::string& v : variants) {
    if (scenario.FindVariant(v) == nullptr) {
      std::string known;
      for (const auto& variant : scenario.variants) known += " " + variant.name;
      std::cerr << "orchsim run: " << scenario_path << ": unknown variant \"" << v
                << "\"; the scenario has:" << known << "\n";
      return 2;
    }
    if (!seen.insert(v).second) {
      throw UsageError("--variant " + v + " given twice; name each variant once");
    }
  }
  if (seed_count < 1 || seed_count > 10000) {
    throw UsageError("--seeds " + std::to_string(seed_count) + ": expected 1 to 10000");
  }
  const uint64_t seed = vm.count("seed") ? seed_option : scenario.seed;
  if (out_dir.empty()) out_dir = "results/" + scenario.name;
  experiment::CheckRunSize(experiment::EstimateRunSize(scenario, variants), limits, scenario_path);
  std::vector<std::string> chosen = variants;
  if (chosen.empty()) {
    for (const auto& variant : scenario.variants) chosen.push_back(variant.name);
  }
  std::vector<RecordTarget> record_targets;
  if (vm.count("record")) {
    StatusOr<std::vector<RecordTarget>> resolved = ResolveRecordPaths(record, chosen);
    if (!resolved.ok()) throw UsageError(resolved.status().message());
    record_targets = std::move(resolved).value();
  }
  std::optional<Duration> step;
  if (vm.count("openmetrics-step")) {
    ParseResult<Duration> parsed = ParseDuration(openmetrics_step);
    if (!parsed.ok() || *parsed < Seconds(1)) {
      throw UsageError("--openmetrics-step " + openmetrics_step +
                       ": expected a duration of at least 1s (\"1m\", \"1h\")");
    }
    step = *parsed;
  }

  // Written beside the folder, swapped in when complete (output_folder.h).
  experiment::StagedFolder folder(out_dir, "run", "orchsim run", LockHolder("orchsim run", args));
  const TemporaryPath staged(folder.path());
  const TemporaryPath lock_file(folder.lock().lock_path());
  SetInterruptMessage("nothing written; " + out_dir + " keeps what it held before");

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
  const experiment::SloVerdict verdict =
      experiment::VerdictFor(scenario, runs, replications ? &*replications : nullptr);
  if (!verdict.empty()) std::cout << "\n" << experiment::SloTable(verdict);
  for (const auto& run : runs) {
    for (const std::string& mismatch : experiment::CountMismatches(run)) {
      std::cerr << "orchsim run: warning: call counts differ: " << mismatch << "\n";
    }
  }
  experiment::WriteResults(folder.path(), scenario, runs, replications ? &*replications : nullptr);
  bool drawn = false;
  if (!vm.count("no-plots")) {
    const std::string error = DrawPlots(folder.path());
    if (!error.empty()) std::cerr << "orchsim run: warning: plots not drawn: " << error << "\n";
    drawn = error.empty();
  }
  experiment::SetReportPlots(folder.path(), drawn);
  Critical([&] { folder.Commit(); });
  SetInterruptMessage("");
  std::cout << "\nresults written to " << out_dir << "/\n";
  for (const std::string& line : outputs.written()) std::cout << line << "\n";
  return 0;
}

int ValidateCommand(const std::vector<std::string>& args) {
  po::options_description options(
      "orchsim validate SCENARIO...\n\n"
      "Loads each SCENARIO with its presets and schedule, and checks its \"expect\",\n"
      "\"tolerances\", \"slo\" and \"sweep\" blocks as run, check and sweep read\n"
      "them; reports the first "
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
    experiment::ReadSloSpec(s);
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
