// ports.h — the four seams between the orchestration core and its host.
//
// Like LevelDB's Env, the core never asks the operating system for time,
// timers, I/O or randomness: the host passes these in. In simulation the
// engine implements them over its virtual clock and mocked upstreams
// (engine/world/sim_ports.h, mock_transport.h); in a service they are an
// event loop and an HTTP client (live/).
//
// Two timelines. Clock::now() is monotonic: it never steps backwards or
// jumps when an operator or NTP sets the system clock, and every timer,
// timeout, backoff, deadline and rate in the core is measured on it.
// Clock::wall_now() is UTC: the core uses it only to understand what the
// outside world writes in wall time (a quota reset as epoch seconds, a
// Retry-After HTTP-date, a game's kickoff) and converts such an instant to
// the monotonic timeline at once (ToMonotonic below). In simulation both
// read the same virtual instant.
//
// Thread rules: the core calls the ports from one thread (the host's event
// loop) and expects every callback on that same thread, never re-entrantly
// from inside the call that scheduled it.
#ifndef ORCHSIM_POLICIES_PORTS_H_
#define ORCHSIM_POLICIES_PORTS_H_

#include <cstdint>
#include <functional>

#include "policies/request.h"
#include "policies/time.h"

namespace orchsim {

// Clock — the host's two time sources.
class Clock {
 public:
  virtual ~Clock();
  // Monotonic time (microseconds on an arbitrary but fixed origin; the
  // simulator's origin is the Unix epoch). Never decreases.
  virtual Instant now() const = 0;
  // Wall-clock time: UTC microseconds since the Unix epoch. May step.
  virtual Instant wall_now() const = 0;
};

// The monotonic instant that corresponds to the wall instant `wall`, read
// from `clock` now (both timelines advance together between steps).
inline Instant ToMonotonic(const Clock& clock, Instant wall) {
  return clock.now() + (wall - clock.wall_now());
}

// Timers — run a callback at a monotonic instant.
class Timers {
 public:
  using TimerId = uint64_t;  // opaque, never 0
  using Callback = std::function<void()>;
  virtual ~Timers();
  // Schedules `callback` at `at` (an instant in the past means "as soon as
  // possible", never "synchronously"). Returns a handle for Cancel.
  virtual TimerId ScheduleAt(Instant at, Callback callback) = 0;
  // Cancels a pending timer; false when it already fired or was cancelled.
  virtual bool Cancel(TimerId id) = 0;
};

// RandomSource — the host's seeded random numbers, for jitter.
class RandomSource {
 public:
  virtual ~RandomSource();
  // Uniform in [0, 1).
  virtual double Uniform01() = 0;
};

// Transport — sends upstream calls and can abandon them.
//
// Contract:
//   - Send returns a handle (never 0) and later calls `on_response` exactly
//     once, on the host's event-loop thread, never from inside Send or
//     Cancel. The response is the upstream's answer, or status
//     kStatusTransportError (599) when none came (connection failure, the
//     transport's own I/O timeout), or kStatusCancelled (499) after Cancel.
//   - Cancel(handle) abandons the call: the transport stops waiting for it
//     and releases what it holds for it (a live HTTP transport closes the
//     connection; the upstream may or may not have done the work, and is
//     not told). The callback still comes, exactly once and promptly: with
//     kStatusCancelled, or with the answer if it was already being delivered.
//     Only then has the call ended; the core counts it against the bulkhead
//     until that callback. Cancel of a handle whose callback has run, or of
//     an unknown handle, does nothing.
//   - The core gives up waiting on its own schedule (attempt timeouts,
//     hedging, shutdown) and cancels; a transport needs no timeout of its
//     own beyond what protects its resources.
class Transport {
 public:
  using CallHandle = uint64_t;
  using ResponseCallback = std::function<void(const Response&)>;
  virtual ~Transport();
  virtual CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) = 0;
  virtual void Cancel(CallHandle handle) = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_PORTS_H_
