#include "engine/kernel/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace orchsim::kernel {
namespace {

constexpr int kSamples = 200000;

// Pinned values: if these change, every published result changes. Update
// only on purpose, with a note in the changelog.
TEST(RandomTest, PinsTheFirstOutputsOfANamedStream) {
  SeedTree seeds(42);
  Rng rng = seeds.Stream("upstream/odds/health");
  EXPECT_EQ(seeds.SeedFor("upstream/odds/health"), 0x89bbfd28613d0bc1ULL);
  EXPECT_EQ(rng.NextU64(), 0xbf326e336a70a988ULL);
  EXPECT_EQ(rng.NextU64(), 0x4564e72cb659c123ULL);
  EXPECT_EQ(rng.NextU64(), 0x0c758ff4a5b8359aULL);
}

TEST(RandomTest, PinsSplitMixAndFnv) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  // Published first output of SplitMix64 seeded with 0 (increment applied).
  EXPECT_EQ(SplitMix64(0), 0xe220a8397b1dcdafULL);
}

TEST(RandomTest, SameSeedSameSequenceDifferentNamesDiffer) {
  SeedTree a(7), b(7), c(8);
  Rng x = a.Stream("demand"), y = b.Stream("demand"), z = a.Stream("health");
  Rng w = c.Stream("demand");
  int same_as_other_name = 0, same_as_other_root = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t vx = x.NextU64();
    ASSERT_EQ(vx, y.NextU64());
    same_as_other_name += vx == z.NextU64();
    same_as_other_root += vx == w.NextU64();
  }
  EXPECT_EQ(same_as_other_name, 0);
  EXPECT_EQ(same_as_other_root, 0);
  EXPECT_NE(a.Child("x").root(), a.Child("y").root());
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double Variance(const std::vector<double>& v) {
  const double m = Mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}
double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}
template <typename F>
std::vector<double> Draw(F f) {
  std::vector<double> v(kSamples);
  for (double& x : v) x = f();
  return v;
}

// Tolerances are about 5 standard errors at these sample sizes.
TEST(RandomTest, UniformMoments) {
  Rng rng(1);
  auto v = Draw([&] { return rng.Uniform(2.0, 4.0); });
  EXPECT_NEAR(Mean(v), 3.0, 0.007);
  EXPECT_NEAR(Variance(v), 4.0 / 12.0, 0.005);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 2.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 4.0);
}

TEST(RandomTest, UniformIntIsUnbiased) {
  Rng rng(2);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < kSamples * 7 / 7; ++i) ++counts[rng.UniformInt(7)];
  for (int c : counts) EXPECT_NEAR(c, kSamples / 7.0, 5 * std::sqrt(kSamples / 7.0));
}

TEST(RandomTest, ExponentialMoments) {
  Rng rng(3);
  auto v = Draw([&] { return rng.Exponential(2.5); });
  EXPECT_NEAR(Mean(v), 2.5, 0.03);
  EXPECT_NEAR(Variance(v), 6.25, 0.2);
}

TEST(RandomTest, NormalMoments) {
  Rng rng(4);
  auto v = Draw([&] { return rng.Normal(10.0, 2.0); });
  EXPECT_NEAR(Mean(v), 10.0, 0.025);
  EXPECT_NEAR(std::sqrt(Variance(v)), 2.0, 0.02);
}

TEST(RandomTest, LognormalHitsMedianAndP99) {
  Rng rng(5);
  auto v = Draw([&] { return rng.LognormalMedianP99(120.0, 900.0); });
  EXPECT_NEAR(Quantile(v, 0.5), 120.0, 120.0 * 0.02);
  EXPECT_NEAR(Quantile(v, 0.99), 900.0, 900.0 * 0.05);
}

TEST(RandomTest, BernoulliFrequency) {
  Rng rng(6);
  int hits = 0;
  for (int i = 0; i < kSamples; ++i) hits += rng.Bernoulli(0.3);
  EXPECT_NEAR(hits / static_cast<double>(kSamples), 0.3, 0.005);
}

TEST(RandomTest, PoissonArrivalsRateAndStrictOrder) {
  Rng rng(7);
  const Instant start = Instant::FromUnixMicros(0);
  PoissonArrivals arrivals(50.0, start);  // 50 per second
  Instant previous = start;
  int count = 0;
  std::vector<int> per_second(1000, 0);
  for (;;) {
    const Instant t = arrivals.Next(rng);
    ASSERT_GT(t, previous);
    previous = t;
    if (t >= start + Seconds(1000)) break;
    ++per_second[static_cast<size_t>((t - start) / Seconds(1))];
    ++count;
  }
  EXPECT_NEAR(count, 50000, 5 * std::sqrt(50000.0));
  std::vector<double> counts(per_second.begin(), per_second.end());
  // Poisson counts: variance equals mean.
  EXPECT_NEAR(Variance(counts), 50.0, 7.0);
}

TEST(RandomTest, EmpiricalWeightsAndInterpolation) {
  Rng rng(8);
  Empirical discrete({{1.0, 1.0}, {5.0, 3.0}}, /*interpolate=*/false);
  int fives = 0;
  for (int i = 0; i < kSamples; ++i) fives += discrete.Sample(rng) == 5.0;
  EXPECT_NEAR(fives / static_cast<double>(kSamples), 0.75, 0.005);

  Empirical cdf({{0.0, 0.0}, {10.0, 0.5}, {20.0, 1.0}}, /*interpolate=*/true);
  auto v = Draw([&] { return cdf.Sample(rng); });
  EXPECT_NEAR(Mean(v), 10.0, 0.05);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
  EXPECT_LE(*std::max_element(v.begin(), v.end()), 20.0);
}

TEST(RandomTest, EmpiricalValidationNamesTheProblem) {
  EXPECT_EQ(Empirical::Validate({}, false), "empirical table is empty");
  EXPECT_NE(Empirical::Validate({{1, -1}}, false).find("negative weight"), std::string::npos);
  EXPECT_NE(Empirical::Validate({{0, 0}, {1, 0.9}}, true).find("end at 1"), std::string::npos);
  EXPECT_NE(Empirical::Validate({{0, 0}, {2, 0.5}, {1, 1}}, true).find("ascend"),
            std::string::npos);
  EXPECT_EQ(Empirical::Validate({{0, 0}, {1, 1}}, true), "");
}

}  // namespace
}  // namespace orchsim::kernel
