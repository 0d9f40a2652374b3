// build_info.h — which orchsim produced a result: the project version and
// the git commit the build was configured from ("unknown" outside git).
// Both are fixed when CMake configures the build, so every run of one binary
// writes the same strings (results stay byte-identical).
#ifndef ORCHSIM_ENGINE_EXPERIMENT_BUILD_INFO_H_
#define ORCHSIM_ENGINE_EXPERIMENT_BUILD_INFO_H_

#include <string_view>

namespace orchsim::experiment {

std::string_view OrchsimVersion();    // e.g. "0.1.0"
std::string_view OrchsimGitCommit();  // e.g. "b5f0116", or "unknown"

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_BUILD_INFO_H_
