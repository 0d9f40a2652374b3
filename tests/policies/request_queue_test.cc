#include "policies/request_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <vector>

namespace orchsim {
namespace {

const Instant kT0 = Instant::FromUnixMicros(1694376000000000);  // 2023-09-10T20:00:00Z
constexpr Priority kCritical = Priority::kCritical;
constexpr Priority kHigh = Priority::kHigh;
constexpr Priority kNormal = Priority::kNormal;
constexpr Priority kLow = Priority::kLow;
constexpr Priority kPrefetch = Priority::kPrefetch;

RequestQueueConfig NoEscalation() {
  RequestQueueConfig c;
  c.escalation_enabled = false;
  return c;
}

// Game rules only: waiting never escalates.
RequestQueueConfig GameRulesOnly() {
  RequestQueueConfig c;
  c.escalate_after.fill(Duration::Infinite());
  return c;
}

std::vector<uint64_t> DrainIds(RequestQueue& q, Instant now) {
  std::vector<uint64_t> ids;
  while (auto e = q.Pop(now)) ids.push_back(e->id);
  return ids;
}

TEST(RequestQueueTest, FifoWithinClass) {
  RequestQueue q(NoEscalation());
  for (uint64_t id : {5, 3, 9, 1}) EXPECT_TRUE(q.Push(id, kNormal, kT0, std::nullopt).accepted);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.size(kNormal), 4u);
  EXPECT_EQ(DrainIds(q, kT0), (std::vector<uint64_t>{5, 3, 9, 1}));
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.Pop(kT0).has_value());
  EXPECT_FALSE(q.Peek(kT0).has_value());
}

TEST(RequestQueueTest, MostUrgentClassFirst) {
  RequestQueue q(NoEscalation());
  q.Push(1, kLow, kT0, std::nullopt);
  q.Push(2, kNormal, kT0, std::nullopt);
  q.Push(3, kPrefetch, kT0, std::nullopt);
  q.Push(4, kCritical, kT0, std::nullopt);
  q.Push(5, kHigh, kT0, std::nullopt);
  q.Push(6, kNormal, kT0, std::nullopt);
  q.Push(7, kCritical, kT0, std::nullopt);
  EXPECT_EQ(q.size(kCritical), 2u);
  EXPECT_EQ(q.size(kPrefetch), 1u);
  auto head = q.Peek(kT0);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->id, 4u);
  EXPECT_EQ(q.size(), 7u);  // Peek removes nothing
  EXPECT_EQ(DrainIds(q, kT0), (std::vector<uint64_t>{4, 7, 5, 2, 6, 1, 3}));
}

TEST(RequestQueueTest, EntryFieldsAreReported) {
  RequestQueue q(NoEscalation());
  q.Push(10, kLow, kT0, kT0 + Hours(5));
  q.Push(11, kLow, kT0 + Seconds(1), std::nullopt);
  const QueueEntry* e = q.Find(11);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, 11u);
  EXPECT_EQ(e->original, kLow);
  EXPECT_EQ(e->current, kLow);
  EXPECT_EQ(e->enqueued_at, kT0 + Seconds(1));
  EXPECT_EQ(e->class_entered_at, kT0 + Seconds(1));
  EXPECT_FALSE(e->game_start.has_value());
  EXPECT_EQ(e->sequence, 1u);
  EXPECT_EQ(q.Find(10)->game_start, kT0 + Hours(5));
  EXPECT_EQ(q.Find(10)->sequence, 0u);
  EXPECT_EQ(q.Find(12), nullptr);
}

TEST(RequestQueueTest, WaitEscalationHappensAtTheExactInstant) {
  RequestQueue q(RequestQueueConfig{});  // NORMAL 60s, HIGH 30s
  q.Push(1, kNormal, kT0, std::nullopt);
  EXPECT_EQ(q.Peek(kT0 + Seconds(60) - Microseconds(1))->current, kNormal);
  auto at60 = q.Peek(kT0 + Seconds(60));
  EXPECT_EQ(at60->current, kHigh);
  EXPECT_EQ(at60->original, kNormal);
  EXPECT_EQ(at60->class_entered_at, kT0 + Seconds(60));
  EXPECT_EQ(q.size(kNormal), 0u);
  EXPECT_EQ(q.size(kHigh), 1u);
  // Waiting in HIGH counts from the move: CRITICAL at 60s + 30s.
  EXPECT_EQ(q.Peek(kT0 + Seconds(90) - Microseconds(1))->current, kHigh);
  auto at90 = q.Peek(kT0 + Seconds(90));
  EXPECT_EQ(at90->current, kCritical);
  EXPECT_EQ(at90->class_entered_at, kT0 + Seconds(90));
  EXPECT_EQ(q.Peek(kT0 + Days(3))->current, kCritical);  // nothing above CRITICAL
}

