// libFuzzer target: the trace line parser (policies/trace/trace_reader.h),
// which reads recorded production traffic back as demand and for
// `orchsim calibrate`, against the writer of the same format
// (policies/trace/trace_format.h).
//
// Input: text; each LF-separated line is parsed on its own with one parser
// (so the reuse of its records across lines is exercised too).
//
// Contract checked: Parse never crashes nor throws; an accepted request or call line, written back
// by RequestLine/CallLine and parsed again, is accepted, and writing that once more gives the same
// bytes (the writer normalises, e.g. invalid UTF-8 to U+FFFD, once; after that parser and writer
// agree on every field); no sanitizer report.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policies/trace/trace_format.h"
#include "policies/trace/trace_reader.h"

namespace {

using orchsim::trace::TraceCallRecord;
using orchsim::trace::TraceLineParser;
using orchsim::trace::TraceLineType;
using orchsim::trace::TraceRequestRecord;

void Check(bool condition) {
  if (!condition) std::abort();
}

std::string WriteRequest(const TraceRequestRecord& r) {
  orchsim::Request request;
  request.id = r.id;
  request.api = r.api;
  request.endpoint = r.endpoint;
  request.key = r.key;
  request.priority = r.priority;
  request.game_start = r.game_start;
  request.cacheable = r.cacheable;
  request.batchable = r.batchable;
  request.submitted_at = orchsim::Instant();
  if (r.deadline) request.deadline = request.submitted_at + *r.deadline;
  orchsim::Result result;
  result.outcome = r.outcome;
  result.status = r.status;
  result.queue_wait = r.queue_wait;
  result.attempts = r.attempts;
  return orchsim::trace::RequestLine(request, result, r.arrival, r.latency);
}

std::string WriteCall(const TraceCallRecord& c) {
  orchsim::UpstreamCall call;
  call.call_id = c.call_id;
  call.api = c.api;
  call.endpoint = c.endpoint;
  call.keys = c.keys;
  call.kind = c.kind;
  call.attempt = c.attempt;
  call.priority = c.priority;
  orchsim::Response response;
  response.status = c.status;
  response.credits_charged = c.credits;
  for (const auto& [name, value] : c.quota_headers) response.headers.Set(name, value);
  return orchsim::trace::CallLine(call, response, c.sent, c.latency, c.late);
}

// The line the writer makes of what `parser` just accepted ("" for a header).
std::string Rewrite(const TraceLineParser& parser) {
  switch (parser.type()) {
    case TraceLineType::kRequest:
      return WriteRequest(parser.request());
    case TraceLineType::kCall:
      return WriteCall(parser.call());
    case TraceLineType::kHeader:
      return orchsim::trace::HeaderLine(parser.header());
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  TraceLineParser parser;
  TraceLineParser again;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;

    if (!parser.Parse(line).empty()) continue;
    const std::string written = Rewrite(parser);
    const std::string reread_error = again.Parse(written);
    Check(reread_error.empty());
    Check(again.type() == parser.type());
    Check(Rewrite(again) == written);
  }
  return 0;
}
