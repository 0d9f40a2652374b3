#include "policies/batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

using ::testing::ElementsAre;

const Instant kT0 = Instant::FromUnixMicros(1694390400000000);  // 2023-09-11T00:00:00Z

struct Flushed {
  Instant at;  // the fake clock when the FlushFn ran
  Batch batch;
};

BatcherConfig Enabled(size_t max_batch_size = 10) {
  BatcherConfig config;
  config.enabled = true;
  config.max_batch_size = max_batch_size;
  return config;
}

class BatcherTest : public ::testing::Test {
 protected:
  std::unique_ptr<Batcher> Make(const BatcherConfig& config) {
    return std::make_unique<Batcher>(config, timers_, [this](Batch b) {
      flushed_.push_back({clock_.now(), b});
    });
  }
  // Adds at the fake clock's current time, after running what is due.
  void AddAt(Batcher& batcher, Instant at, const std::string& group, uint64_t id,
             const std::string& key) {
    timers_.AdvanceTo(at);
    batcher.Add(group, id, key, at);
  }

  testing::FakeClock clock_{kT0};
  testing::FakeTimers timers_{clock_};
  std::vector<Flushed> flushed_;
};

// --- validate -------------------------------------------------------------

TEST(BatcherConfigTest, DefaultsValidAndErrorsNameTheField) {
  const BatcherConfig defaults;
  EXPECT_TRUE(defaults.validate().ok());
  EXPECT_FALSE(defaults.enabled);
  EXPECT_EQ(defaults.window, Milliseconds(200));
  EXPECT_EQ(defaults.max_batch_size, 10u);

  BatcherConfig c = Enabled();
  c.window = Duration::Zero();
  EXPECT_EQ(c.validate().message(), "batcher.window: \"0s\" must be > 0");
  c.window = Milliseconds(-5);
  EXPECT_FALSE(c.validate().ok());
  c.window = Microseconds(1);
  EXPECT_TRUE(c.validate().ok());
  c.max_batch_size = 0;
  EXPECT_EQ(c.validate().message(), "batcher.max_batch_size: 0 must be >= 1");
  c.max_batch_size = 1;
  EXPECT_TRUE(c.validate().ok());
}

// --- window flush -----------------------------------------------------------

TEST_F(BatcherTest, FlushesAtExactlyOpenedAtPlusWindow) {
  auto batcher = Make(Enabled());
  AddAt(*batcher, kT0, "odds|odds", 1, "k1");
  AddAt(*batcher, kT0 + Milliseconds(50), "odds|odds", 2, "k2");
  AddAt(*batcher, kT0 + Milliseconds(199), "odds|odds", 3, "k3");
  EXPECT_THAT(timers_.scheduled_at(), ElementsAre(kT0 + Milliseconds(200)));  // not extended
  EXPECT_EQ(batcher->open_batches(), 1u);
  EXPECT_EQ(batcher->pending("odds|odds"), 3u);

  timers_.AdvanceTo(kT0 + Milliseconds(200) - Microseconds(1));
  EXPECT_TRUE(flushed_.empty());
  timers_.AdvanceTo(kT0 + Milliseconds(200));
  ASSERT_EQ(flushed_.size(), 1u);
  EXPECT_EQ(flushed_[0].at.unix_micros(), kT0.unix_micros() + 200000);
  EXPECT_EQ(flushed_[0].batch.group, "odds|odds");
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(flushed_[0].batch.keys, ElementsAre("k1", "k2", "k3"));
  EXPECT_EQ(flushed_[0].batch.opened_at, kT0);
  EXPECT_EQ(batcher->open_batches(), 0u);
  EXPECT_EQ(batcher->pending("odds|odds"), 0u);
  EXPECT_EQ(batcher->stats().flushed_by_window, 1u);

  // The next request opens a fresh batch with its own window.
  AddAt(*batcher, kT0 + Milliseconds(250), "odds|odds", 4, "k1");
  timers_.AdvanceTo(kT0 + Seconds(10));
  ASSERT_EQ(flushed_.size(), 2u);
  EXPECT_EQ(flushed_[1].at, kT0 + Milliseconds(450));
  EXPECT_EQ(flushed_[1].batch.opened_at, kT0 + Milliseconds(250));
  EXPECT_THAT(flushed_[1].batch.request_ids, ElementsAre(4u));
}

