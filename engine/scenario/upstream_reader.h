// upstream_reader.h — reads one mocked upstream's model from scenario JSON.
//
// The object's members mirror world::UpstreamModelConfig: "latency",
// "failures", "health", "outages", "health_windows", "rate_limit", "quota",
// "batch", "data".
// Absent members keep the struct defaults. Throws ConfigError naming the
// file, the JSON path and what was expected.
#ifndef ORCHSIM_ENGINE_SCENARIO_UPSTREAM_READER_H_
#define ORCHSIM_ENGINE_SCENARIO_UPSTREAM_READER_H_

#include <string>

#include "engine/scenario/json.h"
#include "engine/world/upstream_model.h"

namespace orchsim::scenario {

world::UpstreamModelConfig ReadUpstream(ObjectReader& reader, const std::string& name);

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_UPSTREAM_READER_H_
