// timeouts.h — per-attempt and overall deadlines of a client request.
//
// Two pure functions over absolute instants:
//   OverallDeadline = earliest of (submitted_at + overall, request_deadline)
//   AttemptDeadline = earliest of (attempt_start + per_attempt, request_deadline)
//   RetryFits       = start + min_attempt <= request_deadline
// The caller passes OverallDeadline(...) as AttemptDeadline's
// request_deadline, so an attempt never outlives its request.
//
// Disabled: the configured durations are ignored; only the request's own
// deadline applies (Instant::Max() when the request has none).
// Additions saturate at Instant::Max() instead of overflowing, so
// Duration::Infinite() is a valid "no limit".
// Units: Duration/Instant, whole microseconds.
#ifndef ORCHSIM_POLICIES_TIMEOUTS_H_
#define ORCHSIM_POLICIES_TIMEOUTS_H_

#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

struct TimeoutConfig {
  bool enabled = true;                 // false: only the request's own deadline
  Duration per_attempt = Seconds(10);  // > 0; one upstream attempt
  Duration overall = Seconds(60);      // > 0; from submit to the terminal outcome
  // Deadline propagation: a retry is made only when, after its backoff, at
  // least this much time is left before the request's deadline (an attempt
  // with less cannot finish in time); >= 0. Zero: only a retry that would
  // start after the deadline is skipped.
  Duration min_attempt = Duration::Zero();

  // Ok, or an error naming the bad field ("timeouts.per_attempt: ...").
  Status validate() const;
};

// The instant an attempt started at `attempt_start` is abandoned.
Instant AttemptDeadline(const TimeoutConfig& config, Instant attempt_start,
                        Instant request_deadline);

// True when an attempt starting at `start` still fits before the deadline
// (deadline propagation: no retry that cannot finish in time).
bool AttemptFits(const TimeoutConfig& config, Instant start, Instant request_deadline);

// The instant a request submitted at `submitted_at` ends as timed out.
Instant OverallDeadline(const TimeoutConfig& config, Instant submitted_at,
                        Instant request_deadline);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_TIMEOUTS_H_
