// ports.h — the three seams between the orchestration core and its host.
//
// Like LevelDB's Env, the core never asks the operating system for time,
// timers, I/O or randomness: the host passes these in. In simulation the
// engine implements them over its virtual clock and mocked upstreams; in a
// service they would be an event loop and an HTTP client.
//
// Thread rules: the core calls the ports from one thread (the host's event
// loop) and expects callbacks on that same thread, never re-entrantly from
// inside the call that scheduled them.
#ifndef ORCHSIM_POLICIES_PORTS_H_
#define ORCHSIM_POLICIES_PORTS_H_

#include <cstdint>
#include <functional>

#include "policies/request.h"
#include "policies/time.h"

namespace orchsim {

// Clock — the current wall-clock instant (UTC microseconds since the epoch).
class Clock {
 public:
  virtual ~Clock();
  virtual Instant now() const = 0;
};

// Timers — run a callback at an instant. Handles are opaque non-zero values.
class Timers {
 public:
  using TimerId = uint64_t;
  virtual ~Timers();
  // Schedules `callback` at `at` (an instant in the past means "as soon as
  // possible", never "synchronously"). Returns a handle for Cancel.
  virtual TimerId ScheduleAt(Instant at, std::function<void()> callback) = 0;
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

// Transport — sends upstream calls. The answer arrives later, exactly once,
// through `on_response`, on the host's event-loop thread; never from inside
// Send itself. A transport may answer after the core has stopped waiting (a
// timeout); the core discards such answers.
class Transport {
 public:
  using ResponseCallback = std::function<void(const Response&)>;
  virtual ~Transport();
  virtual void Send(const UpstreamCall& call, ResponseCallback on_response) = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_PORTS_H_