TEST_F(BatcherTest, GroupsHaveIndependentBatchesAndWindows) {
  BatcherConfig config = Enabled();
  config.window = Milliseconds(100);
  auto batcher = Make(config);
  AddAt(*batcher, kT0, "odds|odds", 1, "same-key");
  AddAt(*batcher, kT0 + Milliseconds(30), "odds|scores", 2, "same-key");
  AddAt(*batcher, kT0 + Milliseconds(60), "odds|odds", 3, "other");
  EXPECT_EQ(batcher->open_batches(), 2u);
  EXPECT_EQ(batcher->pending("odds|odds"), 2u);
  EXPECT_EQ(batcher->pending("odds|scores"), 1u);
  EXPECT_EQ(batcher->pending("weather|forecast"), 0u);
  timers_.AdvanceTo(kT0 + Seconds(1));
  ASSERT_EQ(flushed_.size(), 2u);
  EXPECT_EQ(flushed_[0].at, kT0 + Milliseconds(100));
  EXPECT_EQ(flushed_[0].batch.group, "odds|odds");
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(1u, 3u));
  EXPECT_EQ(flushed_[1].at, kT0 + Milliseconds(130));
  EXPECT_EQ(flushed_[1].batch.group, "odds|scores");
  EXPECT_THAT(flushed_[1].batch.keys, ElementsAre("same-key"));
}

// --- size flush -------------------------------------------------------------

TEST_F(BatcherTest, ReachingMaxBatchSizeFlushesInsideAddAndCancelsTheTimer) {
  auto batcher = Make(Enabled(3));
  AddAt(*batcher, kT0, "g", 1, "a");
  AddAt(*batcher, kT0 + Milliseconds(10), "g", 2, "b");
  EXPECT_TRUE(flushed_.empty());
  batcher->Add("g", 3, "c", kT0 + Milliseconds(20));  // the fake clock stays at +10ms
  ASSERT_EQ(flushed_.size(), 1u);                     // synchronously, from Add
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(flushed_[0].batch.keys, ElementsAre("a", "b", "c"));
  EXPECT_EQ(flushed_[0].batch.opened_at, kT0);
  EXPECT_EQ(timers_.cancelled(), 1);
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_EQ(batcher->open_batches(), 0u);
  EXPECT_EQ(batcher->stats().flushed_by_size, 1u);
  EXPECT_EQ(batcher->stats().flushed_by_window, 0u);

  // The fourth request opens a new batch; the window flushes it.
  AddAt(*batcher, kT0 + Milliseconds(20), "g", 4, "d");
  timers_.AdvanceTo(kT0 + Seconds(1));
  ASSERT_EQ(flushed_.size(), 2u);
  EXPECT_EQ(flushed_[1].at, kT0 + Milliseconds(220));
  EXPECT_THAT(flushed_[1].batch.keys, ElementsAre("d"));
}

TEST_F(BatcherTest, DuplicateKeysCountOnceTowardTheSize) {
  auto batcher = Make(Enabled(2));
  AddAt(*batcher, kT0, "g", 1, "a");
  AddAt(*batcher, kT0, "g", 2, "a");
  AddAt(*batcher, kT0, "g", 3, "a");
  EXPECT_TRUE(flushed_.empty());
  EXPECT_EQ(batcher->pending("g"), 3u);
  EXPECT_EQ(batcher->pending_keys("g"), 1u);
  AddAt(*batcher, kT0, "g", 4, "b");
  ASSERT_EQ(flushed_.size(), 1u);
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(1u, 2u, 3u, 4u));
  EXPECT_THAT(flushed_[0].batch.keys, ElementsAre("a", "b"));
}

TEST_F(BatcherTest, MaxBatchSizeOneFlushesEveryAddWithoutATimer) {
  auto batcher = Make(Enabled(1));
  AddAt(*batcher, kT0, "g", 1, "a");
  AddAt(*batcher, kT0 + Milliseconds(1), "g", 2, "a");
  ASSERT_EQ(flushed_.size(), 2u);
  EXPECT_THAT(flushed_[1].batch.request_ids, ElementsAre(2u));
  EXPECT_TRUE(timers_.scheduled_at().empty());
  EXPECT_EQ(timers_.cancelled(), 0);
}

