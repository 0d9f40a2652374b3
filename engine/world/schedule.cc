#include "engine/world/schedule.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <regex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "policies/config/input_file.h"

namespace orchsim::world {
namespace {

// One CSV record and the 1-based line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

// The length of the line break at text[i]: 2 for CRLF, 1 for LF or a lone
// CR (classic Mac line endings, as spreadsheet programs still write them),
// 0 when there is none.
size_t LineBreakAt(std::string_view text, size_t i) {
  if (i >= text.size()) return 0;
  if (text[i] == '\n') return 1;
  if (text[i] != '\r') return 0;
  return i + 1 < text.size() && text[i + 1] == '\n' ? 2 : 1;
}

// Splits RFC 4180 text into records (lines may end in CRLF, LF or CR).
// Returns false and fills *error on malformed quoting.
bool SplitCsv(std::string_view text, std::vector<CsvRecord>* records, ScheduleError* error) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    // Skip empty lines.
    if (const size_t n = LineBreakAt(text, i); n > 0) {
      i += n;
      ++line;
      continue;
    }
    CsvRecord record;
    record.line = line;
    std::string field;
    bool record_done = false;
    while (!record_done) {
      field.clear();
      if (i < text.size() && text[i] == '"') {
        const int quote_line = line;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (LineBreakAt(text, i) == 1) ++line;  // LF, or CR not followed by LF
          field.push_back(c);
          ++i;
        }
        if (!closed) {
          error->line = quote_line;
          error->message = "unterminated quoted field: expected a closing '\"'";
          return false;
        }
        if (i < text.size() && text[i] != ',' && LineBreakAt(text, i) == 0) {
          error->line = line;
          error->message = "expected ',' or the end of the line after a closing '\"'";
          return false;
        }
      } else {
        while (i < text.size() && text[i] != ',' && LineBreakAt(text, i) == 0) {
          if (text[i] == '"') {
            error->line = line;
            error->message =
                "unexpected '\"' inside an unquoted field: expected quotes around the whole "
                "field, with inner quotes doubled";
            return false;
          }
          field.push_back(text[i]);
          ++i;
        }
      }
      record.fields.push_back(field);
      if (i >= text.size()) {
        record_done = true;
      } else if (text[i] == ',') {
        ++i;
      } else {  // end of line
        i += LineBreakAt(text, i);
        ++line;
        record_done = true;
      }
    }
    records->push_back(std::move(record));
  }
  return true;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "HH:MM" or "HH:MM:SS" as a time of day.
ParseResult<Duration> ParseLocalTime(std::string_view text) {
  if (text.size() == 8 && text[5] == ':') {
    auto hm = ParseTimeOfDay(text.substr(0, 5));
    const char s1 = text[6];
    const char s2 = text[7];
    if (hm.ok() && s1 >= '0' && s1 <= '5' && s2 >= '0' && s2 <= '9') {
      return *hm + Seconds((s1 - '0') * 10 + (s2 - '0'));
    }
    return ParseResult<Duration>::Error("expected HH:MM or HH:MM:SS, got '" + std::string(text) +
                                        "'");
  }
  auto hm = ParseTimeOfDay(text);
  if (hm.ok()) return hm;
  return ParseResult<Duration>::Error("expected HH:MM or HH:MM:SS, got '" + std::string(text) +
                                      "'");
}

CivilDate UtcDate(Instant t) {
  const int64_t micros_per_day = Days(1).micros();
  int64_t days = t.unix_micros() / micros_per_day;
  if (t.unix_micros() % micros_per_day < 0) --days;
  return CivilDateFromDays(days);
}

}  // namespace

bool GameBefore(const Game& a, const Game& b) {
  if (a.kickoff != b.kickoff) return a.kickoff < b.kickoff;
  return a.id < b.id;
}

Status ScheduleColumns::validate() const {
  if (game_id.empty()) return FieldError("columns.game_id", game_id, "must name a column");
  if (home.empty()) return FieldError("columns.home", home, "must name a column");
  if (away.empty()) return FieldError("columns.away", away, "must name a column");
  if (!utc_timestamp.empty()) return Status::Ok();
  if (date.empty()) {
    return FieldError("columns.date", date,
                      "must name a column when columns.utc_timestamp is \"\"");
  }
  if (time.empty()) {
    return FieldError("columns.time", time,
                      "must name a column when columns.utc_timestamp is \"\"");
  }
  if (time_zone_column.empty()) {
    auto zone = TimeZone::Find(time_zone_name);
    if (!zone.ok()) {
      return Status::InvalidArgument("columns.time_zone: " + zone.error());
    }
  }
  return Status::Ok();
}

