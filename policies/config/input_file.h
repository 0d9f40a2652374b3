// input_file.h — reading a whole input file (preset, scenario, schedule CSV,
// baseline) for a loader, with the failures a user can cause named.
//
// Contract:
//   - Only regular files are read. A named pipe (FIFO), a device (/dev/zero),
//     a socket or a directory is a named problem, found without blocking:
//     opening a FIFO nobody writes to would otherwise wait forever, and an
//     endless device would be read to the size limit. (So process
//     substitution, <(...), is refused too: write the text to a file.)
//   - Reads at most max_bytes: a wrong multi-gigabyte file ends in kTooLarge
//     instead of exhausting memory.
//   - kUnreadable carries the operating system's reason ("No such file or
//     directory", "Permission denied").
#ifndef ORCHSIM_POLICIES_CONFIG_INPUT_FILE_H_
#define ORCHSIM_POLICIES_CONFIG_INPUT_FILE_H_

#include <cstddef>
#include <string>

namespace orchsim::config {

// Inputs are kilobytes to a few megabytes; nothing legitimate comes near this.
inline constexpr size_t kMaxInputFileBytes = size_t{256} << 20;

struct InputFile {
  enum class Problem { kNone, kUnreadable, kDirectory, kNotRegular, kTooLarge };
  Problem problem = Problem::kNone;
  // kUnreadable: the OS's reason (strerror); kNotRegular: what the path is,
  // e.g. "a named pipe (FIFO)", "a character device".
  std::string reason;
  std::string text;  // the contents when problem == kNone
  bool ok() const { return problem == Problem::kNone; }
};

InputFile ReadInputFile(const std::string& path, size_t max_bytes = kMaxInputFileBytes);

// The same checks without reading: kNone when `path` is a regular file that
// can be opened for reading (text stays empty). Never blocks.
InputFile CheckInputFile(const std::string& path);

// "cannot read the file: No such file or directory", "is a directory;
// expected a file", "is a named pipe (FIFO), not a regular file; expected a
// file", "is larger than 256 MiB; ..."; "" for kNone.
std::string DescribeInputFileProblem(const InputFile& file, size_t max_bytes = kMaxInputFileBytes);

// The whole file, or ConfigError(path, "", what is wrong with it) thrown.
std::string ReadFileOrThrow(const std::string& path, size_t max_bytes = kMaxInputFileBytes);

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_INPUT_FILE_H_
