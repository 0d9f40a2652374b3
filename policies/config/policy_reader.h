// policy_reader.h — reads a policy (OrchestratorConfig) from JSON.
//
// A policy object holds, at the top level, the defaults of every API: the
// per-call keys "breaker", "retry", "timeouts", "cache", "coalescer",
// "batcher", "expected_credits_per_call" and the per-API keys "bucket",
// "quota", "concurrency", "retry_budget" (the older spelling puts the last
// ones under "default_api", which is read after them); the core-wide keys
// "queue", "prefetch", "health", "cost" (and "cache.max_entries" /
// "cache.max_bytes", the shared cache's bounds); and "apis": per API name,
// the same per-API keys plus "endpoints": per endpoint name, the per-call
// keys. See policies/orchestrator_config.h for what each layer means.
//
// Layers are resolved as a whole, never in the order the JSON names them:
// an API starts from the resolved defaults, an endpoint from its resolved
// API. A policy built from several documents (a preset, a variant's
// overrides, a sweep point's values) is their MergePolicyLayers, resolved
// once: an override of a default reaches every API that does not set it.
//
// Errors throw ConfigError (file, JSON path, what was expected) on the
// first problem, unknown keys included. Range checks beyond types are
// OrchestratorConfig::validate()'s.
#ifndef ORCHSIM_POLICIES_CONFIG_POLICY_READER_H_
#define ORCHSIM_POLICIES_CONFIG_POLICY_READER_H_

#include <string>

#include "policies/config/json_reader.h"
#include "policies/orchestrator_config.h"

namespace orchsim::config {

// The config `policy` describes (see the header), read from `file` at JSON
// `path` ("" for a whole file). Members absent keep the core's defaults.
OrchestratorConfig ResolvePolicy(const Json& policy, const std::string& file,
                                 const std::string& path = "");

// Checks one layer on its own (a preset file, a variant's overrides, a
// sweep point), so its errors name its own file and path.
void CheckPolicyLayer(const Json& layer, const std::string& file, const std::string& path = "");

// `overlay` over `base`: objects merge member by member, anything else
// (arrays included) replaces.
Json MergePolicyLayers(Json base, const Json& overlay);

// Reads a priority name ("CRITICAL", "HIGH", "NORMAL", "LOW", "PREFETCH").
void ReadPriority(ObjectReader& reader, const std::string& key, Priority* out,
                  bool required = false);

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_POLICY_READER_H_
