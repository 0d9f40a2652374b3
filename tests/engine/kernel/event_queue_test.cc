// One suite, run against every EventQueue implementation (typed tests), plus
// a randomized comparison of the heap with the reference oracle.
#include "engine/kernel/event_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "engine/kernel/heap_event_queue.h"
#include "engine/kernel/random.h"
#include "engine/kernel/reference_event_queue.h"

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

using Implementations = ::testing::Types<HeapEventQueue, ReferenceEventQueue>;
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

// Random pushes, pops and cancels: the heap must agree with the oracle.
TEST(HeapEventQueueTest, MatchesReferenceUnderRandomOperations) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    Rng rng(seed);
    HeapEventQueue heap;
    ReferenceEventQueue reference;
    std::vector<int> heap_log, reference_log;
    std::vector<std::pair<EventId, EventId>> ids;
    int tag = 0;
    for (int step = 0; step < 20000; ++step) {
      const uint64_t op = rng.UniformInt(10);
      if (op < 5) {
        const Instant at = At(static_cast<int64_t>(rng.UniformInt(1000)));
        const int t = tag++;
        ids.emplace_back(heap.Push(at, [&heap_log, t] { heap_log.push_back(t); }),
                         reference.Push(at, [&reference_log, t] { reference_log.push_back(t); }));
      } else if (op < 8) {
        ASSERT_EQ(heap.Empty(), reference.Empty());
        if (heap.Empty()) continue;
        ASSERT_EQ(heap.NextTime(), reference.NextTime());
        Instant a, b;
        EventCallback ca, cb;
        heap.PopNext(&a, &ca);
        reference.PopNext(&b, &cb);
        ASSERT_EQ(a, b);
        ca();
        cb();
      } else if (!ids.empty()) {
        const auto& pair = ids[rng.UniformInt(ids.size())];
        ASSERT_EQ(heap.Cancel(pair.first), reference.Cancel(pair.second));
      }
      ASSERT_EQ(heap.Size(), reference.Size());
    }
    EXPECT_EQ(heap_log, reference_log);
    EXPECT_GT(heap_log.size(), 5000u);
  }
}

}  // namespace
}  // namespace orchsim::kernel
