#include "policies/retry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

namespace orchsim {
namespace {

// Returns scripted values in order; running out is a test failure.
class ScriptedRandom : public RandomSource {
 public:
  ScriptedRandom(std::initializer_list<double> values) : values_(values) {}
  double Uniform01() override {
    ++draws_;
    if (values_.empty()) {
      ADD_FAILURE() << "ScriptedRandom ran out of values";
      return 0.0;
    }
    const double v = values_.front();
    values_.pop_front();
    return v;
  }
  void Push(double v) { values_.push_back(v); }
  int draws() const { return draws_; }
  size_t remaining() const { return values_.size(); }

 private:
  std::deque<double> values_;
  int draws_ = 0;
};

// SplitMix64 -> [0, 1) with 53 bits, for the statistical check only.
class SplitMixRandom : public RandomSource {
 public:
  explicit SplitMixRandom(uint64_t seed) : state_(seed) {}
  double Uniform01() override {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

 private:
  uint64_t state_;
};

RetryConfig Config(BackoffKind kind, Duration base = Milliseconds(100),
                   Duration cap = Seconds(10)) {
  RetryConfig c;
  c.backoff = kind;
  c.base = base;
  c.cap = cap;
  return c;
}

const Instant kNow = Instant::FromUnixMicros(784111777000000);  // 1994-11-06T08:49:37Z

// ---- names ----

TEST(BackoffKindTest, NamesRoundTrip) {
  for (BackoffKind k :
       {BackoffKind::kNone, BackoffKind::kConstant, BackoffKind::kExponential,
        BackoffKind::kEqualJitter, BackoffKind::kFullJitter, BackoffKind::kDecorrelatedJitter}) {
    EXPECT_EQ(ParseBackoffKind(BackoffKindName(k)), k);
  }
  EXPECT_EQ(BackoffKindName(BackoffKind::kEqualJitter), "equal_jitter");
  EXPECT_EQ(BackoffKindName(BackoffKind::kDecorrelatedJitter), "decorrelated_jitter");
  EXPECT_EQ(ParseBackoffKind("Exponential"), std::nullopt);
  EXPECT_EQ(ParseBackoffKind("jitter"), std::nullopt);
  EXPECT_EQ(ParseBackoffKind(""), std::nullopt);
}

// ---- validate ----

TEST(RetryConfigTest, DefaultsAreValid) {
  RetryConfig c;
  EXPECT_TRUE(c.validate().ok());
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.max_attempts, 3);
  EXPECT_EQ(c.backoff, BackoffKind::kExponential);
  EXPECT_EQ(c.base, Milliseconds(100));
  EXPECT_EQ(c.cap, Seconds(10));
  EXPECT_TRUE(c.honour_retry_after);
  EXPECT_EQ(c.max_retry_after, Minutes(5));
  EXPECT_EQ(c.retryable_statuses, (std::vector<int>{429, 500, 502, 503, 504, 599}));
}

TEST(RetryConfigTest, ErrorsNameFieldValueAndConstraint) {
  RetryConfig c;
  c.max_attempts = 0;
  EXPECT_EQ(c.validate().message(), "retry.max_attempts: 0 must be in 1..100");
  c.max_attempts = 101;
  EXPECT_EQ(c.validate().message(), "retry.max_attempts: 101 must be in 1..100");

  c = RetryConfig();
  c.base = Milliseconds(-1);
  EXPECT_EQ(c.validate().message(), "retry.base: \"-1ms\" must be >= 0");
  c.base = Duration::Zero();
  EXPECT_EQ(c.validate().message(), "retry.base: \"0s\" must be > 0 with backoff \"exponential\"");
  c.backoff = BackoffKind::kNone;
  EXPECT_TRUE(c.validate().ok());

  c = RetryConfig();
  c.cap = Milliseconds(50);
  EXPECT_EQ(c.validate().message(), "retry.cap: \"50ms\" must be >= retry.base (100ms)");

  c = RetryConfig();
  c.max_retry_after = Seconds(-1);
  EXPECT_EQ(c.validate().message(), "retry.max_retry_after: \"-1s\" must be >= 0");

  c = RetryConfig();
  c.retryable_statuses = {503, 600};
  EXPECT_EQ(c.validate().message(),
            "retry.retryable_statuses[1]: 600 must be an HTTP status in 100..599");
}

// ---- Backoff formulas ----

TEST(BackoffTest, NoneAndConstantDrawNothing) {
  ScriptedRandom random({});
  Backoff none(Config(BackoffKind::kNone), random);
  Backoff constant(Config(BackoffKind::kConstant), random);
  for (int r : {1, 2, 10, 1000}) {
    EXPECT_EQ(none.Next(r), Duration::Zero());
    EXPECT_EQ(constant.Next(r), Microseconds(100000));
  }
  EXPECT_EQ(random.draws(), 0);
}

TEST(BackoffTest, ExponentialDoublesFromBaseOnFirstRetryAndSaturatesAtCap) {
  ScriptedRandom random({});
  Backoff b(Config(BackoffKind::kExponential), random);
  // n = retry_number - 1: 100ms * 2^n, capped at 10s.
  EXPECT_EQ(b.Next(1).micros(), 100000);
  EXPECT_EQ(b.Next(2).micros(), 200000);
  EXPECT_EQ(b.Next(3).micros(), 400000);
  EXPECT_EQ(b.Next(7).micros(), 6400000);
  EXPECT_EQ(b.Next(8).micros(), 10000000);  // 12.8s capped
  EXPECT_EQ(b.Next(61).micros(), 10000000);
  EXPECT_EQ(b.Next(64).micros(), 10000000);
  EXPECT_EQ(b.Next(1000).micros(), 10000000);
  EXPECT_EQ(b.Next(INT_MAX).micros(), 10000000);
  // Retry numbers below 1 are treated as the first retry.
  EXPECT_EQ(b.Next(0).micros(), 100000);
  EXPECT_EQ(b.Next(-5).micros(), 100000);
  EXPECT_EQ(random.draws(), 0);
}

TEST(BackoffTest, ExponentialNeverOverflowsEvenWithAnInfiniteCap) {
  ScriptedRandom random({});
  Backoff one_us(Config(BackoffKind::kExponential, Microseconds(1), Duration::Infinite()), random);
  EXPECT_EQ(one_us.Next(63).micros(), int64_t{1} << 62);
  EXPECT_EQ(one_us.Next(64), Duration::Infinite());  // 2^63 does not fit: saturate
  EXPECT_EQ(one_us.Next(200), Duration::Infinite());

  Backoff three_us(Config(BackoffKind::kExponential, Microseconds(3), Duration::Infinite()),
                   random);
  EXPECT_EQ(three_us.Next(62).micros(), int64_t{3} << 61);  // 6.9e18 still fits
  EXPECT_EQ(three_us.Next(63), Duration::Infinite());

  // A large base near the cap: the first doubling already saturates.
  Backoff big(Config(BackoffKind::kExponential, Seconds(6), Seconds(10)), random);
  EXPECT_EQ(big.Next(1), Seconds(6));
  EXPECT_EQ(big.Next(2), Seconds(10));
}

TEST(BackoffTest, FullJitterIsFloorOfUTimesExpo) {
  ScriptedRandom random({0.5, 0.999999, 0.0, 0.25, 0.1234567});
  Backoff b(Config(BackoffKind::kFullJitter), random);
  EXPECT_EQ(b.Next(1).micros(), 50000);     // 0.5 * 100000
  EXPECT_EQ(b.Next(1).micros(), 99999);     // floor(99999.9)
  EXPECT_EQ(b.Next(3).micros(), 0);         // 0.0 * 400000
  EXPECT_EQ(b.Next(30).micros(), 2500000);  // 0.25 * cap
  EXPECT_EQ(b.Next(1).micros(), 12345);     // floor(12345.67)
  EXPECT_EQ(random.draws(), 5);
}

TEST(BackoffTest, EqualJitterIsHalfPlusUniformOverTheOtherHalf) {
  ScriptedRandom random({0.5, 0.0, 0.999999, 0.5});
  Backoff b(Config(BackoffKind::kEqualJitter), random);
  EXPECT_EQ(b.Next(1).micros(), 75000);     // 50000 + 0.5 * 50000
  EXPECT_EQ(b.Next(2).micros(), 100000);    // 100000 + 0
  EXPECT_EQ(b.Next(2).micros(), 199999);    // 100000 + floor(99999.9)
  EXPECT_EQ(b.Next(40).micros(), 7500000);  // 5s + 0.5 * 5s
  EXPECT_EQ(random.draws(), 4);

  // Odd microsecond counts: expo 3 -> 1 + U(0, 2), so the range is [1, 3).
  ScriptedRandom odd({0.0, 0.75, 0.99});
  Backoff c(Config(BackoffKind::kEqualJitter, Microseconds(3), Seconds(1)), odd);
  EXPECT_EQ(c.Next(1).micros(), 1);
  EXPECT_EQ(c.Next(1).micros(), 2);  // 1 + floor(1.5)
  EXPECT_EQ(c.Next(1).micros(), 2);  // 1 + floor(1.98)
}

TEST(BackoffTest, DecorrelatedJitterGrowsFromPreviousSleepAndIgnoresRetryNumber) {
  ScriptedRandom random({0.5, 0.5, 0.0, 0.999});
  Backoff b(Config(BackoffKind::kDecorrelatedJitter), random);
  EXPECT_EQ(b.Next(1).micros(), 200000);  // U(100000, 300000), u = 0.5
  EXPECT_EQ(b.Next(7).micros(), 350000);  // U(100000, 600000)
  EXPECT_EQ(b.Next(2).micros(), 100000);  // U(100000, 1050000), u = 0
  EXPECT_EQ(b.Next(3).micros(), 299800);  // U(100000, 300000), u = 0.999
  EXPECT_EQ(random.draws(), 4);
}

TEST(BackoffTest, DecorrelatedJitterIsCappedAndResetRestartsFromBase) {
  ScriptedRandom random({0.99, 0.1, 0.5});
  Backoff b(Config(BackoffKind::kDecorrelatedJitter, Seconds(1), Seconds(2)), random);
  EXPECT_EQ(b.Next(1), Seconds(2));          // U(1s, 3s) = 2.98s, capped
  EXPECT_EQ(b.Next(2), Milliseconds(1500));  // U(1s, 6s) with u = 0.1
  b.Reset();
  EXPECT_EQ(b.Next(3), Seconds(2));  // U(1s, 3s) = 2s: history forgotten
}

TEST(BackoffTest, DecorrelatedJitterSaturatesWithAnInfiniteCap) {
  ScriptedRandom random({});
  Backoff b(Config(BackoffKind::kDecorrelatedJitter, Seconds(1), Duration::Infinite()), random);
  Duration previous = Duration::Zero();
  for (int i = 0; i < 60; ++i) {
    random.Push(0.999999);
    const Duration d = b.Next(i + 1);
    EXPECT_GE(d, previous) << i;
    EXPECT_GE(d, Seconds(1)) << i;
    previous = d;
  }
  // 3^40 s would overflow: the sequence reached the largest Duration.
  EXPECT_GT(previous.micros(), std::numeric_limits<int64_t>::max() / 2);
}

TEST(BackoffTest, OutOfRangeDrawsAreClampedIntoTheInterval) {
  ScriptedRandom random({1.0, 7.5, -0.5, std::nan("")});
  Backoff b(Config(BackoffKind::kFullJitter), random);
  EXPECT_EQ(b.Next(1).micros(), 100000);
  EXPECT_EQ(b.Next(1).micros(), 100000);
  EXPECT_EQ(b.Next(1).micros(), 0);
  EXPECT_EQ(b.Next(1).micros(), 0);
}

TEST(BackoffTest, FullJitterMeanIsHalfTheExponentialAtAFixedSeed) {
  SplitMixRandom random(20150304);
  Backoff b(Config(BackoffKind::kFullJitter), random);
  constexpr int kDraws = 200000;
  int64_t sum = 0;
  int64_t max = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t d = b.Next(1).micros();
    ASSERT_GE(d, 0);
    ASSERT_LT(d, 100000);
    sum += d;
    max = std::max(max, d);
  }
  const double mean = static_cast<double>(sum) / kDraws;
  // Standard error of U(0, 1e5) over 2e5 draws is ~65 us; allow ~6 of them.
  EXPECT_NEAR(mean, 50000.0, 400.0);
  EXPECT_GT(max, 99000);
}

// ---- RetryPolicy ----

TEST(RetryPolicyTest, RetryableStatusesAreAClassification) {
  RetryPolicy policy{RetryConfig()};
  for (int s : {429, 500, 502, 503, 504, 599}) EXPECT_TRUE(policy.IsRetryable(s)) << s;
  for (int s : {200, 400, 401, 404, 501}) EXPECT_FALSE(policy.IsRetryable(s)) << s;

  RetryConfig off;
  off.enabled = false;
  EXPECT_TRUE(RetryPolicy(off).IsRetryable(503));
}

TEST(RetryPolicyTest, ShouldRetryCountsTheFirstAttempt) {
  RetryPolicy policy{RetryConfig()};  // max_attempts = 3
  EXPECT_TRUE(policy.ShouldRetry(503, 1));
  EXPECT_TRUE(policy.ShouldRetry(503, 2));
  EXPECT_FALSE(policy.ShouldRetry(503, 3));
  EXPECT_FALSE(policy.ShouldRetry(503, 4));
  EXPECT_FALSE(policy.ShouldRetry(404, 1));

  RetryConfig single;
  single.max_attempts = 1;
  EXPECT_FALSE(RetryPolicy(single).ShouldRetry(503, 1));

  RetryConfig off;
  off.enabled = false;
  EXPECT_FALSE(RetryPolicy(off).ShouldRetry(503, 1));
}

Response WithRetryAfter(const std::string& value) {
  Response r;
  r.status = 429;
  r.headers.Set("Retry-After", value);
  return r;
}

TEST(RetryPolicyTest, DelayForHonoursRetryAfterSecondsAndDates) {
  ScriptedRandom random({});
  RetryConfig config;
  RetryPolicy policy(config);
  Backoff backoff(config, random);
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("7"), backoff, 1, kNow), Seconds(7));
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("0"), backoff, 1, kNow), Duration::Zero());
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("Sun, 06 Nov 1994 08:51:37 GMT"), backoff, 1, kNow),
            Minutes(2));
  // Header names are case-insensitive.
  Response lower;
  lower.headers.Set("retry-after", "3");
  EXPECT_EQ(policy.DelayFor(lower, backoff, 1, kNow), Seconds(3));
}