// --- Remove -----------------------------------------------------------------

TEST_F(BatcherTest, RemoveDropsTheKeyWithItsLastRequest) {
  auto batcher = Make(Enabled(3));
  AddAt(*batcher, kT0, "g", 1, "a");
  AddAt(*batcher, kT0, "g", 2, "b");
  AddAt(*batcher, kT0, "g", 3, "a");
  EXPECT_TRUE(batcher->Remove(1));  // "a" still wanted by request 3
  EXPECT_EQ(batcher->pending("g"), 2u);
  EXPECT_EQ(batcher->pending_keys("g"), 2u);
  EXPECT_TRUE(batcher->Remove(2));  // "b" leaves with its only request
  EXPECT_EQ(batcher->pending_keys("g"), 1u);
  EXPECT_FALSE(batcher->Remove(2));
  EXPECT_FALSE(batcher->Remove(99));
  // "b" left, so three new distinct keys are needed to fill the batch again.
  AddAt(*batcher, kT0 + Milliseconds(10), "g", 4, "c");
  EXPECT_TRUE(flushed_.empty());
  AddAt(*batcher, kT0 + Milliseconds(10), "g", 5, "b");
  ASSERT_EQ(flushed_.size(), 1u);
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(3u, 4u, 5u));
  EXPECT_THAT(flushed_[0].batch.keys, ElementsAre("a", "c", "b"));  // survivors keep order
  EXPECT_EQ(flushed_[0].batch.opened_at, kT0);
  EXPECT_FALSE(batcher->Remove(3));  // already flushed
}

TEST_F(BatcherTest, BatchLeftEmptyIsDroppedWithoutAFlush) {
  auto batcher = Make(Enabled());
  AddAt(*batcher, kT0, "g", 1, "a");
  AddAt(*batcher, kT0 + Milliseconds(10), "g", 2, "b");
  EXPECT_TRUE(batcher->Remove(2));
  EXPECT_TRUE(batcher->Remove(1));
  EXPECT_EQ(batcher->open_batches(), 0u);
  EXPECT_EQ(timers_.cancelled(), 1);
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_EQ(batcher->stats().dropped_empty, 1u);
  timers_.AdvanceTo(kT0 + Seconds(1));
  EXPECT_TRUE(flushed_.empty());

  // A new request after the drop opens a new batch with a new window.
  AddAt(*batcher, kT0 + Seconds(2), "g", 3, "a");
  timers_.AdvanceTo(kT0 + Seconds(3));
  ASSERT_EQ(flushed_.size(), 1u);
  EXPECT_EQ(flushed_[0].at, kT0 + Seconds(2) + Milliseconds(200));
}

// A host that still runs a cancelled timer must not flush a later batch of
// the same group early.
TEST_F(BatcherTest, StaleTimerDoesNotFlushALaterBatch) {
  timers_.set_keep_cancelled(true);
  auto batcher = Make(Enabled(2));
  AddAt(*batcher, kT0, "g", 1, "a");
  AddAt(*batcher, kT0 + Milliseconds(10), "g", 2, "b");  // size flush; timer "cancelled"
  ASSERT_EQ(flushed_.size(), 1u);
  AddAt(*batcher, kT0 + Milliseconds(100), "g", 3, "c");  // due at +300ms
  timers_.AdvanceTo(kT0 + Milliseconds(299));             // the stale +200ms timer runs
  EXPECT_EQ(flushed_.size(), 1u);
  EXPECT_EQ(batcher->pending("g"), 1u);
  timers_.AdvanceTo(kT0 + Milliseconds(300));
  ASSERT_EQ(flushed_.size(), 2u);
  EXPECT_EQ(flushed_[1].at, kT0 + Milliseconds(300));
  EXPECT_THAT(flushed_[1].batch.request_ids, ElementsAre(3u));
}

// --- FlushAll -----------------------------------------------------------------

