// trace_sink.h — where a TraceRecorder's lines go.
//
// A TraceSink takes whole lines. FileTraceSink writes each line with its
// newline and flushes it to the operating system before returning, so a
// crash of the process loses at most the line being written (the trace
// format's promise, trace_format.h); StringTraceSink keeps the lines in
// memory for tests.
//
// Contract: WriteLine(line) appends `line` and a newline; `line` holds no
// newline (the recorder's lines never do). It returns false when the line
// could not be written; the sink stays usable (a later line may succeed)
// and counts the failures. Not thread-safe: one writer.
#ifndef ORCHSIM_POLICIES_TRACE_TRACE_SINK_H_
#define ORCHSIM_POLICIES_TRACE_TRACE_SINK_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policies/status.h"

namespace orchsim::trace {

class TraceSink {
 public:
  virtual ~TraceSink();
  virtual bool WriteLine(std::string_view line) = 0;
};

class FileTraceSink : public TraceSink {
 public:
  // Creates (truncates) `path`, or appends to it when `append`. Fails with a
  // Status naming the path and the system's reason.
  static StatusOr<std::unique_ptr<FileTraceSink>> Open(const std::string& path,
                                                       bool append = false);
  ~FileTraceSink() override;  // closes the file
  FileTraceSink(const FileTraceSink&) = delete;
  FileTraceSink& operator=(const FileTraceSink&) = delete;

  bool WriteLine(std::string_view line) override;
  // Closes the file; the first write or close error since Open, if any.
  // Later WriteLine calls fail.
  Status Close();

  const std::string& path() const { return path_; }
  uint64_t lines_written() const { return lines_written_; }
  uint64_t write_errors() const { return write_errors_; }

 private:
  FileTraceSink(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}

  std::string path_;
  std::FILE* file_;
  std::string buffer_;  // the line and its newline, written with one call
  uint64_t lines_written_ = 0;
  uint64_t write_errors_ = 0;
  std::string first_error_;
};

class StringTraceSink : public TraceSink {
 public:
  bool WriteLine(std::string_view line) override {
    lines_.emplace_back(line);
    return true;
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

}  // namespace orchsim::trace

#endif  // ORCHSIM_POLICIES_TRACE_TRACE_SINK_H_
