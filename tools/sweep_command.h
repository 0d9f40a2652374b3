// sweep_command.h — `orchsim sweep`, `orchsim merge` and `orchsim tune`:
// parameter sweeps with replications, sharding for batch systems, and the
// tuning report (engine/experiment/sweep.h, tuning.h).
#ifndef ORCHSIM_TOOLS_SWEEP_COMMAND_H_
#define ORCHSIM_TOOLS_SWEEP_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Each returns the process exit status (0 ok, 2 usage or input errors).
int SweepCommand(const std::vector<std::string>& args);
int MergeCommand(const std::vector<std::string>& args);
int TuneCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_SWEEP_COMMAND_H_
