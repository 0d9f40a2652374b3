#include "engine/experiment/timeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace orchsim::experiment {
namespace {

// A bucket whose every field depends on `i` (and is non-zero), with two
// apis on odd hours.
TimeBucket Filled(size_t i) {
  TimeBucket b;
  const uint64_t n = i + 1;
  b.requests = n;
  b.completed = n + 1;
  b.upstream_calls = n + 2;
  b.retry_calls = n + 3;
  b.cache_hits = n + 4;
  b.coalesced = n + 5;
  b.client_failures = n + 6;
  b.breaker_trips = n + 7;
  b.retry_budget_denied = n + 8;
  b.answered_with_data = n + 9;
  b.outdated = n + 10;
  b.credits = 0.1 * static_cast<double>(n);  // not exact in binary
  b.credits_by_api["odds"] = b.credits;
  if (i % 2 == 1) b.credits_by_api["scores-" + std::to_string(i)] = -0.0;
  b.wait_sum_us = static_cast<int64_t>(n) * 11;
  b.wait_max_us = static_cast<int64_t>(n) * 3;
  b.latency_sum_us = -static_cast<int64_t>(n);
  b.latency_max_us = static_cast<int64_t>(n) * 7;
  return b;
}

void ExpectSame(const TimeBucket& a, const TimeBucket& b, size_t i) {
  EXPECT_EQ(a.requests, b.requests) << i;
  EXPECT_EQ(a.completed, b.completed) << i;
  EXPECT_EQ(a.upstream_calls, b.upstream_calls) << i;
  EXPECT_EQ(a.retry_calls, b.retry_calls) << i;
  EXPECT_EQ(a.cache_hits, b.cache_hits) << i;
  EXPECT_EQ(a.coalesced, b.coalesced) << i;
  EXPECT_EQ(a.client_failures, b.client_failures) << i;
  EXPECT_EQ(a.breaker_trips, b.breaker_trips) << i;
  EXPECT_EQ(a.retry_budget_denied, b.retry_budget_denied) << i;
  EXPECT_EQ(a.answered_with_data, b.answered_with_data) << i;
  EXPECT_EQ(a.outdated, b.outdated) << i;
  EXPECT_EQ(a.credits, b.credits) << i;
  EXPECT_EQ(a.credits_by_api, b.credits_by_api) << i;
  EXPECT_EQ(a.wait_sum_us, b.wait_sum_us) << i;
  EXPECT_EQ(a.wait_max_us, b.wait_max_us) << i;
  EXPECT_EQ(a.latency_sum_us, b.latency_sum_us) << i;
  EXPECT_EQ(a.latency_max_us, b.latency_max_us) << i;
}

// Every third hour is written; hours are spilled as the writer moves on.
// 20000 hours of records exceed the memory buffer, so the temporary file is
// used; every value (and every quiet hour) reads back exactly.
TEST(TimelineTest, SpilledHoursReadBackExactlyAndInOrder) {
  Timeline t;
  constexpr size_t kHours = 20000;
  for (size_t i = 0; i < kHours; i += 3) {
    t.SpillBefore(i > 5 ? i - 5 : 0);
    t.Mutable(i) = Filled(i);
  }
  t.resize(kHours + 10);
  EXPECT_GE(t.open_from(), kHours - 9);
  size_t expected = 0;
  t.ForEach([&](size_t i, const TimeBucket& b) {
    ASSERT_EQ(i, expected++);
    if (i % 3 == 0 && i < kHours) {
      ExpectSame(b, Filled(i), i);
    } else {
      EXPECT_TRUE(b.empty()) << i;
    }
  });
  EXPECT_EQ(expected, kHours + 10);
}

// -0.0 credits print as "-0.000": such a bucket is not empty, so it is kept.
TEST(TimelineTest, NegativeZeroCreditsAreNotEmpty) {
  TimeBucket b;
  EXPECT_TRUE(b.empty());
  b.credits = -0.0;
  EXPECT_FALSE(b.empty());
  Timeline t;
  t.Mutable(0) = b;
  t.Mutable(1).requests = 1;
  t.SpillBefore(2);
  const std::vector<TimeBucket> all = t.ToVector();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(std::signbit(all[0].credits));
}

// A copy sees what was spilled before it was made; the original and the copy
// then go on separately.
TEST(TimelineTest, CopiesDoNotSeeEachOthersLaterHours) {
  Timeline a;
  a.Mutable(0).requests = 1;
  a.SpillBefore(1);
  Timeline b = a;
  a.Mutable(1).requests = 2;
  a.SpillBefore(2);
  b.Mutable(1).requests = 3;
  b.Mutable(2).requests = 4;
  b.SpillBefore(3);
  a.Mutable(2).requests = 5;
  const std::vector<TimeBucket> va = a.ToVector();
  const std::vector<TimeBucket> vb = b.ToVector();
  ASSERT_EQ(va.size(), 3u);
  ASSERT_EQ(vb.size(), 3u);
  EXPECT_EQ(va[0].requests, 1u);
  EXPECT_EQ(va[1].requests, 2u);
  EXPECT_EQ(va[2].requests, 5u);
  EXPECT_EQ(vb[0].requests, 1u);
  EXPECT_EQ(vb[1].requests, 3u);
  EXPECT_EQ(vb[2].requests, 4u);
}

// A write to an hour already spilled is added when it is read back.
TEST(TimelineTest, LateWritesAreAddedToSpilledHours) {
  Timeline t;
  t.Mutable(3).requests = 2;
  t.Mutable(3).wait_max_us = 10;
  t.SpillBefore(4);
  TimeBucket& late = t.Mutable(3);
  late.requests = 5;
  late.wait_max_us = 7;
  t.Mutable(1).completed = 9;
  const std::vector<TimeBucket> all = t.ToVector();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].requests, 7u);
  EXPECT_EQ(all[3].wait_max_us, 10);
  EXPECT_EQ(all[1].completed, 9u);
  EXPECT_TRUE(all[0].empty());
}

}  // namespace
}  // namespace orchsim::experiment
