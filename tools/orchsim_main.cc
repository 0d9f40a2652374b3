// orchsim — command-line entry point. Thin: parses arguments and prints;
// the logic lives in the libraries.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/experiment/comparison.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"
#include "tools/kernel_demo.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: orchsim [--version] [--help] <command> [<args>]\n"
    "\n"
    "commands:\n"
    "  run       run a scenario's variants side by side and print the comparison\n"
    "  validate  check a scenario file (and its presets and schedule) without running it\n"
    "  demo      run an M/M/1 queue on the simulation kernel and compare with theory\n"
    "\n"
    "Run 'orchsim <command> --help' for the options of a command.\n";

int Demo(const std::vector<std::string>& args) {
  orchsim::tools::KernelDemoConfig config;
  po::options_description options("orchsim demo [options]");
  options.add_options()("help,h", "show this help")(
      "seed", po::value<uint64_t>(&config.seed)->default_value(config.seed), "root seed")(
      "customers", po::value<uint64_t>(&config.customers)->default_value(config.customers),
      "number of arrivals to simulate");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  po::notify(vm);
  return orchsim::tools::RunKernelDemo(config, std::cout);
}

// Prints "variant: NN%" on stderr, only when stderr is a terminal, not
// --quiet, and the run has taken more than a second so far.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) == 1) {}
  void Update(const std::string& variant, double fraction) {
    if (!enabled_) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed < 1.0) return;
    std::fprintf(stderr, "\r  %s: %3.0f%%", variant.c_str(), 100.0 * fraction);
    std::fflush(stderr);
    shown_ = true;
  }
  void Done() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int Run(const std::vector<std::string>& args) {
  std::string scenario_path;
  std::vector<std::string> variants;
  uint64_t seed = 0;
  std::string out_dir;
  po::options_description options(
      "orchsim run SCENARIO [options]\n\n"
      "Runs every variant of SCENARIO (or those named with --variant) on the same seed,\n"
      "prints the comparison and writes summary.json, summary.csv and timeseries.csv\n"
      "to the output folder.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "variant", po::value<std::vector<std::string>>(&variants),
      "run only this variant (repeatable; default: all)")(
      "seed", po::value<uint64_t>(&seed), "root seed (default: the scenario's seed)")(
      "out", po::value<std::string>(&out_dir), "results folder (default: results/<scenario name>)")(
      "quiet,q", "no progress on stderr");
  po::options_description hidden;
  hidden.add_options()("scenario", po::value<std::string>(&scenario_path));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  po::notify(vm);
  if (scenario_path.empty()) {
    std::cerr << "orchsim run: missing SCENARIO (a scenario JSON file)\n\n" << options;
    return 2;
  }
  const orchsim::scenario::Scenario scenario = orchsim::scenario::LoadScenario(scenario_path);
  for (const std::string& v : variants) {
    if (scenario.FindVariant(v) == nullptr) {
      std::string known;
      for (const auto& variant : scenario.variants) known += " " + variant.name;
      std::cerr << "orchsim run: " << scenario_path << ": unknown variant \"" << v
                << "\"; the scenario has:" << known << "\n";
      return 2;
    }
  }
  if (!vm.count("seed")) seed = scenario.seed;
  if (out_dir.empty()) out_dir = "results/" + scenario.name;
  Progress progress(!vm.count("quiet"));
  const auto runs = orchsim::experiment::RunComparison(
      scenario, variants, seed,
      [&progress](const std::string& variant, double f) { progress.Update(variant, f); });
  progress.Done();
  std::cout << "scenario " << scenario.name << ", seed " << seed << "\n\n"
            << orchsim::experiment::ComparisonTable(scenario, runs);
  orchsim::experiment::WriteResults(out_dir, scenario, runs);
  std::cout << "\nresults written to " << out_dir << "/\n";
  return 0;
}

int Validate(const std::vector<std::string>& args) {
  po::options_description options(
      "orchsim validate SCENARIO\n\n"
      "Loads SCENARIO with its presets and schedule and reports the first problem\n"
      "(exit status 2) or a one-line summary (exit status 0).\n\noptions");
  options.add_options()("help,h", "show this help");
  std::string scenario_path;
  po::options_description hidden;
  hidden.add_options()("scenario", po::value<std::string>(&scenario_path));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  po::notify(vm);
  if (scenario_path.empty()) {
    std::cerr << "orchsim validate: missing SCENARIO (a scenario JSON file)\n";
    return 2;
  }
  const orchsim::scenario::Scenario s = orchsim::scenario::LoadScenario(scenario_path);
  std::cout << scenario_path << ": ok (" << s.games.size() << " games, " << s.upstreams.size()
            << " upstreams, " << s.demand.size() << " demand generators, " << s.variants.size()
            << " variants)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "orchsim " << ORCHSIM_VERSION << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "demo") return Demo(args);
    if (command == "run") return Run(args);
    if (command == "validate") return Validate(args);
  } catch (const po::error& e) {
    std::cerr << "orchsim " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const orchsim::scenario::ScenarioError& e) {
    std::cerr << "orchsim " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "orchsim " << command << ": error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "orchsim: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
