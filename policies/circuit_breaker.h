// circuit_breaker.h — a circuit breaker per upstream (or per endpoint), and
// the registry that hands them out.
//
// A breaker stops calls to an upstream that keeps failing, waits, then lets a
// few probe calls through to find out whether it has recovered.
//
//   CLOSED --trigger--> OPEN --open wait elapsed, next request--> HALF_OPEN
//   HALF_OPEN --success_threshold successes--> CLOSED
//   HALF_OPEN --any failure--> OPEN (with a longer wait, see below)
//
// Contract:
//   - Time is the caller's: every method takes `now` (Instant, int64 us) and
//     the breaker never reads a clock. `now` must not decrease between calls.
//   - Triggers (CLOSED only):
//       kConsecutiveFailures: trips on the `failure_threshold`-th failure in a
//         row; any success resets the run.
//       kFailureRate: exact sliding time window. The window at `now` holds the
//         results recorded in (now - window, now]. Trips when it holds at least
//         `minimum_calls` results and failures / results >= threshold. Memory
//         is one 16-byte entry per result inside the window.
//   - A failure is a status listed in `failure_statuses` (default 5xx gateway
//     errors and kStatusTransportError=599; 429 is not a failure: it is the
//     rate limiter's business), or, when `slow_calls_are_failures`, a latency
//     strictly longer than `slow_call_threshold`.
//   - OPEN lasts `open_wait` after the trip. The move to HALF_OPEN is lazy: it
//     happens (and is reported) at the first AllowRequest with now >=
//     open_until(). Each re-trip from HALF_OPEN multiplies the wait by
//     `open_wait_multiplier`, capped at `max_open_wait`; a close resets it.
//   - HALF_OPEN permits at most `half_open_permitted_calls` probes in flight.
//     AllowRequest consumes a permit; RecordResult or RecordCancelled of a
//     probe returns it, so more than N successes can be collected one batch
//     after another. Results recorded in HALF_OPEN when no probe is in
//     flight, or for calls sent before the breaker went half-open
//     (now - latency < the half-open instant), are ignored: they are late
//     answers from before the trip, not probes. Results in OPEN are ignored.
//   - Every state change is passed to the transition listener synchronously,
//     with the exact instant it happened.
//   - Disabled (`enabled = false`): AllowRequest is always true, results are
//     ignored, the state stays CLOSED and the listener is never called.
//   - Not thread-safe; the core runs on one event loop.
//
// Example:
//   CircuitBreaker b("odds", config);
//   if (b.AllowRequest(now)) { send...; b.RecordResult(503, latency, later); }
#ifndef ORCHSIM_POLICIES_CIRCUIT_BREAKER_H_
#define ORCHSIM_POLICIES_CIRCUIT_BREAKER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/events.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

enum class BreakerTrigger : uint8_t { kConsecutiveFailures, kFailureRate };

struct CircuitBreakerConfig {
  bool enabled = true;
  bool per_endpoint = false;  // a breaker per endpoint ("api/endpoint") instead of per api

  BreakerTrigger trigger = BreakerTrigger::kConsecutiveFailures;
  int failure_threshold = 5;  // kConsecutiveFailures: failures in a row, >= 1

  // kFailureRate: fraction in (0, 1] of failed results over the sliding
  // window (> 0), evaluated once the window holds >= minimum_calls results.
  double failure_rate_threshold = 0.5;
  Duration window = Seconds(60);
  int minimum_calls = 10;

  // A call slower than this (strictly) is slow; counts as a failure only when
  // slow_calls_are_failures. Infinite = no call is slow.
  Duration slow_call_threshold = Duration::Infinite();
  bool slow_calls_are_failures = false;

  // Time OPEN after a trip (> 0). Repeated trips without a close in between
  // multiply it by open_wait_multiplier (>= 1), capped at max_open_wait
  // (>= open_wait).
  Duration open_wait = Seconds(60);
  double open_wait_multiplier = 1.0;
  Duration max_open_wait = Minutes(30);

  int half_open_permitted_calls = 1;    // probes in flight at once, >= 1
  int half_open_success_threshold = 1;  // successful probes needed to close, >= 1

  // HTTP statuses (100..599) counted as failures; 599 = transport error.
  std::vector<int> failure_statuses = {500, 502, 503, 504, 599};

  // OK, or the first bad field, e.g.
  // "circuit_breaker.failure_threshold: 0 must be >= 1".
  Status validate() const;
  bool operator==(const CircuitBreakerConfig&) const = default;
};

