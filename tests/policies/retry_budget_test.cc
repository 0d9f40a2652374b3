#include "policies/retry_budget.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <limits>

namespace orchsim {
namespace {

Instant At(int64_t us) { return Instant::FromUnixMicros(us); }

RetryBudgetConfig Config(double ratio, double min_retries_per_s, Duration window) {
  RetryBudgetConfig c;
  c.ratio = ratio;
  c.min_retries_per_s = min_retries_per_s;
  c.window = window;
  return c;
}

TEST(RetryBudgetConfigTest, DefaultsAreValid) {
  RetryBudgetConfig c;
  EXPECT_TRUE(c.validate().ok());
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.ratio, 0.2);
  EXPECT_EQ(c.min_retries_per_s, 1.0);
  EXPECT_EQ(c.window, Seconds(10));
}

TEST(RetryBudgetConfigTest, ErrorsNameFieldValueAndConstraint) {
  EXPECT_EQ(Config(-0.5, 1, Seconds(10)).validate().message(),
            "retry_budget.ratio: -0.5 must be in 0..100");
  EXPECT_EQ(Config(100.5, 1, Seconds(10)).validate().message(),
            "retry_budget.ratio: 100.5 must be in 0..100");
  EXPECT_EQ(Config(std::numeric_limits<double>::quiet_NaN(), 1, Seconds(10)).validate().message(),
            "retry_budget.ratio: nan must be in 0..100");
  EXPECT_EQ(Config(0.2, -1, Seconds(10)).validate().message(),
            "retry_budget.min_retries_per_s: -1 must be >= 0 and finite");
  EXPECT_EQ(Config(0.2, std::numeric_limits<double>::infinity(), Seconds(10)).validate().message(),
            "retry_budget.min_retries_per_s: inf must be >= 0 and finite");
  EXPECT_EQ(Config(0.2, 1, Milliseconds(1500)).validate().message(),
            "retry_budget.window: \"1s500ms\" must be whole seconds in 1s..1h");
  EXPECT_EQ(Config(0.2, 1, Duration::Zero()).validate().message(),
            "retry_budget.window: \"0s\" must be whole seconds in 1s..1h");
  EXPECT_EQ(Config(0.2, 1, Hours(2)).validate().message(),
            "retry_budget.window: \"2h\" must be whole seconds in 1s..1h");
  EXPECT_TRUE(Config(0, 0, Hours(1)).validate().ok());
  EXPECT_TRUE(Config(100, 0, Seconds(1)).validate().ok());
}

TEST(RetryBudgetTest, FloorAloneAllowsMinPerSecondTimesWindow) {
  RetryBudget budget{RetryBudgetConfig()};  // 0.2, 1/s, 10s: floor = 10 per window
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.TryAcquireRetry(At(0))) << i;
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));
  EXPECT_FALSE(budget.TryAcquireRetry(At(9999999)));
  EXPECT_EQ(budget.granted(), 10u);
  EXPECT_EQ(budget.denied(), 2u);
  EXPECT_EQ(budget.retries_in_window(), 10u);  // denials are not recorded
}

TEST(RetryBudgetTest, RatioOfFirstAttempts) {
  RetryBudget budget(Config(0.2, 0, Seconds(10)));
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));  // nothing to retry against
  for (int i = 0; i < 4; ++i) budget.RecordFirstAttempt(At(0));
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));  // 0.8 < 1
  budget.RecordFirstAttempt(At(0));
  EXPECT_TRUE(budget.TryAcquireRetry(At(0)));  // 1 <= 0.2 * 5
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));
  for (int i = 0; i < 5; ++i) budget.RecordFirstAttempt(At(0));
  EXPECT_TRUE(budget.TryAcquireRetry(At(0)));  // 2 <= 0.2 * 10
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));
  EXPECT_EQ(budget.granted(), 2u);
  EXPECT_EQ(budget.denied(), 4u);
  EXPECT_EQ(budget.first_attempts_in_window(), 10u);
}

