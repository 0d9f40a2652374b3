// adaptive_concurrency.h — an in-flight limit that follows measured latency,
// as Netflix's concurrency-limits library does (AIMDLimit, Gradient2Limit;
// Envoy's adaptive concurrency filter is Gradient-based too).
//
// The core feeds it one sample per upstream call that ended (its latency,
// whether it was dropped — a timeout or an overload answer — and how many
// calls were in flight then); limit() is the API's bulkhead size from then
// on. The limit is a real number inside; limit() is its floor, within
// [min_limit, max_limit].
//
// AIMD (Netflix AIMDLimit):
//   dropped or latency > latency_threshold:  limit *= backoff_ratio
//   else if in_flight * 2 >= limit:          limit += 1
// Gradient2 (Netflix Gradient2Limit):
//   long  = exponential average of latency over long_window samples (a plain
//           average during the first 10), decayed by 0.95 whenever
//           long / latency > 2 (the long-term view forgets a slow past);
//   no change while in_flight < limit / 2 (the client, not the upstream,
//   limits throughput);
//   gradient = clamp(rtt_tolerance * long / latency, 0.5, 1);
//   limit = (1 - smoothing) * limit + smoothing * (limit * gradient + queue_size).
// Disabled: limit() is initial_limit and samples change nothing.
// Not thread-safe.
#ifndef ORCHSIM_POLICIES_ADAPTIVE_CONCURRENCY_H_
#define ORCHSIM_POLICIES_ADAPTIVE_CONCURRENCY_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

enum class ConcurrencyAlgorithm : uint8_t { kAimd, kGradient2 };
std::string_view ConcurrencyAlgorithmName(ConcurrencyAlgorithm a);  // "aimd", "gradient2"

struct AdaptiveConcurrencyConfig {
  bool enabled = false;
  ConcurrencyAlgorithm algorithm = ConcurrencyAlgorithm::kGradient2;
  int initial_limit = 20;  // in [min_limit, max_limit]
  int min_limit = 1;       // >= 1
  int max_limit = 200;     // >= min_limit, <= 1000000
  // AIMD.
  Duration latency_threshold = Seconds(1);  // > 0
  double backoff_ratio = 0.9;               // in [0.5, 1)
  // Gradient2.
  double smoothing = 0.2;      // in (0, 1]
  double rtt_tolerance = 1.5;  // >= 1
  int long_window = 600;       // samples, >= 1
  int queue_size = 4;          // >= 0

  // Ok, or an error naming the first bad field ("adaptive_concurrency.min_limit: ...").
  Status validate() const;
  bool operator==(const AdaptiveConcurrencyConfig&) const = default;
};

// REQUIRES: config.validate().ok().
class AdaptiveConcurrency {
 public:
  explicit AdaptiveConcurrency(const AdaptiveConcurrencyConfig& config);

  bool enabled() const { return config_.enabled; }
  int limit() const { return static_cast<int>(limit_); }
  double estimated_limit() const { return limit_; }
  // One call ended; see the header for the update rules.
  void OnSample(Duration latency, bool dropped, int in_flight);

 private:
  void Aimd(Duration latency, bool dropped, int in_flight);
  void Gradient2(Duration latency, int in_flight);

  AdaptiveConcurrencyConfig config_;
  double limit_;
  double long_rtt_us_ = 0.0;
  int64_t samples_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_ADAPTIVE_CONCURRENCY_H_
