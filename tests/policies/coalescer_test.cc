#include "policies/coalescer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

using Ids = std::vector<uint64_t>;
constexpr auto kCritical = Priority::kCritical;
constexpr auto kHigh = Priority::kHigh;
constexpr auto kNormal = Priority::kNormal;
constexpr auto kLow = Priority::kLow;
constexpr auto kPrefetch = Priority::kPrefetch;

// Keys of one test api/endpoint; the key part is what the tests vary.
RequestKey Key(std::string_view text) { return RequestKey("odds", "event", text); }
const RequestKey kOdds("odds", "odds", "GET /v4/sports/nfl/odds?markets=h2h&regions=us");

// prefix + number, appended rather than `"literal" + std::string`, which trips
// a GCC 12 -Wrestrict false positive.
RequestKey NumberedKey(const char* prefix, uint64_t n) {
  std::string key(prefix);
  key += std::to_string(n);
  return Key(key);
}

TEST(CoalescerTest, FirstJoinerLeadsLaterJoinersFollow) {
  Coalescer c(CoalescerConfig{});
  EXPECT_FALSE(c.InFlight(kOdds));
  const JoinResult lead = c.Join(kOdds, 7, kNormal);
  EXPECT_TRUE(lead.leader);
  EXPECT_EQ(lead.leader_id, 7u);
  EXPECT_FALSE(lead.raised);
  EXPECT_EQ(lead.flight_priority, kNormal);
  EXPECT_TRUE(c.InFlight(kOdds));
  EXPECT_EQ(c.followers(kOdds), 0u);
  EXPECT_EQ(c.flights(), 1u);

  const JoinResult follow = c.Join(kOdds, 8, kNormal);
  EXPECT_FALSE(follow.leader);
  EXPECT_EQ(follow.leader_id, 7u);
  EXPECT_FALSE(follow.raised);
  EXPECT_EQ(follow.flight_priority, kNormal);
  EXPECT_EQ(c.followers(kOdds), 1u);
  EXPECT_EQ(c.flights(), 1u);
}

TEST(CoalescerTest, RaisesOnlyWhenStrictlyMoreUrgent) {
  Coalescer c(CoalescerConfig{});
  c.Join(kOdds, 1, kLow);
  JoinResult r = c.Join(kOdds, 2, kPrefetch);  // less urgent: no change
  EXPECT_FALSE(r.raised);
  EXPECT_EQ(r.flight_priority, kLow);
  r = c.Join(kOdds, 3, kLow);  // equal: no raise
  EXPECT_FALSE(r.raised);
  EXPECT_EQ(r.flight_priority, kLow);
  r = c.Join(kOdds, 4, kHigh);
  EXPECT_TRUE(r.raised);
  EXPECT_EQ(r.flight_priority, kHigh);
  EXPECT_EQ(c.flight_priority(kOdds), kHigh);
  r = c.Join(kOdds, 5, kNormal);  // between: the flight stays HIGH
  EXPECT_FALSE(r.raised);
  EXPECT_EQ(r.flight_priority, kHigh);
  r = c.Join(kOdds, 6, kCritical);
  EXPECT_TRUE(r.raised);
  EXPECT_EQ(r.flight_priority, kCritical);
  r = c.Join(kOdds, 7, kCritical);
  EXPECT_FALSE(r.raised);
  EXPECT_EQ(r.leader_id, 1u);
}

TEST(CoalescerTest, CompleteReturnsFollowersInJoinOrderAndFreesTheKey) {
  Coalescer c(CoalescerConfig{});
  c.Join(kOdds, 40, kNormal);
  for (uint64_t id : {12u, 99u, 3u, 57u}) c.Join(kOdds, id, kLow);
  EXPECT_EQ(c.Complete(kOdds), (Ids{12, 99, 3, 57}));  // join order, not id order
  EXPECT_FALSE(c.InFlight(kOdds));
  EXPECT_EQ(c.followers(kOdds), 0u);
  EXPECT_EQ(c.flights(), 0u);
  EXPECT_EQ(c.flight_priority(kOdds), kPrefetch);
  EXPECT_EQ(c.Complete(kOdds), Ids{});  // already free

  // The next joiner starts a new flight, with its own priority.
  const JoinResult r = c.Join(kOdds, 100, kLow);
  EXPECT_TRUE(r.leader);
  EXPECT_EQ(r.leader_id, 100u);
  EXPECT_EQ(r.flight_priority, kLow);
  EXPECT_EQ(c.Complete(kOdds), Ids{});  // a flight with no followers
}

