// histogram.h — a fixed-resolution histogram of non-negative integers
// (durations in microseconds, or counts such as versions behind).
//
// Log-linear buckets (like HdrHistogram): values below 128 are kept exactly;
// above, each power of two [2^e, 2^(e+1)) is split into 128 equal buckets of
// width 2^(e-7).
//
// Error bound (what the tests pin): Quantile(q) returns the upper bound of
// the bucket holding the sample of rank ceil(q * count), clamped to the exact
// maximum. If v is that sample, v <= reported <= v + 2^(e-7) - 1 < v * (1 +
// 1/128): the reported quantile is never below the exact one and at most
// 0.79% above it (< 1%). min(), max() and mean are exact.
//
// Memory: one counter per bucket up to the largest value's bucket (at most
// 7296 counters, 57 KiB, for values up to 2^63; about 27 KiB for values up to
// a few hours in microseconds), whatever the number of samples. This is what
// keeps a season's metrics flat as the season grows.
//
// Negative values are recorded as 0. Merge adds another histogram.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_HISTOGRAM_H_
#define ORCHSIM_ENGINE_EXPERIMENT_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "policies/time.h"

namespace orchsim::experiment {

// Samples with values in [lower, upper] (inclusive bounds).
struct HistogramBucket {
  int64_t lower = 0;
  int64_t upper = 0;
  uint64_t count = 0;
  friend bool operator==(const HistogramBucket&, const HistogramBucket&) = default;
};

class Histogram {
 public:
  // Sub-buckets per power of two; the relative error bound is 1/this.
  static constexpr int kSubBucketBits = 7;
  static constexpr int64_t kSubBuckets = int64_t{1} << kSubBucketBits;  // 128
  static constexpr double kMaxRelativeError = 1.0 / static_cast<double>(kSubBuckets);

  // Values as plain integers (microseconds for durations).
  void RecordValue(int64_t value);
  int64_t ValueAtQuantile(double q) const;  // 0 when empty
  int64_t min_value() const { return count_ == 0 ? 0 : min_; }
  int64_t max_value() const { return max_; }

  // The same as durations.
  void Record(Duration value) { RecordValue(value.micros()); }
  Duration Quantile(double q) const { return Duration::FromMicros(ValueAtQuantile(q)); }
  Duration min() const { return Duration::FromMicros(min_value()); }
  Duration max() const { return Duration::FromMicros(max_); }

  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  int64_t sum() const { return sum_; }
  // Exact mean (the sum is kept exactly).
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  double mean_us() const { return mean(); }

  // The non-empty buckets at a coarser resolution of `sub_buckets` per power
  // of two (a power of two in [1, 128]), in increasing order; values below
  // `sub_buckets` get one bucket each. For plots and CSV files.
  // REQUIRES: sub_buckets is a power of two in [1, kSubBuckets].
  std::vector<HistogramBucket> Buckets(int64_t sub_buckets) const;

 private:
  static int BucketOf(int64_t value);
  static int64_t LowerBoundOf(int bucket);
  static int64_t UpperBoundOf(int bucket);

  std::vector<uint64_t> buckets_;  // grows to the largest bucket used
  uint64_t count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  int64_t sum_ = 0;  // 2^63 us is 292,000 years of summed waits: no overflow in practice
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_HISTOGRAM_H_