TEST_F(BatcherTest, FlushAllFlushesEveryGroupInNameOrder) {
  auto batcher = Make(Enabled());
  AddAt(*batcher, kT0, "weather|forecast", 1, "w");
  AddAt(*batcher, kT0, "odds|odds", 2, "o");
  AddAt(*batcher, kT0, "scores|live", 3, "s");
  AddAt(*batcher, kT0, "odds|odds", 4, "o2");
  timers_.AdvanceTo(kT0 + Milliseconds(50));
  batcher->FlushAll();
  ASSERT_EQ(flushed_.size(), 3u);
  EXPECT_EQ(flushed_[0].batch.group, "odds|odds");
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(2u, 4u));
  EXPECT_EQ(flushed_[1].batch.group, "scores|live");
  EXPECT_EQ(flushed_[2].batch.group, "weather|forecast");
  EXPECT_EQ(flushed_[2].at, kT0 + Milliseconds(50));
  EXPECT_EQ(batcher->open_batches(), 0u);
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_EQ(batcher->stats().flushed_by_flush_all, 3u);
  timers_.AdvanceTo(kT0 + Seconds(1));
  EXPECT_EQ(flushed_.size(), 3u);  // no second flush from the windows
  batcher->FlushAll();             // nothing open: nothing flushed
  EXPECT_EQ(flushed_.size(), 3u);
}

TEST_F(BatcherTest, BatchesOpenedByTheFlushFnDuringFlushAllStayOpen) {
  Batcher* self = nullptr;
  std::vector<std::string> groups;
  Batcher batcher(Enabled(), timers_, [&](Batch b) {
    groups.push_back(b.group);
    if (b.request_ids.front() < 100) self->Add(b.group, b.request_ids.front() + 100, "again", kT0);
  });
  self = &batcher;
  batcher.Add("b", 1, "x", kT0);
  batcher.Add("a", 2, "y", kT0);
  batcher.FlushAll();
  EXPECT_THAT(groups, ElementsAre("a", "b"));
  EXPECT_EQ(batcher.open_batches(), 2u);
  EXPECT_EQ(batcher.pending("a"), 1u);
  timers_.AdvanceTo(kT0 + Seconds(1));
  EXPECT_THAT(groups, ElementsAre("a", "b", "a", "b"));
}

// --- disabled, lifetime -------------------------------------------------------

TEST_F(BatcherTest, DisabledAddFlushesABatchOfOneImmediately) {
  BatcherConfig config;  // enabled = false
  auto batcher = Make(config);
  batcher->Add("g", 1, "a", kT0);
  batcher->Add("g", 2, "a", kT0 + Milliseconds(5));
  ASSERT_EQ(flushed_.size(), 2u);
  EXPECT_EQ(flushed_[0].batch.group, "g");
  EXPECT_THAT(flushed_[0].batch.request_ids, ElementsAre(1u));
  EXPECT_THAT(flushed_[0].batch.keys, ElementsAre("a"));
  EXPECT_EQ(flushed_[0].batch.opened_at, kT0);
  EXPECT_EQ(flushed_[1].batch.opened_at, kT0 + Milliseconds(5));
  EXPECT_TRUE(timers_.scheduled_at().empty());
  EXPECT_EQ(batcher->open_batches(), 0u);
  EXPECT_FALSE(batcher->Remove(1));
  EXPECT_EQ(batcher->stats().flushed_unbatched, 2u);
}

TEST_F(BatcherTest, DestructorCancelsPendingTimersWithoutFlushing) {
  {
    auto batcher = Make(Enabled());
    AddAt(*batcher, kT0, "a", 1, "x");
    AddAt(*batcher, kT0, "b", 2, "x");
    EXPECT_EQ(timers_.pending(), 2u);
  }
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.AdvanceTo(kT0 + Seconds(1));  // would use a dangling batcher otherwise
  EXPECT_TRUE(flushed_.empty());
}

// --- randomized property test --------------------------------------------------

