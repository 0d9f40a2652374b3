// concurrency_limiter.h — a bulkhead: at most N upstream calls in flight per
// upstream API, so one slow upstream cannot tie up everything.
//
// Contract:
//   - TryAcquire(api) takes a slot when fewer than max_in_flight calls to
//     `api` are in flight and returns true; otherwise it changes nothing and
//     returns false. Every successful TryAcquire must be matched by exactly one
//     Release(api) when the call ends (answer, timeout or cancellation).
//   - Release without a matching acquire is a programming error: it asserts
//     in debug builds and is ignored in release builds (the count never goes
//     below zero).
//   - Disabled: TryAcquire always succeeds, but in_flight and peak are still
//     counted, so metrics stay meaningful for a "naive" preset.
//   - APIs are independent; an API never seen has 0 in flight.
// Memory: one small entry per API name ever acquired. Not thread-safe.
#ifndef ORCHSIM_POLICIES_CONCURRENCY_LIMITER_H_
#define ORCHSIM_POLICIES_CONCURRENCY_LIMITER_H_

#include <functional>
#include <map>
#include <string>

#include "policies/status.h"

namespace orchsim {

inline constexpr int kMaxConcurrencyLimit = 1000000;  // upper bound accepted by validate()

struct ConcurrencyLimitConfig {
  bool enabled = true;    // false: never refuse (still counts)
  int max_in_flight = 8;  // calls in flight per upstream API; 1..kMaxConcurrencyLimit

  // Ok, or an error naming the bad field ("concurrency_limit.max_in_flight: ...").
  Status validate() const;
};

// REQUIRES: config.validate() is ok.
class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(const ConcurrencyLimitConfig& config);

  // Takes a slot for `api` when one is free; false (nothing changed) when full.
  bool TryAcquire(const std::string& api);
  // Gives back a slot taken by TryAcquire. REQUIRES: in_flight(api) > 0.
  void Release(const std::string& api);

  // Calls to `api` currently in flight.
  int in_flight(const std::string& api) const;
  // True when TryAcquire(api) would succeed now (a non-consuming check).
  bool CanAcquire(const std::string& api) const;
  // The most calls to `api` ever in flight at once.
  int peak(const std::string& api) const;

 private:
  struct Slots {
    int in_flight = 0;
    int peak = 0;
  };
  ConcurrencyLimitConfig config_;
  std::map<std::string, Slots, std::less<>> by_api_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_CONCURRENCY_LIMITER_H_