TEST(RequestQueueTest, LowEscalatesStepByStep) {
  RequestQueue q(RequestQueueConfig{});  // LOW 120s, NORMAL 60s, HIGH 30s
  q.Push(1, kLow, kT0, std::nullopt);
  EXPECT_EQ(q.Peek(kT0 + Seconds(120) - Microseconds(1))->current, kLow);
  EXPECT_EQ(q.Peek(kT0 + Seconds(120))->current, kNormal);
  EXPECT_EQ(q.Peek(kT0 + Seconds(180) - Microseconds(1))->current, kNormal);
  EXPECT_EQ(q.Peek(kT0 + Seconds(180))->current, kHigh);
  EXPECT_EQ(q.Peek(kT0 + Seconds(210))->current, kCritical);
}

TEST(RequestQueueTest, EscalationDoesNotDependOnHowOftenTheQueueIsLookedAt) {
  RequestQueue polled(RequestQueueConfig{});
  RequestQueue lazy(RequestQueueConfig{});
  polled.Push(1, kLow, kT0, std::nullopt);
  lazy.Push(1, kLow, kT0, std::nullopt);
  for (int s = 0; s <= 400; ++s) polled.Peek(kT0 + Seconds(s));
  auto a = polled.Peek(kT0 + Seconds(400));
  auto b = lazy.Peek(kT0 + Seconds(400));
  EXPECT_EQ(a->current, kCritical);
  EXPECT_EQ(b->current, kCritical);
  EXPECT_EQ(a->class_entered_at, kT0 + Seconds(210));
  EXPECT_EQ(b->class_entered_at, kT0 + Seconds(210));
}

