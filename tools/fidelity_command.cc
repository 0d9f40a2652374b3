#include "tools/fidelity_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "engine/fidelity/fidelity_suite.h"
#include "tools/cli_common.h"

namespace orchsim::tools {
namespace {

// The quoted interpreter that can import matplotlib ("" when none can):
// /usr/bin/python3 first (the system one usually has it), then python3.
std::string PythonWithMatplotlib() {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    const std::string probe = std::string(python) + " -c \"import matplotlib\" >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

}  // namespace

int FidelityCommand(const std::vector<std::string>& args) {
  std::string out_dir = "results/fidelity";
  std::string scenario_path = "scenarios/nfl-2023.json";
  std::string plot_script = "tools/plot_fidelity.py";
  po::options_description options(
      "orchsim fidelity [options]\n\n"
      "Runs the fidelity suite: the production core against Cobham's priority formula,\n"
      "Erlang C, the token bucket's window bound over whole seasons, Brooker's backoff\n"
      "experiment, the health chain's stationary law and quota pacing. Prints simulated,\n"
      "expected and tolerance per check; writes report.md, CSV data and plots to --out.\n"
      "Exit status 1 when a check fails.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "long", "the long version (minutes): more loads, replications and the full sweep")(
      "out", po::value<std::string>(&out_dir)->default_value(out_dir), "results folder")(
      "scenario", po::value<std::string>(&scenario_path)->default_value(scenario_path),
      "season scenario for the token-bucket check")(
      "plot-script", po::value<std::string>(&plot_script)->default_value(plot_script),
      "plotting script (matplotlib)");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "unused", 0, &vm)) return 0;

  fidelity::FidelitySuiteOptions suite;
  suite.long_version = vm.count("long") > 0;
  suite.season_scenario = scenario_path;
  const fidelity::FidelitySuiteResult result = fidelity::RunFidelitySuite(suite, std::cout);
  fidelity::WriteFidelityFiles(out_dir, result);

  if (!std::filesystem::exists(plot_script)) {
    std::cerr << "orchsim fidelity: warning: " << plot_script
              << " not found (run from the source tree); no plots drawn\n";
  } else if (const std::string python = PythonWithMatplotlib(); python.empty()) {
    std::cerr << "orchsim fidelity: warning: no python3 with matplotlib; no plots drawn\n";
  } else {
    const std::string command = python + " \"" + plot_script + "\" \"" + out_dir + "\"";
    if (std::system(command.c_str()) != 0) {
      std::cerr << "orchsim fidelity: warning: plotting failed: " << command << "\n";
    }
  }
  std::cout << "\n"
            << (result.AllPass() ? "all checks pass" : "SOME CHECKS FAIL") << "; report written to "
            << out_dir << "/report.md\n";
  return result.AllPass() ? 0 : 1;
}

}  // namespace orchsim::tools
