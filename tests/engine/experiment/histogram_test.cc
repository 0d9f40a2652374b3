#include "engine/experiment/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernel/random.h"

namespace orchsim::experiment {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Quantile(0.5), Duration::Zero());
  EXPECT_EQ(h.max(), Duration::Zero());
  EXPECT_EQ(h.min(), Duration::Zero());
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (int v = 1; v <= 50; ++v) h.Record(Microseconds(v));
  EXPECT_EQ(h.Quantile(0.5), Microseconds(25));
  EXPECT_EQ(h.Quantile(0.99), Microseconds(50));
  EXPECT_EQ(h.Quantile(0.0), Microseconds(1));
  EXPECT_EQ(h.min(), Microseconds(1));
  EXPECT_DOUBLE_EQ(h.mean_us(), 25.5);
}

TEST(HistogramTest, QuantileNeverExceedsMaxAndNegativeIsZero) {
  Histogram h;
  h.Record(Microseconds(-5));
  h.Record(Milliseconds(100));
  EXPECT_EQ(h.min(), Duration::Zero());
  EXPECT_EQ(h.Quantile(1.0), Milliseconds(100));
  EXPECT_EQ(h.Quantile(0.5), Duration::Zero());
}

TEST(HistogramTest, RelativeErrorBoundedAgainstSortedSamples) {
  kernel::Rng rng(7);
  Histogram h;
  std::vector<int64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const int64_t v = static_cast<int64_t>(rng.LognormalMedianP99(5000.0, 2000000.0));
    values.push_back(v);
    h.Record(Microseconds(v));
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.5, 0.9, 0.99, 0.999}) {
    const size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
    const int64_t exact = values[rank - 1];
    const int64_t reported = h.Quantile(q).micros();
    EXPECT_GE(reported, exact) << q;
    // The documented bound: never below, at most 1/128 (0.79%) above.
    EXPECT_LE(static_cast<double>(reported - exact), static_cast<double>(exact) / 128.0) << q;
  }
  EXPECT_EQ(h.max().micros(), values.back());
}

TEST(HistogramTest, BucketUpperBoundsArePinned) {
  // 1000 lies in [512, 1024): buckets of width 4, so [1000, 1003].
  Histogram h;
  h.RecordValue(1000);
  h.RecordValue(1000000000);
  EXPECT_EQ(h.ValueAtQuantile(0.5), 1003);
  EXPECT_EQ(h.ValueAtQuantile(1.0), 1000000000);
  // 127 is still exact, 128 starts [128, 256) with width 1 (exact), 256 width 2.
  Histogram g;
  g.RecordValue(127);
  g.RecordValue(255);
  g.RecordValue(256);
  g.RecordValue(1 << 20);
  EXPECT_EQ(g.ValueAtQuantile(0.25), 127);
  EXPECT_EQ(g.ValueAtQuantile(0.5), 255);
  EXPECT_EQ(g.ValueAtQuantile(0.75), 257);
}

// Every value from 0 to 2^17 and a sweep of large ones: the reported value of
// a lone sample below a larger one stays within [v, v * (1 + 1/128)].
TEST(HistogramTest, RelativeErrorBoundHoldsForEveryValue) {
  EXPECT_LE(Histogram::kMaxRelativeError, 0.01);
  std::vector<int64_t> values;
  for (int64_t v = 0; v <= (int64_t{1} << 17); ++v) values.push_back(v);
  for (int64_t v = int64_t{1} << 17; v < (int64_t{1} << 61); v += v / 97 + 1) values.push_back(v);
  double worst = 0.0;
  for (int64_t v : values) {
    Histogram h;
    h.RecordValue(v);
    h.RecordValue(2 * v + 1);
    const int64_t reported = h.ValueAtQuantile(0.5);
    ASSERT_GE(reported, v);
    const double error = v == 0 ? 0.0 : static_cast<double>(reported - v) / static_cast<double>(v);
    ASSERT_LT(error, Histogram::kMaxRelativeError) << v;
    worst = std::max(worst, error);
  }
  // The bound is nearly reached (so the test would notice a coarser histogram).
  EXPECT_GT(worst, 0.0075);
}

TEST(HistogramTest, CoarseBucketsSumToCountAndNest) {
  Histogram h;
  for (int64_t v : {0, 1, 3, 3, 7, 100, 130, 1000, 1023, 1024, 5000000}) h.RecordValue(v);
  const std::vector<HistogramBucket> octaves = h.Buckets(1);
  const std::vector<HistogramBucket> expected = {
      {0, 0, 1},      {1, 1, 1},       {2, 3, 2},
      {4, 7, 1},      {64, 127, 1},    {128, 255, 1},
      {512, 1023, 2}, {1024, 2047, 1}, {4194304, 8388607, 1}};
  EXPECT_EQ(octaves, expected);
  uint64_t total = 0;
  for (const HistogramBucket& b : h.Buckets(16)) {
    EXPECT_LE(b.lower, b.upper);
    total += b.count;
  }
  EXPECT_EQ(total, h.count());
}

TEST(HistogramTest, MemoryFollowsTheLargestValueNotTheSampleCount) {
  Histogram h;
  for (int i = 0; i < 100000; ++i) h.RecordValue(i % 1000);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.ValueAtQuantile(1.0), 999);
  EXPECT_EQ(h.sum(), 100 * 499500);
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (int i = 0; i < 1000; ++i) {
    const Duration v = Microseconds(i * 37 % 5000);
    (i % 2 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.Quantile(q), all.Quantile(q));
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

}  // namespace
}  // namespace orchsim::experiment
