#include "tools/plot_script.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#ifndef ORCHSIM_TOOLS_DIR
#define ORCHSIM_TOOLS_DIR "tools"
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

}  // namespace

std::optional<std::string> FindPlotPython() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    const std::string command = std::string(candidate) + " -c 'import matplotlib' >/dev/null 2>&1";
    if (Succeeds(command)) return std::string(candidate);
  }
  return std::nullopt;
}

std::string PlotScriptPath(const char* env_var, const std::string& file_name) {
  const char* env = std::getenv(env_var);
  if (env != nullptr && *env != '\0') return env;
  return (std::filesystem::path(ORCHSIM_TOOLS_DIR) / file_name).string();
}

std::string RunPlotScript(const std::string& script, const std::string& folder,
                          bool stdout_to_stderr, const std::vector<std::string>& extra_args) {
  const std::optional<std::string> python = FindPlotPython();
  if (!python) {
    return "no Python with matplotlib (tried /usr/bin/python3 and python3 on PATH; "
           "install python3-matplotlib)";
  }
  std::error_code ec;
  if (!std::filesystem::exists(script, ec)) return "plot script " + script + " not found";
  std::string command = *python;
  for (const std::string* arg : {&script, &folder}) {
    command += ' ';
    command += ShellQuote(*arg);
  }
  for (const std::string& arg : extra_args) {
    command += ' ';
    command += ShellQuote(arg);
  }
  if (stdout_to_stderr) command += " >&2";
  if (!Succeeds(command)) return "plot script " + script + " failed";
  return "";
}

}  // namespace orchsim::tools
