// plot_command.h — `orchsim plot DIR`, and the plotting step of `orchsim run`.
//
// Plots are drawn by tools/plot_results.py (matplotlib, Agg backend) from the
// files in a result folder. The interpreter is the first of /usr/bin/python3
// (Debian's, where python3-matplotlib installs) and `python3` on PATH that can
// import matplotlib. The script is found through $ORCHSIM_PLOT_SCRIPT, else
// the source tree's tools/plot_results.py (fixed when the binary is built).
#ifndef ORCHSIM_TOOLS_PLOT_COMMAND_H_
#define ORCHSIM_TOOLS_PLOT_COMMAND_H_

#include <optional>
#include <string>
#include <vector>

namespace orchsim::tools {

// The first interpreter that imports matplotlib, or nullopt.
std::optional<std::string> FindPlotPython();

// Draws the plots of `dir`. Returns "" on success, else a one-line reason
// (no interpreter with matplotlib, no script, or the script failed).
std::string DrawPlots(const std::string& dir);

// `orchsim plot DIR`: exit 0 when drawn, 1 with a message when not, 2 on bad
// arguments.
int PlotCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_PLOT_COMMAND_H_
