// random.h — seeded random streams and portable distributions.
//
// One root seed drives a run. Each model draws from its own named stream whose
// seed is SplitMix64(root ^ Fnv1a64(name)), so adding a stream never shifts
// the numbers another stream draws (ns-3's sub-streams, TigerBeetle's seed
// tree). The generator is xoshiro256** (Blackman & Vigna), seeded by running
// SplitMix64 over the stream seed.
//
// Every distribution here is implemented in this file from the generator's
// 64-bit outputs and IEEE-754 arithmetic (plus log/exp/sqrt/cos), never with
// std::*_distribution, whose algorithms differ between standard libraries.
// tests/engine/kernel/random_test.cc pins the first outputs of a named stream.
//
// Not thread-safe; give each thread its own stream.
#ifndef ORCHSIM_ENGINE_KERNEL_RANDOM_H_
#define ORCHSIM_ENGINE_KERNEL_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/time.h"

namespace orchsim::kernel {

uint64_t SplitMix64(uint64_t x);
// 64-bit FNV-1a over the bytes of `s`: stable across platforms and builds.
uint64_t Fnv1a64(std::string_view s);

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform01();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi);
  // Uniform integer in [0, n) without modulo bias (Lemire). REQUIRES: n > 0.
  uint64_t UniformInt(uint64_t n);
  bool Bernoulli(double p);
  // Exponential with the given mean (> 0).
  double Exponential(double mean);
  // Normal by the Marsaglia polar method (one value per call; the spare is
  // kept so two calls consume one pair).
  double Normal(double mean, double stddev);
  // Lognormal given its median and 99th percentile (p99 >= median > 0).
  double LognormalMedianP99(double median, double p99);

 private:
  uint64_t s_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// Inline: the hottest draws of a season (a data change each, every arrival
// and latency) pay no call.
inline uint64_t Rng::NextU64() {
  const auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

inline double Rng::Uniform01() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

inline double Rng::Exponential(double mean) {
  // 1 - U is in (0, 1], so the log is finite.
  return -std::log(1.0 - Uniform01()) * mean;
}

// The seed tree: a root seed and named sub-streams.
class SeedTree {
 public:
  explicit SeedTree(uint64_t root_seed) : root_(root_seed) {}
  uint64_t root() const { return root_; }
  uint64_t SeedFor(std::string_view name) const { return SplitMix64(root_ ^ Fnv1a64(name)); }
  Rng Stream(std::string_view name) const { return Rng(SeedFor(name)); }
  SeedTree Child(std::string_view name) const { return SeedTree(SeedFor(name)); }

 private:
  uint64_t root_;
};

// Arrival times of a homogeneous Poisson process in integer microseconds.
class PoissonArrivals {
 public:
  // rate_per_second > 0.
  PoissonArrivals(double rate_per_second, Instant start);
  // The next arrival instant (strictly after the previous one).
  Instant Next(Rng& rng);

 private:
  double mean_gap_us_;
  Instant last_;
};

// An empirical distribution from (value, weight) rows: picks a row with
// probability weight / sum(weights). With interpolate=true the rows are read as
// CDF points (value, cumulative probability) and sampling interpolates
// linearly between them.
class Empirical {
 public:
  struct Row {
    double value;
    double weight;
  };
  // Returns an error message, or "" when the table is usable.
  static std::string Validate(const std::vector<Row>& rows, bool interpolate);
  // REQUIRES: Validate(rows, interpolate) == "".
  Empirical(std::vector<Row> rows, bool interpolate);
  double Sample(Rng& rng) const;

 private:
  std::vector<double> values_;
  std::vector<double> cumulative_;  // normalized to end at 1
  bool interpolate_;
};

// z such that P(Z <= z) = 0.99 for a standard normal.
inline constexpr double kNormalQuantile99 = 2.3263478740408408;

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_RANDOM_H_
