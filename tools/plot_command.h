// plot_command.h — `orchsim plot DIR`, and the plotting step of `orchsim run`.
//
// Plots are drawn by tools/plot_results.py (matplotlib, Agg backend) from the
// files in a result folder (tools/plot_script.h finds the interpreter); the
// script is found through $ORCHSIM_PLOT_SCRIPT, else the source tree's.
#ifndef ORCHSIM_TOOLS_PLOT_COMMAND_H_
#define ORCHSIM_TOOLS_PLOT_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Draws the plots of `dir`, the time axes limited to [from, to) when given
// ("" = the whole run). Returns "" on success, else a one-line reason (no
// interpreter with matplotlib, no script, or the script failed).
std::string DrawPlots(const std::string& dir, const std::string& from = "",
                      const std::string& to = "");

// `orchsim plot DIR [--from INSTANT] [--to INSTANT]`: exit 0 when drawn, 1
// with a message when not, 2 on bad arguments.
int PlotCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_PLOT_COMMAND_H_