TEST(RequestQueueTest, EscalatedEntryKeepsItsEnqueueOrder) {
  RequestQueueConfig c;
  c.escalate_after[PriorityIndex(kHigh)] = Duration::Infinite();
  RequestQueue q(c);
  q.Push(1, kNormal, kT0, std::nullopt);              // HIGH at 60s
  q.Push(2, kHigh, kT0 + Seconds(10), std::nullopt);  // enqueued later
  q.Push(3, kHigh, kT0 - Seconds(0), std::nullopt);   // later sequence than 1
  EXPECT_EQ(q.Peek(kT0 + Seconds(59))->id, 2u);
  // At 60s entry 1 joins HIGH ahead of 2 and 3: it was pushed first.
  EXPECT_EQ(DrainIds(q, kT0 + Seconds(60)), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(RequestQueueTest, EscalatedEntryStaysBehindEarlierPushes) {
  RequestQueueConfig c;
  c.escalate_after[PriorityIndex(kHigh)] = Duration::Infinite();
  RequestQueue q(c);
  q.Push(1, kHigh, kT0 + Seconds(5), std::nullopt);
  q.Push(2, kNormal, kT0 + Seconds(5), std::nullopt);
  EXPECT_EQ(DrainIds(q, kT0 + Seconds(65)), (std::vector<uint64_t>{1, 2}));
}

TEST(RequestQueueTest, WaitCountsPerClassNotPerSequence) {
  // 1 enters HIGH at 60s (CRITICAL at 90s); 2 enters HIGH at 10s (CRITICAL at 40s).
  RequestQueue q(RequestQueueConfig{});
  q.Push(1, kNormal, kT0, std::nullopt);
  q.Push(2, kHigh, kT0 + Seconds(10), std::nullopt);
  q.Peek(kT0 + Seconds(40));
  EXPECT_EQ(q.Find(2)->current, kCritical);
  EXPECT_EQ(q.Find(1)->current, kNormal);
  q.Peek(kT0 + Seconds(89));
  EXPECT_EQ(q.Find(1)->current, kHigh);
  EXPECT_EQ(q.Peek(kT0 + Seconds(89))->id, 2u);
  q.Peek(kT0 + Seconds(90));
  EXPECT_EQ(q.Find(1)->current, kCritical);
  EXPECT_EQ(DrainIds(q, kT0 + Seconds(90)), (std::vector<uint64_t>{1, 2}));
}

TEST(RequestQueueTest, GameRulesApplyAtTheirInstants) {
  RequestQueue q(GameRulesOnly());  // within 1h -> CRITICAL, within 3h -> HIGH
  const Instant kickoff = kT0 + Hours(5);
  q.Push(1, kLow, kT0, kickoff);
  EXPECT_EQ(q.Peek(kickoff - Hours(3) - Microseconds(1))->current, kLow);
  auto high = q.Peek(kickoff - Hours(3));
  EXPECT_EQ(high->current, kHigh);
  EXPECT_EQ(high->class_entered_at, kickoff - Hours(3));
  EXPECT_EQ(q.Peek(kickoff - Hours(1) - Microseconds(1))->current, kHigh);
  auto critical = q.Peek(kickoff - Hours(1));
  EXPECT_EQ(critical->current, kCritical);
  EXPECT_EQ(critical->class_entered_at, kickoff - Hours(1));
  EXPECT_EQ(critical->original, kLow);
}

TEST(RequestQueueTest, GameRulesApplyAtPushAndSkipLevels) {
  RequestQueue q(GameRulesOnly());
  q.Push(1, kLow, kT0, kT0 + Minutes(30));     // within 1h at once
  q.Push(2, kNormal, kT0, kT0 + Hours(2));     // within 3h at once
  q.Push(3, kNormal, kT0, kT0 - Minutes(10));  // already started: within every rule
  q.Push(4, kNormal, kT0, kT0 + Hours(6));
  EXPECT_EQ(q.Find(1)->current, kCritical);
  EXPECT_EQ(q.Find(1)->class_entered_at, kT0);
  EXPECT_EQ(q.Find(2)->current, kHigh);
  EXPECT_EQ(q.Find(3)->current, kCritical);
  EXPECT_EQ(q.Find(4)->current, kNormal);
  // A Peek long after skips HIGH for entry 4: the rules are evaluated at
  // their instants, in time order.
  q.Peek(kT0 + Hours(10));
  EXPECT_EQ(q.Find(4)->current, kCritical);
  EXPECT_EQ(q.Find(4)->class_entered_at, kT0 + Hours(5));
  EXPECT_EQ(q.Find(2)->current, kCritical);
  EXPECT_EQ(q.Find(2)->class_entered_at, kT0 + Hours(1));
}

TEST(RequestQueueTest, RuleOrderInConfigDoesNotMatter) {
  RequestQueueConfig c = GameRulesOnly();
  c.game_rules = {{Hours(3), kHigh}, {Hours(1), kCritical}};
  RequestQueue q(c);
  q.Push(1, kNormal, kT0, kT0 + Minutes(30));
  EXPECT_EQ(q.Find(1)->current, kCritical);
}

TEST(RequestQueueTest, EntriesNeverMoveDown) {
  RequestQueue q(GameRulesOnly());
  q.Push(1, kCritical, kT0, kT0 + Hours(2));  // the 3h rule says HIGH
  EXPECT_EQ(q.Peek(kT0 + Hours(1))->current, kCritical);
  EXPECT_FALSE(q.Raise(1, kHigh, kT0 + Hours(1)));
  EXPECT_EQ(q.Find(1)->current, kCritical);
}

TEST(RequestQueueTest, GameAndWaitEscalationCombine) {
  RequestQueue q(RequestQueueConfig{});  // NORMAL 60s, HIGH 30s, default game rules
  const Instant kickoff = kT0 + Hours(3) + Seconds(30);
  q.Push(1, kNormal, kT0, kickoff);
  // The 3h rule lifts it to HIGH at 30s; waiting in HIGH counts from there.
  EXPECT_EQ(q.Peek(kT0 + Seconds(30))->current, kHigh);
  EXPECT_EQ(q.Peek(kT0 + Seconds(60) - Microseconds(1))->current, kHigh);
  EXPECT_EQ(q.Peek(kT0 + Seconds(60))->current, kCritical);
}

TEST(RequestQueueTest, PrefetchEscalatesOnlyWhenConfigured) {
  RequestQueueConfig off;
  off.escalate_after[PriorityIndex(kPrefetch)] = Seconds(10);
  RequestQueue q_off(off);
  q_off.Push(1, kPrefetch, kT0, kT0 + Minutes(30));
  EXPECT_EQ(q_off.Find(1)->current, kPrefetch);
  EXPECT_EQ(q_off.Peek(kT0 + Hours(2))->current, kPrefetch);

  RequestQueueConfig on = off;
  on.escalate_prefetch = true;
  RequestQueue q_on(on);
  q_on.Push(1, kPrefetch, kT0, kT0 + Minutes(30));
  q_on.Push(2, kPrefetch, kT0, std::nullopt);
  EXPECT_EQ(q_on.Find(1)->current, kCritical);
  EXPECT_EQ(q_on.Peek(kT0 + Seconds(10) - Microseconds(1)), q_on.Peek(kT0));
  q_on.Peek(kT0 + Seconds(10));
  EXPECT_EQ(q_on.Find(2)->current, kLow);
}

TEST(RequestQueueTest, RaisedPrefetchEscalatesLikeItsNewClass) {
  RequestQueue q(RequestQueueConfig{});  // escalate_prefetch = false
  q.Push(1, kPrefetch, kT0, std::nullopt);
  EXPECT_TRUE(q.Raise(1, kNormal, kT0 + Seconds(5)));
  EXPECT_EQ(q.Peek(kT0 + Seconds(65) - Microseconds(1))->current, kNormal);
  EXPECT_EQ(q.Peek(kT0 + Seconds(65))->current, kHigh);
}

TEST(RequestQueueTest, EscalationDisabledTurnsOffBothKinds) {
  RequestQueue q(NoEscalation());
  q.Push(1, kNormal, kT0, kT0 + Minutes(10));
  EXPECT_EQ(q.Peek(kT0 + Hours(1))->current, kNormal);
  EXPECT_TRUE(q.Raise(1, kHigh, kT0 + Hours(1)));  // Raise still works
  EXPECT_EQ(q.Peek(kT0 + Hours(2))->current, kHigh);
}

TEST(RequestQueueTest, ShedsNewestOfLowestClassOnlyForMoreUrgentArrivals) {
  RequestQueueConfig c = NoEscalation();
  c.capacity = 3;
  RequestQueue q(c);
  EXPECT_TRUE(q.Push(1, kNormal, kT0, std::nullopt).accepted);
  EXPECT_TRUE(q.Push(2, kLow, kT0, std::nullopt).accepted);
  EXPECT_TRUE(q.Push(3, kLow, kT0, std::nullopt).accepted);

  PushResult r = q.Push(4, kHigh, kT0, std::nullopt);
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.shed_id, 3u);  // the newest LOW
  EXPECT_EQ(q.Find(3), nullptr);

  r = q.Push(5, kLow, kT0, std::nullopt);  // LOW is not strictly lower than LOW
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.shed_id, 5u);  // refused: the arrival itself is the one shed
  EXPECT_EQ(q.Find(5), nullptr);
  r = q.Push(6, kPrefetch, kT0, std::nullopt);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.shed_id, 6u);

  r = q.Push(7, kNormal, kT0, std::nullopt);
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.shed_id, 2u);
  r = q.Push(8, kNormal, kT0, std::nullopt);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.shed_id, 8u);

  r = q.Push(9, kCritical, kT0, std::nullopt);
  EXPECT_EQ(r.shed_id, 7u);  // the newest NORMAL, not the older 1
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(DrainIds(q, kT0), (std::vector<uint64_t>{9, 4, 1}));
}