TEST(RetryBudgetTest, RatioAndFloorAdd) {
  RetryBudget budget(Config(0.5, 0.2, Seconds(10)));  // floor 2 per window
  for (int i = 0; i < 4; ++i) budget.RecordFirstAttempt(At(0));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(budget.TryAcquireRetry(At(0))) << i;  // 2 + 2
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));
}

TEST(RetryBudgetTest, ToleratesFloatingPointErrorInTheProduct) {
  // 0.29 * 100 is 28.999999999999996 in binary floating point.
  RetryBudget budget(Config(0.29, 0, Seconds(10)));
  for (int i = 0; i < 100; ++i) budget.RecordFirstAttempt(At(0));
  for (int i = 0; i < 29; ++i) EXPECT_TRUE(budget.TryAcquireRetry(At(0))) << i;
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));
}

TEST(RetryBudgetTest, EventsLeaveTheWindowWithTheirWholeBucket) {
  RetryBudget budget(Config(0.5, 0, Seconds(3)));  // buckets [0,1s) [1s,2s) [2s,3s)
  for (int i = 0; i < 2; ++i) budget.RecordFirstAttempt(At(999999));   // bucket 0
  for (int i = 0; i < 2; ++i) budget.RecordFirstAttempt(At(1000000));  // bucket 1
  EXPECT_TRUE(budget.TryAcquireRetry(At(1500000)));                    // bucket 1
  EXPECT_TRUE(budget.TryAcquireRetry(At(2999999)));                    // bucket 2
  EXPECT_FALSE(budget.TryAcquireRetry(At(2999999)));                   // 3 > 0.5 * 4
  // At 3s bucket 0 leaves: the two firsts recorded at 0.999999s were counted
  // for 2.000001s (more than window - 1s). 2 retries vs 0.5 * 2 = 1: denied.
  EXPECT_EQ(budget.first_attempts_in_window(), 4u);
  EXPECT_FALSE(budget.TryAcquireRetry(At(3000000)));
  EXPECT_EQ(budget.first_attempts_in_window(), 2u);
  EXPECT_EQ(budget.retries_in_window(), 2u);
  // At 4s bucket 1 leaves (2 firsts, 1 retry): nothing left to retry against.
  EXPECT_FALSE(budget.TryAcquireRetry(At(4000000)));
  EXPECT_EQ(budget.first_attempts_in_window(), 0u);
  EXPECT_EQ(budget.retries_in_window(), 1u);
  // At 5s the retry of bucket 2 leaves too.
  budget.RecordFirstAttempt(At(5000000));
  budget.RecordFirstAttempt(At(5000000));
  EXPECT_EQ(budget.retries_in_window(), 0u);
  EXPECT_TRUE(budget.TryAcquireRetry(At(5000000)));
  EXPECT_EQ(budget.granted(), 3u);
  EXPECT_EQ(budget.denied(), 3u);
}

TEST(RetryBudgetTest, LongSilenceClearsTheWindow) {
  RetryBudget budget(Config(1.0, 0, Seconds(10)));
  for (int i = 0; i < 50; ++i) budget.RecordFirstAttempt(At(0));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(budget.TryAcquireRetry(At(0)));
  budget.RecordFirstAttempt(At(Hours(5).micros()));
  EXPECT_EQ(budget.first_attempts_in_window(), 1u);
  EXPECT_EQ(budget.retries_in_window(), 0u);
  EXPECT_TRUE(budget.TryAcquireRetry(At(Hours(5).micros())));
  EXPECT_FALSE(budget.TryAcquireRetry(At(Hours(5).micros())));
}

