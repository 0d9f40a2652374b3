#include "policies/trace/trace_recorder.h"

namespace orchsim::trace {

TraceRecorder::TraceRecorder(TraceSink& sink, const TraceHeader& header, const Clock* clock)
    : sink_(sink), clock_(clock) {
  Write(HeaderLine(header), &header_written_);
}

Instant TraceRecorder::ToWall(Instant monotonic) const {
  if (clock_ == nullptr) return monotonic;
  return monotonic + (clock_->wall_now() - clock_->now());
}

void TraceRecorder::Write(const std::string& line, uint64_t* written) {
  if (sink_.WriteLine(line)) {
    ++*written;
  } else {
    ++lines_failed_;
  }
}

void TraceRecorder::OnCompleted(const Request& request, const Result& result, Instant now) {
  Write(RequestLine(request, result, ToWall(request.submitted_at), now - request.submitted_at),
        &requests_written_);
}

void TraceRecorder::OnCallSent(const UpstreamCall& call, Instant now) {
  sent_[call.call_id] = Sent{now, ToWall(now)};
}

void TraceRecorder::OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                                   Instant now) {
  Instant sent_wall;
  Duration latency = response.latency;
  if (auto it = sent_.find(call.call_id); it != sent_.end()) {
    sent_wall = it->second.wall;
    latency = now - it->second.at;
    sent_.erase(it);
  } else {
    // Attached after the call was sent: the transport's measure of it.
    sent_wall = ToWall(now - response.latency);
  }
  Write(CallLine(call, response, sent_wall, latency, late), &calls_written_);
}

}  // namespace orchsim::trace