TEST(RequestQueueTest, SheddingSeesCurrentClasses) {
  RequestQueueConfig c;  // default escalation
  c.capacity = 1;
  RequestQueue q(c);
  q.Push(1, kNormal, kT0, std::nullopt);
  // At 60s entry 1 is HIGH: a HIGH arrival may not shed it.
  PushResult refused = q.Push(2, kHigh, kT0 + Seconds(60), std::nullopt);
  EXPECT_FALSE(refused.accepted);
  EXPECT_EQ(refused.shed_id, 2u);
  // An arrival whose game starts within the hour counts as CRITICAL.
  PushResult r = q.Push(3, kLow, kT0 + Seconds(60), kT0 + Minutes(30));
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.shed_id, 1u);
  EXPECT_EQ(q.Find(3)->current, kCritical);
}

TEST(RequestQueueTest, UnboundedByDefault) {
  RequestQueue q(NoEscalation());
  for (uint64_t id = 0; id < 1000; ++id) {
    PushResult r = q.Push(id, kPrefetch, kT0, std::nullopt);
    ASSERT_TRUE(r.accepted);
    ASSERT_FALSE(r.shed_id.has_value());
  }
  EXPECT_EQ(q.size(), 1000u);
}

TEST(RequestQueueTest, DuplicateIdIsRefused) {
  RequestQueue q(NoEscalation());
  EXPECT_TRUE(q.Push(1, kLow, kT0, std::nullopt).accepted);
  PushResult r = q.Push(1, kHigh, kT0, std::nullopt);
  EXPECT_FALSE(r.accepted);
  EXPECT_FALSE(r.shed_id.has_value());  // nothing was shed; the queued entry stays
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.Find(1)->current, kLow);
}