TEST(RetryPolicyTest, DelayForClampsPastAndAbsurdRetryAfter) {
  ScriptedRandom random({});
  RetryConfig config;
  RetryPolicy policy(config);
  Backoff backoff(config, random);
  // A date in the past means "now", never a negative delay.
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT"), backoff, 1, kNow),
            Duration::Zero());
  // ~31 years and a far-future date are clamped to max_retry_after (5m).
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("999999999"), backoff, 1, kNow), Minutes(5));
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT"), backoff, 1, kNow),
            Minutes(5));
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("301"), backoff, 1, kNow), Minutes(5));
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("299"), backoff, 1, kNow), Seconds(299));
}

TEST(RetryPolicyTest, DelayForFallsBackToBackoff) {
  ScriptedRandom random({0.5, 0.5, 0.5, 0.5});
  RetryConfig config = Config(BackoffKind::kDecorrelatedJitter);
  RetryPolicy policy(config);
  Backoff backoff(config, random);
  Response none;
  none.status = 503;
  EXPECT_EQ(policy.DelayFor(none, backoff, 1, kNow).micros(), 200000);
  // Malformed Retry-After: the backoff, advanced once more.
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("soon"), backoff, 2, kNow).micros(), 350000);
  // A valid Retry-After does not advance the backoff (no draw).
  EXPECT_EQ(policy.DelayFor(WithRetryAfter("4"), backoff, 3, kNow), Seconds(4));
  EXPECT_EQ(random.draws(), 2);

  // Not honoured: the header is ignored.
  config.honour_retry_after = false;
  RetryPolicy ignoring(config);
  EXPECT_EQ(ignoring.DelayFor(WithRetryAfter("4"), backoff, 3, kNow).micros(),
            575000);  // U(100000, 1050000), u = 0.5
  EXPECT_EQ(random.draws(), 3);
}

}  // namespace
}  // namespace orchsim
