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

// Reads the preset file at `path` and overlays it on *config (members absent
// from the file keep their value). "$schema" and "description" are allowed.
// Throws ConfigError naming the file and JSON path on the first problem.
// Range checks are OrchestratorConfig::validate()'s.
void ReadPresetFile(const std::string& path, OrchestratorConfig* config);

// The preset `name` in `folder` (name + ".json"), for a scenario's variant.
// A missing file throws ConfigError(scenario_file, where, "unknown preset ...;
// known presets: a, b") listing the presets that exist.
OrchestratorConfig ReadPresetFromFolder(const std::string& folder, const std::string& name,
                                        const std::string& scenario_file, const std::string& where);

// The service entry: the preset file, then `overrides_json` (a policy
// object in JSON text, "" for none) overlaid, then validated. Never throws;
// the error Status carries the message.
StatusOr<OrchestratorConfig> LoadPolicyFile(const std::string& path,
                                            const std::string& overrides_json = "");

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_PRESET_LOADER_H_