std::string ScheduleError::ToString() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

bool IsPlaceholderTeam(std::string_view team) {
  std::string letters;
  for (char c : team) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      letters += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return letters.empty() || letters == "TBD" || letters == "TBA" || letters == "TBC";
}

ScheduleLoadResult LoadScheduleCsv(const std::string& path, const ScheduleColumns& columns,
                                   const std::string& league, const ScheduleRowFilter& filter) {
  const config::InputFile file = config::ReadInputFile(path);
  if (!file.ok()) {
    ScheduleLoadResult result;
    result.error = ScheduleError{
        path, 0,
        file.problem == config::InputFile::Problem::kUnreadable
            ? "cannot read the file (" + file.reason + "); expected a readable CSV file"
            : DescribeInputFileProblem(file)};
    return result;
  }
  return ParseScheduleCsv(file.text, path, columns, league, filter);
}

ScheduleLoadResult ParseScheduleCsv(std::string_view text, const std::string& file_label,
                                    const ScheduleColumns& columns, const std::string& league,
                                    const ScheduleRowFilter& filter) {
  ScheduleLoadResult result;
  auto fail = [&](int line, std::string message) {
    result.games.clear();
    result.error = ScheduleError{file_label, line, std::move(message)};
    return result;
  };
  if (Status s = columns.validate(); !s.ok()) return fail(0, s.message());

  std::vector<CsvRecord> records;
  ScheduleError split_error{file_label, 0, ""};
  if (!SplitCsv(text, &records, &split_error)) return fail(split_error.line, split_error.message);
  if (records.empty()) return fail(0, "the file is empty: expected a header line");

  // Header: find every mapped column by name.
  const CsvRecord& header = records.front();
  std::unordered_map<std::string, int> index_of;
  for (size_t c = 0; c < header.fields.size(); ++c) {
    if (!index_of.emplace(header.fields[c], static_cast<int>(c)).second) {
      return fail(header.line, "duplicate column " + Quoted(header.fields[c]) +
                                   " in the header: expected unique column names");
    }
  }
  std::string header_list;
  for (size_t c = 0; c < header.fields.size(); ++c) {
    header_list += (c ? ", " : "") + header.fields[c];
  }
  std::string missing;
  auto column = [&](const std::string& name, const char* setting) -> int {
    if (name.empty()) return -1;
    auto it = index_of.find(name);
    if (it == index_of.end()) {
      if (missing.empty()) {
        missing = "missing column " + Quoted(name) + " (columns." + setting +
                  "): expected it in the header, which has: " + header_list;
      }
      return -1;
    }
    return it->second;
  };
  const bool use_timestamp = !columns.utc_timestamp.empty();
  // Looked up in the order ScheduleColumns declares them, so the first
  // missing one reported is stable.
  const int id_col = column(columns.game_id, "game_id");
  const int date_col = use_timestamp ? -1 : column(columns.date, "date");
  const int time_col = use_timestamp ? -1 : column(columns.time, "time");
  const int zone_col = use_timestamp ? -1 : column(columns.time_zone_column, "time_zone_column");
  const int ts_col = use_timestamp ? column(columns.utc_timestamp, "utc_timestamp") : -1;
  const int home_col = column(columns.home, "home");
  const int away_col = column(columns.away, "away");
  const int venue_col = column(columns.venue, "venue");
  const int league_col = column(columns.league_column, "league_column");
  if (!missing.empty()) return fail(header.line, missing);

  // The filter's columns and patterns.
  struct CompiledRule {
    int column = -1;
    const ScheduleRowRule* rule = nullptr;
    std::optional<std::regex> pattern;
  };
  std::vector<CompiledRule> rules;
  for (size_t i = 0; i < filter.skip.size(); ++i) {
    const ScheduleRowRule& rule = filter.skip[i];
    CompiledRule compiled;
    compiled.rule = &rule;
    auto it = index_of.find(rule.column);
    if (it == index_of.end()) {
      return fail(header.line,
                  "missing column " + Quoted(rule.column) + " (skip_rows[" + std::to_string(i) +
                      "].column): expected it in the header, which has: " + header_list);
    }
    compiled.column = it->second;
    if (!rule.matches.empty()) {
      try {
        compiled.pattern.emplace(rule.matches, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return fail(0, "skip_rows[" + std::to_string(i) + "].matches: " + Quoted(rule.matches) +
                           " is not a regular expression (" + e.what() + ")");
      }
    }
    rules.push_back(std::move(compiled));
  }
  auto skipped = [&](const CsvRecord& rec) {
    for (const CompiledRule& r : rules) {
      if (static_cast<size_t>(r.column) >= rec.fields.size()) continue;
      const std::string& value = rec.fields[r.column];
      if (std::find(r.rule->equals.begin(), r.rule->equals.end(), value) != r.rule->equals.end()) {
        return true;
      }
      if (r.pattern && std::regex_match(value, *r.pattern)) return true;
    }
    return false;
  };

  std::optional<TimeZone> file_zone;
  if (!use_timestamp && zone_col < 0) file_zone = *TimeZone::Find(columns.time_zone_name);

  std::unordered_map<std::string, int> first_line_of_id;
  result.games.reserve(records.size() - 1);
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    if (skipped(rec)) {
      ++result.skipped_rows;
      continue;
    }
    if (rec.fields.size() != header.fields.size()) {
      return fail(rec.line, "expected " + std::to_string(header.fields.size()) +
                                " fields as in the header, got " +
                                std::to_string(rec.fields.size()));
    }
    auto field = [&](int col) -> const std::string& { return rec.fields[col]; };
    auto required = [&](int col, const std::string& name, const char* what) -> std::string {
      if (field(col).empty()) {
        return "column " + Quoted(name) + ": expected a non-empty " + what;
      }
      return "";
    };
    Game game;
    for (auto [col, name, what] : {std::tuple{id_col, &columns.game_id, "game id"},
                                   std::tuple{home_col, &columns.home, "home team"},
                                   std::tuple{away_col, &columns.away, "away team"}}) {
      if (std::string e = required(col, *name, what); !e.empty()) return fail(rec.line, e);
    }
    game.id = field(id_col);
    game.home = field(home_col);
    game.away = field(away_col);
    for (auto [team, name] :
         {std::pair{&game.home, &columns.home}, std::pair{&game.away, &columns.away}}) {
      if (IsPlaceholderTeam(*team)) {
        result.warnings.push_back(
            {rec.line, "column " + Quoted(*name) + ": " + Quoted(*team) +
                           " looks like a placeholder, not a team (an undecided game?); the row "
                           "is loaded as game " +
                           Quoted(game.id) +
                           ". Skip such rows with \"skip_rows\" in the schedule"});
        break;
      }
    }
    if (venue_col >= 0) game.venue = field(venue_col);
    if (league_col >= 0) {
      if (std::string e = required(league_col, columns.league_column, "league"); !e.empty()) {
        return fail(rec.line, e);
      }
      game.league = field(league_col);
    } else {
      game.league = league;
    }

    if (use_timestamp) {
      auto t = ParseInstant(field(ts_col));
      if (!t.ok()) {
        return fail(rec.line, "column " + Quoted(columns.utc_timestamp) +
                                  ": expected an ISO 8601 instant with an offset such as "
                                  "2023-09-08T00:20:00Z or 2023-09-07T20:20:00-04:00, got '" +
                                  field(ts_col) + "'");
      }
      game.kickoff = *t;
      game.date = UtcDate(*t);
    } else {
      auto date = ParseCivilDate(field(date_col));
      if (!date.ok()) return fail(rec.line, "column " + Quoted(columns.date) + ": " + date.error());
      auto time = ParseLocalTime(field(time_col));
      if (!time.ok()) return fail(rec.line, "column " + Quoted(columns.time) + ": " + time.error());
      std::optional<TimeZone> row_zone;
      if (zone_col >= 0) {
        auto zone = TimeZone::Find(field(zone_col));
        if (!zone.ok()) {
          return fail(rec.line, "column " + Quoted(columns.time_zone_column) + ": " + zone.error());
        }
        row_zone = *zone;
      }
      const TimeZone& zone = row_zone ? *row_zone : *file_zone;
      if (date->year < zone.first_rule_year()) {
        return fail(rec.line, "column " + Quoted(columns.date) + ": " + field(date_col) +
                                  " is before " + std::to_string(zone.first_rule_year()) +
                                  ": expected a date from " +
                                  std::to_string(zone.first_rule_year()) + " on, the first year " +
                                  zone.name() + "'s daylight-saving rules are known for");
      }
      game.kickoff = zone.ToUtc(*date, *time);
      game.date = *date;
    }
    auto [it, inserted] = first_line_of_id.emplace(game.id, rec.line);
    if (!inserted) {
      return fail(rec.line, "duplicate game id " + Quoted(game.id) + " (first on line " +
                                std::to_string(it->second) + "): expected unique game ids");
    }
    result.games.push_back(std::move(game));
  }
  if (result.games.empty()) {
    return fail(
        0, result.skipped_rows > 0
               ? "no games: skip_rows skipped all " + std::to_string(result.skipped_rows) + " rows"
               : "no games: expected at least one row after the header");
  }
  std::sort(result.games.begin(), result.games.end(), GameBefore);
  return result;
}

