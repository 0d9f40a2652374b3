#include "engine/experiment/build_info.h"

#ifndef ORCHSIM_VERSION
#define ORCHSIM_VERSION "unknown"
#endif
#ifndef ORCHSIM_GIT_COMMIT
#define ORCHSIM_GIT_COMMIT "unknown"
#endif

namespace orchsim::experiment {

std::string_view OrchsimVersion() { return ORCHSIM_VERSION; }
std::string_view OrchsimGitCommit() { return ORCHSIM_GIT_COMMIT; }

}  // namespace orchsim::experiment
