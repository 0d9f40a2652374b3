#include "engine/experiment/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace orchsim::experiment {
namespace {

// Bucket of `value` with `bits` sub-bucket bits: exact below 2^bits, then
// 2^bits buckets per power of two.
int64_t BucketWithBits(int64_t value, int bits) {
  const int64_t exact_below = int64_t{1} << bits;
  if (value < exact_below) return value;
  const int exponent = 63 - std::countl_zero(static_cast<uint64_t>(value));
  const int64_t sub = (value >> (exponent - bits)) & (exact_below - 1);
  return exact_below + (exponent - bits) * exact_below + sub;
}

int64_t LowerWithBits(int64_t bucket, int bits) {
  const int64_t exact_below = int64_t{1} << bits;
  if (bucket < exact_below) return bucket;
  const int64_t offset = bucket - exact_below;
  const int exponent = bits + static_cast<int>(offset / exact_below);
  const int64_t sub = offset % exact_below;
  return (int64_t{1} << exponent) + sub * (int64_t{1} << (exponent - bits));
}

int64_t UpperWithBits(int64_t bucket, int bits) {
  const int64_t exact_below = int64_t{1} << bits;
  if (bucket < exact_below) return bucket;
  const int exponent = bits + static_cast<int>((bucket - exact_below) / exact_below);
  const int64_t width = int64_t{1} << (exponent - bits);
  return LowerWithBits(bucket, bits) + (width - 1);
}

}  // namespace

int Histogram::BucketOf(int64_t value) {
  return static_cast<int>(BucketWithBits(value, kSubBucketBits));
}
int64_t Histogram::LowerBoundOf(int bucket) { return LowerWithBits(bucket, kSubBucketBits); }
int64_t Histogram::UpperBoundOf(int bucket) { return UpperWithBits(bucket, kSubBucketBits); }

void Histogram::RecordValue(int64_t value) {
  const int64_t v = std::max<int64_t>(0, value);
  const size_t bucket = static_cast<size_t>(BucketOf(v));
  if (buckets_.size() <= bucket) buckets_.resize(bucket + 1, 0);
  ++buckets_[bucket];
  ++count_;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  sum_ += v;
}

void Histogram::Merge(const Histogram& other) {
  if (buckets_.size() < other.buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
  for (size_t i = 0; i < other.buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

int64_t Histogram::ValueAtQuantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(UpperBoundOf(static_cast<int>(i)), max_);
  }
  return max_;
}

std::vector<HistogramBucket> Histogram::Buckets(int64_t sub_buckets) const {
  assert(sub_buckets >= 1 && sub_buckets <= kSubBuckets &&
         std::has_single_bit(static_cast<uint64_t>(sub_buckets)));
  const int bits = std::countr_zero(static_cast<uint64_t>(sub_buckets));
  std::vector<HistogramBucket> out;
  int64_t current = -1;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] == 0) continue;
    // Fine buckets nest inside coarse ones, so the fine lower bound decides.
    const int64_t coarse = BucketWithBits(LowerBoundOf(static_cast<int>(i)), bits);
    if (coarse != current) {
      out.push_back({LowerWithBits(coarse, bits), UpperWithBits(coarse, bits), 0});
      current = coarse;
    }
    out.back().count += buckets_[i];
  }
  return out;
}

}  // namespace orchsim::experiment
