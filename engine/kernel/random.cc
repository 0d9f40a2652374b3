#include "engine/kernel/random.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace orchsim::kernel {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& word : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    word = z ^ (z >> 31);
  }
}

double Rng::Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }

uint64_t Rng::UniformInt(uint64_t n) {
  assert(n > 0);
  // Lemire's nearly divisionless method with rejection.
  __extension__ using u128 = unsigned __int128;  // GCC and Clang both provide it
  u128 m = static_cast<u128>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<u128>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

bool Rng::Bernoulli(double p) { return Uniform01() < p; }

double Rng::Normal(double mean, double stddev) {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return mean + stddev * spare_normal_;
  }
  double u, v, s;
  do {
    u = 2.0 * Uniform01() - 1.0;
    v = 2.0 * Uniform01() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * factor;
  has_spare_normal_ = true;
  return mean + stddev * u * factor;
}

double Rng::LognormalMedianP99(double median, double p99) {
  assert(median > 0 && p99 >= median);
  const double mu = std::log(median);
  const double sigma = (std::log(p99) - mu) / kNormalQuantile99;
  return std::exp(Normal(mu, sigma));
}

PoissonArrivals::PoissonArrivals(double rate_per_second, Instant start)
    : mean_gap_us_(1e6 / rate_per_second), last_(start) {
  assert(rate_per_second > 0);
}

Instant PoissonArrivals::Next(Rng& rng) {
  // Round to whole microseconds, at least 1 so arrivals stay strictly ordered.
  const double gap = rng.Exponential(mean_gap_us_);
  const int64_t gap_us = std::max<int64_t>(1, static_cast<int64_t>(std::llround(gap)));
  last_ += Duration::FromMicros(gap_us);
  return last_;
}

std::string Empirical::Validate(const std::vector<Row>& rows, bool interpolate) {
  if (rows.empty()) return "empirical table is empty";
  if (interpolate && rows.size() < 2) return "an interpolated CDF needs at least 2 points";
  double previous_value = -HUGE_VAL;
  double previous_weight = -1.0;
  double total = 0.0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (!std::isfinite(r.value) || !std::isfinite(r.weight)) {
      return "row " + std::to_string(i) + ": value and weight must be finite";
    }
    if (r.weight < 0) return "row " + std::to_string(i) + ": negative weight";
    if (interpolate) {
      if (r.value < previous_value) return "row " + std::to_string(i) + ": values must ascend";
      if (r.weight < previous_weight || r.weight > 1.0) {
        return "row " + std::to_string(i) + ": cumulative probabilities must ascend within [0, 1]";
      }
      previous_value = r.value;
      previous_weight = r.weight;
    }
    total += r.weight;
  }
  if (interpolate) {
    if (rows.front().weight != 0.0 || rows.back().weight != 1.0) {
      return "an interpolated CDF must start at probability 0 and end at 1";
    }
  } else if (total <= 0.0) {
    return "weights sum to zero";
  }
  return "";
}

Empirical::Empirical(std::vector<Row> rows, bool interpolate) : interpolate_(interpolate) {
  assert(Validate(rows, interpolate).empty());
  double total = 0.0;
  for (const Row& r : rows) total += interpolate ? 0.0 : r.weight;
  double running = 0.0;
  for (const Row& r : rows) {
    values_.push_back(r.value);
    if (interpolate) {
      cumulative_.push_back(r.weight);
    } else {
      running += r.weight;
      cumulative_.push_back(running / total);
    }
  }
  cumulative_.back() = 1.0;
}

double Empirical::Sample(Rng& rng) const {
  const double u = rng.Uniform01();
  const size_t i = static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) -
                                       cumulative_.begin());
  const size_t idx = std::min(i, cumulative_.size() - 1);
  if (!interpolate_) return values_[idx];
  if (idx == 0) return values_[0];
  const double c0 = cumulative_[idx - 1];
  const double c1 = cumulative_[idx];
  if (c1 <= c0) return values_[idx];
  return values_[idx - 1] + (values_[idx] - values_[idx - 1]) * (u - c0) / (c1 - c0);
}

}  // namespace orchsim::kernel
