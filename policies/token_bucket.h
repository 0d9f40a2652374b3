// token_bucket.h — a token bucket with per-priority reserves.
//
// Tokens accrue at `rate_per_s` up to `burst`; a call of cost c is admitted
// when the bucket holds at least c tokens above the reserve that applies to
// its priority class. A reserve {min_priority, tokens} keeps the last `tokens`
// for classes at or above `min_priority`: with {{kCritical, 2}, {kHigh, 4}}
// NORMAL, LOW and PREFETCH may not take the level below 4 tokens, HIGH not
// below 2, and CRITICAL may spend everything. The floor for a class is the
// largest reserve it is excluded from (reserves nest, they do not add up).
//
// Contract:
//   - Exact integer arithmetic: the level is kept in nano-tokens (1e-9 token)
//     in an int64 and refill keeps its sub-nano-token remainder, so no token
//     is ever created or lost by rounding. Rate, burst, reserves and costs are
//     quantized to the nearest nano-token. Consequently, in ANY window of
//     virtual time of length T the cost admitted never exceeds
//     burst + rate_per_s * T (in nano-tokens, exactly).
//   - The bucket starts full.
//   - TimeUntilAvailable is exact to the microsecond: TryAcquire at
//     now + TimeUntilAvailable(...) succeeds (if nothing else was taken in
//     between) and at one microsecond earlier fails.
//   - A cost of 0 is always admitted. A negative or non-finite cost is never
//     admitted (TimeUntilAvailable returns Duration::Infinite()).
//   - Instants passed in should not decrease; an earlier instant than the last
//     one seen is treated as that last instant (no refill, no un-refill).
//   - When `enabled` is false everything is admitted immediately, nothing is
//     consumed and available() is +infinity.
//   - REQUIRES: config.validate().ok(). Not thread-safe.
//
// Units: tokens (double, API units of the caller's choosing), rate in tokens
// per second, time as Instant/Duration (int64 microseconds).
//
// Example:
//   TokenBucket bucket({.rate_per_s = 0.5, .burst = 5}, now);
//   if (!bucket.TryAcquire(Priority::kNormal, 1.0, now)) {
//     timers.At(now + bucket.TimeUntilAvailable(Priority::kNormal, 1.0, now), ...);
//   }
#ifndef ORCHSIM_POLICIES_TOKEN_BUCKET_H_
#define ORCHSIM_POLICIES_TOKEN_BUCKET_H_

#include <cstdint>
#include <vector>

#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

// The last `tokens` of the bucket may be spent only by classes at or above
// `min_priority`.
struct TokenReserve {
  Priority min_priority = Priority::kCritical;
  double tokens = 0.0;  // >= 0, <= burst
};

struct TokenBucketConfig {
  bool enabled = true;
  double rate_per_s = 1.0;             // tokens added per second; >= 1e-9 (one nano-token/s)
  double burst = 10.0;                 // capacity in tokens; > 0, <= 1e9
  double cost_per_call = 1.0;          // tokens a plain call costs (the caller passes it as `cost`)
  std::vector<TokenReserve> reserves;  // see the header comment; may be empty

  // Errors name the field, e.g. "token_bucket.rate_per_s: -1.000000 must be > 0".
  Status validate() const;
};

class TokenBucket {
 public:
  // The bucket starts full at `now`.
  TokenBucket(const TokenBucketConfig& config, Instant now);

  // True when a call of `cost` tokens at priority `p` would be admitted at
  // `now`. Consumes nothing.
  bool CanAcquire(Priority p, double cost, Instant now) const;
  // Admits and consumes `cost` tokens when CanAcquire; otherwise changes
  // nothing but the refill bookkeeping. Returns whether it was admitted.
  bool TryAcquire(Priority p, double cost, Instant now);
  // Zero when CanAcquire now; otherwise the exact wait until it would be
  // (assuming nothing else is taken meanwhile); Duration::Infinite() when
  // cost + the class's reserve exceeds the burst, so it can never fit.
  Duration TimeUntilAvailable(Priority p, double cost, Instant now) const;
  // Tokens in the bucket at `now` (all of them, reserves included).
  double available(Instant now) const;

  const TokenBucketConfig& config() const { return config_; }

 private:
  struct Level {
    int64_t nano_tokens;  // 0..burst_nano_
    int64_t remainder;    // refill numerator carried, 0..kMicrosPerSecond-1
  };

  Level LevelAt(Instant now) const;
  int64_t FloorNano(Priority p) const;
  // Nano-tokens a call needs in the bucket: its cost plus the class's floor;
  // -1 when the cost is negative or not finite.
  int64_t NeededNano(Priority p, double cost) const;

  TokenBucketConfig config_;
  int64_t rate_nano_per_s_;
  int64_t burst_nano_;
  int64_t floor_nano_[kPriorityCount];
  Level level_;
  Instant last_update_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_TOKEN_BUCKET_H_
