#include "tools/plot_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "tools/cli_common.h"
#include "tools/plot_script.h"

namespace orchsim::tools {

std::string DrawPlots(const std::string& dir) {
  return RunPlotScript(PlotScriptPath("ORCHSIM_PLOT_SCRIPT", "plot_results.py"), dir);
}

int PlotCommand(const std::vector<std::string>& args) {
  po::options_description options(
      "orchsim plot DIR\n\n"
      "Draws the comparison plots (PNG and SVG) of a result folder written by\n"
      "'orchsim run --out DIR', next to its report.md. Needs Python with matplotlib.\n\noptions");
  options.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "dir", 1, &vm)) return 0;
  if (!vm.count("dir")) {
    std::cerr << "orchsim plot: missing DIR (a folder written by orchsim run --out)\n";
    return 2;
  }
  const std::string dir = vm["dir"].as<std::vector<std::string>>().front();
  if (!std::filesystem::exists(std::filesystem::path(dir) / "summary.json")) {
    std::cerr << "orchsim plot: " << dir
              << "/summary.json not found (write it with orchsim run --out " << dir << ")\n";
    return 1;
  }
  const std::string error = DrawPlots(dir);
  if (!error.empty()) {
    std::cerr << "orchsim plot: cannot draw plots: " << error << "\n";
    return 1;
  }
  std::cout << "plots written to " << dir << "/\n";
  return 0;
}

}  // namespace orchsim::tools
