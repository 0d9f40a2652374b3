// schedule.h — a league's games with UTC kickoffs: loaded from CSV, or synthetic.
//
// Demand (demand.h) is generated from a schedule, so a scenario can replay a
// real season (scenarios/schedules/nfl-2023.csv) or a made-up one for scale.
//
// CSV contract (RFC 4180):
//   - The first record is the header; columns are found by name, so extra
//     columns are ignored and their order does not matter.
//   - Fields are separated by commas; a field may be quoted with '"', and then
//     may contain commas, line breaks and doubled quotes ("" -> ").
//   - Lines end with LF or CRLF; empty lines are skipped; a UTF-8 byte-order
//     mark at the start is skipped. Values are not trimmed.
//   - Kickoff comes from either a UTC/ISO 8601 column (ScheduleColumns::
//     utc_timestamp, e.g. "2023-09-08T00:20:00Z" or "...-04:00") or a local
//     date "YYYY-MM-DD" + time "HH:MM" or "HH:MM:SS" read in a named zone (one zone for the
//     file or a zone column); see time_zone.h for daylight-saving changes and
//     for the years each zone supports (dates before first_rule_year() are
//     rejected).
//   - Every record must have as many fields as the header; game id, home and
//     away must be non-empty; game ids must be unique.
//   - Rows a ScheduleRowFilter matches are skipped before any of that.
//   - A row whose home or away team looks like a placeholder (nothing but
//     spaces and punctuation, such as " ()" for an undecided cup game, or
//     "TBD"/"TBA"/"TBC") is loaded but draws a ScheduleWarning: such rows are
//     usually not games yet. Skip them with a filter.
// Errors are values, never exceptions: the first problem found is returned as
// "FILE:LINE: message", LINE being the 1-based line the record starts on (0
// when the problem is not about one line, e.g. the file cannot be read).
#ifndef ORCHSIM_ENGINE_WORLD_SCHEDULE_H_
#define ORCHSIM_ENGINE_WORLD_SCHEDULE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/world/time_zone.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::world {

struct Game {
  std::string id;
  Instant kickoff;  // UTC
  // The game's calendar date as the schedule gives it: the local date column
  // (date + time files), the UTC date (timestamp files) or the local date in
  // the league's zone (synthetic). Demand keys use it as "{date}".
  CivilDate date;
  std::string home;
  std::string away;
  std::string venue;
  std::string league;
};

// Orders games by (kickoff, id), the order every schedule is returned in.
bool GameBefore(const Game& a, const Game& b);

// Which CSV columns hold what. Defaults match the nflverse games.csv layout
// (scenarios/schedules/SOURCE.md). A column name "" means "not used".
struct ScheduleColumns {
  std::string game_id = "game_id";
  // Local kickoff date ("YYYY-MM-DD") and time ("HH:MM"); used when
  // utc_timestamp is "".
  std::string date = "gameday";
  std::string time = "gametime";
  // Zone of date + time for every row, when time_zone_column is "".
  std::string time_zone_name = "America/New_York";
  // A column holding each row's zone name (overrides time_zone_name).
  std::string time_zone_column = "";
  // A column of ISO 8601 instants with an offset; when set, date, time and
  // the zone settings are ignored.
  std::string utc_timestamp = "";
  std::string home = "home_team";
  std::string away = "away_team";
  std::string venue = "stadium";  // "" -> Game::venue is empty
  // A column naming each row's league; when "", every game gets the league
  // passed to LoadScheduleCsv.
  std::string league_column = "";

  // Names the field and what is wrong, e.g.
  // "columns.time_zone: unknown time zone \"Mars\"; supported: ..." (the file's keys).
  Status validate() const;
};

// Skips the rows whose `column` equals one of `equals`, or fully matches the
// ECMAScript regular expression `matches` (either or both may be given).
struct ScheduleRowRule {
  std::string column;
  std::vector<std::string> equals;
  std::string matches;  // "" = no pattern
};
// A row matching any rule is skipped.
struct ScheduleRowFilter {
  std::vector<ScheduleRowRule> skip;
};

// A row that loaded but is probably not what the user meant.
struct ScheduleWarning {
  int line = 0;
  std::string message;
};

struct ScheduleError {
  std::string file;
  int line = 0;  // 1-based; 0 when not about one line
  std::string message;

  // "FILE:LINE: message", or "FILE: message" when line is 0.
  std::string ToString() const;
};

struct ScheduleLoadResult {
  std::vector<Game> games;  // sorted by (kickoff, id); empty on error
  std::optional<ScheduleError> error;
  std::vector<ScheduleWarning> warnings;  // in line order (placeholder teams)
  size_t skipped_rows = 0;                // rows a ScheduleRowFilter skipped

  bool ok() const { return !error.has_value(); }
};

// Reads the CSV file at `path`. `league` names the league of every game unless
// columns.league_column is set.
// Rows `filter` matches are skipped; a rule naming a column the header lacks,
// or a malformed pattern, is an error.
ScheduleLoadResult LoadScheduleCsv(const std::string& path, const ScheduleColumns& columns,
                                   const std::string& league, const ScheduleRowFilter& filter = {});
// The same from CSV text; `file_label` stands for the file name in errors.
ScheduleLoadResult ParseScheduleCsv(std::string_view text, const std::string& file_label,
                                    const ScheduleColumns& columns, const std::string& league,
                                    const ScheduleRowFilter& filter = {});

// True for a team name that is not one yet: only spaces and punctuation
// (" ()", "-", ""), or "TBD", "TBA", "TBC" in any case and spacing.
bool IsPlaceholderTeam(std::string_view team);

// A made-up league for scale tests. Each day of the season has games_per_day
// games between distinct teams (a team plays at most once a day), each kicking
// off at one of kickoff_times_of_day (local time in time_zone) drawn
// uniformly. Teams are "<name>-T01".."<name>-Tnn"; the home team's venue is
// "<home> Arena"; ids are "<name>_<YYYY-MM-DD>_<away>_<home>".
struct SyntheticLeague {
  std::string name;       // non-empty; also names the random stream
  int teams = 32;         // >= 2
  int games_per_day = 1;  // 1 .. teams / 2
  std::vector<Duration> kickoff_times_of_day = {Hours(19)};  // each in [0, 24h)
  int season_days = 180;                                     // >= 1
  // The season's first day is the local date (in time_zone) of this instant.
  Instant season_start;
  std::string time_zone = "UTC";  // a name time_zone.h supports

  Status validate() const;
};

// The league's games, sorted by (kickoff, id). Deterministic: draws only from
// seeds.Stream("schedule/<name>/<first local date>"), so two seasons of one
// league differ and adding another league shifts nothing. Returns a failed
// Status (and leaves *games empty) when league.validate() fails.
Status GenerateSyntheticSchedule(const SyntheticLeague& league, const kernel::SeedTree& seeds,
                                 std::vector<Game>* games);
// Several leagues merged into one schedule sorted by (kickoff, id); each
// league draws from its own stream as above. Fails on the first invalid league.
Status GenerateSyntheticSchedules(const std::vector<SyntheticLeague>& leagues,
                                  const kernel::SeedTree& seeds, std::vector<Game>* games);

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_SCHEDULE_H_
