// serve_command.h — `orchsim serve --config serve.json`: the sidecar proxy
// (live/sidecar.h) with signal handling; thin, the logic is in live/.
#ifndef ORCHSIM_TOOLS_SERVE_COMMAND_H_
#define ORCHSIM_TOOLS_SERVE_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Exit status: 0 after a drain (SIGTERM/SIGINT), 2 on bad configuration or
// usage, 3 when the --record file cannot be written.
int ServeCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_SERVE_COMMAND_H_
