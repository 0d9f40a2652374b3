// load_command.h — `orchsim load`: a scenario's client requests (its demand,
// generated as a simulation would, or a trace it replays) sent in real time
// to a running `orchsim serve`, the answers counted by outcome
// (live/load_replayer.h).
#ifndef ORCHSIM_TOOLS_LOAD_COMMAND_H_
#define ORCHSIM_TOOLS_LOAD_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Returns the exit status: 0 when every request was sent and answered (any
// outcome), 1 when some got no answer, 2 on bad input.
int LoadCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_LOAD_COMMAND_H_
