// trace_recorder.h — an OrchestratorObserver that writes the orchsim trace
// (trace_format.h) of everything the core does to a TraceSink.
//
// One line per client request (at its completion) and one per upstream
// call (at its answer), after a header line written by the constructor.
// The recorder only reads the events and never changes the core's state.
//
// Wall time. The core's events carry instants of its monotonic clock. In
// simulation that clock is the virtual clock, whose origin is the Unix
// epoch, so the instants are written as they are (clock == nullptr). A live
// host passes its Clock: an event's instant is then placed on the wall clock
// with the offset between clock->wall_now() and clock->now() read when the
// line is written (a call's send time when it is sent), so a step of the
// system clock moves only the lines written after it.
//
// Memory: the send instants of calls in flight (by call id); nothing grows
// with the number of requests. One recorder per orchestrator (call ids are
// unique per orchestrator only).
// Thread rules: called on the core's thread, like every observer.
// REQUIRES: the sink and the clock outlive the recorder.
#ifndef ORCHSIM_POLICIES_TRACE_TRACE_RECORDER_H_
#define ORCHSIM_POLICIES_TRACE_TRACE_RECORDER_H_

#include <cstdint>
#include <unordered_map>

#include "policies/events.h"
#include "policies/ports.h"
#include "policies/trace/trace_format.h"
#include "policies/trace/trace_sink.h"

namespace orchsim::trace {

class TraceRecorder : public OrchestratorObserver {
 public:
  // Writes the header line to `sink`.
  TraceRecorder(TraceSink& sink, const TraceHeader& header, const Clock* clock = nullptr);
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  void OnCompleted(const Request& request, const Result& result, Instant now) override;
  void OnCallSent(const UpstreamCall& call, Instant now) override;
  void OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                      Instant now) override;

  uint64_t requests_written() const { return requests_written_; }
  uint64_t calls_written() const { return calls_written_; }
  // Lines the sink refused (header included).
  uint64_t lines_failed() const { return lines_failed_; }
  // Calls sent and not answered yet.
  size_t calls_in_flight() const { return sent_.size(); }

 private:
  // `monotonic` on the wall clock (see the header comment).
  Instant ToWall(Instant monotonic) const;
  void Write(const std::string& line, uint64_t* written);

  TraceSink& sink_;
  const Clock* clock_;
  struct Sent {
    Instant at;    // monotonic
    Instant wall;  // the same instant on the wall clock
  };
  std::unordered_map<uint64_t, Sent> sent_;  // by call id
  uint64_t requests_written_ = 0;
  uint64_t calls_written_ = 0;
  uint64_t header_written_ = 0;
  uint64_t lines_failed_ = 0;
};

}  // namespace orchsim::trace

#endif  // ORCHSIM_POLICIES_TRACE_TRACE_RECORDER_H_