// Every request added ends exactly once: flushed in one batch or removed.
// Every batch: distinct keys, at most max_batch_size, exactly the keys of its
// requests, flushed no later than opened_at + window.
TEST_F(BatcherTest, RandomizedEveryRequestFlushedOnceOrRemoved) {
  for (uint64_t seed : {1u, 2u, 3u, 42u}) {
    SCOPED_TRACE(seed);
    testing::FakeClock clock(kT0);
    testing::FakeTimers timers(clock);
    BatcherConfig config = Enabled(4);
    config.window = Milliseconds(100);
    std::vector<Flushed> flushed;
    Batcher batcher(config, timers, [&](Batch b) { flushed.push_back({clock.now(), b}); });
    testing::SeededRandom rng(seed);
    const std::vector<std::string> groups = {"odds|odds", "odds|scores", "weather|forecast"};
    std::map<uint64_t, std::string> key_of;
    std::set<uint64_t> waiting;
    std::set<uint64_t> removed;
    Instant now = kT0;
    uint64_t next_id = 1;
    size_t seen = 0;  // flushed batches already taken out of `waiting`
    auto forget_flushed = [&] {
      for (; seen < flushed.size(); ++seen) {
        for (uint64_t id : flushed[seen].batch.request_ids) waiting.erase(id);
      }
    };
    for (int step = 0; step < 5000; ++step) {
      now += Milliseconds(static_cast<int64_t>(rng.Below(40)));
      timers.AdvanceTo(now);
      forget_flushed();
      const uint64_t choice = rng.Below(10);
      if (choice < 7) {
        const uint64_t id = next_id++;
        std::string key = "k";  // (not "k" + ...: GCC 12 -Wrestrict false positive)
        key += std::to_string(rng.Below(6));
        key_of[id] = key;
        waiting.insert(id);
        batcher.Add(groups[rng.Below(groups.size())], id, key, now);
        forget_flushed();  // a size flush happens inside Add
      } else if (choice < 9 && !waiting.empty()) {
        auto it = waiting.begin();
        std::advance(it, static_cast<long>(rng.Below(waiting.size())));
        const uint64_t id = *it;
        ASSERT_TRUE(batcher.Remove(id));
        waiting.erase(id);
        removed.insert(id);
      } else if (choice == 9 && rng.Below(20) == 0) {
        batcher.FlushAll();
        forget_flushed();
      }
    }
    timers.AdvanceTo(now + Seconds(1));
    EXPECT_EQ(batcher.open_batches(), 0u);
    EXPECT_EQ(timers.pending(), 0u);

    std::map<uint64_t, int> times_flushed;
    for (const Flushed& f : flushed) {
      const Batch& b = f.batch;
      ASSERT_FALSE(b.request_ids.empty());
      EXPECT_LE(b.keys.size(), config.max_batch_size);
      EXPECT_LE(f.at, b.opened_at + config.window);
      EXPECT_GE(f.at, b.opened_at);
      std::vector<std::string> expected_keys;
      for (uint64_t id : b.request_ids) {
        ++times_flushed[id];
        if (std::find(expected_keys.begin(), expected_keys.end(), key_of[id]) ==
            expected_keys.end()) {
          expected_keys.push_back(key_of[id]);
        }
      }
      std::vector<std::string> sorted_keys = b.keys;
      std::sort(sorted_keys.begin(), sorted_keys.end());
      std::sort(expected_keys.begin(), expected_keys.end());
      EXPECT_EQ(sorted_keys, expected_keys);
      EXPECT_EQ(std::adjacent_find(sorted_keys.begin(), sorted_keys.end()), sorted_keys.end());
    }
    for (uint64_t id = 1; id < next_id; ++id) {
      const int expected = removed.count(id) != 0 ? 0 : 1;
      EXPECT_EQ(times_flushed[id], expected) << "request " << id;
    }
    const BatcherStats& s = batcher.stats();
    EXPECT_EQ(s.flushed_by_window + s.flushed_by_size + s.flushed_by_flush_all, flushed.size());
    EXPECT_GT(s.flushed_by_size, 0u);
    EXPECT_GT(s.flushed_by_window, 0u);
    EXPECT_GT(s.dropped_empty, 0u);
    EXPECT_GT(removed.size(), 0u);
  }
}

}  // namespace
}  // namespace orchsim
