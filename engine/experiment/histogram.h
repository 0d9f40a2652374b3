// histogram.h — a fixed-memory histogram of non-negative durations.
//
// Log-linear buckets (like HdrHistogram): values below 64 us are exact; above,
// each power of two is split into 32 equal buckets, so a reported quantile is
// within 1/32 (3.2%) of a recorded value above it and never above the exact
// maximum. Memory is constant (a few KiB) whatever the number of samples,
// which is what lets a season's metrics stay flat as the season grows.
//
// Quantile(q) returns the upper bound of the bucket holding the sample of
// rank ceil(q * count), clamped to the exact maximum; 0 when empty.
// Negative values are recorded as 0. Merge adds another histogram.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_HISTOGRAM_H_
#define ORCHSIM_ENGINE_EXPERIMENT_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "policies/time.h"

namespace orchsim::experiment {

class Histogram {
 public:
  void Record(Duration value);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  Duration min() const { return Duration::FromMicros(count_ == 0 ? 0 : min_); }
  Duration max() const { return Duration::FromMicros(max_); }
  // Exact mean (sum is kept exactly in microseconds).
  double mean_us() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  Duration Quantile(double q) const;

 private:
  static constexpr int kSubBucketBits = 5;  // 32 buckets per power of two
  static constexpr int kExactBelow = 64;
  static constexpr int kBucketCount = kExactBelow + (63 - 6) * (1 << kSubBucketBits);
  static int BucketOf(int64_t value);
  static int64_t UpperBoundOf(int bucket);

  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  int64_t sum_ = 0;  // 2^63 us is 292,000 years of summed waits: no overflow in practice
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_HISTOGRAM_H_
