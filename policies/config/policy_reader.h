// policy_reader.h — reads a policy (an OrchestratorConfig) from JSON.
//
// A policy object has one optional member per component, named as in
// OrchestratorConfig ("queue", "cache", "breaker", "retry", ...) plus
// "default_api" and "apis" (per upstream API: "bucket", "quota",
// "expected_credits_per_call"). Reading is an overlay: members present in the
// JSON replace the matching fields of *config, absent ones keep their value.
// That is how a variant is built: defaults, then the preset, then the
// variant's overrides. Arrays replace whole arrays. An entry of "apis" starts
// from "default_api" the first time it is named.
//
// Throws ConfigError (file, JSON path, what was expected) on the first
// problem, unknown keys included. Range checks beyond types are left to
// OrchestratorConfig::validate(), which the scenario loader calls last.
#ifndef ORCHSIM_POLICIES_CONFIG_POLICY_READER_H_
#define ORCHSIM_POLICIES_CONFIG_POLICY_READER_H_

#include "policies/config/json_reader.h"
#include "policies/orchestrator.h"

namespace orchsim::config {

void ReadPolicy(ObjectReader& reader, OrchestratorConfig* config);

// Reads a priority name ("CRITICAL", "HIGH", "NORMAL", "LOW", "PREFETCH").
void ReadPriority(ObjectReader& reader, const std::string& key, Priority* out,
                  bool required = false);

}  // namespace orchsim::config

#endif  // ORCHSIM_POLICIES_CONFIG_POLICY_READER_H_
