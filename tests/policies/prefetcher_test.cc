#include "policies/prefetcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

using ::testing::ElementsAre;

const Instant kT0 = Instant::FromUnixMicros(1694390400000000);  // 2023-09-11T00:00:00Z
const Instant kKickoff = kT0 + Hours(20);

struct Issued {
  Instant at;
  Request request;
};

PrefetchConfig TwoTargets() {
  PrefetchConfig config;
  config.enabled = true;
  config.targets = {{"odds", "odds", "sport=nfl&game={game}&markets=h2h", false},
                    {"weather", "forecast", "{game}/{game}", true}};
  return config;
}

class PrefetcherTest : public ::testing::Test {
 protected:
  std::unique_ptr<Prefetcher> Make(const PrefetchConfig& config) {
    return std::make_unique<Prefetcher>(config, timers_, [this](Request r) {
      issued_.push_back({clock_.now(), r});
    });
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const Issued& i : issued_)
      keys.push_back(FormatInstant(i.at) + " " + i.request.api + "|" + i.request.endpoint + "|" +
                     i.request.key);
    return keys;
  }

  testing::FakeClock clock_{kT0};
  testing::FakeTimers timers_{clock_};
  std::vector<Issued> issued_;
};

// --- validate -------------------------------------------------------------

TEST(PrefetchConfigTest, DefaultsValidAndErrorsNameTheField) {
  EXPECT_TRUE(PrefetchConfig{}.validate().ok());  // disabled, no targets
  EXPECT_TRUE(TwoTargets().validate().ok());
  auto message = [](auto mutate) {
    PrefetchConfig c = TwoTargets();
    mutate(c);
    return c.validate().message();
  };
  EXPECT_EQ(message([](PrefetchConfig& c) { c.offsets[1] = Duration::Zero(); }),
            "prefetch.offsets[1]: \"0s\" must be > 0");
  EXPECT_EQ(message([](PrefetchConfig& c) { c.offsets[2] = Hours(2); }),
            "prefetch.offsets[2]: \"2h\" must differ from prefetch.offsets[0]");
  EXPECT_EQ(message([](PrefetchConfig& c) { c.targets[1].api = ""; }),
            "prefetch.targets[1].api: \"\" must not be empty");
  EXPECT_EQ(message([](PrefetchConfig& c) { c.targets[0].endpoint = ""; }),
            "prefetch.targets[0].endpoint: \"\" must not be empty");
  EXPECT_EQ(message([](PrefetchConfig& c) { c.offsets.clear(); }),
            "prefetch.offsets: [] must not be empty when enabled");
  EXPECT_EQ(message([](PrefetchConfig& c) { c.targets.clear(); }),
            "prefetch.targets: [] must not be empty when enabled");
}

TEST(ExpandKeyTemplateTest, ReplacesEveryPlaceholderOnly) {
  EXPECT_EQ(ExpandKeyTemplate("game={game}", "g7"), "game=g7");
  EXPECT_EQ(ExpandKeyTemplate("{game}-{game}", "g7"), "g7-g7");
  EXPECT_EQ(ExpandKeyTemplate("league=nfl", "g7"), "league=nfl");
  EXPECT_EQ(ExpandKeyTemplate("{gam}{game}}", "g7"), "{gam}g7}");
  EXPECT_EQ(ExpandKeyTemplate("", "g7"), "");
  EXPECT_EQ(ExpandKeyTemplate("{game}", "{game}"), "{game}");  // no re-expansion
}

// --- scheduling -----------------------------------------------------------

TEST_F(PrefetcherTest, IssuesOneRequestPerTargetPerOffsetAtExactInstants) {
  auto prefetcher = Make(TwoTargets());
  prefetcher->AddGame("g1", kKickoff, kT0);
  EXPECT_EQ(prefetcher->pending(), 3u);
  timers_.AdvanceTo(kKickoff - Hours(2) - Microseconds(1));
  EXPECT_TRUE(issued_.empty());
  timers_.AdvanceTo(kKickoff + Days(1));
  EXPECT_THAT(Keys(), ElementsAre("2023-09-11T18:00:00Z odds|odds|sport=nfl&game=g1&markets=h2h",
                                  "2023-09-11T18:00:00Z weather|forecast|g1/g1",
                                  "2023-09-11T19:00:00Z odds|odds|sport=nfl&game=g1&markets=h2h",
                                  "2023-09-11T19:00:00Z weather|forecast|g1/g1",
                                  "2023-09-11T19:30:00Z odds|odds|sport=nfl&game=g1&markets=h2h",
                                  "2023-09-11T19:30:00Z weather|forecast|g1/g1"));
  EXPECT_EQ(issued_[0].at.unix_micros(), kKickoff.unix_micros() - Hours(2).micros());
  EXPECT_EQ(prefetcher->issued(), 6u);
  EXPECT_EQ(prefetcher->pending(), 0u);
}

