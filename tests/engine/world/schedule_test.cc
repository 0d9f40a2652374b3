#include "engine/world/schedule.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace orchsim::world {
namespace {

// The repository root, derived from this file's path so the test finds
// scenarios/ wherever the build directory is.
std::string SourceRoot() {
  std::string file = __FILE__;
  const std::string suffix = "tests/engine/world/schedule_test.cc";
  return file.substr(0, file.size() - suffix.size());
}

std::string Kickoff(const std::vector<Game>& games, const std::string& id) {
  for (const Game& g : games) {
    if (g.id == id) return FormatInstant(g.kickoff);
  }
  return "missing " + id;
}

const Game* FindGame(const std::vector<Game>& games, const std::string& id) {
  for (const Game& g : games) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

ScheduleLoadResult Parse(const std::string& text, const ScheduleColumns& columns = {}) {
  return ParseScheduleCsv(text, "test.csv", columns, "NFL");
}

std::string ErrorOf(const ScheduleLoadResult& r) {
  return r.ok() ? "no error" : r.error->ToString();
}

const char* kNflHeader =
    "game_id,season,game_type,week,gameday,weekday,gametime,away_team,home_team,location,roof,"
    "stadium_id,stadium\n";

TEST(ScheduleCsvTest, Nfl2023KickoffsInUtcAcrossDaylightSavingChanges) {
  auto r = LoadScheduleCsv(SourceRoot() + "scenarios/schedules/nfl-2023.csv", {}, "NFL");
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  ASSERT_EQ(r.games.size(), 285u);  // 272 regular season + 13 playoff games
  // Season opener, Thursday night in EDT (-04:00).
  EXPECT_EQ(r.games.front().id, "2023_01_DET_KC");
  EXPECT_EQ(FormatInstant(r.games.front().kickoff), "2023-09-08T00:20:00Z");
  EXPECT_EQ(r.games.front().kickoff.unix_micros(), 1694132400000000);
  EXPECT_EQ(r.games.front().home, "KC");
  EXPECT_EQ(r.games.front().away, "DET");
  EXPECT_EQ(r.games.front().venue, "GEHA Field at Arrowhead Stadium");
  EXPECT_EQ(r.games.front().league, "NFL");
  EXPECT_EQ(FormatCivilDate(r.games.front().date), "2023-09-07");
  // London game before the change, 09:30 EDT.
  EXPECT_EQ(Kickoff(r.games, "2023_04_ATL_JAX"), "2023-10-01T13:30:00Z");
  // The Sunday DST ends (2023-11-05 02:00): games that day are already EST.
  EXPECT_EQ(Kickoff(r.games, "2023_09_MIA_KC"), "2023-11-05T14:30:00Z");
  EXPECT_EQ(Kickoff(r.games, "2023_09_MIN_ATL"), "2023-11-05T18:00:00Z");
  EXPECT_EQ(Kickoff(r.games, "2023_09_BUF_CIN"), "2023-11-06T01:20:00Z");
  // The week after, 13:00 EST.
  EXPECT_EQ(Kickoff(r.games, "2023_10_CLE_BAL"), "2023-11-12T18:00:00Z");
  // Super Bowl LVIII, 2024-02-11 18:30 EST.
  EXPECT_EQ(r.games.back().id, "2023_22_SF_KC");
  EXPECT_EQ(FormatInstant(r.games.back().kickoff), "2024-02-11T23:30:00Z");
  for (size_t i = 1; i < r.games.size(); ++i) {
    EXPECT_TRUE(GameBefore(r.games[i - 1], r.games[i])) << i;
  }
}

TEST(ScheduleCsvTest, Nfl2024KickoffsInUtc) {
  auto r = LoadScheduleCsv(SourceRoot() + "scenarios/schedules/nfl-2024.csv", {}, "NFL");
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  ASSERT_EQ(r.games.size(), 285u);
  EXPECT_EQ(FormatInstant(r.games.front().kickoff), "2024-09-06T00:20:00Z");  // BAL at KC
  EXPECT_EQ(Kickoff(r.games, "2024_01_GB_PHI"), "2024-09-07T00:15:00Z");      // Sao Paulo
  // DST ended 2024-11-03 02:00 local.
  EXPECT_EQ(Kickoff(r.games, "2024_09_DAL_ATL"), "2024-11-03T18:00:00Z");
  EXPECT_EQ(Kickoff(r.games, "2024_10_NYG_CAR"), "2024-11-10T14:30:00Z");
  EXPECT_EQ(Kickoff(r.games, "2024_22_KC_PHI"), "2025-02-09T23:30:00Z");
}

TEST(ScheduleCsvTest, OtherLayoutsLoadByMappingAlone) {
  // A UTC timestamp column, other names, extra columns in any order.
  ScheduleColumns ts;
  ts.game_id = "match";
  ts.utc_timestamp = "start_utc";
  ts.home = "host";
  ts.away = "guest";
  ts.venue = "";
  ts.league_column = "comp";
  auto r = Parse(
      "guest,start_utc,notes,host,match,comp\n"
      "ARS,2024-03-31T15:30:00Z,x,MCI,m1,EPL\n"
      "\"LIV, FC\",2024-03-31T16:00:00+01:00,\"say \"\"hi\"\"\",EVE,m2,EPL\n",
      ts);
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  ASSERT_EQ(r.games.size(), 2u);
  EXPECT_EQ(r.games[0].id, "m2");  // 15:00Z sorts first
  EXPECT_EQ(FormatInstant(r.games[0].kickoff), "2024-03-31T15:00:00Z");
  EXPECT_EQ(r.games[0].away, "LIV, FC");
  EXPECT_EQ(r.games[0].league, "EPL");
  EXPECT_EQ(r.games[0].venue, "");
  EXPECT_EQ(FormatCivilDate(r.games[0].date), "2024-03-31");

  // A per-row zone column, HH:MM:SS times, CRLF line ends and a BOM.
  ScheduleColumns zoned;
  zoned.game_id = "id";
  zoned.date = "d";
  zoned.time = "t";
  zoned.time_zone_column = "tz";
  zoned.home = "h";
  zoned.away = "a";
  zoned.venue = "v";
  auto z = Parse(
      "\xEF\xBB\xBFid,d,t,tz,h,a,v\r\n"
      "b1,2024-03-31,15:00:00,Europe/Berlin,FCB,BVB,Allianz\r\n"
      "\r\n"
      "b2,2024-03-30,15:30:00,Europe/Berlin,S04,HSV,Veltins\r\n"
      "n1,2024-03-10,13:00,America/Chicago,CHI,MIN,Soldier\r\n"
      "n2,2024-03-10,12:00,America/Phoenix,ARI,SEA,State Farm\r\n",
      zoned);
  ASSERT_TRUE(z.ok()) << ErrorOf(z);
  ASSERT_EQ(z.games.size(), 4u);
  EXPECT_EQ(Kickoff(z.games, "n1"), "2024-03-10T18:00:00Z");  // CDT since 02:00 that day
  EXPECT_EQ(Kickoff(z.games, "n2"), "2024-03-10T19:00:00Z");  // Arizona keeps MST
  EXPECT_EQ(Kickoff(z.games, "b2"), "2024-03-30T14:30:00Z");  // CET, day before EU change
  EXPECT_EQ(Kickoff(z.games, "b1"), "2024-03-31T13:00:00Z");  // CEST
  EXPECT_EQ(FindGame(z.games, "b1")->venue, "Allianz");

  // A fixed zone for the whole file.
  ScheduleColumns fixed = zoned;
  fixed.time_zone_column = "";
  fixed.time_zone_name = "+09:00";
  auto f = Parse("id,d,t,h,a,v\nj1,2024-05-01,18:00,A,B,C\n", fixed);
  ASSERT_TRUE(f.ok()) << ErrorOf(f);
  EXPECT_EQ(FormatInstant(f.games[0].kickoff), "2024-05-01T09:00:00Z");
}

// Issue 19, defect 7: a file with classic Mac (CR-only) line endings was
// one long line, reported as a duplicate column. A lone CR ends a line like
// LF and CRLF do, also for line numbers in messages.
TEST(ScheduleCsvTest, CarriageReturnOnlyLineEndsAreLineEnds) {
  ScheduleColumns fixed;
  fixed.game_id = "id";
  fixed.date = "d";
  fixed.time = "t";
  fixed.time_zone_name = "UTC";
  fixed.home = "h";
  fixed.away = "a";
  fixed.venue = "v";
  auto r =
      Parse("id,d,t,h,a,v\rg1,2024-05-01,18:00,A,B,C\r\rg2,2024-05-02,18:00,\"D\rE\",F,G\r", fixed);
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  ASSERT_EQ(r.games.size(), 2u);
  EXPECT_EQ(r.games[0].id, "g1");
  EXPECT_EQ(r.games[1].home, "D\rE");  // inside quotes a CR is data
  EXPECT_EQ(r.games[1].venue, "G");
  // Mixed endings, and the line numbers count lone CRs.
  auto bad = Parse("id,d,t,h,a,v\rg1,2024-05-01,18:00,A,B,C\r\ng2,2024-05-32,18:00,D,E,F\n", fixed);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ErrorOf(bad), "test.csv:3: column \"d\": expected YYYY-MM-DD, got '2024-05-32'");
}

TEST(ScheduleCsvTest, BadRowsNameFileLineAndWhatWasExpected) {
  const std::string h = kNflHeader;
  const std::string ok_row =
      "2023_01_DET_KC,2023,REG,1,2023-09-07,Thursday,20:20,DET,KC,Home,outdoors,KAN00,GEHA\n";
  std::map<std::string, std::string> cases = {
      {h + ok_row + "2023_01_X_Y,2023,REG,1,2023-09-31,Sunday,13:00,X,Y,Home,o,S,V\n",
       "test.csv:3: column \"gameday\": expected YYYY-MM-DD, got '2023-09-31'"},
      {h + ok_row + "\n2023_01_X_Y,2023,REG,1,2023-09-10,Sunday,1pm,X,Y,Home,o,S,V\n",
       "test.csv:4: column \"gametime\": expected HH:MM or HH:MM:SS, got '1pm'"},
      {h + "2023_01_X_Y,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home\n",
       "test.csv:2: expected 13 fields as in the header, got 10"},
      {h + ",2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,V\n",
       "test.csv:2: column \"game_id\": expected a non-empty game id"},
      {h + "g,2023,REG,1,2023-09-10,Sunday,13:00,X,,Home,o,S,V\n",
       "test.csv:2: column \"home_team\": expected a non-empty home team"},
      {h + ok_row + ok_row,
       "test.csv:3: duplicate game id \"2023_01_DET_KC\" (first on line 2): expected unique game "
       "ids"},
      {h + "g,2006,REG,1,2006-09-10,Sunday,13:00,X,Y,Home,o,S,V\n",
       "test.csv:2: column \"gameday\": 2006-09-10 is before 2007: expected a date from 2007 on, "
       "the first year America/New_York's daylight-saving rules are known for"},
      {h + "g,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,\"GEHA\n",
       "test.csv:2: unterminated quoted field: expected a closing '\"'"},
      {h + "g,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,\"A\"B\n",
       "test.csv:2: expected ',' or the end of the line after a closing '\"'"},
      {h + "g,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,A\"B\n",
       "test.csv:2: unexpected '\"' inside an unquoted field: expected quotes around the whole "
       "field, with inner quotes doubled"},
      {"", "test.csv: the file is empty: expected a header line"},
      {h, "test.csv: no games: expected at least one row after the header"},
      {"game_id,gameday,away_team,home_team\n",
       "test.csv:1: missing column \"gametime\" (columns.time): expected it in the header, which "
       "has: game_id, gameday, away_team, home_team"},
      {"a,a\n", "test.csv:1: duplicate column \"a\" in the header: expected unique column names"},
  };
  for (const auto& [text, expected] : cases) {
    auto r = Parse(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.games.empty());
    EXPECT_EQ(ErrorOf(r), expected) << text;
  }
  // A multi-line quoted field: later errors still report the right line.
  auto multi = Parse(h + "g,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,\"line1\nline2\"\n" +
                     "h,2023,REG,1,2023-09-10,Sunday,25:00,X,Y,Home,o,S,V\n");
  EXPECT_EQ(ErrorOf(multi),
            "test.csv:4: column \"gametime\": expected HH:MM or HH:MM:SS, got '25:00'");

  ScheduleColumns ts;
  ts.utc_timestamp = "kickoff";
  auto bad_ts =
      Parse("game_id,kickoff,home_team,away_team,stadium\ng,2023-09-10 13:00,A,B,C\n", ts);
  EXPECT_EQ(ErrorOf(bad_ts),
            "test.csv:2: column \"kickoff\": expected an ISO 8601 instant with an offset such as "
            "2023-09-08T00:20:00Z or 2023-09-07T20:20:00-04:00, got '2023-09-10 13:00'");

  ScheduleColumns zone_col;
  zone_col.time_zone_column = "tz";
  auto bad_zone = Parse(
      "game_id,gameday,gametime,tz,home_team,away_team,stadium\ng,2023-09-10,13:00,Mars,A,B,C\n",
      zone_col);
  ASSERT_FALSE(bad_zone.ok());
  EXPECT_EQ(bad_zone.error->line, 2);
  EXPECT_EQ(bad_zone.error->message.rfind("column \"tz\": unknown time zone \"Mars\"", 0), 0u)
      << bad_zone.error->message;

  auto missing = LoadScheduleCsv("/nonexistent/x.csv", {}, "NFL");
  EXPECT_EQ(ErrorOf(missing),
            "/nonexistent/x.csv: cannot read the file (No such file or directory); expected a "
            "readable CSV file");
}

// Issue 18, item 10: placeholder rows (teams " ()" for undecided cup games)
// used to load silently as games; they now draw a warning naming the line,
// and a row filter skips them.
TEST(ScheduleCsvTest, PlaceholderTeamsWarnAndLoad) {
  const std::string text = std::string(kNflHeader) +
                           "g1,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,V\n"
                           "g2,2023,CUP,2,2023-12-16,Saturday,13:00, (),TBD,Home,o,S,V\n";
  const ScheduleLoadResult r = Parse(text);
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  EXPECT_EQ(r.games.size(), 2u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].line, 3);
  EXPECT_EQ(r.warnings[0].message,
            "column \"home_team\": \"TBD\" looks like a placeholder, not a team (an undecided "
            "game?); the row is loaded as game \"g2\". Skip such rows with \"skip_rows\" in the "
            "schedule");
}