TEST(CoalescerTest, LeaveRemovesOnlyFollowersAndKeepsThePriority) {
  Coalescer c(CoalescerConfig{});
  c.Join(kOdds, 1, kLow);
  c.Join(kOdds, 2, kNormal);
  c.Join(kOdds, 3, kCritical);
  c.Join(kOdds, 4, kNormal);
  EXPECT_TRUE(c.Leave(kOdds, 3));
  EXPECT_EQ(c.followers(kOdds), 2u);
  EXPECT_EQ(c.flight_priority(kOdds), kCritical);          // not lowered
  EXPECT_FALSE(c.Leave(kOdds, 3));                         // already gone
  EXPECT_FALSE(c.Leave(kOdds, 1));                         // the leader cannot leave
  EXPECT_FALSE(c.Leave(kOdds, 77));                        // never joined
  EXPECT_FALSE(c.Leave(Key("weather/GET /forecast"), 2));  // unknown key
  EXPECT_EQ(c.followers(kOdds), 2u);
  EXPECT_TRUE(c.InFlight(kOdds));
  // A later joiner that matches the (unlowered) priority does not raise it.
  const JoinResult r = c.Join(kOdds, 5, kCritical);
  EXPECT_FALSE(r.raised);
  EXPECT_EQ(c.Complete(kOdds), (Ids{2, 4, 5}));
}

TEST(CoalescerTest, EveryFollowerLeavingKeepsTheFlight) {
  Coalescer c(CoalescerConfig{});
  c.Join(kOdds, 1, kNormal);
  c.Join(kOdds, 2, kNormal);
  EXPECT_TRUE(c.Leave(kOdds, 2));
  EXPECT_TRUE(c.InFlight(kOdds));  // the leader's call is still out
  EXPECT_EQ(c.Join(kOdds, 3, kNormal).leader_id, 1u);
  EXPECT_EQ(c.Complete(kOdds), Ids{3});
}

TEST(CoalescerTest, JoiningAgainAddsNoMemberButPassesOnEscalation) {
  Coalescer c(CoalescerConfig{});
  c.Join(kOdds, 1, kLow);
  c.Join(kOdds, 2, kLow);
  JoinResult r = c.Join(kOdds, 2, kHigh);  // follower 2 was escalated while waiting
  EXPECT_FALSE(r.leader);
  EXPECT_TRUE(r.raised);
  EXPECT_EQ(r.flight_priority, kHigh);
  r = c.Join(kOdds, 1, kCritical);  // the leader itself escalated
  EXPECT_TRUE(r.leader);
  EXPECT_EQ(r.leader_id, 1u);
  EXPECT_TRUE(r.raised);
  EXPECT_EQ(c.followers(kOdds), 1u);
  EXPECT_EQ(c.Complete(kOdds), Ids{2});
}

TEST(CoalescerTest, KeysAreIndependentAndComparedExactly) {
  Coalescer c(CoalescerConfig{});
  constexpr int kKeys = 200;
  for (int k = 0; k < kKeys; ++k) {
    const RequestKey key = NumberedKey("odds/event/", static_cast<uint64_t>(k));
    for (int j = 0; j <= k % 4; ++j) {
      const uint64_t id = static_cast<uint64_t>(k * 10 + j);
      const JoinResult r = c.Join(key, id, j == 2 ? kHigh : kLow);
      EXPECT_EQ(r.leader, j == 0);
      EXPECT_EQ(r.leader_id, static_cast<uint64_t>(k * 10));
    }
  }
  EXPECT_EQ(c.flights(), static_cast<size_t>(kKeys));
  EXPECT_FALSE(c.InFlight(Key("odds/event/")));  // a prefix is another key
  EXPECT_FALSE(c.InFlight(Key("odds/event/1 ")));
  EXPECT_EQ(c.followers(Key("odds/event/7")), 3u);
  EXPECT_EQ(c.flight_priority(Key("odds/event/7")), kHigh);
  EXPECT_EQ(c.flight_priority(Key("odds/event/5")), kLow);  // one follower, LOW
  EXPECT_EQ(c.Complete(Key("odds/event/7")), (Ids{71, 72, 73}));
  EXPECT_EQ(c.flights(), static_cast<size_t>(kKeys - 1));
  EXPECT_EQ(c.followers(Key("odds/event/11")), 3u);  // untouched by its neighbour
  for (int k = 0; k < kKeys; ++k) c.Complete(NumberedKey("odds/event/", static_cast<uint64_t>(k)));
  EXPECT_EQ(c.flights(), 0u);
}

TEST(CoalescerTest, DisabledSharesNothing) {
  CoalescerConfig config;
  config.enabled = false;
  ASSERT_TRUE(config.validate().ok());
  Coalescer c(config);
  for (uint64_t id = 1; id <= 3; ++id) {
    const JoinResult r = c.Join(kOdds, id, id == 3 ? kCritical : kLow);
    EXPECT_TRUE(r.leader);
    EXPECT_EQ(r.leader_id, id);
    EXPECT_FALSE(r.raised);
    EXPECT_EQ(r.flight_priority, id == 3 ? kCritical : kLow);
  }
  EXPECT_FALSE(c.InFlight(kOdds));
  EXPECT_EQ(c.flights(), 0u);
  EXPECT_FALSE(c.Leave(kOdds, 2));
  EXPECT_EQ(c.Complete(kOdds), Ids{});
}