TEST_F(PrefetcherTest, RequestFieldsArePrefetchClassForTheGame) {
  auto prefetcher = Make(TwoTargets());
  prefetcher->AddGame("g1", kKickoff, kT0);
  timers_.AdvanceTo(kKickoff - Hours(2));
  ASSERT_EQ(issued_.size(), 2u);
  const Request& odds = issued_[0].request;
  EXPECT_EQ(odds.id, 0u);
  EXPECT_EQ(odds.api, "odds");
  EXPECT_EQ(odds.endpoint, "odds");
  EXPECT_EQ(odds.key, "sport=nfl&game=g1&markets=h2h");
  EXPECT_EQ(odds.priority, Priority::kPrefetch);
  EXPECT_EQ(odds.game_start, kKickoff);
  EXPECT_TRUE(odds.cacheable);
  EXPECT_FALSE(odds.batchable);
  EXPECT_EQ(odds.deadline, kKickoff);
  EXPECT_TRUE(issued_[1].request.batchable);
}

TEST_F(PrefetcherTest, NoDeadlineWhenDeadlineAtKickoffIsOff) {
  PrefetchConfig config = TwoTargets();
  config.deadline_at_kickoff = false;
  auto prefetcher = Make(config);
  prefetcher->AddGame("g1", kKickoff, kT0);
  timers_.AdvanceTo(kKickoff);
  ASSERT_EQ(issued_.size(), 6u);
  EXPECT_EQ(issued_[5].request.deadline, Instant::Max());
}

TEST_F(PrefetcherTest, PastOffsetsAreSkippedAndAnOffsetAtNowStillRuns) {
  auto prefetcher = Make(TwoTargets());
  // Added exactly one hour out: the 2h offset is past, the 1h offset is now.
  clock_.Set(kKickoff - Hours(1));
  prefetcher->AddGame("g1", kKickoff, kKickoff - Hours(1));
  EXPECT_EQ(prefetcher->pending(), 2u);
  EXPECT_TRUE(issued_.empty());  // never synchronously
  timers_.AdvanceTo(kKickoff);
  EXPECT_THAT(Keys(), ElementsAre("2023-09-11T19:00:00Z odds|odds|sport=nfl&game=g1&markets=h2h",
                                  "2023-09-11T19:00:00Z weather|forecast|g1/g1",
                                  "2023-09-11T19:30:00Z odds|odds|sport=nfl&game=g1&markets=h2h",
                                  "2023-09-11T19:30:00Z weather|forecast|g1/g1"));
  // Added one microsecond after its 1h offset: only the 30m offset remains.
  prefetcher->AddGame("g2", kKickoff + Hours(1), kKickoff + Microseconds(1));
  EXPECT_EQ(prefetcher->pending(), 1u);
  prefetcher->AddGame("g3", kKickoff, kKickoff);  // every offset past
  EXPECT_EQ(prefetcher->pending(), 1u);
}

TEST_F(PrefetcherTest, SameInstantTimersFireInAddOrder) {
  PrefetchConfig config = TwoTargets();
  config.targets.resize(1);
  config.offsets = {Minutes(30)};
  auto prefetcher = Make(config);
  prefetcher->AddGame("late", kKickoff + Hours(1), kT0);
  prefetcher->AddGame("b", kKickoff, kT0);
  prefetcher->AddGame("a", kKickoff, kT0);
  timers_.AdvanceTo(kKickoff + Days(1));
  EXPECT_THAT(Keys(),
              ElementsAre("2023-09-11T19:30:00Z odds|odds|sport=nfl&game=b&markets=h2h",
                          "2023-09-11T19:30:00Z odds|odds|sport=nfl&game=a&markets=h2h",
                          "2023-09-11T20:30:00Z odds|odds|sport=nfl&game=late&markets=h2h"));
}

TEST_F(PrefetcherTest, ReAddingAGameReplacesItsSchedule) {
  auto prefetcher = Make(TwoTargets());
  prefetcher->AddGame("g1", kKickoff, kT0);
  prefetcher->AddGame("g1", kKickoff + Hours(2), kT0);  // kickoff moved
  EXPECT_EQ(prefetcher->pending(), 3u);
  EXPECT_EQ(timers_.cancelled(), 3);
  timers_.AdvanceTo(kKickoff + Days(1));
  ASSERT_EQ(issued_.size(), 6u);
  EXPECT_EQ(issued_.front().at, kKickoff);
  EXPECT_EQ(issued_.back().at, kKickoff + Hours(1) + Minutes(30));
  EXPECT_EQ(issued_.back().request.game_start, kKickoff + Hours(2));
}

