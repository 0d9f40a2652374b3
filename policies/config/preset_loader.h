// preset_loader.h — a policy preset (scenarios/policies/*.json, or a sweep's
// recommended.json) loaded into the core's OrchestratorConfig.
//
// This is what a service links (orchsim::config: the core plus nlohmann_json,
// no simulator) to run the preset it tuned in orchsim. Messages are the ones
// `orchsim validate` prints: "FILE: /json/path: what was expected".
//
// Example:
//   StatusOr<OrchestratorConfig> config = config::LoadPolicyFile("tuned.json");
//   if (!config.ok()) { log(config.status().message()); return; }
//   auto core = Orchestrator::Create(*config, clock, timers, transport, random);
#ifndef ORCHSIM_POLICIES_CONFIG_PRESET_LOADER_H_
#define ORCHSIM_POLICIES_CONFIG_PRESET_LOADER_H_

#include <string>

#include "policies/config/json_reader.h"
#include "policies/orchestrator.h"
#include "policies/status.h"

namespace orchsim::config {

// The policy layer in the preset file at `path`, checked (policy_reader.h)
// and without its "$schema" and "description". Throws ConfigError naming
// the file and JSON path on the first problem. Range checks are
// OrchestratorConfig::validate()'s, once the layers are resolved.
Json ReadPresetFile(const std::string& path);

// The preset `name` in `folder` (name + ".json"), for a scenario's variant.
// A missing file throws ConfigError(scenario_file, where, "unknown preset ...;
// known presets: a, b") listing the presets that exist.
Json ReadPresetFromFolder(const std::string& folder, const std::string& name,
                          const std::string& scenario_file, const std::string& where);

// The service entry: the preset file, then `overrides_json` (a policy
// object in JSON text, "" for none) overlaid, then validated. Never throws;
// the error Status carries the message.
StatusOr<OrchestratorConfig> LoadPolicyFile(const std::string& path,
                                            const std::string& overrides_json = "");

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_PRESET_LOADER_H_
