// upstream_writer.h — mocked upstream models written as scenario JSON, the
// inverse of upstream_reader.h (what `orchsim calibrate` writes).
//
// UpstreamJson() spells out every member the model uses (latency by its kind,
// failures, health, outages, rate limit, quota, batch, data), so a written
// block documents itself and reads back through ReadUpstream into an equal
// config (tests/engine/scenario/upstream_writer_test.cc). Disabled parts are
// written as {"enabled": false}. Durations use FormatDuration ("80ms"),
// instants FormatInstant (UTC, microseconds when not whole seconds), numbers
// the shortest text that reads back exactly. Member order follows the struct.
#ifndef ORCHSIM_ENGINE_SCENARIO_UPSTREAM_WRITER_H_
#define ORCHSIM_ENGINE_SCENARIO_UPSTREAM_WRITER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/world/upstream_model.h"

namespace orchsim::scenario {

// One upstream's object (without its name).
nlohmann::ordered_json UpstreamJson(const world::UpstreamModelConfig& config);

// An "upstreams" block: {"<name>": {...}, ...} in the given order, as text
// (two-space indent; arrays and objects that fit in 90 columns on one line)
// ending in a newline. Deterministic.
std::string FormatUpstreams(const std::vector<world::UpstreamModelConfig>& upstreams);

// The same layout for any JSON value (no final newline).
std::string FormatJson(const nlohmann::ordered_json& value);

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_UPSTREAM_WRITER_H_
