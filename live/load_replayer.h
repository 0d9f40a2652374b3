// load_replayer.h — sends a stream of client requests to an HTTP server
// (normally `orchsim serve`) at their instants, in real time, and counts the
// answers by outcome (`orchsim load`).
//
// The requests come from a pull source in offset order (the tool builds it
// from a scenario's demand or a replayed trace); only the next request is
// held, so memory follows the requests in flight, not the source's length.
// Request i is sent at `begin + offset_i / speed` (a wall-clock `begin`
// placed on the steady clock once, so a wall-clock step during the run does
// not move the schedule). Requests due at one instant go out in source
// order. Each one is a GET over HTTP/1.1 keep-alive connections to one
// origin (live/http_transport.h: at most max_connections open; a request
// that finds none free waits in FIFO order, and its lateness is measured).
//
// Counted per answer: the outcome header (X-Orchsim-Outcome; "none" when the
// answer has none, e.g. a 404 from serve's router), the HTTP status, the
// latency from the scheduled send instant to the answer; requests that got
// no answer (connect or read failed, or timed out) are `transport_errors`
// with the reason. Every request sent ends in exactly one of answered or
// transport_errors.
//
// Thread rules: Run() runs its own io_context on the calling thread and
// returns when every request has ended (or Stop() was called from a signal
// handler's thread through the io_context: see RunLoad's `stop`).
#ifndef ORCHSIM_LIVE_LOAD_REPLAYER_H_
#define ORCHSIM_LIVE_LOAD_REPLAYER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "live/url.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::live {

// One client request to send.
struct LoadRequest {
  Duration offset;     // from the replay's start, before --speed; non-decreasing
  std::string target;  // "/api/endpoint?key=K" (already percent-encoded)
  std::vector<std::pair<std::string, std::string>> headers;
};

// The next request in offset order, or nullopt when there are no more.
using LoadSource = std::function<std::optional<LoadRequest>()>;

struct LoadOptions {
  BaseUrl to;                      // http only (the sidecar listens without TLS)
  Instant begin;                   // wall clock: offset 0 is sent at this instant
  double speed = 1.0;              // > 0: offsets are divided by it
  size_t max_connections = 512;    // open at once to `to`
  Duration timeout = Seconds(60);  // per request: connect + write + whole answer
};

struct LoadSummary {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t transport_errors = 0;
  std::map<std::string, uint64_t> outcomes;       // answered requests by X-Orchsim-Outcome
  std::map<int, uint64_t> statuses;               // answered requests by HTTP status
  std::map<std::string, uint64_t> error_reasons;  // transport errors by reason
  Duration first_offset;                          // of the first request (after speed)
  Duration last_offset;                           // of the last request (after speed)
  // How late requests were handed to the transport against their schedule
  // (timer wake-up and event-loop delay; not the wait for a connection).
  Duration max_send_lag;
  // Latency from the scheduled instant to the answer: percentiles over the
  // answered requests (nearest rank), microseconds.
  Duration latency_p50, latency_p99, latency_max;
  Duration wall_time;  // from begin to the last answer
};

// Sends every request of `source` and returns what came back. Fails (an
// InvalidArgument naming the option) for speed <= 0, a TLS target or
// max_connections 0. `progress` (may be empty) is called after each answer.
StatusOr<LoadSummary> RunLoad(const LoadSource& source, const LoadOptions& options,
                              const std::function<void(const LoadSummary&)>& progress = nullptr);

// The summary as one JSON object (for --json and tests).
std::string LoadSummaryJson(const LoadSummary& summary);

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_LOAD_REPLAYER_H_
