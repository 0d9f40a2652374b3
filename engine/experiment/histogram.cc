#include "engine/experiment/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace orchsim::experiment {

// Values in [2^e, 2^(e+1)) for e >= 6 fall in 32 buckets of width 2^(e-5).
int Histogram::BucketOf(int64_t value) {
  if (value < kExactBelow) return static_cast<int>(value);
  const int exponent = 63 - std::countl_zero(static_cast<uint64_t>(value));
  const int sub =
      static_cast<int>((value >> (exponent - kSubBucketBits)) & ((1 << kSubBucketBits) - 1));
  return kExactBelow + (exponent - 6) * (1 << kSubBucketBits) + sub;
}

int64_t Histogram::UpperBoundOf(int bucket) {
  if (bucket < kExactBelow) return bucket;
  const int offset = bucket - kExactBelow;
  const int exponent = 6 + offset / (1 << kSubBucketBits);
  const int64_t sub = offset % (1 << kSubBucketBits);
  const int64_t width = int64_t{1} << (exponent - kSubBucketBits);
  const int64_t lower = (int64_t{1} << exponent) + sub * width;
  return lower + (width - 1);
}

void Histogram::Record(Duration value) {
  const int64_t v = std::max<int64_t>(0, value.micros());
  ++buckets_[BucketOf(v)];
  ++count_;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  sum_ += v;
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

Duration Histogram::Quantile(double q) const {
  if (count_ == 0) return Duration::Zero();
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return Duration::FromMicros(std::min(UpperBoundOf(i), max_));
  }
  return Duration::FromMicros(max_);
}

}  // namespace orchsim::experiment
