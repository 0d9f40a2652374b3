#include "engine/world/demand.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace orchsim::world {
namespace {

std::string SourceRoot() {
  std::string file = __FILE__;
  const std::string suffix = "tests/engine/world/demand_test.cc";
  return file.substr(0, file.size() - suffix.size());
}

const std::vector<Game>& Nfl2023() {
  static const std::vector<Game> games = [] {
    auto r = LoadScheduleCsv(SourceRoot() + "scenarios/schedules/nfl-2023.csv", {}, "NFL");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error->ToString());
    return r.games;
  }();
  return games;
}

Instant At(const std::string& iso) {
  auto t = ParseInstant(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return t.ok() ? *t : Instant();
}

DemandGeneratorConfig Generator(const std::string& name, DemandPattern pattern,
                                const std::string& key = "{game}") {
  DemandGeneratorConfig g;
  g.name = name;
  g.request.api = "odds";
  g.request.endpoint = "odds";
  g.request.key_template = key;
  g.pattern = std::move(pattern);
  EXPECT_TRUE(g.validate().ok()) << g.validate().message();
  return g;
}

std::vector<TimedRequest> Drain(const std::vector<Game>& games,
                                std::vector<DemandGeneratorConfig> generators, uint64_t seed = 1) {
  DemandSource source(games, std::move(generators), kernel::SeedTree(seed));
  std::vector<TimedRequest> out;
  while (auto r = source.Next()) out.push_back(std::move(*r));
  return out;
}

Game MakeGame(const std::string& id, const std::string& kickoff, const std::string& league = "L") {
  Game g;
  g.id = id;
  g.kickoff = At(kickoff);
  g.date = CivilDateFromDays(g.kickoff.unix_micros() / Days(1).micros());
  g.home = id + "H";
  g.away = id + "A";
  g.venue = "V";
  g.league = league;
  return g;
}

// (time, generator, sequence) never decreases; ids are 1, 2, 3...
void ExpectTotalOrder(const std::vector<TimedRequest>& requests) {
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].request.id, i + 1);
    if (i == 0) continue;
    const TimedRequest& a = requests[i - 1];
    const TimedRequest& b = requests[i];
    ASSERT_TRUE(a.at < b.at || (a.at == b.at && a.generator < b.generator) ||
                (a.at == b.at && a.generator == b.generator && a.sequence < b.sequence))
        << i;
  }
}

TEST(CronDemandTest, GameDaySundaysAt9EasternAcrossDst) {
  CronPattern cron;
  cron.time_of_day = Hours(9);
  cron.weekdays = {true, false, false, false, false, false, false};  // Sundays
  cron.game_days_only = true;
  auto r = Drain(Nfl2023(), {Generator("picks", cron, "picks:{date}")});
  ASSERT_EQ(r.size(), 22u);  // Sundays with a game, 2023-09-10 .. 2024-02-11
  EXPECT_EQ(FormatInstant(r[0].at), "2023-09-10T13:00:00Z");  // 09:00 EDT
  EXPECT_EQ(r[0].request.key, "picks:2023-09-10");
  EXPECT_FALSE(r[0].request.game_start.has_value());
  // 2023-11-05: DST ended at 02:00, so 09:00 is EST.
  EXPECT_EQ(FormatInstant(r[8].at), "2023-11-05T14:00:00Z");
  EXPECT_EQ(r[8].request.key, "picks:2023-11-05");
  EXPECT_EQ(FormatInstant(r.back().at), "2024-02-11T14:00:00Z");
  ExpectTotalOrder(r);
}

