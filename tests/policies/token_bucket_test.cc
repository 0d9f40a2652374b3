#include "policies/token_bucket.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

__extension__ typedef __int128 Int128;

const Instant kT0 = Instant::FromUnixMicros(1'694'390'400'000'000);  // 2023-09-11T00:00:00Z

TokenBucketConfig Config(double rate, double burst, std::vector<TokenReserve> reserves = {},
                         double cost_per_call = 1.0) {
  TokenBucketConfig c;
  c.cost_per_call = cost_per_call;
  c.rate_per_s = rate;
  c.burst = burst;
  c.reserves = std::move(reserves);
  return c;
}

// Asserts the exactness contract of TimeUntilAvailable on copies of `bucket`:
// admitted at now + wait, refused one microsecond earlier.
void ExpectWaitIsExact(const TokenBucket& bucket, Priority p, double cost, Instant now) {
  const Duration wait = bucket.TimeUntilAvailable(p, cost, now);
  ASSERT_FALSE(wait.is_infinite());
  TokenBucket at = bucket;
  EXPECT_TRUE(at.TryAcquire(p, cost, now + wait)) << wait.micros();
  if (wait > Duration::Zero()) {
    TokenBucket before = bucket;
    EXPECT_FALSE(before.TryAcquire(p, cost, now + wait - Microseconds(1))) << wait.micros();
    EXPECT_FALSE(bucket.CanAcquire(p, cost, now + wait - Microseconds(1)));
  }
}

TEST(TokenBucketTest, StartsFullAndRefillsAtTheExactMicrosecond) {
  TokenBucket bucket(Config(1.0, 10.0), kT0);
  EXPECT_DOUBLE_EQ(bucket.available(kT0), 10.0);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0)) << i;
  EXPECT_FALSE(bucket.CanAcquire(Priority::kNormal, 1.0, kT0));
  EXPECT_FALSE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 1.0, kT0), Seconds(1));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 2.5, kT0), Microseconds(2'500'000));
  EXPECT_FALSE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0 + Microseconds(999'999)));
  EXPECT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0 + Seconds(1)));
  EXPECT_DOUBLE_EQ(bucket.available(kT0 + Seconds(1)), 0.0);
  EXPECT_DOUBLE_EQ(bucket.available(kT0 + Milliseconds(1500)), 0.5);
  // Refill stops at the burst.
  EXPECT_DOUBLE_EQ(bucket.available(kT0 + Hours(1)), 10.0);
}

TEST(TokenBucketTest, FractionalRateCarriesTheRemainder) {
  // 0.3 tokens/s = 300,000,000 nano-tokens/s: one token every 3,333,333.33 us.
  TokenBucket bucket(Config(0.3, 2.0), kT0);
  ASSERT_TRUE(bucket.TryAcquire(Priority::kNormal, 2.0, kT0));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 1.0, kT0), Microseconds(3'333'334));
  ExpectWaitIsExact(bucket, Priority::kNormal, 1.0, kT0);
  Instant t = kT0 + Microseconds(3'333'334);
  ASSERT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, t));
  // 3,333,334 us earned 1.0000002 tokens; the 200 nano-tokens left over make
  // the next wait one microsecond shorter.
  EXPECT_DOUBLE_EQ(bucket.available(t), 200e-9);
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 1.0, t), Microseconds(3'333'333));
  t += Microseconds(3'333'333);
  ASSERT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, t));
  // Ten tokens in 10 * 10/3 s: the third call of the cycle lands on 10 s.
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 1.0, t), Microseconds(3'333'333));
  t += Microseconds(3'333'333);
  ASSERT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, t));
  EXPECT_EQ(t - kT0, Seconds(10));
  EXPECT_DOUBLE_EQ(bucket.available(t), 0.0);
}