TEST(RequestQueueTest, RaiseMovesUpKeepingOrderAndRestartsTheWait) {
  RequestQueue q(RequestQueueConfig{});
  q.Push(1, kNormal, kT0, std::nullopt);
  q.Push(2, kNormal, kT0, std::nullopt);
  q.Push(3, kHigh, kT0 + Seconds(1), std::nullopt);
  EXPECT_TRUE(q.Raise(2, kHigh, kT0 + Seconds(10)));
  EXPECT_EQ(q.Find(2)->current, kHigh);
  EXPECT_EQ(q.Find(2)->original, kNormal);
  EXPECT_EQ(q.Find(2)->class_entered_at, kT0 + Seconds(10));
  EXPECT_FALSE(q.Raise(2, kHigh, kT0 + Seconds(10)));       // already there
  EXPECT_FALSE(q.Raise(2, kLow, kT0 + Seconds(10)));        // never lowers
  EXPECT_FALSE(q.Raise(99, kCritical, kT0 + Seconds(10)));  // not queued
  // 2 was pushed before 3, so it is served before 3 inside HIGH.
  EXPECT_EQ(q.Peek(kT0 + Seconds(10))->id, 2u);
  // Waiting in HIGH counts from the raise: CRITICAL at exactly 40s.
  // (Entry 3 entered HIGH at 1s, so it is CRITICAL from 31s and is the head.)
  EXPECT_EQ(q.Peek(kT0 + Seconds(40) - Microseconds(1))->id, 3u);
  EXPECT_EQ(q.Find(3)->current, kCritical);
  EXPECT_EQ(q.Find(3)->class_entered_at, kT0 + Seconds(31));
  EXPECT_EQ(q.Find(2)->current, kHigh);
  q.Peek(kT0 + Seconds(40));
  EXPECT_EQ(q.Find(2)->current, kCritical);
  EXPECT_EQ(q.Find(2)->class_entered_at, kT0 + Seconds(40));
  EXPECT_EQ(q.Find(1)->current, kNormal);
  // Both CRITICAL now: 2 (sequence 1) before 3 (sequence 2), then NORMAL 1.
  EXPECT_EQ(DrainIds(q, kT0 + Seconds(40)), (std::vector<uint64_t>{2, 3, 1}));
}

TEST(RequestQueueTest, RemoveDropsTheEntryAndItsEscalations) {
  RequestQueue q(RequestQueueConfig{});
  q.Push(1, kNormal, kT0, kT0 + Hours(2));
  q.Push(2, kLow, kT0, std::nullopt);
  EXPECT_TRUE(q.Remove(1));
  EXPECT_FALSE(q.Remove(1));
  EXPECT_FALSE(q.Remove(42));
  EXPECT_EQ(q.Find(1), nullptr);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.size(kHigh), 0u);
  EXPECT_EQ(DrainIds(q, kT0 + Hours(3)), (std::vector<uint64_t>{2}));
  // The id may be pushed again once it left.
  EXPECT_TRUE(q.Push(1, kLow, kT0 + Hours(3), std::nullopt).accepted);
}

TEST(RequestQueueConfigTest, ValidateNamesTheField) {
  EXPECT_TRUE(RequestQueueConfig{}.validate().ok());
  RequestQueueConfig c;
  c.escalate_after[PriorityIndex(kNormal)] = Duration::Zero();
  EXPECT_EQ(c.validate().message(),
            "queue.escalate_after[NORMAL]: \"0s\" must be > 0 (or infinite for never)");
  c = RequestQueueConfig{};
  c.escalate_after[PriorityIndex(kCritical)] = Duration::Zero();  // ignored
  EXPECT_TRUE(c.validate().ok());
  c = RequestQueueConfig{};
  c.game_rules.push_back({-Minutes(5), kHigh});
  EXPECT_EQ(c.validate().message(), "queue.game_rules[2].within: \"-5m\" must be > 0 and finite");
  c.game_rules = {{Duration::Infinite(), kHigh}};
  EXPECT_FALSE(c.validate().ok());
  c.game_rules = {{Hours(1), static_cast<Priority>(7)}};
  EXPECT_EQ(c.validate().message(), "queue.game_rules[0].to: 7 must be a priority class 0..4");
}

// ---- Randomized comparison against a brute-force model -------------------

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Every entry evolves on its own; the model replays its escalations one by
// one with a linear scan, so it shares no data structure with the queue.
struct ModelEntry {
  uint64_t id;
  Priority current;
  Instant entered;
  std::optional<Instant> game_start;
  uint64_t sequence;
};

class Model {
 public:
  explicit Model(const RequestQueueConfig& c) : c_(c) {}

