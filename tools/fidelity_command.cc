#include "tools/fidelity_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "engine/experiment/output_folder.h"
#include "engine/fidelity/fidelity_suite.h"
#include "tools/cli_common.h"
#include "tools/interrupts.h"
#include "tools/plot_script.h"

namespace orchsim::tools {

int FidelityCommand(const std::vector<std::string>& args) {
  std::string out_dir = "results/fidelity";
  std::string scenario_path = "scenarios/nfl-2023.json";
  std::string plot_script = PlotScriptPath("ORCHSIM_PLOT_FIDELITY", "plot_fidelity.py");
  po::options_description options(
      "orchsim fidelity [options]\n\n"
      "Runs the fidelity suite: the production core against Cobham's priority formula,\n"
      "Erlang C, the token bucket's window bound over whole seasons, Brooker's backoff\n"
      "experiment, the health chain's stationary law and quota pacing. Prints simulated,\n"
      "expected and tolerance per check; writes report.md, CSV data and plots to --out.\n"
      "Exit status 1 when a check fails (2 bad input, 3 cannot write).\n\noptions");
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
  RequireNonEmpty(vm, "out");
  // Written beside the folder and swapped in when complete (output_folder.h).
  experiment::StagedFolder folder(out_dir, "fidelity", "orchsim fidelity",
                                  LockHolder("orchsim fidelity", args));
  const TemporaryPath staged(folder.path());
  const TemporaryPath lock_file(folder.lock().lock_path());
  SetInterruptMessage("nothing written; " + out_dir + " keeps what it held before");
  const fidelity::FidelitySuiteResult result = fidelity::RunFidelitySuite(suite, std::cout);
  fidelity::WriteFidelityFiles(folder.path(), result);

  if (const std::string problem = RunPlotScript(plot_script, folder.path()); !problem.empty()) {
    std::cerr << "orchsim fidelity: warning: " << problem << "; no plots drawn\n";
  }
  Critical([&] { folder.Commit(); });
  SetInterruptMessage("");
  std::cout << "\n"
            << (result.AllPass() ? "all checks pass" : "SOME CHECKS FAIL") << "; report written to "
            << out_dir << "/report.md\n";
  return result.AllPass() ? 0 : 1;
}

}  // namespace orchsim::tools