TEST(TokenBucketTest, ManySmallRefillStepsEqualOneLargeStep) {
  TokenBucket stepped(Config(0.7, 5.0), kT0);
  TokenBucket jumped = stepped;
  ASSERT_TRUE(stepped.TryAcquire(Priority::kNormal, 5.0, kT0));
  ASSERT_TRUE(jumped.TryAcquire(Priority::kNormal, 5.0, kT0));
  Instant t = kT0;
  for (int i = 0; i < 1000; ++i) {
    t += Microseconds(3'001);
    EXPECT_FALSE(stepped.TryAcquire(Priority::kNormal, 3.0, t));  // updates bookkeeping
  }
  EXPECT_DOUBLE_EQ(stepped.available(t), jumped.available(t));
  EXPECT_DOUBLE_EQ(stepped.available(t), 2.1007);  // 0.7 * 3.001 s
  EXPECT_EQ(stepped.TimeUntilAvailable(Priority::kNormal, 3.0, t),
            jumped.TimeUntilAvailable(Priority::kNormal, 3.0, t));
}

TEST(TokenBucketTest, ReservesKeepTheLastTokensForHigherClasses) {
  TokenBucket bucket(Config(1.0, 10.0, {{Priority::kCritical, 2.0}, {Priority::kHigh, 4.0}}), kT0);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0)) << i;
  EXPECT_FALSE(bucket.CanAcquire(Priority::kNormal, 1.0, kT0));
  EXPECT_FALSE(bucket.CanAcquire(Priority::kLow, 1.0, kT0));
  EXPECT_FALSE(bucket.CanAcquire(Priority::kPrefetch, 1.0, kT0));
  EXPECT_DOUBLE_EQ(bucket.available(kT0), 4.0);
  ASSERT_TRUE(bucket.TryAcquire(Priority::kHigh, 1.0, kT0));
  ASSERT_TRUE(bucket.TryAcquire(Priority::kHigh, 1.0, kT0));
  EXPECT_FALSE(bucket.TryAcquire(Priority::kHigh, 1.0, kT0));
  ASSERT_TRUE(bucket.TryAcquire(Priority::kCritical, 2.0, kT0));
  EXPECT_DOUBLE_EQ(bucket.available(kT0), 0.0);
  // From empty, each class waits for its floor plus the cost.
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kCritical, 1.0, kT0), Seconds(1));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kHigh, 1.0, kT0), Seconds(3));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 1.0, kT0), Seconds(5));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kPrefetch, 1.0, kT0), Seconds(5));
  for (Priority p : kAllPriorities) ExpectWaitIsExact(bucket, p, 1.0, kT0);
  // A cost that cannot fit above the class's floor, ever.
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 6.5, kT0), Duration::Infinite());
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kHigh, 8.5, kT0), Duration::Infinite());
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kCritical, 10.0, kT0), Seconds(10));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kCritical, 10.5, kT0), Duration::Infinite());
  EXPECT_FALSE(bucket.CanAcquire(Priority::kNormal, 6.5, kT0 + Hours(1)));
  EXPECT_TRUE(bucket.CanAcquire(Priority::kNormal, 6.0, kT0 + Hours(1)));
}

TEST(TokenBucketTest, ZeroNegativeAndNonFiniteCosts) {
  TokenBucket bucket(Config(1.0, 1.0, {{Priority::kCritical, 1.0}}), kT0);
  EXPECT_TRUE(bucket.TryAcquire(Priority::kPrefetch, 0.0, kT0));  // free calls always pass
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kPrefetch, 0.0, kT0), Duration::Zero());
  EXPECT_FALSE(bucket.TryAcquire(Priority::kCritical, -1.0, kT0));
  EXPECT_FALSE(bucket.TryAcquire(Priority::kCritical, NAN, kT0));
  EXPECT_FALSE(bucket.CanAcquire(Priority::kCritical, INFINITY, kT0));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kCritical, -1.0, kT0), Duration::Infinite());
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kCritical, 1e300, kT0), Duration::Infinite());
  EXPECT_DOUBLE_EQ(bucket.available(kT0), 1.0);
}

