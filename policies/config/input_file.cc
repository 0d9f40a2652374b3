#include "policies/config/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "policies/config/json_reader.h"

namespace orchsim::config {
namespace {

// What a non-regular, non-directory file is, for messages.
std::string KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

// Classifies an opened or stat'ed file; false (with *file set) when it is
// not a regular file.
bool IsRegular(const struct stat& st, InputFile* file) {
  if (S_ISREG(st.st_mode)) return true;
  if (S_ISDIR(st.st_mode)) {
    file->problem = InputFile::Problem::kDirectory;
  } else {
    file->problem = InputFile::Problem::kNotRegular;
    file->reason = KindOf(st.st_mode);
  }
  return false;
}

void Unreadable(int error, InputFile* file) {
  file->problem = InputFile::Problem::kUnreadable;
  file->reason = std::strerror(error);
  file->text.clear();
}

// Opens `path` for reading without blocking (a FIFO without a writer would
// block a plain open) and only when it is a regular file; -1 otherwise, with
// *file saying why. stat() first names sockets and devices without opening
// them; fstat() after the open closes the race with a file replaced meanwhile.
int OpenRegular(const std::string& path, InputFile* file) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    Unreadable(errno, file);
    return -1;
  }
  if (!IsRegular(st, file)) return -1;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    Unreadable(errno, file);
    return -1;
  }
  if (::fstat(fd, &st) != 0 || !IsRegular(st, file)) {
    if (file->ok()) Unreadable(errno, file);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

InputFile ReadInputFile(const std::string& path, size_t max_bytes) {
  InputFile file;
  const int fd = OpenRegular(path, &file);
  if (fd < 0) return file;
  // Chunks up to max_bytes + 1: one byte more than allowed proves "too large"
  // (also for a file that grows while it is read).
  char chunk[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got < 0) {
      if (errno == EINTR) continue;
      Unreadable(errno, &file);
      break;
    }
    if (got == 0) break;
    if (file.text.size() + static_cast<size_t>(got) > max_bytes) {
      file.problem = InputFile::Problem::kTooLarge;
      file.text.clear();
      break;
    }
    file.text.append(chunk, static_cast<size_t>(got));
  }
  ::close(fd);
  return file;
}

InputFile CheckInputFile(const std::string& path) {
  InputFile file;
  const int fd = OpenRegular(path, &file);
  if (fd >= 0) ::close(fd);
  return file;
}

std::string DescribeInputFileProblem(const InputFile& file, size_t max_bytes) {
  switch (file.problem) {
    case InputFile::Problem::kNone:
      return "";
    case InputFile::Problem::kUnreadable:
      return "cannot read the file: " + file.reason;
    case InputFile::Problem::kDirectory:
      return "is a directory; expected a file";
    case InputFile::Problem::kNotRegular:
      return "is " + file.reason + ", not a regular file; expected a file";
    case InputFile::Problem::kTooLarge:
      break;
  }
  const size_t mib = max_bytes >> 20;
  return "is larger than " +
         (mib > 0 ? std::to_string(mib) + " MiB" : std::to_string(max_bytes) + " bytes") +
         "; expected an input file (is the path right?)";
}

std::string ReadFileOrThrow(const std::string& path, size_t max_bytes) {
  InputFile file = ReadInputFile(path, max_bytes);
  if (!file.ok()) throw ConfigError(path, "", DescribeInputFileProblem(file, max_bytes));
  return std::move(file.text);
}

}  // namespace orchsim::config