TEST(CronDemandTest, EveryDayAndOnePerGame) {
  CronPattern daily;
  daily.time_of_day = Hours(6) + Minutes(30);
  auto every_day = Drain(Nfl2023(), {Generator("daily", daily, "d{date}")});
  ASSERT_EQ(every_day.size(), 158u);  // 2023-09-07 .. 2024-02-11 inclusive
  EXPECT_EQ(FormatInstant(every_day.front().at), "2023-09-07T10:30:00Z");
  EXPECT_EQ(FormatInstant(every_day.back().at), "2024-02-11T11:30:00Z");

  daily.game_days_only = true;
  EXPECT_EQ(Drain(Nfl2023(), {Generator("daily", daily, "d{date}")}).size(), 63u);

  // Explicit date range, including days without games.
  daily.game_days_only = false;
  daily.first_date = *ParseCivilDate("2023-03-11");
  daily.last_date = *ParseCivilDate("2023-03-13");
  auto spring = Drain(Nfl2023(), {Generator("daily", daily, "d{date}")});
  ASSERT_EQ(spring.size(), 3u);
  EXPECT_EQ(FormatInstant(spring[0].at), "2023-03-11T11:30:00Z");  // EST
  EXPECT_EQ(FormatInstant(spring[1].at), "2023-03-12T10:30:00Z");  // EDT from 02:00
  EXPECT_EQ(spring[2].request.key, "d2023-03-13");

  CronPattern per_game;
  per_game.time_of_day = Hours(9);
  per_game.weekdays = {true, false, false, false, false, false, false};
  per_game.one_per_game = true;
  auto r = Drain(Nfl2023(), {Generator("per-game", per_game, "{game}")});
  ASSERT_EQ(r.size(), 230u);  // Sunday games (US Eastern dates)
  EXPECT_EQ(FormatInstant(r[0].at), "2023-09-10T13:00:00Z");
  ASSERT_TRUE(r[0].request.game_start.has_value());
  // The first Sunday's 14 games, all at 09:00, in schedule order.
  std::vector<const Game*> first_sunday;
  for (const Game& g : Nfl2023()) {
    if (FormatCivilDate(g.date) == "2023-09-10") first_sunday.push_back(&g);
  }
  ASSERT_EQ(first_sunday.size(), 14u);
  for (size_t i = 0; i < 14; ++i) {
    EXPECT_EQ(r[i].at, r[0].at);
    EXPECT_EQ(r[i].request.key, first_sunday[i]->id);
    EXPECT_EQ(*r[i].request.game_start, first_sunday[i]->kickoff);
  }
  EXPECT_NE(r[14].at, r[0].at);
  ExpectTotalOrder(r);
}

TEST(GameOffsetsDemandTest, ExactInstantsBeforeEachKickoff) {
  GameOffsetsPattern offsets;
  offsets.offsets = {-Minutes(30), -Hours(2), -Hours(1)};  // any order
  DemandGeneratorConfig g =
      Generator("pre", offsets, "odds:{league}:{game}:{home}-{away}@{date}#{n}");
  g.request.priority = Priority::kHigh;
  g.request.cacheable = false;
  g.request.batchable = true;
  g.request.deadline = Seconds(30);
  auto r = Drain(Nfl2023(), {g});
  ASSERT_EQ(r.size(), 3u * 285u);
  EXPECT_EQ(FormatInstant(r[0].at), "2023-09-07T22:20:00Z");
  EXPECT_EQ(FormatInstant(r[1].at), "2023-09-07T23:20:00Z");
  EXPECT_EQ(FormatInstant(r[2].at), "2023-09-07T23:50:00Z");
  EXPECT_EQ(r[0].request.key, "odds:NFL:2023_01_DET_KC:KC-DET@2023-09-07#0");
  EXPECT_EQ(r[2].request.key, "odds:NFL:2023_01_DET_KC:KC-DET@2023-09-07#2");
  const Request& q = r[1].request;
  EXPECT_EQ(q.id, 2u);
  EXPECT_EQ(q.api, "odds");
  EXPECT_EQ(q.endpoint, "odds");
  EXPECT_EQ(q.priority, Priority::kHigh);
  EXPECT_FALSE(q.cacheable);
  EXPECT_TRUE(q.batchable);
  EXPECT_EQ(*q.game_start, At("2023-09-08T00:20:00Z"));
  EXPECT_EQ(q.deadline, r[1].at + Seconds(30));
  EXPECT_EQ(r[1].sequence, 1u);
  // The Super Bowl's last request is the last one.
  EXPECT_EQ(FormatInstant(r.back().at), "2024-02-11T23:00:00Z");
  ExpectTotalOrder(r);
}