TEST(ScheduleCsvTest, PlaceholderDetection) {
  for (const char* p : {" ()", "", "-", "TBD", "tbd", "T.B.A.", "(TBC)"}) {
    EXPECT_TRUE(IsPlaceholderTeam(p)) << p;
  }
  for (const char* t : {"KC", "Team TBD United", "49ers"}) EXPECT_FALSE(IsPlaceholderTeam(t)) << t;
}

TEST(ScheduleCsvTest, RowFilterSkipsByValueOrPattern) {
  const std::string text = std::string(kNflHeader) +
                           "g1,2023,REG,1,2023-09-10,Sunday,13:00,X,Y,Home,o,S,V\n"
                           "g2,2023,CUP,2,2023-12-16,Saturday,13:00, (),TBD,Home,o,S,V\n"
                           "g3,2023,POST,3,2024-01-14,Sunday,13:00,A,B,Home,o,S,V\n";
  ScheduleRowFilter by_value;
  by_value.skip = {{"away_team", {" ()"}, ""}};
  ScheduleLoadResult r = ParseScheduleCsv(text, "test.csv", {}, "NFL", by_value);
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  EXPECT_EQ(r.games.size(), 2u);
  EXPECT_EQ(r.skipped_rows, 1u);
  EXPECT_TRUE(r.warnings.empty());
  ScheduleRowFilter by_pattern;
  by_pattern.skip = {{"game_type", {}, "CUP|PO.*"}};
  r = ParseScheduleCsv(text, "test.csv", {}, "NFL", by_pattern);
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  ASSERT_EQ(r.games.size(), 1u);
  EXPECT_EQ(r.games[0].id, "g1");
  ScheduleRowFilter bad_column;
  bad_column.skip = {{"hometeam", {"x"}, ""}};
  EXPECT_EQ(ErrorOf(ParseScheduleCsv(text, "test.csv", {}, "NFL", bad_column)).substr(0, 63),
            "test.csv:1: missing column \"hometeam\" (skip_rows[0].column): ex");
  ScheduleRowFilter bad_pattern;
  bad_pattern.skip = {{"week", {}, "(["}};
  EXPECT_EQ(ErrorOf(ParseScheduleCsv(text, "test.csv", {}, "NFL", bad_pattern)).substr(0, 63),
            "test.csv: skip_rows[0].matches: \"([\" is not a regular expressio");
  ScheduleRowFilter everything;
  everything.skip = {{"season", {"2023"}, ""}};
  EXPECT_EQ(ErrorOf(ParseScheduleCsv(text, "test.csv", {}, "NFL", everything)),
            "test.csv: no games: skip_rows skipped all 3 rows");
}

