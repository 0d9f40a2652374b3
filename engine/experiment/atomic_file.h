// atomic_file.h — writing output files: whole or not at all, and failures
// that say why.
//
// WriteFileAtomically writes the text to a temporary file, then renames it
// over the target, so a reader (or an interrupted run) sees either the old
// complete file or the new complete one. The temporary file is
// "<target>.partial" beside the target, or, when `temp_dir` is given, a file
// in that folder (same file system; a command that owns the folder removes it
// when interrupted, so no ".partial" is left behind).
//
// Every failure throws IoError naming the path and the operating system's
// reason ("cannot write results/x/summary.json: No space left on device"); the
// CLI exits with status 3 for it (README "Exit status").
#ifndef ORCHSIM_ENGINE_EXPERIMENT_ATOMIC_FILE_H_
#define ORCHSIM_ENGINE_EXPERIMENT_ATOMIC_FILE_H_

#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>

namespace orchsim::experiment {

// The file system refused: a full disk, a missing permission, a read-only
// mount, a path through a regular file.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "cannot <what> <path>: <strerror(error)>".
[[noreturn]] void ThrowIoError(const std::string& what, const std::string& path, int error);

// Creates missing parent folders. Throws IoError.
void WriteFileAtomically(const std::string& path, const std::string& text,
                         const std::string& temp_dir = "");

// Writes `path` (created or truncated, not atomically) with what `produce`
// streams into it, through a buffer that remembers the first write error.
// Throws IoError naming `path` and the reason (also for a failed close).
void WriteFileStreaming(const std::string& path, const std::function<void(std::ostream&)>& produce);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_ATOMIC_FILE_H_
