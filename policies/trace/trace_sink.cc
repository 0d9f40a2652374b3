#include "policies/trace/trace_sink.h"

#include <cerrno>
#include <cstring>

namespace orchsim::trace {

TraceSink::~TraceSink() = default;

StatusOr<std::unique_ptr<FileTraceSink>> FileTraceSink::Open(const std::string& path, bool append) {
  std::FILE* file = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (file == nullptr) {
    return Status::InvalidArgument(path + ": cannot open for writing: " + std::strerror(errno));
  }
  return std::unique_ptr<FileTraceSink>(new FileTraceSink(path, file));
}

FileTraceSink::~FileTraceSink() {
  if (file_ != nullptr) std::fclose(file_);
}

bool FileTraceSink::WriteLine(std::string_view line) {
  if (file_ == nullptr) {
    ++write_errors_;
    return false;
  }
  buffer_.assign(line);
  buffer_.push_back('\n');
  errno = 0;
  const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size() &&
                  std::fflush(file_) == 0;
  if (!ok) {
    ++write_errors_;
    if (first_error_.empty()) {
      first_error_ = path_ + ": write failed: " + std::strerror(errno != 0 ? errno : EIO);
    }
    std::clearerr(file_);
    return false;
  }
  ++lines_written_;
  return true;
}

Status FileTraceSink::Close() {
  if (file_ != nullptr) {
    errno = 0;
    if (std::fclose(file_) != 0 && first_error_.empty()) {
      first_error_ = path_ + ": close failed: " + std::strerror(errno != 0 ? errno : EIO);
    }
    file_ = nullptr;
  }
  return first_error_.empty() ? Status::Ok() : Status::InvalidArgument(first_error_);
}

}  // namespace orchsim::trace
