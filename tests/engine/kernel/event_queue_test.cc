// One suite, run against every EventQueue implementation (typed tests), plus
// randomized comparisons of the heap and the wheel with the reference oracle.
#include "engine/kernel/event_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "engine/kernel/heap_event_queue.h"
#include "engine/kernel/random.h"
#include "engine/kernel/reference_event_queue.h"
#include "engine/kernel/wheel_event_queue.h"

namespace orchsim::kernel {
namespace {

Instant At(int64_t us) { return Instant::FromUnixMicros(us); }

template <typename Q>
class EventQueueTest : public ::testing::Test {
 protected:
  Q queue_;
  std::vector<int> ran_;

  void Push(int64_t t, int tag) {
    queue_.Push(At(t), [this, tag] { ran_.push_back(tag); });
  }
  std::vector<int64_t> DrainTimes() {
    std::vector<int64_t> times;
    while (!queue_.Empty()) {
      Instant at;
      EventCallback cb;
      queue_.PopNext(&at, &cb);
      times.push_back(at.unix_micros());
      cb();
    }
    return times;
  }
};

using Implementations = ::testing::Types<HeapEventQueue, WheelEventQueue, ReferenceEventQueue>;
TYPED_TEST_SUITE(EventQueueTest, Implementations);

TYPED_TEST(EventQueueTest, PopsInTimeOrder) {
  this->Push(30, 3);
  this->Push(10, 1);
  this->Push(20, 2);
  EXPECT_EQ(this->queue_.Size(), 3u);
  EXPECT_EQ(this->queue_.NextTime(), At(10));
  EXPECT_EQ(this->DrainTimes(), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(this->ran_, (std::vector<int>{1, 2, 3}));
}

TYPED_TEST(EventQueueTest, SameInstantRunsFifo) {
  for (int i = 0; i < 100; ++i) this->Push(i % 2 == 0 ? 5 : 7, i);
  this->DrainTimes();
  std::vector<int> expected;
  for (int i = 0; i < 100; i += 2) expected.push_back(i);
  for (int i = 1; i < 100; i += 2) expected.push_back(i);
  EXPECT_EQ(this->ran_, expected);
}

TYPED_TEST(EventQueueTest, CancelRemovesOnlyThatEvent) {
  this->Push(10, 1);
  EventId middle = this->queue_.Push(At(20), [this] { this->ran_.push_back(2); });
  this->Push(30, 3);
  EXPECT_TRUE(this->queue_.Cancel(middle));
  EXPECT_FALSE(this->queue_.Cancel(middle)) << "second cancel must report nothing removed";
  EXPECT_EQ(this->queue_.Size(), 2u);
  EXPECT_EQ(this->DrainTimes(), (std::vector<int64_t>{10, 30}));
  EXPECT_EQ(this->ran_, (std::vector<int>{1, 3}));
}

TYPED_TEST(EventQueueTest, CancelOfTheEarliestUpdatesNextTime) {
  EventId first = this->queue_.Push(At(10), [] {});
  this->Push(20, 2);
  EXPECT_TRUE(this->queue_.Cancel(first));
  EXPECT_EQ(this->queue_.NextTime(), At(20));
}

TYPED_TEST(EventQueueTest, StaleIdDoesNotCancelANewerEvent) {
  EventId old = this->queue_.Push(At(10), [] {});
  this->DrainTimes();
  this->Push(10, 7);  // may reuse the slot of `old`
  EXPECT_FALSE(this->queue_.Cancel(old));
  EXPECT_FALSE(this->queue_.Cancel(EventId{}));
  EXPECT_EQ(this->queue_.Size(), 1u);
}

TYPED_TEST(EventQueueTest, CancelEverythingLeavesEmpty) {
  std::vector<EventId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(this->queue_.Push(At(100 - i), [] {}));
  for (EventId id : ids) EXPECT_TRUE(this->queue_.Cancel(id));
  EXPECT_TRUE(this->queue_.Empty());
  EXPECT_EQ(this->queue_.Size(), 0u);
}

// Events at one instant keep their push order even when they were pushed
// while that instant was far ahead (the wheel's overflow), a few blocks ahead
// (its coarse wheel) or in the current block (its fine wheel).
TYPED_TEST(EventQueueTest, SameInstantFifoAcrossHorizons) {
  const int64_t far = 40'000'000;  // 40 s: past the first 2^24 us super-block
  const int64_t near = 10'000;     // 10 ms: a later 4096 us block
  this->Push(far, 1);
  this->Push(near, 10);
  this->Push(1, 100);
  this->Push(far, 2);
  this->Push(near, 11);
  Instant at;
  EventCallback cb;
  this->queue_.PopNext(&at, &cb);  // runs tag 100 at t = 1
  cb();
  this->Push(near, 12);
  this->Push(far, 3);
  this->queue_.PopNext(&at, &cb);  // runs tag 10 at t = near
  cb();
  this->Push(near, 13);
  this->Push(far, 4);
  EXPECT_EQ(this->DrainTimes(), (std::vector<int64_t>{near, near, near, far, far, far, far}));
  EXPECT_EQ(this->ran_, (std::vector<int>{100, 10, 11, 12, 13, 1, 2, 3, 4}));
}

// NextTime may look far ahead (the end of Simulator::RunUntil does); events
// pushed before that front afterwards, including ties with it, keep order.
TYPED_TEST(EventQueueTest, PushesBeforeALookedAheadFront) {
  const int64_t days = 3 * 86'400'000'000;
  this->Push(days, 1);
  EXPECT_EQ(this->queue_.NextTime(), At(days));
  this->Push(5, 2);
  this->Push(days, 3);
  EXPECT_EQ(this->queue_.NextTime(), At(5));
  this->Push(days, 4);
  EXPECT_EQ(this->DrainTimes(), (std::vector<int64_t>{5, days, days, days}));
  EXPECT_EQ(this->ran_, (std::vector<int>{2, 1, 3, 4}));
}

TYPED_TEST(EventQueueTest, NegativeAndHugeTimesOrder) {
  this->Push(-5'000'000'000, 1);
  this->Push(int64_t{1} << 60, 4);
  this->Push(-1, 2);
  this->Push(0, 3);
  EXPECT_EQ(this->queue_.NextTime(), At(-5'000'000'000));
  EXPECT_EQ(this->DrainTimes(), (std::vector<int64_t>{-5'000'000'000, -1, 0, int64_t{1} << 60}));
  EXPECT_EQ(this->ran_, (std::vector<int>{1, 2, 3, 4}));
}

// How the randomized comparison draws the time of a push.
enum class TimeSpread {
  kNarrow,      // anywhere in [0, 1000) us: many ties, many pushes before now
  kWide,        // anywhere in [-2^27, 2^27) us: across wheel super-blocks
  kClustered,   // one of a few instants ~4 s apart, -1/0/+1 us: many ties
                // pushed while their instant sits in different wheel levels
  kSimulation,  // at or after the last popped time, by a mix of 0, small,
                // block-sized and minutes-long delays (the Simulator's case)
};

template <typename Q>
class FastEventQueueTest : public ::testing::Test {};
using FastImplementations = ::testing::Types<HeapEventQueue, WheelEventQueue>;
TYPED_TEST_SUITE(FastEventQueueTest, FastImplementations);

// Random pushes, pops and cancels: the implementation must agree with the
// oracle on every popped time, every callback run (by tag) and every size.
TYPED_TEST(FastEventQueueTest, MatchesReferenceUnderRandomOperations) {
  for (TimeSpread spread :
       {TimeSpread::kNarrow, TimeSpread::kWide, TimeSpread::kClustered, TimeSpread::kSimulation}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      SCOPED_TRACE(::testing::Message()
                   << "spread " << static_cast<int>(spread) << " seed " << seed);
      Rng rng(seed);
      TypeParam queue;
      ReferenceEventQueue reference;
      std::vector<int> queue_log, reference_log;
      std::vector<std::pair<EventId, EventId>> ids;
      int64_t now = 0;
      auto draw_time = [&]() -> int64_t {
        switch (spread) {
          case TimeSpread::kNarrow:
            return static_cast<int64_t>(rng.UniformInt(1000));
          case TimeSpread::kWide:
            return static_cast<int64_t>(rng.UniformInt(uint64_t{1} << 28)) - (int64_t{1} << 27);
          case TimeSpread::kClustered:
            return static_cast<int64_t>(rng.UniformInt(12)) * (int64_t{1} << 22) +
                   static_cast<int64_t>(rng.UniformInt(3)) - 1;
          case TimeSpread::kSimulation:
            switch (rng.UniformInt(4)) {
              case 0:
                return now;
              case 1:
                return now + static_cast<int64_t>(rng.UniformInt(50));
              case 2:
                return now + static_cast<int64_t>(rng.UniformInt(20'000));
              default:
                return now + static_cast<int64_t>(rng.UniformInt(300'000'000));
            }
        }
        return 0;
      };
      int tag = 0;
      for (int step = 0; step < 20000; ++step) {
        const uint64_t op = rng.UniformInt(10);
        if (op < 5) {
          const Instant at = At(draw_time());
          const int t = tag++;
          ids.emplace_back(queue.Push(at, [&queue_log, t] { queue_log.push_back(t); }),
                           reference.Push(at, [&reference_log, t] { reference_log.push_back(t); }));
        } else if (op < 8) {
          ASSERT_EQ(queue.Empty(), reference.Empty());
          if (queue.Empty()) continue;
          ASSERT_EQ(queue.NextTime(), reference.NextTime());
          Instant a, b;
          EventCallback ca, cb;
          queue.PopNext(&a, &cb);
          reference.PopNext(&b, &ca);
          ASSERT_EQ(a, b);
          now = a.unix_micros();
          cb();
          ca();
        } else if (!ids.empty()) {
          const auto& pair = ids[rng.UniformInt(ids.size())];
          ASSERT_EQ(queue.Cancel(pair.first), reference.Cancel(pair.second));
        }
        ASSERT_EQ(queue.Size(), reference.Size());
      }
      while (!reference.Empty()) {
        ASSERT_FALSE(queue.Empty());
        Instant a, b;
        EventCallback ca, cb;
        queue.PopNext(&a, &cb);
        reference.PopNext(&b, &ca);
        ASSERT_EQ(a, b);
        cb();
        ca();
      }
      EXPECT_TRUE(queue.Empty());
      EXPECT_EQ(queue_log, reference_log);
      EXPECT_GT(queue_log.size(), 8000u);
    }
  }
}

// Sequence numbers are 32 bits; running out must renumber without breaking
// FIFO ties among the keys still pending.
TEST(HeapEventQueueTest, SequenceWrapKeepsFifoTies) {
  HeapEventQueue queue;
  std::vector<int> ran;
  queue.SetNextSequenceForTesting(0xffffffffu - 20);
  for (int i = 0; i < 60; ++i) {
    queue.Push(At(i % 3 == 0 ? 7 : 5), [&ran, i] { ran.push_back(i); });
  }
  std::vector<int> expected;
  for (int i = 0; i < 60; ++i) {
    if (i % 3 != 0) expected.push_back(i);
  }
  for (int i = 0; i < 60; i += 3) expected.push_back(i);
  while (!queue.Empty()) {
    Instant at;
    EventCallback cb;
    queue.PopNext(&at, &cb);
    cb();
  }
  EXPECT_EQ(ran, expected);
}

}  // namespace
}  // namespace orchsim::kernel