TEST(ScheduleColumnsTest, ValidateNamesTheField) {
  ScheduleColumns c;
  EXPECT_TRUE(c.validate().ok());
  c.time_zone_name = "Mars";
  EXPECT_EQ(c.validate().message().rfind("columns.time_zone: unknown time zone", 0), 0u);
  c.utc_timestamp = "ts";  // the zone is not used then
  EXPECT_TRUE(c.validate().ok());
  c.home = "";
  EXPECT_EQ(c.validate().message(), "columns.home: \"\" must name a column");
  ScheduleColumns d;
  d.time = "";
  EXPECT_EQ(d.validate().message(),
            "columns.time: \"\" must name a column when columns.utc_timestamp is \"\"");
  auto r = Parse("x\n1\n", d);
  EXPECT_EQ(ErrorOf(r),
            "test.csv: columns.time: \"\" must name a column when columns.utc_timestamp is \"\"");
}

SyntheticLeague SmallLeague() {
  SyntheticLeague league;
  league.name = "SYN";
  league.teams = 8;
  league.games_per_day = 3;
  league.kickoff_times_of_day = {Hours(13), Hours(19) + Minutes(30)};
  league.season_days = 30;
  league.season_start = *ParseInstant("2023-10-20T12:00:00Z");
  league.time_zone = "America/New_York";
  return league;
}

