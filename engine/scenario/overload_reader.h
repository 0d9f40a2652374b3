// overload_reader.h — reads a fleet ("fleet", at the top of a scenario or in
// a variant) and the overload measurements ("overload") of a scenario.
//
//   "fleet": {"replicas": 4, "split": "round_robin" | "key_hash",
//             "shared_limiter": {"enabled": true, "apis": ["backend"],
//                                "rate_per_s": 100, "burst": 20,
//                                "latency": {...},  // a latency distribution
//                                "failure_rate": 0.001, "failure_latency": "50ms",
//                                "fail_open": true, "deny_status": 429,
//                                "max_wait": "0s"}}
// A "shared_limiter" object is enabled unless it says "enabled": false.
// "overload": see OverloadConfig in scenario.h. Throws ConfigError naming the
// file, the JSON path and what was expected.
#ifndef ORCHSIM_ENGINE_SCENARIO_OVERLOAD_READER_H_
#define ORCHSIM_ENGINE_SCENARIO_OVERLOAD_READER_H_

#include <set>
#include <string>

#include "engine/scenario/json.h"
#include "engine/scenario/scenario.h"
#include "engine/world/fleet.h"

namespace orchsim::scenario {

// `api_names`: the scenario's upstreams (the limiter's "apis" must name them).
world::FleetConfig ReadFleet(ObjectReader& reader, const std::set<std::string>& api_names);

// Reads "overload" into scenario->overload (REQUIRES: start, end, warmup and
// upstreams read); without it, the series is on when an upstream has capacity.
void ReadOverload(ObjectReader& scenario_reader, Scenario* scenario);

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_OVERLOAD_READER_H_
