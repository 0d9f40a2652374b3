#include "policies/config/preset_loader.h"

#include <filesystem>
#include <set>
#include <system_error>

#include "policies/config/input_file.h"
#include "policies/config/policy_reader.h"

namespace orchsim::config {

Json ReadPresetFile(const std::string& path) {
  Json json = ParseJsonOrThrow(ReadFileOrThrow(path), path);
  CheckPolicyLayer(json, path);
  json.erase("$schema");
  json.erase("description");
  return json;
}

Json ReadPresetFromFolder(const std::string& folder, const std::string& name,
                          const std::string& scenario_file, const std::string& where) {
  const std::filesystem::path file = std::filesystem::path(folder) / (name + ".json");
  const std::string path = folder.empty() ? name + ".json" : file.lexically_normal().string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
      if (entry.path().extension() == ".json") names.insert(entry.path().stem().string());
    }
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError(scenario_file, where,
                      "unknown preset \"" + name + "\" (no file " + path +
                          "); known presets: " + (known.empty() ? "none" : known));
  }
  return ReadPresetFile(path);
}

StatusOr<OrchestratorConfig> LoadPolicyFile(const std::string& path,
                                            const std::string& overrides_json) {
  try {
    Json policy = ReadPresetFile(path);
    if (!overrides_json.empty()) {
      const Json overrides = ParseJsonOrThrow(overrides_json, "overrides");
      CheckPolicyLayer(overrides, "overrides");
      policy = MergePolicyLayers(std::move(policy), overrides);
    }
    const OrchestratorConfig config = ResolvePolicy(policy, path);
    const Status status = config.validate();
    if (!status.ok()) return Status::InvalidArgument(path + ": " + status.message());
    return config;
  } catch (const ConfigError& e) {
    return Status::InvalidArgument(e.what());
  }
}

}  // namespace orchsim::config