TEST(SyntheticScheduleTest, ShapeDatesAndDaylightSaving) {
  std::vector<Game> games;
  ASSERT_TRUE(GenerateSyntheticSchedule(SmallLeague(), kernel::SeedTree(42), &games).ok());
  ASSERT_EQ(games.size(), 90u);
  std::map<std::string, std::set<std::string>> teams_by_date;
  std::set<std::string> ids;
  for (size_t i = 0; i < games.size(); ++i) {
    const Game& g = games[i];
    if (i > 0) {
      EXPECT_TRUE(GameBefore(games[i - 1], g));
    }
    EXPECT_NE(g.home, g.away);
    EXPECT_EQ(g.venue, g.home + " Arena");
    EXPECT_EQ(g.league, "SYN");
    EXPECT_EQ(g.id, "SYN_" + FormatCivilDate(g.date) + "_" + g.away + "_" + g.home);
    EXPECT_TRUE(ids.insert(g.id).second);
    // A team plays at most once a day.
    auto& day = teams_by_date[FormatCivilDate(g.date)];
    EXPECT_TRUE(day.insert(g.home).second) << g.id;
    EXPECT_TRUE(day.insert(g.away).second) << g.id;
    // Kickoff is 13:00 or 19:30 local; offset -4h before 2023-11-05, -5h after.
    const LocalDateTime local = TimeZone::Find("America/New_York")->ToLocal(g.kickoff);
    EXPECT_EQ(local.date, g.date);
    EXPECT_TRUE(local.time_of_day == Hours(13) || local.time_of_day == Hours(19) + Minutes(30));
  }
  EXPECT_EQ(teams_by_date.size(), 30u);
  EXPECT_EQ(teams_by_date.begin()->first, "2023-10-20");
  EXPECT_EQ(teams_by_date.rbegin()->first, "2023-11-18");
  EXPECT_EQ(games.front().home.substr(0, 5), "SYN-T");
}

