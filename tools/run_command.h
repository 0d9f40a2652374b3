// run_command.h — `orchsim run` and `orchsim validate`.
#ifndef ORCHSIM_TOOLS_RUN_COMMAND_H_
#define ORCHSIM_TOOLS_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Each returns the process exit status; bad input throws ConfigError or
// boost::program_options::error (main turns both into exit status 2).
int RunCommand(const std::vector<std::string>& args);
int ValidateCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_RUN_COMMAND_H_
