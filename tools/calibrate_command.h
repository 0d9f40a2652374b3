// calibrate_command.h — `orchsim calibrate TRACE --out upstreams.json`:
// upstream models fitted from a recorded trace's calls
// (engine/experiment/calibration.h), written as a scenario's "upstreams"
// block, with the fit report on stdout.
#ifndef ORCHSIM_TOOLS_CALIBRATE_COMMAND_H_
#define ORCHSIM_TOOLS_CALIBRATE_COMMAND_H_

#include <string>
#include <vector>

namespace orchsim::tools {

// Returns the exit status: 0 when written, 2 on bad input (a bad trace, an
// unknown api, bad options), nothing written then.
int CalibrateCommand(const std::vector<std::string>& args);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_CALIBRATE_COMMAND_H_
