// mock_upstream_command.h — `orchsim mock-upstream`: one of a scenario's
// mocked upstreams served over HTTP in real time (live/mock_upstream_server.h).
#ifndef ORCHSIM_TOOLS_MOCK_UPSTREAM_COMMAND_H_
#define ORCHSIM_TOOLS_MOCK_UPSTREAM_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Returns the exit status: 0 after SIGINT/SIGTERM, 2 on bad input, 1 when
// the address cannot be listened on.
int MockUpstreamCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_MOCK_UPSTREAM_COMMAND_H_
