#include "policies/sliding_counts.h"

#include <gtest/gtest.h>

namespace orchsim {
namespace {

const Instant kT0 = Instant::FromUnixMicros(1'694'390'400'000'000);  // a whole second

TEST(SlidingCountsTest, AnEventCountsUntilTheBucketAWindowLaterBegins) {
  SlidingCounts<2> counts(Seconds(3));
  counts.Add(0, kT0 + Milliseconds(500));
  counts.Add(1, kT0 + Milliseconds(900), 4);
  EXPECT_EQ(counts.At(kT0 + Seconds(2) + Milliseconds(999)), (SlidingCounts<2>::Totals{1, 4}));
  EXPECT_EQ(counts.At(kT0 + Seconds(3)), (SlidingCounts<2>::Totals{0, 0}));
  EXPECT_EQ(counts.window_seconds(), 3);
}

TEST(SlidingCountsTest, OlderBucketsLeaveOneByOneAndLongGapsClearAll) {
  SlidingCounts<1> counts(Seconds(3));
  for (int s = 0; s < 3; ++s) counts.Add(0, kT0 + Seconds(s), static_cast<uint64_t>(s + 1));
  EXPECT_EQ(counts.totals()[0], 6u);
  EXPECT_EQ(counts.At(kT0 + Seconds(3))[0], 5u);   // second 0 left
  EXPECT_EQ(counts.At(kT0 + Seconds(4))[0], 3u);   // second 1 left
  EXPECT_EQ(counts.At(kT0 + Seconds(60))[0], 0u);  // everything left
  counts.Add(0, kT0 + Seconds(30));                // the past counts in the latest bucket
  EXPECT_EQ(counts.At(kT0 + Seconds(62))[0], 1u);
  EXPECT_EQ(counts.At(kT0 + Seconds(63))[0], 0u);
}

}  // namespace
}  // namespace orchsim