TEST_F(PrefetcherTest, RemoveGameCancelsOnlyItsTimers) {
  auto prefetcher = Make(TwoTargets());
  prefetcher->AddGame("g1", kKickoff, kT0);
  prefetcher->AddGame("g2", kKickoff + Hours(3), kT0);
  timers_.AdvanceTo(kKickoff - Hours(2));  // g1's first offset fires
  EXPECT_EQ(prefetcher->RemoveGame("g1"), 2u);
  EXPECT_EQ(prefetcher->RemoveGame("g1"), 0u);
  EXPECT_EQ(prefetcher->RemoveGame("unknown"), 0u);
  EXPECT_EQ(prefetcher->pending(), 3u);
  timers_.AdvanceTo(kKickoff + Days(1));
  EXPECT_EQ(prefetcher->issued(), 2u + 6u);
  for (size_t i = 2; i < issued_.size(); ++i) {
    EXPECT_EQ(issued_[i].request.game_start, kKickoff + Hours(3));
  }
}

TEST_F(PrefetcherTest, StopCancelsEverythingAndIgnoresLaterGames) {
  auto prefetcher = Make(TwoTargets());
  prefetcher->AddGame("g1", kKickoff, kT0);
  prefetcher->AddGame("g2", kKickoff, kT0);
  prefetcher->Stop();
  EXPECT_EQ(prefetcher->pending(), 0u);
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_EQ(timers_.cancelled(), 6);
  prefetcher->AddGame("g3", kKickoff, kT0);
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.AdvanceTo(kKickoff + Days(1));
  EXPECT_EQ(prefetcher->issued(), 0u);
}

TEST_F(PrefetcherTest, StopFromInsideTheIssueFnEndsTheBurst) {
  Prefetcher* self = nullptr;
  Prefetcher prefetcher(TwoTargets(), timers_, [&](Request r) {
    issued_.push_back({clock_.now(), r});
    self->Stop();
  });
  self = &prefetcher;
  prefetcher.AddGame("g1", kKickoff, kT0);
  timers_.AdvanceTo(kKickoff + Days(1));
  EXPECT_EQ(issued_.size(), 1u);  // the second target of the burst is not issued
  EXPECT_EQ(prefetcher.issued(), 1u);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(PrefetcherTest, DestructorCancelsPendingTimers) {
  {
    auto prefetcher = Make(TwoTargets());
    prefetcher->AddGame("g1", kKickoff, kT0);
    EXPECT_EQ(timers_.pending(), 3u);
  }
  EXPECT_EQ(timers_.pending(), 0u);
  timers_.AdvanceTo(kKickoff + Days(1));  // would use a dangling prefetcher otherwise
  EXPECT_TRUE(issued_.empty());
}

TEST_F(PrefetcherTest, DisabledSchedulesNothing) {
  PrefetchConfig config = TwoTargets();
  config.enabled = false;
  auto prefetcher = Make(config);
  prefetcher->AddGame("g1", kKickoff, kT0);
  EXPECT_EQ(prefetcher->pending(), 0u);
  EXPECT_TRUE(timers_.scheduled_at().empty());
  timers_.AdvanceTo(kKickoff + Days(1));
  EXPECT_EQ(prefetcher->issued(), 0u);
}

// A season: memory is bounded by what is pending, every offset fires once.
TEST_F(PrefetcherTest, SeasonOfGamesIssuesEveryOffsetOnceAndFreesState) {
  auto prefetcher = Make(TwoTargets());
  size_t max_pending = 0;
  for (int week = 0; week < 18; ++week) {
    const Instant now = kT0 + Days(7 * week);
    timers_.AdvanceTo(now);
    for (int game = 0; game < 16; ++game) {
      std::string game_id = "w";  // (not "w" + ...: GCC 12 -Wrestrict false positive)
      game_id += std::to_string(week);
      game_id += "g";
      game_id += std::to_string(game);
      prefetcher->AddGame(game_id, now + Days(3) + Hours(game % 3), now);
    }
    max_pending = std::max(max_pending, prefetcher->pending());
  }
  timers_.AdvanceTo(kT0 + Days(365));
  EXPECT_EQ(prefetcher->issued(), 18u * 16u * 3u * 2u);
  EXPECT_EQ(max_pending, 16u * 3u);
  EXPECT_EQ(prefetcher->pending(), 0u);
}

}  // namespace
}  // namespace orchsim
