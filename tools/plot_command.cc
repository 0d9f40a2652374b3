#include "tools/plot_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "policies/time.h"
#include "tools/cli_common.h"
#include "tools/plot_script.h"

namespace orchsim::tools {

std::string DrawPlots(const std::string& dir, const std::string& from, const std::string& to) {
  std::vector<std::string> window;
  if (!from.empty()) window.insert(window.end(), {"--from", from});
  if (!to.empty()) window.insert(window.end(), {"--to", to});
  return RunPlotScript(PlotScriptPath("ORCHSIM_PLOT_SCRIPT", "plot_results.py"), dir, false,
                       window);
}

int PlotCommand(const std::vector<std::string>& args) {
  std::string from, to;
  po::options_description options(
      "orchsim plot DIR [--from INSTANT] [--to INSTANT]\n\n"
      "Draws the comparison plots (PNG and SVG) of a result folder written by\n"
      "'orchsim run --out DIR', next to its report.md. Needs Python with matplotlib.\n"
      "--from/--to limit the time axes (quota, breakers) to a window, e.g. one game day.\n\n"
      "options");
  options.add_options()("help,h", "show this help")("from", po::value<std::string>(&from),
                                                    "start of the window (ISO 8601 instant)")(
      "to", po::value<std::string>(&to), "end of the window (ISO 8601 instant)");
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
  for (const std::string* instant : {&from, &to}) {
    if (!instant->empty() && !ParseInstant(*instant).ok()) {
      std::cerr << "orchsim plot: " << (instant == &from ? "--from" : "--to") << " " << *instant
                << ": " << ParseInstant(*instant).error() << "\n";
      return 2;
    }
  }
  if (!from.empty() && !to.empty() && *ParseInstant(to) <= *ParseInstant(from)) {
    std::cerr << "orchsim plot: --to " << to << " must be after --from " << from << "\n";
    return 2;
  }
  const std::string error = DrawPlots(dir, from, to);
  if (!error.empty()) {
    std::cerr << "orchsim plot: cannot draw plots: " << error << "\n";
    return 1;
  }
  std::cout << "plots written to " << dir << "/\n";
  return 0;
}

}  // namespace orchsim::tools
