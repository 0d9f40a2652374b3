#include "policies/timeouts.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace orchsim {
namespace {

// start + d, saturating at Instant::Max(). REQUIRES: d > 0.
Instant AddSaturating(Instant start, Duration d) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // A negative start cannot overflow when adding a non-negative d.
  if (start.unix_micros() >= 0 && d.micros() >= kMax - start.unix_micros()) return Instant::Max();
  return start + d;
}

}  // namespace

Status TimeoutConfig::validate() const {
  if (per_attempt <= Duration::Zero()) {
    return FieldError("timeouts.per_attempt", FormatDuration(per_attempt), "must be > 0");
  }
  if (overall <= Duration::Zero()) {
    return FieldError("timeouts.overall", FormatDuration(overall), "must be > 0");
  }
  if (min_attempt < Duration::Zero()) {
    return FieldError("timeouts.min_attempt", FormatDuration(min_attempt), "must be >= 0");
  }
  return Status::Ok();
}

Instant AttemptDeadline(const TimeoutConfig& config, Instant attempt_start,
                        Instant request_deadline) {
  if (!config.enabled) return request_deadline;
  return std::min(AddSaturating(attempt_start, config.per_attempt), request_deadline);
}

bool AttemptFits(const TimeoutConfig& config, Instant start, Instant request_deadline) {
  if (start > request_deadline) return false;
  if (!config.enabled || request_deadline == Instant::Max()) return true;
  return config.min_attempt <= request_deadline - start;
}

Instant OverallDeadline(const TimeoutConfig& config, Instant submitted_at,
                        Instant request_deadline) {
  if (!config.enabled) return request_deadline;
  return std::min(AddSaturating(submitted_at, config.overall), request_deadline);
}

}  // namespace orchsim
