#include "tools/plot_command.h"

#include <filesystem>
#include <iostream>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/output_folder.h"
#include "engine/experiment/report.h"
#include "engine/experiment/results_writer.h"
#include "policies/time.h"
#include "tools/cli_common.h"
#include "tools/interrupts.h"
#include "tools/plot_script.h"

namespace orchsim::tools {
namespace fs = std::filesystem;

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
      "'orchsim run --out DIR', next to its report.md, and links them from the report.\n"
      "--from/--to limit the time axes (quota, breakers) to a window, e.g. one game day.\n"
      "Needs Python with matplotlib. Exit status: 0 drawn, 1 plots could not be drawn\n"
      "(the folder is left as it was), 2 DIR is not a run's result folder or is in use,\n"
      "3 cannot write.\n\noptions");
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
  if (dir.empty()) throw UsageError("DIR: expected a path, got an empty string");
  if (!fs::exists(fs::path(dir) / "summary.json")) {
    std::cerr << "orchsim plot: " << dir
              << "/summary.json not found (write it with orchsim run --out " << dir << ")\n";
    return 2;
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
  // The data files are copied into a staged folder, the plots drawn there and
  // the whole swapped in: an interrupted or failed drawing changes nothing.
  experiment::StagedFolder folder(dir, "run", "orchsim plot", LockHolder("orchsim plot", args));
  const TemporaryPath staged(folder.path());
  const TemporaryPath lock_file(folder.lock().lock_path());
  SetInterruptMessage(dir + " is unchanged");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder.dir(), ec)) {
    const fs::path name = entry.path().filename();
    const std::string ext = name.extension().string();
    if (!entry.is_regular_file() || ext == ".png" || ext == ".svg" || ext == ".partial" ||
        name == experiment::kFolderMarkerName) {
      continue;
    }
    fs::copy_file(entry.path(), fs::path(folder.path()) / name, ec);
    if (ec) experiment::ThrowIoError("copy", entry.path().string(), ec.value());
  }
  if (ec) experiment::ThrowIoError("list", folder.dir(), ec.value());
  const std::string error = DrawPlots(folder.path(), from, to);
  if (!error.empty()) {
    std::cerr << "orchsim plot: cannot draw plots: " << error << "\n";
    return 1;
  }
  experiment::SetReportPlots(folder.path(), true);
  Critical([&] { folder.Commit(); });
  SetInterruptMessage("");
  std::cout << "plots written to " << dir << "/\n";
  return 0;
}

}  // namespace orchsim::tools