TEST(LivePollingDemandTest, EveryIntervalForTheGameLength) {
  LivePollingPattern polling;
  polling.interval = Minutes(10);
  polling.game_length = Hours(3);
  auto r = Drain(Nfl2023(), {Generator("live", polling, "{game}/{n}")});
  ASSERT_EQ(r.size(), 18u * 285u);
  const Instant opener = At("2023-09-08T00:20:00Z");
  for (int k = 0; k < 18; ++k) {  // the opener overlaps no other game
    EXPECT_EQ(r[k].at, opener + Minutes(10) * k);
    EXPECT_EQ(r[k].request.key, "2023_01_DET_KC/" + std::to_string(k));
    EXPECT_EQ(r[k].request.deadline, Instant::Max());
  }
  EXPECT_EQ(FormatInstant(r[17].at), "2023-09-08T03:10:00Z");
  EXPECT_EQ(FormatInstant(r.back().at), "2024-02-12T02:20:00Z");
  ExpectTotalOrder(r);

  // A pre-game start and a length that is not a multiple of the interval.
  polling.start_offset = -Minutes(15);
  polling.interval = Minutes(7);
  polling.game_length = Minutes(20);
  auto pre = Drain({MakeGame("g", "2024-01-01T18:00:00Z")}, {Generator("live", polling)});
  ASSERT_EQ(pre.size(), 5u);  // -15m, -8m, -1m, 6m, 13m; 20m is the end, excluded
  EXPECT_EQ(FormatInstant(pre[0].at), "2024-01-01T17:45:00Z");
  EXPECT_EQ(FormatInstant(pre[4].at), "2024-01-01T18:13:00Z");
}

TEST(BurstDemandTest, AbsoluteAndPerGameBursts) {
  BurstPattern absolute;
  absolute.at = At("2023-10-01T12:00:00Z");
  absolute.count = 4;
  absolute.span = Seconds(1);
  auto r = Drain(Nfl2023(), {Generator("surge", absolute, "b{n}@{date}")});
  ASSERT_EQ(r.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(r[k].at, At("2023-10-01T12:00:00Z") + Milliseconds(250) * k);
    EXPECT_EQ(r[k].request.key, "b" + std::to_string(k) + "@2023-10-01");
    EXPECT_FALSE(r[k].request.game_start.has_value());
  }

  BurstPattern per_game;
  per_game.count = 3;
  per_game.kickoff_offset = -Minutes(5);
  std::vector<Game> games = {MakeGame("a", "2024-01-01T18:00:00Z"),
                             MakeGame("b", "2024-01-01T18:00:00Z")};
  auto p = Drain(games, {Generator("kick", per_game, "{game}{n}")});
  ASSERT_EQ(p.size(), 6u);
  std::vector<std::string> keys;
  for (const auto& t : p) {
    EXPECT_EQ(FormatInstant(t.at), "2024-01-01T17:55:00Z");
    keys.push_back(t.request.key);
  }
  // Same instant: game order, then the burst's own order.
  EXPECT_EQ(keys, (std::vector<std::string>{"a0", "a1", "a2", "b0", "b1", "b2"}));
}

TEST(KickoffPoissonDemandTest, CountsWithinBoundsAndRateProfileRespected) {
  KickoffPoissonPattern poisson;
  poisson.steps = {{-Minutes(60), 1.0}, {-Minutes(10), 0.0}, {Duration::Zero(), 6.0}};
  poisson.until = Minutes(30);
  auto r = Drain(Nfl2023(), {Generator("surge", poisson, "{game}")}, 7);
  // Expected per game 50 * 1 + 30 * 6 = 230; 285 games.
  int before = 0;
  int during = 0;
  for (const TimedRequest& t : r) {
    const Duration offset = t.at - *t.request.game_start;
    ASSERT_GE(offset, -Minutes(60));
    ASSERT_LT(offset, Minutes(30));
    ASSERT_FALSE(offset >= -Minutes(10) && offset < Duration::Zero()) << "rate-0 step";
    ++(offset < Duration::Zero() ? before : during);
  }
  // Within 5 standard deviations (sd = sqrt(mean)).
  EXPECT_NEAR(before, 285 * 50, 5 * std::sqrt(285.0 * 50));
  EXPECT_NEAR(during, 285 * 180, 5 * std::sqrt(285.0 * 180));
  ExpectTotalOrder(r);

  // Exact reproducibility: pinned values for seed 7, and the same sequence twice.
  EXPECT_EQ(before, 14266);
  EXPECT_EQ(during, 51251);
  EXPECT_EQ(FormatInstant(r.front().at), "2023-09-07T23:20:09.719222Z");
  auto again = Drain(Nfl2023(), {Generator("surge", poisson, "{game}")}, 7);
  ASSERT_EQ(again.size(), r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    ASSERT_EQ(again[i].at, r[i].at);
    ASSERT_EQ(again[i].request.key, r[i].request.key);
  }
  auto other_seed = Drain(Nfl2023(), {Generator("surge", poisson, "{game}")}, 8);
  EXPECT_NE(other_seed.front().at, r.front().at);
}