Status SyntheticLeague::validate() const {
  const std::string f = "synthetic_league." + (name.empty() ? std::string("?") : name) + ".";
  if (name.empty()) return FieldError("synthetic_league.name", name, "must not be empty");
  if (teams < 2) return FieldError(f + "teams", teams, "must be >= 2");
  if (games_per_day < 1 || games_per_day > teams / 2) {
    return FieldError(f + "games_per_day", games_per_day,
                      "must be in [1, teams / 2 = " + std::to_string(teams / 2) + "]");
  }
  if (kickoff_times_of_day.empty()) {
    return Status::InvalidArgument(f + "kickoff_times_of_day: empty; expected at least one time");
  }
  for (size_t i = 0; i < kickoff_times_of_day.size(); ++i) {
    const Duration t = kickoff_times_of_day[i];
    if (t < Duration::Zero() || t >= Hours(24)) {
      return FieldError(f + "kickoff_times_of_day[" + std::to_string(i) + "]", FormatDuration(t),
                        "must be in [0s, 24h)");
    }
  }
  if (season_days < 1) return FieldError(f + "season_days", season_days, "must be >= 1");
  if (auto zone = TimeZone::Find(time_zone); !zone.ok()) {
    return Status::InvalidArgument(f + "time_zone: " + zone.error());
  }
  return Status::Ok();
}