TEST(TokenBucketTest, LongIdleAndSlowRatesDoNotOverflow) {
  TokenBucketConfig c = Config(1e-9, 1e9);
  TokenBucket slow(c, kT0);
  ASSERT_TRUE(slow.TryAcquire(Priority::kNormal, 1e9, kT0));
  // One nano-token per second: a whole burst takes ~3.2e10 years.
  EXPECT_EQ(slow.TimeUntilAvailable(Priority::kNormal, 1e9, kT0), Duration::Infinite());
  EXPECT_EQ(slow.TimeUntilAvailable(Priority::kNormal, 1e-9, kT0), Seconds(1));
  TokenBucket fast(Config(1e9, 1e9), kT0);
  ASSERT_TRUE(fast.TryAcquire(Priority::kNormal, 1e9, kT0));
  EXPECT_DOUBLE_EQ(fast.available(kT0 + Days(365 * 200)), 1e9);
  EXPECT_EQ(fast.TimeUntilAvailable(Priority::kNormal, 1e9, kT0), Seconds(1));
}

TEST(TokenBucketTest, TimeGoingBackwardsNeitherRefillsNorDrains) {
  TokenBucket bucket(Config(1.0, 2.0), kT0);
  ASSERT_TRUE(bucket.TryAcquire(Priority::kNormal, 2.0, kT0 + Seconds(10)));
  EXPECT_DOUBLE_EQ(bucket.available(kT0), 0.0);
  EXPECT_FALSE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0 + Seconds(5)));
  // The wait is measured from the caller's now, to the instant it would pass.
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kNormal, 1.0, kT0 + Seconds(5)), Seconds(6));
  EXPECT_TRUE(bucket.TryAcquire(Priority::kNormal, 1.0, kT0 + Seconds(11)));
}

