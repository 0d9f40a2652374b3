// atomic_file.h — write a whole file or nothing: the text goes to a
// temporary file beside the target, which is then renamed over it, so a
// reader (or an interrupted run) sees either the old complete file or the new
// complete one.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_ATOMIC_FILE_H_
#define ORCHSIM_ENGINE_EXPERIMENT_ATOMIC_FILE_H_

#include <string>

namespace orchsim::experiment {

// Creates missing parent folders. Throws std::runtime_error naming the path.
void WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_ATOMIC_FILE_H_
