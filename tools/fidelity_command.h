// fidelity_command.h — `orchsim fidelity [--long] [--out DIR]`: runs the six
// fidelity checks (engine/fidelity), prints every line, writes the report
// files and draws the plots with tools/plot_fidelity.py.
#ifndef ORCHSIM_TOOLS_FIDELITY_COMMAND_H_
#define ORCHSIM_TOOLS_FIDELITY_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Exit status 0 when every check passes, 1 when one fails; bad options throw
// boost::program_options::error (exit status 2 in main).
int FidelityCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_FIDELITY_COMMAND_H_