TEST(CoalescerConfigTest, DefaultIsEnabledAndValid) {
  EXPECT_TRUE(CoalescerConfig{}.enabled);
  EXPECT_TRUE(CoalescerConfig{}.validate().ok());
}

// Random joins, leaves and completions over a few keys against a plain model.
struct ModelFlight {
  uint64_t leader;
  Priority priority;
  Ids followers;  // join order
  Ids left;       // followers that left (they may join again)
};

TEST(CoalescerPropertyTest, MatchesASimpleModel) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    testing::SeededRandom rng(seed);
    Coalescer c(CoalescerConfig{});
    std::map<RequestKey, ModelFlight> model;
    uint64_t next_id = 1;
    int raises = 0;
    int leaves = 0;
    int rejoins = 0;
    size_t delivered = 0;
    for (int step = 0; step < 5000; ++step) {
      const RequestKey key = NumberedKey("k", rng.NextU64() % 6);
      const uint64_t op = rng.NextU64() % 10;
      auto it = model.find(key);
      if (op == 5 && it != model.end() &&
          !(it->second.followers.empty() && it->second.left.empty())) {
        // Join again: a current follower adds no member; one that left
        // rejoins at the end. Either may raise the flight's priority.
        ModelFlight& f = it->second;
        const uint64_t pick = rng.NextU64() % (f.followers.size() + f.left.size());
        const bool present = pick < f.followers.size();
        const uint64_t id = present ? f.followers[pick] : f.left[pick - f.followers.size()];
        const auto p = static_cast<Priority>(rng.NextU64() % kPriorityCount);
        const JoinResult r = c.Join(key, id, p);
        const bool raised = PriorityIndex(p) < PriorityIndex(f.priority);
        if (raised) f.priority = p;
        if (!present) {
          f.left.erase(std::find(f.left.begin(), f.left.end(), id));
          f.followers.push_back(id);
        }
        ASSERT_FALSE(r.leader);
        ASSERT_EQ(r.leader_id, f.leader);
        ASSERT_EQ(r.raised, raised) << "seed " << seed << " step " << step;
        ASSERT_EQ(r.flight_priority, f.priority);
        ++rejoins;
      } else if (op < 6) {
        const auto p = static_cast<Priority>(rng.NextU64() % kPriorityCount);
        const JoinResult r = c.Join(key, next_id, p);
        if (it == model.end()) {
          ASSERT_TRUE(r.leader);
          ASSERT_EQ(r.leader_id, next_id);
          ASSERT_FALSE(r.raised);
          model[key] = ModelFlight{next_id, p, {}, {}};
        } else {
          ModelFlight& f = it->second;
          const bool raised = PriorityIndex(p) < PriorityIndex(f.priority);
          if (raised) f.priority = p;
          f.followers.push_back(next_id);
          ASSERT_FALSE(r.leader);
          ASSERT_EQ(r.leader_id, f.leader);
          ASSERT_EQ(r.raised, raised) << "seed " << seed << " step " << step;
          raises += raised ? 1 : 0;
        }
        ASSERT_EQ(r.flight_priority, model[key].priority);
        ++next_id;
      } else if (op < 8) {
        // Leave: a real follower, the leader, or an id never seen.
        uint64_t id = next_id + 1000;
        if (it != model.end()) {
          const Ids& fs = it->second.followers;
          const uint64_t pick = rng.NextU64() % (fs.size() + 1);
          id = pick < fs.size() ? fs[pick] : it->second.leader;
        }
        bool expected = false;
        if (it != model.end()) {
          Ids& fs = it->second.followers;
          auto pos = std::find(fs.begin(), fs.end(), id);
          expected = pos != fs.end();
          if (expected) {
            fs.erase(pos);
            it->second.left.push_back(id);
          }
        }
        ASSERT_EQ(c.Leave(key, id), expected) << "seed " << seed << " step " << step;
        leaves += expected ? 1 : 0;
      } else {
        const Ids expected = it == model.end() ? Ids{} : it->second.followers;
        if (it != model.end()) model.erase(it);
        const Ids got = c.Complete(key);
        ASSERT_EQ(got, expected) << "seed " << seed << " step " << step;
        delivered += got.size();
      }
      ASSERT_EQ(c.flights(), model.size());
      for (const auto& [k, f] : model) {
        ASSERT_TRUE(c.InFlight(k));
        ASSERT_EQ(c.followers(k), f.followers.size());
        ASSERT_EQ(c.flight_priority(k), f.priority);
      }
    }
    // The run must have exercised every path, or it proves little.
    EXPECT_GT(raises, 50) << "seed " << seed;
    EXPECT_GT(leaves, 50) << "seed " << seed;
    EXPECT_GT(rejoins, 50) << "seed " << seed;
    EXPECT_GT(delivered, 500u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace orchsim
