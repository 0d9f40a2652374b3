// scenario.h — a scenario file: the world (schedule, upstreams, demand), the
// variants to compare (each a policy preset plus overrides), the seed, and
// the expectations CI checks.
//
// File format (JSON; scenarios/schema/scenario.schema.json is the reference):
//   {
//     "name": "nfl-2023", "description": "...", "seed": 2023,
//     "start": "2023-09-01T00:00:00Z", "end": "2024-02-15T00:00:00Z",
//     "drain": "1m", "warmup": "2d",          // warm-up: left out of the totals
//     "schedule": {"csv": "schedules/nfl-2023.csv", "league": "NFL",
//                  "columns": {...},            // or {"synthetic": [{...}]}
//                  "skip_rows": [{"column": "home_team", "equals": [" ()", "TBD"]},
//                                {"column": "week", "matches": "P.*"}]}
//     "upstreams": {"odds": {...}, ...},        // see upstream_reader.h, or the
//                                               // path of a file holding that object
//                                               // (what `orchsim calibrate` writes)
//     "demand": [{...}, ...],                    // see demand_reader.h
//     "baseline": "naive",
//     "variants": [{"name": "naive", "preset": "naive"},
//                  {"name": "tuned", "preset": "tuned", "overrides": {...}}],
//     "expect": {...}, "tolerances": {...}       // kept as JSON for `check`
//     "slo": {...}                               // kept as JSON for the verdict
//                                                // (engine/experiment/slo.h)
//     "sweep": {...}                             // kept as JSON for `sweep`
//   }
// A "$schema" key (a string, ignored) may name the JSON Schema for editors, at
// the top of a scenario or a preset.
// Relative paths (schedule CSV, trace files) are relative to the scenario
// file's folder; presets are found as <folder>/<presets>/<preset>.json, where
// "presets" (optional) defaults to "policies". start/end default to one day
// before the first kickoff and one day after the last.
//
// A scenario whose demand replays a trace ({"trace": {...}}, demand_reader.h)
// may leave out "schedule" (no games: nothing to prefetch, no kickoffs for
// the upstreams' data changes); start/end then default to the replayed
// arrivals: the first one, and just after the last one.
//
// A variant's policy is OrchestratorConfig{} overlaid with the preset, then
// with the overrides (policy_reader.h), then validated.
//
// Errors: LoadScenario throws ConfigError naming the file (scenario, preset
// or CSV), the place (JSON path or CSV line) and what was expected.
#ifndef ORCHSIM_ENGINE_SCENARIO_SCENARIO_H_
#define ORCHSIM_ENGINE_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/scenario/json.h"
#include "engine/world/demand.h"
#include "engine/world/schedule.h"
#include "engine/world/upstream_model.h"
#include "policies/orchestrator.h"

namespace orchsim::scenario {

struct Variant {
  std::string name;
  std::string preset;  // "" when the variant has no preset
  // The preset's policy JSON with the variant's overrides merged in
  // (policies/config/policy_reader.h), and the config it resolves to.
  Json policy_document = Json::object();
  OrchestratorConfig policy;
};

struct Scenario {
  std::string file;  // as given to LoadScenario
  std::string name;
  std::string description;
  uint64_t seed = 1;
  Instant start;
  Instant end;
  Duration drain = Minutes(1);  // shutdown drain at `end`
  // Left out of the totals (metrics.h "warm-up"): the first `warmup` of
  // [start, end), while caches fill and queues settle. 0 = none.
  Duration warmup;
  std::vector<world::Game> games;
  std::vector<world::UpstreamModelConfig> upstreams;
  std::vector<world::DemandGeneratorConfig> demand;
  std::string baseline;  // the variant "calls saved" is measured against ("" = none)
  std::vector<Variant> variants;
  Json expect;      // null when absent; read by experiment/check.h
  Json tolerances;  // null when absent; read by experiment/check.h
  Json sweep;       // null when absent; read by `orchsim sweep` (engine/experiment/sweep.h)
  Json slo;         // null when absent; read by engine/experiment/slo.h
  // Things that loaded but look wrong ("FILE: line N: ..."), for the CLI to
  // print; e.g. schedule rows whose teams are placeholders.
  std::vector<std::string> warnings;

  const Variant* FindVariant(const std::string& name) const;
};

// Throws ConfigError.
Scenario LoadScenario(const std::string& path);
// "a, b, c": the names, for messages listing the scenario's upstreams.
std::string KnownApis(const std::set<std::string>& api_names);
// The same from text; `file` names it in errors, `folder` resolves relative paths.
Scenario ParseScenario(const std::string& text, const std::string& file, const std::string& folder);

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_SCENARIO_H_
