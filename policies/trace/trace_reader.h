// trace_reader.h — reading an orchsim trace (trace_format.h) back: the lines
// of a file in bounded memory, and each line parsed into a typed record.
//
// TraceFileReader hands out one line at a time from a fixed buffer, so
// reading a trace of any length holds one buffer (1 MiB, growing only for a
// longer line, up to kMaxLineBytes). Lines end with LF (a CR before it is
// dropped). A final line without its newline is not returned: the recorder
// flushes whole lines, so such a line is one a crash cut short
// (truncated_last_line() says whether there was one).
//
// TraceLineParser parses one line strictly and fast (a hand-written JSON
// reader for the flat objects of the format; no allocation once its strings
// have grown to the trace's longest): a JSON object whose "type" is "header",
// "request" or "call", with the fields trace.schema.json requires, of the
// types it gives. Unknown fields are skipped (the format may add optional
// fields within a version); a header with another format name or version is
// an error. Times accept any ISO 8601 instant with a zone that
// policies/time.h ParseInstant reads (the recorder writes the fixed
// "2023-10-15T18:00:00.000000Z", which takes a fast path); a time without a
// zone is an error. Strings are kept as their bytes after unescaping (no
// UTF-8 validation). Errors say what was expected and the column (1-based
// byte offset), e.g. "expected a time with a zone for \"arrival\", got
// \"2023-10-15T18:00:00\" (column 38)".
//
// Not thread-safe; one parser and one reader per thread.
#ifndef ORCHSIM_POLICIES_TRACE_TRACE_READER_H_
#define ORCHSIM_POLICIES_TRACE_TRACE_READER_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/request.h"
#include "policies/time.h"
#include "policies/trace/trace_format.h"

namespace orchsim::trace {

// A "request" line: one client request, written at its completion.
struct TraceRequestRecord {
  uint64_t id = 0;
  Instant arrival;  // wall clock
  std::string api;
  std::string endpoint;
  std::string key;
  Priority priority = Priority::kNormal;
  std::optional<Instant> game_start;
  std::optional<Duration> deadline;  // relative to the arrival; nullopt = none
  bool cacheable = true;
  bool batchable = false;
  Outcome outcome = Outcome::kServed;
  int status = 0;
  Duration latency;  // completion - arrival
  Duration queue_wait;
  int attempts = 0;

  Instant completion() const { return arrival + latency; }
};

// A "call" line: one upstream call, written when its answer arrived.
struct TraceCallRecord {
  uint64_t call_id = 0;
  Instant sent;  // wall clock
  std::string api;
  std::string endpoint;
  std::vector<std::string> keys;
  CallKind kind = CallKind::kFirstAttempt;
  int attempt = 1;
  Priority priority = Priority::kNormal;
  int status = 0;
  Duration latency;  // answer - sent
  double credits = 0.0;
  bool late = false;
  // Lower-case names, values verbatim, in line order.
  std::vector<std::pair<std::string, std::string>> quota_headers;

  // The value of quota header `name` (lower case), or nullptr.
  const std::string* Header(std::string_view name) const;
  Instant answered() const { return sent + latency; }
};

enum class TraceLineType : uint8_t { kHeader, kRequest, kCall };

class TraceLineParser {
 public:
  // Parses `line` (without its newline). Returns "" on success, with type()
  // telling which record now holds the line; otherwise what is wrong (the
  // records are then unspecified).
  std::string Parse(std::string_view line);

  TraceLineType type() const { return type_; }
  const TraceHeader& header() const { return header_; }
  const TraceRequestRecord& request() const { return request_; }
  const TraceCallRecord& call() const { return call_; }
  // The records may be moved from between calls to Parse.
  TraceRequestRecord& mutable_request() { return request_; }
  TraceCallRecord& mutable_call() { return call_; }

 private:
  TraceLineType type_ = TraceLineType::kHeader;
  TraceHeader header_;
  TraceRequestRecord request_;
  TraceCallRecord call_;
  std::string scratch_;  // an escaped key being decoded
};

// The lines of one file, in bounded memory.
class TraceFileReader {
 public:
  static constexpr size_t kBufferBytes = size_t{1} << 20;
  static constexpr size_t kMaxLineBytes = size_t{16} << 20;

  // Opens `path`; check error() before reading. With `keep_unterminated_last_line`
  // a final line without its newline is returned like any other (for CSV
  // files, which often end that way).
  explicit TraceFileReader(const std::string& path, bool keep_unterminated_last_line = false);
  ~TraceFileReader();
  TraceFileReader(const TraceFileReader&) = delete;
  TraceFileReader& operator=(const TraceFileReader&) = delete;

  // The next complete line (without "\n" or "\r\n"), valid until the next
  // call; false at the end of the file or on an error (see error()).
  bool Next(std::string_view* line);
  // 1-based number of the line Next() returned last (0 before the first).
  uint64_t line_number() const { return line_number_; }
  // "" or what went wrong: the file cannot be opened or read, or a line is
  // longer than kMaxLineBytes.
  const std::string& error() const { return error_; }
  // True once Next() has returned false at an end of file that cut a line
  // short (bytes after the last newline).
  bool truncated_last_line() const { return truncated_; }
  // Bytes consumed so far (through the end of the last line returned).
  uint64_t bytes_read() const { return consumed_; }

 private:
  bool Fill();  // reads more; false at EOF or error

  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // the unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  bool keep_last_ = false;
  bool truncated_ = false;
  uint64_t line_number_ = 0;
  uint64_t consumed_ = 0;
  std::string error_;
};

}  // namespace orchsim::trace

#endif  // ORCHSIM_POLICIES_TRACE_TRACE_READER_H_