TEST(DemandSourceTest, MergesGeneratorsByTimeThenGeneratorThenSequence) {
  std::vector<Game> games = {MakeGame("x", "2024-01-01T18:00:00Z"),
                             MakeGame("y", "2024-01-01T18:00:00Z"),
                             MakeGame("z", "2024-01-01T19:00:00Z")};
  GameOffsetsPattern at_kickoff;
  at_kickoff.offsets = {Duration::Zero()};
  LivePollingPattern hourly;
  hourly.interval = Hours(1);
  hourly.game_length = Hours(2);
  auto r =
      Drain(games, {Generator("A", at_kickoff, "A{game}"), Generator("B", hourly, "B{game}{n}")});
  std::vector<std::string> got;
  for (const auto& t : r) got.push_back(FormatInstant(t.at).substr(11, 5) + " " + t.request.key);
  EXPECT_EQ(got,
            (std::vector<std::string>{"18:00 Ax", "18:00 Ay", "18:00 Bx0", "18:00 By0", "19:00 Az",
                                      "19:00 Bx1", "19:00 By1", "19:00 Bz0", "20:00 Bz1"}));
  ExpectTotalOrder(r);
  EXPECT_EQ(r[2].generator, 1);
  EXPECT_EQ(r[2].sequence, 0u);
  EXPECT_EQ(r[6].sequence, 3u);
}

TEST(DemandSourceTest, DemandOfOneGeneratorIgnoresTheOthersAndLeagues) {
  KickoffPoissonPattern poisson;
  poisson.steps = {{-Minutes(30), 2.0}};
  poisson.until = Minutes(30);
  auto keys_of = [](const std::vector<TimedRequest>& r, int generator) {
    std::vector<std::pair<int64_t, std::string>> out;
    for (const auto& t : r) {
      if (t.generator == generator) out.emplace_back(t.at.unix_micros(), t.request.key);
    }
    return out;
  };
  auto alone = Drain(Nfl2023(), {Generator("traffic", poisson)}, 3);
  // Another generator before it (shifting its index) and a disabled one.
  DemandGeneratorConfig off = Generator("off", poisson);
  off.enabled = false;
  auto together =
      Drain(Nfl2023(), {Generator("other", poisson), off, Generator("traffic", poisson)}, 3);
  EXPECT_EQ(keys_of(together, 2), keys_of(alone, 0));
  EXPECT_TRUE(keys_of(together, 1).empty());
  EXPECT_NE(keys_of(together, 0), keys_of(alone, 0));  // its own stream

  // League filter.
  std::vector<Game> games = {MakeGame("a", "2024-01-01T18:00:00Z", "NFL"),
                             MakeGame("b", "2024-01-01T18:30:00Z", "NBA")};
  DemandGeneratorConfig nba = Generator("nba", GameOffsetsPattern{{Duration::Zero()}});
  nba.league = "NBA";
  auto r = Drain(games, {nba});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].request.key, "b");
}

// Scale: the source holds one cursor per open game window, not the season.
struct ScaleRun {
  uint64_t requests = 0;
  size_t max_buffered = 0;
};

ScaleRun RunSeasons(int seasons) {
  std::vector<SyntheticLeague> leagues;
  for (int s = 0; s < seasons; ++s) {
    SyntheticLeague l;
    l.name = "SCALE";
    l.teams = 32;
    l.games_per_day = 4;
    l.kickoff_times_of_day = {Hours(13), Hours(16), Hours(19), Hours(20) + Minutes(30)};
    l.season_days = 180;
    l.season_start = At("2030-09-01T12:00:00Z") + Days(365) * s;
    l.time_zone = "America/New_York";
    leagues.push_back(l);
  }
  std::vector<Game> games;
  EXPECT_TRUE(GenerateSyntheticSchedules(leagues, kernel::SeedTree(5), &games).ok());
  EXPECT_EQ(games.size(), static_cast<size_t>(seasons) * 180 * 4);
  LivePollingPattern polling;
  polling.interval = Minutes(5);
  polling.game_length = Hours(3);
  KickoffPoissonPattern poisson;
  poisson.steps = {{-Minutes(30), 2.0}};
  poisson.until = Duration::Zero();
  CronPattern cron;
  cron.game_days_only = true;
  DemandSource source(games,
                      {Generator("pre", GameOffsetsPattern{}), Generator("live", polling),
                       Generator("surge", poisson), Generator("cron", cron, "{date}")},
                      kernel::SeedTree(11));
  ScaleRun run;
  Instant last = Instant::Epoch();
  while (auto r = source.Next()) {
    EXPECT_GE(r->at, last);
    last = r->at;
    ++run.requests;
    run.max_buffered = std::max(run.max_buffered, source.buffered());
  }
  return run;
}

