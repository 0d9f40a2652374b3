// demand_reader.h — reads the scenario's "demand" array into demand
// generator configs (engine/world/demand.h).
//
// Each element:
//   {"name": "pregame-odds", "enabled": true, "league": "",
//    "request": {"api": "odds", "endpoint": "odds", "key": "{game}",
//                "priority": "HIGH", "cacheable": true, "batchable": false,
//                "deadline": "30s"},
//    <exactly one pattern>}
// Patterns (durations as strings; offsets relative to kickoff may be negative):
//   "cron":            {"time_of_day": "9h", "time_zone": "America/New_York",
//                       "weekdays": ["SUN", ...], "game_days_only": true,
//                       "one_per_game": false, "first_date": "2023-09-01",
//                       "last_date": "2024-02-12"}
//   "offsets":         {"offsets": ["-2h", "-1h", "-30m"]}
//   "kickoff_poisson": {"steps": [{"from": "-3h", "per_minute": 0.5}, ...],
//                       "until": "3h"}
//   "live_polling":    {"interval": "1m", "start_offset": "0s",
//                       "game_length": "3h30m"}
//   "burst":           {"count": 50, "span": "2s", "at": "2023-09-10T17:00:00Z"}
//                      or {"count": 50, "span": "2s", "kickoff_offset": "-5m"}
// The request's api must name one of the scenario's upstreams.
//
// A trace generator has no "request" (nor "league"): its requests come whole
// from a file (engine/world/trace_demand.h):
//   {"name": "prod", "trace": {"file": "traces/day.jsonl",   // relative to the scenario
//      "format": "jsonl" | "csv",            // default: "csv" for *.csv, else "jsonl"
//      "columns": {"timestamp": "ts", "api": "api", "endpoint": "endpoint",
//                  "key": "key", "priority": "", "game": "", "deadline": ""},   // CSV
//      "defaults": {"priority": "NORMAL", "deadline": "30s",
//                   "cacheable": true, "batchable": false},                    // CSV
//      "apis": ["scores"], "from": INSTANT, "until": INSTANT,
//      "shift": "7d" | "start_at": INSTANT, "rate": 1.5, "spread": "2s",
//      "max_lateness": "1h"}}
// The file is read once here (ScanTrace): a problem in it throws a
// ConfigError naming the trace file and line.
#ifndef ORCHSIM_ENGINE_SCENARIO_DEMAND_READER_H_
#define ORCHSIM_ENGINE_SCENARIO_DEMAND_READER_H_

#include <set>
#include <string>
#include <vector>

#include "engine/scenario/json.h"
#include "engine/world/demand.h"

namespace orchsim::scenario {

// What demand is read against.
struct DemandContext {
  std::set<std::string> api_names;  // the scenario's upstreams
  std::string folder;               // relative trace paths start here ("" = as given)
  // The schedule (a trace CSV's game column); null = no games. Not owned.
  const std::vector<world::Game>* games = nullptr;
};

// Reads reader[key] (required, an array). Throws ConfigError.
std::vector<world::DemandGeneratorConfig> ReadDemand(ObjectReader& reader, const std::string& key,
                                                     const DemandContext& context);

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_DEMAND_READER_H_
