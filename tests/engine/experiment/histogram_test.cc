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
    EXPECT_LE(reported, exact + exact / 32 + 1) << q;
  }
  EXPECT_EQ(h.max().micros(), values.back());
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
