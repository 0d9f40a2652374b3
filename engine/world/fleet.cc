#include "engine/world/fleet.h"

#include <algorithm>
#include <cmath>

#include "engine/kernel/random.h"

namespace orchsim::world {

std::string_view TrafficSplitName(TrafficSplit s) {
  return s == TrafficSplit::kRoundRobin ? "round_robin" : "key_hash";
}

bool SharedLimiterConfig::Covers(std::string_view api) const {
  return apis.empty() || std::find(apis.begin(), apis.end(), api) != apis.end();
}

Status SharedLimiterConfig::validate(const std::string& prefix) const {
  if (!enabled) return Status::Ok();
  if (!std::isfinite(rate_per_s) || rate_per_s <= 0.0 || rate_per_s > 1e9) {
    return FieldError(prefix + "rate_per_s", rate_per_s, "must be > 0 and <= 1e9");
  }
  if (!std::isfinite(burst) || burst < 1.0 || burst > 1e9) {
    return FieldError(prefix + "burst", burst, "must be >= 1 and <= 1e9");
  }
  if (Status s = ValidateLatencyConfig(prefix + "latency.", latency); !s.ok()) return s;
  if (!std::isfinite(failure_rate) || failure_rate < 0.0 || failure_rate > 1.0) {
    return FieldError(prefix + "failure_rate", failure_rate, "must be within [0, 1]");
  }
  if (failure_latency < Duration::Zero()) {
    return FieldError(prefix + "failure_latency", FormatDuration(failure_latency), "must be >= 0s");
  }
  if (max_wait < Duration::Zero() || max_wait > Hours(1)) {
    return FieldError(prefix + "max_wait", FormatDuration(max_wait), "must be within [0s, 1h]");
  }
  if (deny_status < 400 || deny_status > 599) {
    return FieldError(prefix + "deny_status", deny_status, "must be a 4xx or 5xx status");
  }
  for (size_t i = 0; i < apis.size(); ++i) {
    if (apis[i].empty()) {
      return FieldError(prefix + "apis[" + std::to_string(i) + "]", apis[i], "must not be empty");
    }
  }
  return Status::Ok();
}

int FleetConfig::ReplicaFor(const Request& request, uint64_t index) const {
  if (replicas <= 1) return 0;
  const auto n = static_cast<uint64_t>(replicas);
  if (split == TrafficSplit::kRoundRobin) return static_cast<int>(index % n);
  const uint64_t hash = kernel::Fnv1a64(request.api + "\n" + request.endpoint + "\n" + request.key);
  return static_cast<int>(hash % n);
}

Status FleetConfig::validate(const std::string& prefix) const {
  if (replicas < 1 || replicas > kMaxReplicas) {
    return FieldError(prefix + "replicas", replicas,
                      "must be in [1, " + std::to_string(kMaxReplicas) + "]");
  }
  return shared_limiter.validate(prefix + "shared_limiter.");
}

}  // namespace orchsim::world
