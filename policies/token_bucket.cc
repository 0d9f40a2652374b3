#include "policies/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace orchsim {
namespace {

// GCC and Clang spell a 128-bit integer this way without a -Wpedantic warning.
__extension__ typedef __int128 Int128;

constexpr int64_t kNanoPerToken = 1'000'000'000;
constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr double kMaxBurstTokens = 1e9;  // keeps nano-tokens inside int64

// Nearest nano-token. REQUIRES: 0 <= tokens <= 2 * kMaxBurstTokens.
int64_t ToNano(double tokens) { return std::llround(tokens * static_cast<double>(kNanoPerToken)); }

}  // namespace

Status TokenBucketConfig::validate() const {
  if (!std::isfinite(rate_per_s) || rate_per_s < 1e-9) {
    return FieldError("bucket.rate_per_s", rate_per_s, "must be >= 1e-9 tokens per second");
  }
  if (!std::isfinite(burst) || burst <= 0 || burst > kMaxBurstTokens) {
    return FieldError("bucket.burst", burst, "must be > 0 and <= 1e9 tokens");
  }
  if (!std::isfinite(cost_per_call) || cost_per_call < 0 || cost_per_call > burst) {
    return FieldError("bucket.cost_per_call", cost_per_call,
                      "must be >= 0 and <= burst (" + ShortestText(burst) + ")");
  }
  for (size_t i = 0; i < reserves.size(); ++i) {
    const TokenReserve& r = reserves[i];
    const std::string field = "bucket.reserves[" + std::to_string(i) + "]";
    if (PriorityIndex(r.min_priority) < 0 || PriorityIndex(r.min_priority) >= kPriorityCount) {
      return FieldError(field + ".min_priority", PriorityIndex(r.min_priority),
                        "is not a priority class");
    }
    if (!std::isfinite(r.tokens) || r.tokens < 0 || r.tokens > burst) {
      return FieldError(field + ".tokens", r.tokens,
                        "must be >= 0 and <= burst (" + ShortestText(burst) + ")");
    }
  }
  return Status::Ok();
}

TokenBucket::TokenBucket(const TokenBucketConfig& config, Instant now)
    : config_(config),
      rate_nano_per_s_(std::max<int64_t>(1, ToNano(std::clamp(config.rate_per_s, 0.0, 1e9)))),
      burst_nano_(ToNano(std::clamp(config.burst, 0.0, kMaxBurstTokens))),
      floor_nano_{},
      level_{burst_nano_, 0},
      last_update_(now) {
  for (Priority p : kAllPriorities) {
    int64_t floor = 0;
    for (const TokenReserve& r : config.reserves) {
      // The reserve is off limits to classes below its min_priority.
      if (!AtLeast(p, r.min_priority)) {
        floor = std::max(floor, ToNano(std::clamp(r.tokens, 0.0, kMaxBurstTokens)));
      }
    }
    floor_nano_[PriorityIndex(p)] = floor;
  }
}

TokenBucket::Level TokenBucket::LevelAt(Instant now) const {
  if (now <= last_update_ || level_.nano_tokens >= burst_nano_) return level_;
  // numerator is in nano-tokens * microseconds / second; one nano-token per
  // kMicrosPerSecond of it. The remainder carries what is not yet a whole
  // nano-token, so refilling in many small steps equals one large step.
  const Int128 numerator =
      static_cast<Int128>(rate_nano_per_s_) * (now - last_update_).micros() + level_.remainder;
  const Int128 added = numerator / kMicrosPerSecond;
  if (added >= static_cast<Int128>(burst_nano_ - level_.nano_tokens)) {
    return Level{burst_nano_, 0};  // full: accrual beyond the burst is discarded
  }
  return Level{level_.nano_tokens + static_cast<int64_t>(added),
               static_cast<int64_t>(numerator % kMicrosPerSecond)};
}

int64_t TokenBucket::FloorNano(Priority p) const {
  const int index = PriorityIndex(p);
  if (index < 0 || index >= kPriorityCount) return floor_nano_[kPriorityCount - 1];
  return floor_nano_[index];
}

int64_t TokenBucket::NeededNano(Priority p, double cost) const {
  if (!std::isfinite(cost) || cost < 0) return -1;
  // Anything above 2e9 tokens can never fit (burst <= 1e9); cap before
  // converting so the conversion cannot overflow.
  const int64_t cost_nano = ToNano(std::min(cost, 2 * kMaxBurstTokens));
  if (cost_nano == 0) return 0;
  return cost_nano + FloorNano(p);
}

bool TokenBucket::CanAcquire(Priority p, double cost, Instant now) const {
  if (!config_.enabled) return true;
  const int64_t needed = NeededNano(p, cost);
  if (needed < 0) return false;
  if (needed == 0) return true;
  return LevelAt(now).nano_tokens >= needed;
}

bool TokenBucket::TryAcquire(Priority p, double cost, Instant now) {
  if (!config_.enabled) return true;
  level_ = LevelAt(now);
  last_update_ = std::max(last_update_, now);
  const int64_t needed = NeededNano(p, cost);
  if (needed < 0) return false;
  if (needed == 0) return true;
  if (level_.nano_tokens < needed) return false;
  level_.nano_tokens -= ToNano(std::min(cost, 2 * kMaxBurstTokens));
  return true;
}

Duration TokenBucket::TimeUntilAvailable(Priority p, double cost, Instant now) const {
  if (!config_.enabled) return Duration::Zero();
  const int64_t needed = NeededNano(p, cost);
  if (needed < 0 || needed > burst_nano_) return Duration::Infinite();
  if (needed == 0) return Duration::Zero();
  const Instant from = std::max(now, last_update_);
  const Level level = LevelAt(from);
  if (level.nano_tokens >= needed) return Duration::Zero();
  // Smallest wait w (us) with (remainder + rate * w) / 1e6 >= deficit.
  const Int128 target =
      static_cast<Int128>(needed - level.nano_tokens) * kMicrosPerSecond - level.remainder;
  const Int128 wait = (target + rate_nano_per_s_ - 1) / rate_nano_per_s_;
  // Past ~292,000 years: never, for any practical purpose.
  if (wait >= static_cast<Int128>(std::numeric_limits<int64_t>::max())) {
    return Duration::Infinite();
  }
  return (from - now) + Duration::FromMicros(static_cast<int64_t>(wait));
}

double TokenBucket::available(Instant now) const {
  if (!config_.enabled) return std::numeric_limits<double>::infinity();
  return static_cast<double>(LevelAt(now).nano_tokens) / static_cast<double>(kNanoPerToken);
}

}  // namespace orchsim
