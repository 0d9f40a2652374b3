// trace_format.h — the orchsim trace: what an orchestrator saw, one JSON
// object per line (JSON Lines), written by TraceRecorder (trace_recorder.h)
// from a simulation (`orchsim run --record`) or a live host (`orchsim serve
// --record`), read back by the replay and calibration side.
//
// Format version 1 (JSON Schema: scenarios/schema/trace.schema.json; the
// README's "Trace format" section is the user's reference):
//
//   line 1, the header:
//     {"type":"header","format":"orchsim-trace","version":1,
//      "source":"simulation"|"live", "scenario":..., "variant":...,
//      "seed":N, "start":TIME, "generator":"orchsim 0.1.0 (abc1234)"}
//     scenario, variant, seed, start and generator appear only when known.
//   one "request" line per client request, written when it completes:
//     {"type":"request","id":N,"arrival":TIME,"api":...,"endpoint":...,
//      "key":...,"priority":"HIGH","game_start":TIME,"deadline_us":N,
//      "cacheable":true,"batchable":false,"outcome":"served","status":200,
//      "latency_us":N,"queue_wait_us":N,"attempts":N}
//     game_start (the kickoff of the game it concerns) and deadline_us (the
//     overall deadline, relative to the arrival) appear only when set.
//     latency_us is the end-to-end time (completion - arrival); status the
//     last upstream status seen (0 when none).
//   one "call" line per upstream call, written when its answer arrives:
//     {"type":"call","call_id":N,"sent":TIME,"api":...,"endpoint":...,
//      "keys":[...],"kind":"first_attempt","attempt":1,"priority":"HIGH",
//      "status":200,"latency_us":N,"credits":1.5,"late":false,
//      "quota_headers":{"x-requests-remaining":"499",...}}
//     kind is first_attempt, retry, probe, prefetch or batch; late is true
//     when the answer came after the core stopped waiting (attempt timeout,
//     hedge, shutdown; status 499 confirms a cancelled call); quota_headers
//     holds the response's quota and rate-limit headers with lower-case
//     names (IsQuotaHeader), values verbatim.
//
// TIME is UTC ISO 8601 with exactly six fractional digits and "Z":
// "2023-10-15T18:00:00.000000Z" (fixed width, so the text sorts as the time
// does; policies/time.h ParseInstant reads it). Durations are integer
// microseconds in fields ending in _us. Strings are JSON strings; bytes that
// are not valid UTF-8 are written as U+FFFD.
//
// Order: lines are written as events end (a request's completion, a call's
// answer), so arrival/sent are not monotonic in file order; arrival +
// latency_us (sent + latency_us) is, for one recorder on one clock. Readers
// that need arrival order sort, or hold a window. A line is written whole
// and flushed before the next, so a crash loses at most the line being
// written; a reader ignores a final line without its newline.
//
// Versioning: readers reject a header with a version they do not know; new
// optional fields may be added within a version, so readers ignore fields
// they do not know.
#ifndef ORCHSIM_POLICIES_TRACE_TRACE_FORMAT_H_
#define ORCHSIM_POLICIES_TRACE_TRACE_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policies/request.h"
#include "policies/time.h"

namespace orchsim::trace {

inline constexpr std::string_view kTraceFormatName = "orchsim-trace";
inline constexpr int kTraceFormatVersion = 1;

// Who produced the trace.
enum class TraceSource : uint8_t { kSimulation, kLive };
// "simulation", "live".
std::string_view TraceSourceName(TraceSource source);

// What the header line says. Empty strings and nullopt are left out.
struct TraceHeader {
  TraceSource source = TraceSource::kLive;
  std::string scenario;          // scenario name, when simulated
  std::string variant;           // variant (or preset) name
  std::optional<uint64_t> seed;  // root seed, when simulated
  std::optional<Instant> start;  // scenario start (wall), when simulated
  std::string generator;         // e.g. "orchsim 0.1.0 (abc1234)"
};

// "2023-10-15T18:00:00.000000Z": always six fractional digits, always UTC.
std::string FormatTraceTime(Instant wall);

// Appends `text` as a JSON string literal (with the quotes) to `out`:
// '"', '\\' and control characters escaped, valid UTF-8 kept, every byte of
// an invalid UTF-8 sequence replaced by U+FFFD.
void AppendJsonString(std::string* out, std::string_view text);

// True for the response headers a trace keeps (any case): x-requests-*,
// x-ratelimit-*, ratelimit and ratelimit-* (IETF), retry-after.
bool IsQuotaHeader(std::string_view name);

// The lines, without the trailing newline. Pure functions of their inputs.
std::string HeaderLine(const TraceHeader& header);
// `arrival_wall`: the request's arrival on the wall clock; `latency`:
// completion - arrival. Deadline and queue wait come from `request` and
// `result` (the deadline relative to request.submitted_at).
std::string RequestLine(const Request& request, const Result& result, Instant arrival_wall,
                        Duration latency);
// `sent_wall`: when the call was sent, on the wall clock; `latency`: answer -
// sent.
std::string CallLine(const UpstreamCall& call, const Response& response, Instant sent_wall,
                     Duration latency, bool late);

}  // namespace orchsim::trace

#endif  // ORCHSIM_POLICIES_TRACE_TRACE_FORMAT_H_
