#include "policies/events.h"

namespace orchsim {

OrchestratorObserver::~OrchestratorObserver() = default;

std::string_view BreakerStateName(BreakerState s) {
  static constexpr std::string_view kNames[] = {"closed", "open", "half_open"};
  return kNames[static_cast<int>(s)];
}

std::string_view HealthStateName(HealthState s) {
  static constexpr std::string_view kNames[] = {"healthy", "degraded", "unhealthy"};
  return kNames[static_cast<int>(s)];
}

}  // namespace orchsim