TEST(DemandSourceTest, StreamsTenSeasonsWithBoundedBuffer) {
  const ScaleRun one = RunSeasons(1);
  const ScaleRun ten = RunSeasons(10);
  // 3 offsets + 36 polls per game + 1 cron per day, plus Poisson (~60 per game).
  EXPECT_GT(one.requests, 720u * 39 + 180);
  EXPECT_GT(ten.requests, 10 * (720u * 39 + 180));
  // At most 4 games a day, windows of at most 3h: 4 cursors per per-game
  // generator, one cron head, one merge head per generator.
  EXPECT_LE(one.max_buffered, 3u * 4u + 1u + 4u);
  EXPECT_EQ(ten.max_buffered, one.max_buffered);
}

TEST(DemandValidateTest, ErrorsNameTheField) {
  DemandGeneratorConfig g = Generator("odds", GameOffsetsPattern{});
  g.request.key_template = "{game}-{gme}";
  EXPECT_EQ(g.validate().message(),
            "demand.odds.request.key: \"{game}-{gme}\" unknown placeholder {gme}; "
            "expected {game}, {home}, {away}, {league}, {venue}, {date}, {n}");
  g.request.key_template = "{game";
  EXPECT_EQ(g.validate().message(),
            "demand.odds.request.key: \"{game\" unclosed '{': expected placeholders "
            "like {game}");
  g.request.key_template = "{game}";
  g.request.deadline = Duration::Zero();
  EXPECT_EQ(g.validate().message(), "demand.odds.request.deadline: \"0s\" must be > 0s");
  g.request.deadline = Duration::Infinite();
  g.request.api = "";
  EXPECT_EQ(g.validate().message(), "demand.odds.request.api: \"\" must not be empty");

  DemandGeneratorConfig cron = Generator("daily", CronPattern{}, "{date}");
  cron.request.key_template = "{home}";
  EXPECT_EQ(cron.validate().message(),
            "demand.daily.request.key: \"{home}\" uses a game placeholder, but this "
            "pattern's requests are not about one game; expected only {date} and {n} (or cron "
            "one_per_game)");
  CronPattern bad_cron;
  bad_cron.time_zone = "Mars";
  cron.request.key_template = "{date}";
  cron.pattern = bad_cron;
  EXPECT_EQ(cron.validate().message().rfind("demand.daily.cron.time_zone: unknown time zone", 0),
            0u);

  KickoffPoissonPattern poisson;
  poisson.steps = {{-Minutes(10), 1.0}, {-Minutes(10), 2.0}};
  g.request.api = "odds";
  g.pattern = poisson;
  EXPECT_EQ(g.validate().message(),
            "demand.odds.kickoff_poisson.steps[1].from: \"-10m\" must be after steps[0].from -10m");
  poisson.steps = {{-Minutes(10), -1.0}};
  g.pattern = poisson;
  EXPECT_EQ(g.validate().message(),
            "demand.odds.kickoff_poisson.steps[0].per_minute: -1 must be finite and >= 0");
  poisson.steps = {{Minutes(10), 1.0}};
  poisson.until = Minutes(10);
  g.pattern = poisson;
  EXPECT_EQ(g.validate().message(),
            "demand.odds.kickoff_poisson.until: \"10m\" must be after the last step's from 10m");
  LivePollingPattern polling;
  polling.interval = Duration::Zero();
  g.pattern = polling;
  EXPECT_EQ(g.validate().message(), "demand.odds.live_polling.interval: \"0s\" must be > 0s");
  BurstPattern burst;
  burst.count = 0;
  g.pattern = burst;
  EXPECT_EQ(g.validate().message(), "demand.odds.burst.count: 0 must be >= 1");
  g.pattern = GameOffsetsPattern{{}};
  EXPECT_EQ(g.validate().message(),
            "demand.odds.offsets.offsets: empty; expected at least one offset");

  EXPECT_EQ(ValidateDemandGenerators(
                {Generator("a", GameOffsetsPattern{}), Generator("a", GameOffsetsPattern{})})
                .message(),
            "demand[1].name: \"a\" is also the name of demand[0]; expected unique names");
}

}  // namespace
}  // namespace orchsim::world
