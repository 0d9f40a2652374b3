// json.h — the config library's strict JSON reading, under the names the
// scenario readers use. Scenario files are read with the same reader as a
// service's presets (policies/config/json_reader.h), so both report errors
// the same way: "FILE: /json/path: what was expected".
#ifndef ORCHSIM_ENGINE_SCENARIO_JSON_H_
#define ORCHSIM_ENGINE_SCENARIO_JSON_H_

#include "policies/config/json_reader.h"

namespace orchsim::scenario {

using config::ConfigError;
using config::Json;
using config::JsonPreview;
using config::JsonTypeName;
using config::ObjectReader;
using config::ReadDuration;

}  // namespace orchsim::scenario

#endif  // ORCHSIM_ENGINE_SCENARIO_JSON_H_
