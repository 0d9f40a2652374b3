#include "engine/experiment/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <streambuf>

namespace orchsim::experiment {
namespace fs = std::filesystem;
namespace {

// A std::streambuf over a file descriptor that keeps the first errno, so a
// full disk is reported as "No space left on device", not as a bare failure.
class FileBuffer : public std::streambuf {
 public:
  explicit FileBuffer(int fd) : fd_(fd) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  ~FileBuffer() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FileBuffer(const FileBuffer&) = delete;
  FileBuffer& operator=(const FileBuffer&) = delete;

  // Flushes and closes; the first error seen (0 when none).
  int Close() {
    Drain();
    if (fd_ >= 0 && ::close(fd_) != 0 && error_ == 0) error_ = errno;
    fd_ = -1;
    return error_;
  }

 protected:
  int_type overflow(int_type ch) override {
    if (!Drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    const char* at = pbase();
    while (error_ == 0 && at < pptr()) {
      const ssize_t n = ::write(fd_, at, static_cast<size_t>(pptr() - at));
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
      } else {
        at += n;
      }
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return error_ == 0;
  }

  int fd_;
  int error_ = 0;
  std::array<char, 1 << 16> buffer_{};
};

void CreateParent(const fs::path& target) {
  if (!target.has_parent_path()) return;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) ThrowIoError("create", target.parent_path().string(), ec.value());
}

}  // namespace

void ThrowIoError(const std::string& what, const std::string& path, int error) {
  throw IoError("cannot " + what + " " + path + ": " + std::strerror(error));
}

void WriteFileStreaming(const std::string& path,
                        const std::function<void(std::ostream&)>& produce) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) ThrowIoError("write", path, errno);
  FileBuffer buffer(fd);
  std::ostream out(&buffer);
  produce(out);
  out.flush();
  if (const int error = buffer.Close(); error != 0) ThrowIoError("write", path, error);
}

void WriteFileAtomically(const std::string& path, const std::string& text,
                         const std::string& temp_dir) {
  const fs::path target(path);
  CreateParent(target);
  const fs::path temporary = temp_dir.empty()
                                 ? fs::path(target.string() + ".partial")
                                 : fs::path(temp_dir) / (target.filename().string() + ".partial");
  try {
    WriteFileStreaming(temporary.string(), [&](std::ostream& out) { out << text; });
  } catch (const IoError&) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  if (std::rename(temporary.c_str(), target.c_str()) != 0) {
    const int error = errno;
    std::error_code ignored;
    fs::remove(temporary, ignored);
    ThrowIoError("write", target.string(), error);
  }
}

}  // namespace orchsim::experiment