TEST(SyntheticScheduleTest, DeterministicPerSeedAndIndependentPerLeague) {
  std::vector<Game> a, b, c;
  ASSERT_TRUE(GenerateSyntheticSchedule(SmallLeague(), kernel::SeedTree(42), &a).ok());
  ASSERT_TRUE(GenerateSyntheticSchedule(SmallLeague(), kernel::SeedTree(42), &b).ok());
  ASSERT_TRUE(GenerateSyntheticSchedule(SmallLeague(), kernel::SeedTree(43), &c).ok());
  auto ids = [](const std::vector<Game>& games) {
    std::string s;
    for (const Game& g : games) s += g.id + "@" + FormatInstant(g.kickoff) + ";";
    return s;
  };
  EXPECT_EQ(ids(a), ids(b));
  EXPECT_NE(ids(a), ids(c));

  // Adding a second league shifts nothing in the first one.
  SyntheticLeague other = SmallLeague();
  other.name = "OTH";
  other.teams = 4;
  other.games_per_day = 2;
  std::vector<Game> merged;
  ASSERT_TRUE(
      GenerateSyntheticSchedules({SmallLeague(), other}, kernel::SeedTree(42), &merged).ok());
  ASSERT_EQ(merged.size(), 90u + 60u);
  std::vector<Game> only_syn;
  for (const Game& g : merged) {
    if (g.league == "SYN") {
      only_syn.push_back(g);
    }
  }
  EXPECT_EQ(ids(only_syn), ids(a));
  for (size_t i = 1; i < merged.size(); ++i) {
    EXPECT_TRUE(GameBefore(merged[i - 1], merged[i]));
  }
}

TEST(SyntheticScheduleTest, ValidateNamesTheField) {
  SyntheticLeague l = SmallLeague();
  l.games_per_day = 5;
  EXPECT_EQ(l.validate().message(),
            "synthetic_league.SYN.games_per_day: 5 must be in [1, teams / 2 = 4]");
  l = SmallLeague();
  l.kickoff_times_of_day = {Hours(24)};
  EXPECT_EQ(l.validate().message(),
            "synthetic_league.SYN.kickoff_times_of_day[0]: \"1d\" must be in [0s, 24h)");
  l = SmallLeague();
  l.teams = 1;
  EXPECT_EQ(l.validate().message(), "synthetic_league.SYN.teams: 1 must be >= 2");
  l = SmallLeague();
  l.time_zone = "Nowhere";
  std::vector<Game> games = {Game{}};
  EXPECT_FALSE(GenerateSyntheticSchedule(l, kernel::SeedTree(1), &games).ok());
  EXPECT_TRUE(games.empty());
}

}  // namespace
}  // namespace orchsim::world
