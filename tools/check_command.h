// check_command.h — `orchsim check`: the CI gate over scenarios'
// expectations and committed baselines (engine/experiment/check.h).
#ifndef ORCHSIM_TOOLS_CHECK_COMMAND_H_
#define ORCHSIM_TOOLS_CHECK_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Exit status: 0 every check holds, 1 a check fails, 2 bad input.
int CheckCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_CHECK_COMMAND_H_