TEST(RetryBudgetTest, AnOlderInstantCountsInTheLatestBucket) {
  RetryBudget budget(Config(1.0, 0, Seconds(2)));
  budget.RecordFirstAttempt(At(5000000));
  budget.RecordFirstAttempt(At(1000000));  // backwards: counted in bucket 5
  EXPECT_EQ(budget.first_attempts_in_window(), 2u);
  budget.RecordFirstAttempt(At(6000000));
  EXPECT_EQ(budget.first_attempts_in_window(), 3u);
  EXPECT_TRUE(budget.TryAcquireRetry(At(7000000)));  // bucket 5 left; 1 from bucket 6
  EXPECT_FALSE(budget.TryAcquireRetry(At(7000000)));
}

TEST(RetryBudgetTest, InstantsBeforeTheEpochUseFloorBuckets) {
  RetryBudget budget(Config(1.0, 0, Seconds(1)));
  budget.RecordFirstAttempt(At(-1));  // bucket -1 = [-1s, 0)
  EXPECT_TRUE(budget.TryAcquireRetry(At(-1)));
  budget.RecordFirstAttempt(At(-1));
  EXPECT_FALSE(budget.TryAcquireRetry(At(0)));  // bucket 0: the window is empty
  EXPECT_EQ(budget.first_attempts_in_window(), 0u);
}

TEST(RetryBudgetTest, DisabledGrantsEverythingAndRecordsNothing) {
  RetryBudgetConfig c = Config(0, 0, Seconds(10));
  c.enabled = false;
  RetryBudget budget(c);
  budget.RecordFirstAttempt(At(0));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(budget.TryAcquireRetry(At(i)));
  EXPECT_EQ(budget.granted(), 1000u);
  EXPECT_EQ(budget.denied(), 0u);
  EXPECT_EQ(budget.first_attempts_in_window(), 0u);
  EXPECT_EQ(budget.retries_in_window(), 0u);
}

// A brute-force model of the same rule: every event kept with its bucket.
class ReferenceBudget {
 public:
  ReferenceBudget(double ratio, double floor_per_s, int64_t window_s)
      : ratio_(ratio), floor_per_s_(floor_per_s), window_s_(window_s) {}
  void First(int64_t us) { events_.push_back({us / 1000000, false}); }
  bool Retry(int64_t us) {
    const int64_t now_bucket = us / 1000000;
    double firsts = 0, retries = 0;
    for (const auto& e : events_) {
      if (now_bucket - e.bucket < window_s_) (e.retry ? retries : firsts) += 1;
    }
    if (retries + 1 > ratio_ * firsts + floor_per_s_ * window_s_ + 1e-9) return false;
    events_.push_back({now_bucket, true});
    return true;
  }

 private:
  struct Event {
    int64_t bucket;
    bool retry;
  };
  double ratio_, floor_per_s_;
  int64_t window_s_;
  std::deque<Event> events_;
};

TEST(RetryBudgetTest, MatchesABruteForceModelOnRandomTraffic) {
  uint64_t state = 42;
  auto next = [&state]() {  // SplitMix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  RetryBudget budget(Config(0.3, 0.5, Seconds(7)));
  ReferenceBudget reference(0.3, 0.5, 7);
  int64_t now = 0;
  uint64_t granted = 0, denied = 0;
  for (int i = 0; i < 20000; ++i) {
    // Bursty gaps: mostly short, sometimes several seconds.
    const uint64_t r = next();
    now += (r % 16 == 0) ? static_cast<int64_t>(r % 9000000) : static_cast<int64_t>(r % 150000);
    if (next() % 3 == 0) {
      const bool expected = reference.Retry(now);
      ASSERT_EQ(budget.TryAcquireRetry(At(now)), expected) << "event " << i << " at " << now;
      (expected ? granted : denied) += 1;
    } else {
      budget.RecordFirstAttempt(At(now));
      reference.First(now);
    }
  }
  EXPECT_EQ(budget.granted(), granted);
  EXPECT_EQ(budget.denied(), denied);
  EXPECT_GT(granted, 1000u);  // both branches were exercised
  EXPECT_GT(denied, 1000u);
}

}  // namespace
}  // namespace orchsim
