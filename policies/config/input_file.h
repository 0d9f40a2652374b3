// input_file.h — reading a whole input file (preset, scenario, schedule CSV)
// for a loader, with the failures a user can cause named.
//
// Contract:
//   - Reads at most max_bytes: a path like /dev/zero, or a wrong multi-
//     gigabyte file, ends in kTooLarge instead of exhausting memory.
//   - A directory is kDirectory (reading one would yield an empty "file").
//   - Pipes and process substitutions (<(...)) are read like files.
#ifndef ORCHSIM_POLICIES_CONFIG_INPUT_FILE_H_
#define ORCHSIM_POLICIES_CONFIG_INPUT_FILE_H_

#include <cstddef>
#include <string>

namespace orchsim::config {

// Inputs are kilobytes to a few megabytes; nothing legitimate comes near this.
inline constexpr size_t kMaxInputFileBytes = size_t{256} << 20;

struct InputFile {
  enum class Problem { kNone, kUnreadable, kDirectory, kTooLarge };
  Problem problem = Problem::kNone;
  std::string text;  // the contents when problem == kNone
  bool ok() const { return problem == Problem::kNone; }
};

InputFile ReadInputFile(const std::string& path, size_t max_bytes = kMaxInputFileBytes);

// "is a directory; expected a file" / "is larger than 256 MiB; ..." for
// kDirectory and kTooLarge (callers phrase kUnreadable for their file kind).
std::string DescribeInputFileProblem(const InputFile& file, size_t max_bytes = kMaxInputFileBytes);

// The whole file, or ConfigError(path, "", what is wrong with it) thrown.
std::string ReadFileOrThrow(const std::string& path, size_t max_bytes = kMaxInputFileBytes);

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_INPUT_FILE_H_