  bool MayEscalate(const ModelEntry& e) const {
    return c_.escalation_enabled && (e.current != kPrefetch || c_.escalate_prefetch);
  }
  Priority GameClass(const ModelEntry& e, Instant at) const {
    Priority best = e.current;
    if (!e.game_start) return best;
    for (const auto& r : c_.game_rules) {
      if (at >= *e.game_start - r.within && PriorityIndex(r.to) < PriorityIndex(best)) best = r.to;
    }
    return best;
  }
  void Settle(ModelEntry& e, Instant at) {
    if (!MayEscalate(e)) return;
    Priority g = GameClass(e, at);
    if (g != e.current) {
      e.current = g;
      e.entered = at;
    }
  }
  void Advance(ModelEntry& e, Instant now) {
    for (;;) {
      if (!MayEscalate(e)) return;
      std::optional<Instant> next;
      Duration d = c_.escalate_after[PriorityIndex(e.current)];
      if (e.current != kCritical && !d.is_infinite()) next = e.entered + d;
      if (e.game_start) {
        for (const auto& r : c_.game_rules) {
          if (PriorityIndex(r.to) >= PriorityIndex(e.current)) continue;
          Instant s = *e.game_start - r.within;
          if (!next || s < *next) next = s;
        }
      }
      if (!next || *next > now) return;
      const Instant at = *next;
      if (e.current != kCritical && !d.is_infinite() && e.entered + d == at) {
        e.current = static_cast<Priority>(PriorityIndex(e.current) - 1);
        e.entered = at;
      }
      Settle(e, at);
    }
  }
  void AdvanceAll(Instant now) {
    for (auto& e : entries_) Advance(e, now);
  }
  // Index of the entry to serve next, or -1.
  int Best() const {
    int best = -1;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (best < 0 ||
          std::make_pair(PriorityIndex(entries_[i].current), entries_[i].sequence) <
              std::make_pair(PriorityIndex(entries_[best].current), entries_[best].sequence)) {
        best = static_cast<int>(i);
      }
    }
    return best;
  }
  ModelEntry* Find(uint64_t id) {
    for (auto& e : entries_) {
      if (e.id == id) return &e;
    }
    return nullptr;
  }
  void Erase(uint64_t id) {
    entries_.erase(std::find_if(entries_.begin(), entries_.end(),
                                [id](const ModelEntry& e) { return e.id == id; }));
  }
  // Returns {accepted, shed id}.
  PushResult Push(uint64_t id, Priority p, Instant now, std::optional<Instant> game) {
    AdvanceAll(now);
    if (Find(id)) return {false, std::nullopt};
    ModelEntry e{id, p, now, game, next_sequence_};
    Settle(e, now);
    PushResult r{true, std::nullopt};
    if (c_.capacity != 0 && entries_.size() >= c_.capacity) {
      int worst = -1;
      for (size_t i = 0; i < entries_.size(); ++i) {
        if (worst < 0 ||
            std::make_pair(PriorityIndex(entries_[i].current), entries_[i].sequence) >
                std::make_pair(PriorityIndex(entries_[worst].current), entries_[worst].sequence)) {
          worst = static_cast<int>(i);
        }
      }
      if (PriorityIndex(entries_[worst].current) <= PriorityIndex(e.current)) {
        return {false, id};
      }
      r.shed_id = entries_[worst].id;
      Erase(*r.shed_id);
    }
    ++next_sequence_;
    entries_.push_back(e);
    return r;
  }
  bool Raise(uint64_t id, Priority p, Instant now) {
    AdvanceAll(now);
    ModelEntry* e = Find(id);
    if (!e || PriorityIndex(p) >= PriorityIndex(e->current)) return false;
    e->current = p;
    e->entered = now;
    Settle(*e, now);
    return true;
  }
  std::vector<ModelEntry>& entries() { return entries_; }

 private:
  RequestQueueConfig c_;
  uint64_t next_sequence_ = 0;
  std::vector<ModelEntry> entries_;
};

// What one run exercised, so the test can show it is not vacuous.
struct Coverage {
  int sheds = 0, refusals = 0, duplicates = 0, raises = 0, escalated_pops = 0;
};

