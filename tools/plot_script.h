// plot_script.h — running the matplotlib scripts of tools/ (plot_results.py,
// plot_sweep.py, plot_fidelity.py) from the CLI.
//
// The interpreter is the first of /usr/bin/python3 (Debian's, where
// python3-matplotlib installs) and `python3` on PATH that can import
// matplotlib. A script is found through its environment variable when set,
// else in the source tree's tools/ (fixed when the binary is built).
#ifndef ORCHSIM_TOOLS_PLOT_SCRIPT_H_
#define ORCHSIM_TOOLS_PLOT_SCRIPT_H_

#include <optional>
#include <string>
#include <vector>

namespace orchsim::tools {

// The first interpreter that imports matplotlib, or nullopt.
std::optional<std::string> FindPlotPython();

// $`env_var` if set and non-empty, else <source tree>/tools/`file_name`.
std::string PlotScriptPath(const char* env_var, const std::string& file_name);

// Runs `python script folder extra_args...` (fork/exec, no shell) in a
// process group of its own that dies with orchsim, registered with
// interrupts.h so an interrupt stops it. Returns "" on success, else a
// one-line reason: no interpreter with matplotlib, no script, or the script
// failed. With `stdout_to_stderr` the script's output goes to stderr (for
// commands whose stdout is a report).
std::string RunPlotScript(const std::string& script, const std::string& folder,
                          bool stdout_to_stderr = false,
                          const std::vector<std::string>& extra_args = {});

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_PLOT_SCRIPT_H_
