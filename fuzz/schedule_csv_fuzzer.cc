// libFuzzer target: the schedule CSV parser (engine/world/schedule.h
// ParseScheduleCsv) with each column layout the scenario loader can ask for.
//
// Input: first byte picks the column mapping, the rest is the CSV text.
// Contract checked: never crashes, no sanitizer report; either an error with
// a message and no games, or games sorted by (kickoff, id) with unique ids
// and non-empty id/home/away.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "engine/world/schedule.h"

namespace {

orchsim::world::ScheduleColumns Columns(uint8_t choice) {
  orchsim::world::ScheduleColumns c;  // nflverse layout, America/New_York
  switch (choice % 5) {
    case 1:  // one ISO 8601 instant per row, a league column
      c.utc_timestamp = "kickoff";
      c.league_column = "league";
      c.venue = "";
      break;
    case 2:  // a zone per row
      c.time_zone_column = "tz";
      break;
    case 3:
      c.time_zone_name = "Europe/London";
      c.venue = "";
      break;
    case 4:
      c.time_zone_name = "UTC";
      c.league_column = "league";
      break;
    default:
      break;
  }
  return c;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const orchsim::world::ScheduleLoadResult result =
      orchsim::world::ParseScheduleCsv(text, "fuzz.csv", Columns(data[0]), "league");
  if (!result.ok()) {
    Check(result.games.empty());
    Check(!result.error->message.empty());
    return 0;
  }
  Check(!result.games.empty());
  std::set<std::string> ids;
  for (size_t i = 0; i < result.games.size(); ++i) {
    const orchsim::world::Game& g = result.games[i];
    Check(!g.id.empty() && !g.home.empty() && !g.away.empty() && !g.league.empty());
    Check(ids.insert(g.id).second);
    if (i > 0) Check(!orchsim::world::GameBefore(g, result.games[i - 1]));
  }
  return 0;
}
