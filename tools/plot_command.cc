#include "tools/plot_command.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "tools/cli_common.h"

#ifndef ORCHSIM_PLOT_SCRIPT
#define ORCHSIM_PLOT_SCRIPT "tools/plot_results.py"
#endif

namespace orchsim::tools {
namespace {

// Single-quotes `text` for /bin/sh.
std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool Succeeds(const std::string& command) {
  const int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string PlotScript() {
  const char* env = std::getenv("ORCHSIM_PLOT_SCRIPT");
  return env != nullptr && *env != '\0' ? env : ORCHSIM_PLOT_SCRIPT;
}

}  // namespace

std::optional<std::string> FindPlotPython() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    const std::string command = std::string(candidate) + " -c 'import matplotlib' >/dev/null 2>&1";
    if (Succeeds(command)) return std::string(candidate);
  }
  return std::nullopt;
}

std::string DrawPlots(const std::string& dir) {
  const std::optional<std::string> python = FindPlotPython();
  if (!python) {
    return "no Python with matplotlib (tried /usr/bin/python3 and python3 on PATH; "
           "install python3-matplotlib)";
  }
  const std::string script = PlotScript();
  if (!std::filesystem::exists(script)) return "plot script " + script + " not found";
  if (!Succeeds(*python + " " + ShellQuote(script) + " " + ShellQuote(dir))) {
    return "plot script " + script + " failed";
  }
  return "";
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
