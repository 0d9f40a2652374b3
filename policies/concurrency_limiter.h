// concurrency_limiter.h — a bulkhead: at most N upstream calls in flight to
// one upstream API, so one slow upstream cannot tie up everything. The core
// keeps one limiter per API, with that API's settings.
//
// Contract:
//   - TryAcquire() takes a slot when fewer than max_in_flight calls are in
//     flight and returns true; otherwise it changes nothing and returns false.
//     Every successful TryAcquire must be matched by exactly one Release()
//     when the call has ended: answered, or cancelled and the transport has
//     confirmed it (ports.h). A call the core stopped waiting for still holds
//     its slot until then: the upstream may still be working on it.
//   - Release without a matching acquire is a programming error: it asserts
//     in debug builds and is ignored in release builds (the count never goes
//     below zero).
//   - Disabled: TryAcquire always succeeds, but in_flight and peak are still
//     counted, so metrics stay meaningful for a "naive" preset.
// Not thread-safe.
#ifndef ORCHSIM_POLICIES_CONCURRENCY_LIMITER_H_
#define ORCHSIM_POLICIES_CONCURRENCY_LIMITER_H_

#include "policies/status.h"

namespace orchsim {

inline constexpr int kMaxConcurrencyLimit = 1000000;  // upper bound accepted by validate()

struct ConcurrencyLimitConfig {
  bool enabled = true;    // false: never refuse (still counts)
  int max_in_flight = 8;  // calls in flight to the API; 1..kMaxConcurrencyLimit
  // Ok, or an error naming the bad field ("concurrency.max_in_flight: ...").
  Status validate() const;
  bool operator==(const ConcurrencyLimitConfig&) const = default;
};

// REQUIRES: config.validate() is ok.
class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(const ConcurrencyLimitConfig& config);
  // Takes a slot when one is free; false (nothing changed) when full.
  bool TryAcquire();
  // Gives back a slot taken by TryAcquire. REQUIRES: in_flight() > 0.
  void Release();
  // Calls currently holding a slot.
  int in_flight() const { return in_flight_; }
  // True when TryAcquire() would succeed now (a non-consuming check).
  bool CanAcquire() const { return !config_.enabled || in_flight_ < config_.max_in_flight; }
  // The most calls ever in flight at once.
  int peak() const { return peak_; }
  int limit() const { return config_.max_in_flight; }
  // Adaptive concurrency: a new limit (>= 1) from now on; enables the
  // limiter. Calls in flight above it keep their slots.
  void set_limit(int limit) {
    config_.enabled = true;
    config_.max_in_flight = limit < 1 ? 1 : limit;
  }

 private:
  ConcurrencyLimitConfig config_;
  int in_flight_ = 0;
  int peak_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_CONCURRENCY_LIMITER_H_