void RunRandomized(uint64_t seed, Coverage& coverage) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  uint64_t rng = seed;
  auto below = [&rng](uint64_t n) { return SplitMix64(rng) % n; };

  RequestQueueConfig c;
  const size_t capacities[] = {0, 4, 16};
  c.capacity = capacities[below(3)];
  c.escalation_enabled = below(5) != 0;
  c.escalate_prefetch = below(2) == 0;
  for (int i = 1; i < kPriorityCount; ++i) {
    c.escalate_after[i] = below(4) == 0 ? Duration::Infinite() : Seconds(5 + below(60));
  }
  c.game_rules = {{Minutes(10 + below(50)), kCritical}, {Minutes(60 + below(120)), kHigh}};
  if (below(2)) c.game_rules.push_back({Hours(4), kNormal});
  ASSERT_TRUE(c.validate().ok());

  RequestQueue q(c);
  Model m(c);
  Instant now = kT0;
  uint64_t next_id = 1;
  // Bookkeeping kept by the test itself, independent of queue and model.
  std::map<uint64_t, int> endings;          // id -> times it ended (popped, removed, shed, refused)
  std::map<uint64_t, int> arrivals;         // id -> times Push was offered it while not queued
  std::map<uint64_t, Instant> pushed_at;    // queued id -> Push instant
  std::map<uint64_t, Priority> last_class;  // queued id -> class last seen

  // The class of every queued entry as of `now` (Peek applies what is due).
  auto snapshot = [&]() {
    q.Peek(now);
    std::map<uint64_t, QueueEntry> out;
    for (const auto& [id, at] : pushed_at) out.emplace(id, *q.Find(id));
    return out;
  };

  auto check = [&]() {
    m.AdvanceAll(now);
    auto head = q.Peek(now);
    int best = m.Best();
    ASSERT_EQ(head.has_value(), best >= 0);
    if (head) {
      EXPECT_EQ(head->id, m.entries()[best].id);
    }
    // Sizes: queue, model and the test's own bookkeeping agree; the per-class
    // sizes add up; the capacity holds.
    ASSERT_EQ(q.size(), m.entries().size());
    ASSERT_EQ(q.size(), pushed_at.size());
    ASSERT_EQ(q.empty(), pushed_at.empty());
    if (c.capacity != 0) {
      ASSERT_LE(q.size(), c.capacity);
    }
    size_t sum = 0;
    for (Priority p : kAllPriorities) {
      size_t n = std::count_if(m.entries().begin(), m.entries().end(),
                               [p](const ModelEntry& e) { return e.current == p; });
      ASSERT_EQ(q.size(p), n);
      sum += q.size(p);
    }
    ASSERT_EQ(sum, q.size());
    for (const ModelEntry& e : m.entries()) {
      const QueueEntry* qe = q.Find(e.id);
      ASSERT_NE(qe, nullptr);
      ASSERT_EQ(qe->current, e.current) << "id " << e.id;
      ASSERT_EQ(qe->class_entered_at, e.entered) << "id " << e.id;
      ASSERT_EQ(qe->sequence, e.sequence);
      ASSERT_EQ(qe->enqueued_at, pushed_at.at(e.id));
      ASSERT_LE(qe->class_entered_at, now);
      ASSERT_GE(qe->class_entered_at, qe->enqueued_at);
      // Never moves down: not below its original class, not below what it was.
      ASSERT_TRUE(AtLeast(qe->current, qe->original)) << "id " << e.id;
      ASSERT_TRUE(AtLeast(qe->current, last_class.at(e.id))) << "id " << e.id;
      last_class[e.id] = qe->current;
    }
  };

  auto ended = [&](uint64_t id) {
    ++endings[id];
    pushed_at.erase(id);
    last_class.erase(id);
  };

  for (int step = 0; step < 3000; ++step) {
    now += Microseconds(static_cast<int64_t>(below(15000000)));  // up to 15s
    const uint64_t op = below(20);
    if (op < 10) {
      // Mostly fresh ids; now and then an id that may still be queued.
      const bool duplicate = op == 0 && next_id > 1;
      const uint64_t id = duplicate ? 1 + below(next_id - 1) : next_id++;
      const Priority p = kAllPriorities[below(kPriorityCount)];
      std::optional<Instant> game;
      if (below(2)) game = now + Minutes(static_cast<int64_t>(below(300))) - Minutes(20);
      const auto before = snapshot();
      PushResult expected = m.Push(id, p, now, game);
      PushResult got = q.Push(id, p, now, game);
      ASSERT_EQ(got.accepted, expected.accepted);
      ASSERT_EQ(got.shed_id, expected.shed_id);
      if (before.count(id) != 0) {
        // A queued id: refused, nothing shed, nothing changed.
        ASSERT_FALSE(got.accepted);
        ASSERT_FALSE(got.shed_id.has_value());
        ASSERT_EQ(q.size(), before.size());
        ++coverage.duplicates;
        continue;
      }
      ++arrivals[id];   // a fresh id, or one pushed again after it left
      int lowest = -1;  // least urgent class present before the push
      for (const auto& [qid, e] : before) lowest = std::max(lowest, PriorityIndex(e.current));
      if (!got.accepted) {
        // Refused only when full, and then the arrival is reported as shed.
        ASSERT_NE(c.capacity, 0u);
        ASSERT_EQ(before.size(), c.capacity);
        ASSERT_EQ(got.shed_id, id);
        ++coverage.refusals;
        ASSERT_EQ(q.size(), before.size());
        ended(id);
      } else {
        pushed_at[id] = now;
        const QueueEntry* in = q.Find(id);
        ASSERT_NE(in, nullptr);
        last_class[id] = in->current;
        if (got.shed_id) {
          // Shedding takes the newest entry of the least urgent class present,
          // and only when that class is strictly less urgent than the arrival.
          ASSERT_EQ(before.size(), c.capacity);
          const QueueEntry& victim = before.at(*got.shed_id);
          ASSERT_EQ(PriorityIndex(victim.current), lowest);
          ASSERT_LT(PriorityIndex(in->current), lowest);
          for (const auto& [qid, e] : before) {
            if (e.current == victim.current) {
              ASSERT_LE(e.sequence, victim.sequence);
            }
          }
          ASSERT_EQ(q.Find(*got.shed_id), nullptr);
          ended(*got.shed_id);
          ++coverage.sheds;
        } else if (c.capacity != 0) {
          ASSERT_LT(before.size(), c.capacity);
        }
        ASSERT_EQ(q.size(), pushed_at.size());
      }
    } else if (op < 16) {
      m.AdvanceAll(now);
      int best = m.Best();
      const auto before = snapshot();
      auto got = q.Pop(now);
      ASSERT_EQ(got.has_value(), best >= 0);
      if (got) {
        ASSERT_EQ(got->id, m.entries()[best].id);
        // FIFO inside a class, most urgent class first: nothing left is more
        // urgent, and nothing of the same class was pushed earlier.
        for (const auto& [qid, e] : before) {
          if (qid == got->id) continue;
          ASSERT_GE(PriorityIndex(e.current), PriorityIndex(got->current));
          if (e.current == got->current) {
            ASSERT_GT(e.sequence, got->sequence);
          }
        }
        // The wait is measurable from what Pop returns.
        ASSERT_EQ(got->enqueued_at, pushed_at.at(got->id));
        ASSERT_EQ(got->WaitedUntil(now), now - pushed_at.at(got->id));
        if (got->current != got->original) ++coverage.escalated_pops;
        m.Erase(got->id);
        ended(got->id);
      } else {
        ASSERT_TRUE(before.empty());
      }
    } else if (op < 18) {
      const uint64_t id = 1 + below(next_id);
      const bool queued = m.Find(id) != nullptr;
      ASSERT_EQ(queued, pushed_at.count(id) != 0);
      ASSERT_EQ(q.Remove(id), queued);
      if (queued) {
        m.Erase(id);
        ended(id);
      }
    } else {
      const uint64_t id = 1 + below(next_id);
      const Priority p = kAllPriorities[below(kPriorityCount)];
      const bool raised = q.Raise(id, p, now);
      ASSERT_EQ(raised, m.Raise(id, p, now));
      if (raised) {
        ++coverage.raises;
        ASSERT_TRUE(AtLeast(q.Find(id)->current, p));
        ASSERT_TRUE(AtLeast(q.Find(id)->current, last_class.at(id)));
      }
    }
    check();
    if (::testing::Test::HasFatalFailure()) return;
  }
  while (auto e = q.Pop(now)) ended(e->id);
  EXPECT_TRUE(pushed_at.empty());
  // Every arrival ends exactly once: popped, removed, shed or refused.
  EXPECT_EQ(endings, arrivals);
  EXPECT_EQ(arrivals.size(), next_id - 1);
}

TEST(RequestQueueRandomizedTest, MatchesModelAndEveryEntryLeavesExactlyOnce) {
  Coverage coverage;
  for (uint64_t seed : {1, 2, 3, 42, 1234, 98765, 31337, 2024}) RunRandomized(seed, coverage);
  EXPECT_GT(coverage.sheds, 0);
  EXPECT_GT(coverage.refusals, 0);
  EXPECT_GT(coverage.duplicates, 0);
  EXPECT_GT(coverage.raises, 0);
  EXPECT_GT(coverage.escalated_pops, 0);
  std::cout << "sheds " << coverage.sheds << ", refusals " << coverage.refusals << ", duplicates "
            << coverage.duplicates << ", raises " << coverage.raises << ", escalated pops "
            << coverage.escalated_pops << "\n";
}

}  // namespace
}  // namespace orchsim
