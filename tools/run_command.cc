#include "tools/run_command.h"

#include <iostream>
#include <set>

#include "engine/experiment/comparison.h"
#include "engine/experiment/output_folder.h"
#include "engine/experiment/results_writer.h"
#include "engine/experiment/run_size.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"
#include "tools/cli_common.h"
#include "tools/interrupts.h"
#include "tools/plot_command.h"

namespace orchsim::tools {

int RunCommand(const std::vector<std::string>& args) {
  std::vector<std::string> variants;
  std::vector<std::string> limit_texts;
  std::string seed_text;
  std::string out_dir;
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
      "out", po::value<std::string>(&out_dir), "results folder (default: results/<scenario name>)")(
      "limit", po::value<std::vector<std::string>>(&limit_texts),
      "raise a size limit, NAME=VALUE: requests, burst, events or rows (repeatable; README "
      "\"Limits\")")("quiet,q", "no progress on stderr")("no-plots", "do not draw the plots");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", 1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim run: missing SCENARIO (a scenario JSON file)\n\n" << options;
    return 2;
  }
  RequireNonEmpty(vm, "out");
  const uint64_t seed_option = vm.count("seed") ? ParseSeed(seed_text, "--seed") : 0;
  experiment::RunLimits limits;
  for (const std::string& text : limit_texts) limits.Set(text);
  const std::string scenario_path = vm["scenario"].as<std::vector<std::string>>().front();
  const scenario::Scenario scenario = scenario::LoadScenario(scenario_path);
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
  const uint64_t seed = vm.count("seed") ? seed_option : scenario.seed;
  if (out_dir.empty()) out_dir = "results/" + scenario.name;
  experiment::CheckRunSize(experiment::EstimateRunSize(scenario, variants), limits, scenario_path);

  // Written beside the folder, swapped in when complete (output_folder.h).
  experiment::StagedFolder folder(out_dir, "run", "orchsim run", LockHolder("orchsim run", args));
  const TemporaryPath staged(folder.path());
  const TemporaryPath lock_file(folder.lock().lock_path());
  SetInterruptMessage("nothing written; " + out_dir + " keeps what it held before");

  Progress progress(!vm.count("quiet"));
  const auto runs = experiment::RunComparison(
      scenario, variants, seed,
      [&progress](const std::string& variant, double f) { progress.Update(variant, f); });
  progress.Done();
  std::cout << "scenario " << scenario.name << ", seed " << seed << "\n\n"
            << experiment::ComparisonTable(scenario, runs);
  for (const auto& run : runs) {
    for (const std::string& mismatch : experiment::CountMismatches(run)) {
      std::cerr << "orchsim run: warning: call counts differ: " << mismatch << "\n";
    }
  }
  experiment::WriteResults(folder.path(), scenario, runs);
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
  return 0;
}

int ValidateCommand(const std::vector<std::string>& args) {
  po::options_description options(
      "orchsim validate SCENARIO...\n\n"
      "Loads each SCENARIO with its presets and schedule and reports the first problem\n"
      "(exit status 2) or a one-line summary per file (exit status 0).\n\noptions");
  options.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", -1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim validate: missing SCENARIO (a scenario JSON file)\n";
    return 2;
  }
  for (const std::string& path : vm["scenario"].as<std::vector<std::string>>()) {
    const scenario::Scenario s = scenario::LoadScenario(path);
    std::cout << path << ": ok (" << s.games.size() << " games, " << s.upstreams.size()
              << " upstreams, " << s.demand.size() << " demand generators, " << s.variants.size()
              << " variants)\n";
  }
  return 0;
}

}  // namespace orchsim::tools