Status GenerateSyntheticSchedule(const SyntheticLeague& league, const kernel::SeedTree& seeds,
                                 std::vector<Game>* games) {
  games->clear();
  if (Status s = league.validate(); !s.ok()) return s;
  const TimeZone zone = *TimeZone::Find(league.time_zone);
  const CivilDate first_day = zone.ToLocal(league.season_start).date;
  kernel::Rng rng = seeds.Stream("schedule/" + league.name + "/" + FormatCivilDate(first_day));

  int width = 2;
  for (int n = league.teams; n >= 100; n /= 10) ++width;
  std::vector<std::string> team_names;
  team_names.reserve(league.teams);
  for (int t = 1; t <= league.teams; ++t) {
    std::string digits = std::to_string(t);
    team_names.push_back(league.name + "-T" + std::string(width - digits.size(), '0') + digits);
  }

  std::vector<int> order(league.teams);
  const int64_t first_day_number = DaysSinceEpoch(first_day);
  games->reserve(static_cast<size_t>(league.season_days) * league.games_per_day);
  for (int d = 0; d < league.season_days; ++d) {
    const CivilDate date = CivilDateFromDays(first_day_number + d);
    const std::string date_text = FormatCivilDate(date);
    for (int t = 0; t < league.teams; ++t) order[t] = t;
    // Partial Fisher-Yates: the first 2 * games_per_day slots are a uniform
    // draw of distinct teams.
    for (int slot = 0; slot < 2 * league.games_per_day; ++slot) {
      const int pick = slot + static_cast<int>(rng.UniformInt(league.teams - slot));
      std::swap(order[slot], order[pick]);
    }
    for (int g = 0; g < league.games_per_day; ++g) {
      Game game;
      game.away = team_names[order[2 * g]];
      game.home = team_names[order[2 * g + 1]];
      const Duration time_of_day =
          league.kickoff_times_of_day[rng.UniformInt(league.kickoff_times_of_day.size())];
      game.kickoff = zone.ToUtc(date, time_of_day);
      game.date = date;
      game.id = league.name + "_" + date_text + "_" + game.away + "_" + game.home;
      game.venue = game.home + " Arena";
      game.league = league.name;
      games->push_back(std::move(game));
    }
  }
  std::sort(games->begin(), games->end(), GameBefore);
  return Status::Ok();
}

Status GenerateSyntheticSchedules(const std::vector<SyntheticLeague>& leagues,
                                  const kernel::SeedTree& seeds, std::vector<Game>* games) {
  games->clear();
  std::vector<Game> one;
  for (const SyntheticLeague& league : leagues) {
    if (Status s = GenerateSyntheticSchedule(league, seeds, &one); !s.ok()) {
      games->clear();
      return s;
    }
    games->insert(games->end(), std::make_move_iterator(one.begin()),
                  std::make_move_iterator(one.end()));
  }
  std::sort(games->begin(), games->end(), GameBefore);
  return Status::Ok();
}

}  // namespace orchsim::world
