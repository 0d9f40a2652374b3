#include "policies/exact_round.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace orchsim {
namespace {

TEST(ExactRoundTest, HalvesRoundAwayFromZeroLikeLlround) {
  EXPECT_EQ(RoundToInt64(0.0), 0);
  EXPECT_EQ(RoundToInt64(0.5), 1);
  EXPECT_EQ(RoundToInt64(1.5), 2);
  EXPECT_EQ(RoundToInt64(2.5), 3);  // not to even
  EXPECT_EQ(RoundToInt64(2.4999999999999996), 2);
  EXPECT_EQ(RoundToInt64(0.49999999999999994), 0);  // the largest double below one half
  EXPECT_EQ(RoundToInt64(-2.5), -3);
  EXPECT_EQ(RoundToInt64(0x1p52 - 0.5), static_cast<int64_t>(0x1p52));
  EXPECT_EQ(RoundToInt64(0x1p62 + 1024.0), (int64_t{1} << 62) + 1024);
}

TEST(ExactRoundTest, EqualsLlroundOverEveryMagnitude) {
  std::vector<double> values = {std::numeric_limits<double>::denorm_min(),
                                1e-300,
                                0x1p52,
                                0x1p52 + 1,
                                0x1p53 + 2,
                                0x1p63 - 1024,
                                -0.0,
                                -0.5,
                                -0x1p52 - 1};
  // Bit patterns from a fixed sequence (SplitMix64), magnitudes below 2^63.
  uint64_t state = 42;
  while (values.size() < 200000) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const double x = std::bit_cast<double>(z);
    if (std::isfinite(x) && std::fabs(x) < 0x1p63) values.push_back(x);
    // Also near halves of small integers, where the rule matters.
    values.push_back(static_cast<double>(z % 1000000) / 2.0 + (z % 3 == 0 ? 1e-9 : 0.0));
  }
  for (double x : values) ASSERT_EQ(RoundToInt64(x), std::llround(x)) << x;
}

}  // namespace
}  // namespace orchsim