TEST(TokenBucketTest, DisabledAdmitsEverythingImmediately) {
  TokenBucketConfig c = Config(1.0, 1.0);
  c.enabled = false;
  TokenBucket bucket(c, kT0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(bucket.TryAcquire(Priority::kPrefetch, 5.0, kT0));
  EXPECT_TRUE(bucket.CanAcquire(Priority::kPrefetch, 5.0, kT0));
  EXPECT_EQ(bucket.TimeUntilAvailable(Priority::kPrefetch, 5.0, kT0), Duration::Zero());
  EXPECT_TRUE(std::isinf(bucket.available(kT0)));
}

TEST(TokenBucketTest, ValidateNamesTheField) {
  EXPECT_TRUE(TokenBucketConfig{}.validate().ok());
  EXPECT_TRUE(Config(0.25, 3.0, {{Priority::kHigh, 3.0}}).validate().ok());
  auto message = [](const TokenBucketConfig& c) { return c.validate().message(); };
  EXPECT_EQ(message(Config(0.0, 10.0)), "bucket.rate_per_s: 0 must be >= 1e-9 tokens per second");
  EXPECT_EQ(message(Config(NAN, 10.0)).rfind("bucket.rate_per_s: ", 0), 0u);
  EXPECT_EQ(message(Config(1.0, -1.0)), "bucket.burst: -1 must be > 0 and <= 1e9 tokens");
  EXPECT_EQ(message(Config(1.0, 2e9)).rfind("bucket.burst: ", 0), 0u);
  TokenBucketConfig cost = Config(1.0, 2.0);
  cost.cost_per_call = 3.0;
  EXPECT_EQ(message(cost), "bucket.cost_per_call: 3 must be >= 0 and <= burst (2)");
  EXPECT_EQ(message(Config(1.0, 10.0, {{Priority::kCritical, 1.0}, {Priority::kHigh, 11.0}})),
            "bucket.reserves[1].tokens: 11 must be >= 0 and <= burst (10)");
  EXPECT_EQ(message(Config(1.0, 10.0, {{Priority::kCritical, -0.5}}))
                .rfind("bucket.reserves[0].tokens: ", 0),
            0u);
}

struct Admission {
  Instant at;
  int64_t cost_nano;
};

// The largest value, over all windows [t_i, t_j] between admission instants,
// of (admitted cost - rate * (t_j - t_i)), in nano-token-microseconds per
// second (i.e. nano-tokens * 1e6).
Int128 MaxExcessOverRate(const std::vector<Admission>& admitted, int64_t rate_nano_per_s) {
  // Group same-instant admissions: a window always holds all of an instant's.
  std::vector<Instant> instants;
  std::vector<int64_t> cost_at;
  for (const Admission& a : admitted) {
    if (instants.empty() || instants.back() != a.at) {
      instants.push_back(a.at);
      cost_at.push_back(0);
    }
    cost_at.back() += a.cost_nano;
  }
  Int128 worst = 0;
  for (size_t i = 0; i < instants.size(); ++i) {
    Int128 sum = 0;
    for (size_t j = i; j < instants.size(); ++j) {
      sum += cost_at[j];
      const Int128 excess = sum * 1'000'000 - static_cast<Int128>(rate_nano_per_s) *
                                                  (instants[j] - instants[i]).micros();
      if (excess > worst) worst = excess;
    }
  }
  return worst;
}

TEST(TokenBucketPropertyTest, AnyWindowAdmitsAtMostBurstPlusRateTimesLength) {
  struct Case {
    TokenBucketConfig config;
    double cost_scale;  // multiplies the cost menu below
  };
  const std::vector<Case> cases = {
      {Config(1.0, 10.0), 1.0},
      {Config(0.3, 2.0), 1.0},
      {Config(7.0 / 3.0, 5.5, {{Priority::kCritical, 2.0}, {Priority::kHigh, 4.0}}), 1.0},
      {Config(0.05, 3.0, {{Priority::kNormal, 1.5}}), 1.0},
      {Config(123.456, 1.0), 1.0},
      // Nano-token scale: 347 nano-tokens/s, so one nano-token takes ~2882 us
      // and any rounding of the refill shows up as a broken bound.
      {Config(347e-9, 2e-6, {{Priority::kHigh, 0.5e-6}}, 1e-6), 1e-6},
  };
  const std::vector<double> cost_menu = {1.0, 0.5, 0.25, 1.7, 0.001};
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const TokenBucketConfig& config = cases[ci].config;
    const double scale = cases[ci].cost_scale;
    ASSERT_TRUE(config.validate().ok()) << config.validate().message();
    const int64_t rate_nano = std::llround(config.rate_per_s * 1e9);
    const int64_t burst_nano = std::llround(config.burst * 1e9);
    for (uint64_t seed : {1u, 2u, 3u}) {
      SCOPED_TRACE("config " + std::to_string(ci) + " seed " + std::to_string(seed));
      testing::SeededRandom rng(seed * 1000 + ci);
      TokenBucket bucket(config, kT0);
      std::vector<Admission> admitted;
      int refused = 0;
      // Mean gap near the time one token takes, so the bucket is contended.
      const int64_t token_time_us = std::llround(1e6 / config.rate_per_s);
      Instant t = kT0;
      for (int i = 0; i < 2500; ++i) {
        switch (rng.Below(4)) {
          case 0:
            break;  // same instant: a burst
          case 1:
            t += Microseconds(1 + static_cast<int64_t>(rng.Below(10)));
            break;
          case 2:
            t += Microseconds(static_cast<int64_t>(rng.Below(2 * token_time_us + 1)));
            break;
          default:
            // Occasionally idle long enough to fill up again.
            if (rng.Below(20) == 0) {
              t += Microseconds(token_time_us * static_cast<int64_t>(config.burst + 2));
            }
        }
        const Priority p = kAllPriorities[rng.Below(kPriorityCount)];
        const double cost = cost_menu[rng.Below(cost_menu.size())] * scale;
        const bool could = bucket.CanAcquire(p, cost, t);
        const Duration wait = bucket.TimeUntilAvailable(p, cost, t);
        if (i % 7 == 0 && !wait.is_infinite()) ExpectWaitIsExact(bucket, p, cost, t);
        const bool got = bucket.TryAcquire(p, cost, t);
        ASSERT_EQ(could, got);
        ASSERT_EQ(got, wait == Duration::Zero());
        if (got) {
          admitted.push_back({t, std::llround(cost * 1e9)});
        } else {
          ++refused;
        }
      }
      ASSERT_GT(admitted.size(), 100u);
      ASSERT_GT(refused, 100);
      const Int128 excess = MaxExcessOverRate(admitted, rate_nano);
      EXPECT_LE(excess, static_cast<Int128>(burst_nano) * 1'000'000);
      // Not vacuous: some window comes within one largest cost of the bound.
      EXPECT_GT(excess, static_cast<Int128>(burst_nano - std::llround(1.7e9 * scale)) * 1'000'000);
    }
  }
}

}  // namespace
}  // namespace orchsim