class CircuitBreaker {
 public:
  // `name` is reported in transitions (the registry key). REQUIRES:
  // config.validate().ok().
  CircuitBreaker(std::string name, const CircuitBreakerConfig& config);

  // May a call go out now? CLOSED: true. OPEN: false until open_until(), then
  // moves to HALF_OPEN and answers as HALF_OPEN does. HALF_OPEN: true while
  // fewer than half_open_permitted_calls probes are in flight; a true answer
  // consumes a permit. Every true answer must be followed by exactly one
  // RecordResult or RecordCancelled for that call.
  bool AllowRequest(Instant now);
  // What AllowRequest would answer now, without consuming or moving state.
  bool WouldAllow(Instant now) const;

  // The answer to a permitted call: HTTP status and the latency from send to
  // answer. Counts a success or failure per IsFailure; may trip or close.
  void RecordResult(int status, Duration latency, Instant now);
  // A permitted call that never got an answer (dropped, shut down). Releases a
  // half-open permit; counts neither as success nor failure.
  void RecordCancelled(Instant now);

  // Does this answer count as a failure under this breaker's config?
  bool IsFailure(int status, Duration latency) const;

  const std::string& name() const { return name_; }
  const CircuitBreakerConfig& config() const { return config_; }
  BreakerState state() const { return state_; }
  // End of the current (or last) open period; Instant() before any trip.
  Instant open_until() const { return open_until_; }
  // Transitions into OPEN, including re-trips from HALF_OPEN.
  uint64_t trips() const { return trips_; }
  // Total time the breaker spent refusing calls because it was OPEN: each open
  // period counts from its trip to min(now, open_until). Time after
  // open_until before the lazy move to HALF_OPEN is not counted (a request
  // arriving then would have been let through).
  Duration time_open(Instant now) const;
  // The wait the current (or last) open period used.
  Duration current_open_wait() const { return current_open_wait_; }
  int half_open_in_flight() const { return half_open_in_flight_; }

  void set_transition_listener(std::function<void(const BreakerTransition&)> listener) {
    listener_ = std::move(listener);
  }

 private:
  void OnClosedResult(bool failure, Instant now);
  void OnHalfOpenResult(bool failure, Duration latency, Instant now);
  void Trip(Instant now);
  void MoveTo(BreakerState to, Instant now);
  Duration GrownOpenWait() const;

  struct WindowEntry {
    Instant at;
    bool failure;
  };

  std::string name_;
  CircuitBreakerConfig config_;
  BreakerState state_ = BreakerState::kClosed;

  int consecutive_failures_ = 0;
  std::deque<WindowEntry> window_;  // kFailureRate only, oldest first
  int window_failures_ = 0;

  Instant opened_at_;
  Instant open_until_;
  Duration current_open_wait_;
  Duration completed_open_time_;  // sum over finished open periods
  uint64_t trips_ = 0;

  Instant half_open_since_;
  int half_open_in_flight_ = 0;
  int half_open_successes_ = 0;

  std::function<void(const BreakerTransition&)> listener_;
};

// Hands out one breaker per upstream API, or per API and endpoint when
// config.per_endpoint. Breakers are created on first use and live as long as
// the registry; references returned by For stay valid.
// The name of an API's breaker, or of one endpoint's: "api" or
// "api/endpoint", with '%' and '/' in the api percent-encoded ("%25",
// "%2F") so that the first '/' always ends the api: ("a/b", "c") and
// ("a", "b/c") get different breakers.
std::string BreakerName(std::string_view api);
std::string BreakerName(std::string_view api, std::string_view endpoint);

class BreakerRegistry {
 public:
  // The breaker named `key` ("api" or "api/endpoint"), created with `config`
  // on first use (later calls return it; their config is not looked at).
  // References stay valid for the registry's lifetime. REQUIRES:
  // config.validate().ok().
  CircuitBreaker& For(const std::string& key, const CircuitBreakerConfig& config);
  // The breaker under `key`, or nullptr when none was created yet.
  const CircuitBreaker* Find(const std::string& key) const;
  // Applies to every breaker, existing and future.
  void set_transition_listener(std::function<void(const BreakerTransition&)> listener);
  // All breakers by key, in key order (for metrics).
  const std::map<std::string, CircuitBreaker>& breakers() const { return breakers_; }

 private:
  std::function<void(const BreakerTransition&)> listener_;
  std::map<std::string, CircuitBreaker> breakers_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_CIRCUIT_BREAKER_H_
