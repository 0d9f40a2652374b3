// events.h — what the orchestration core tells its observers.
//
// Observers (the metrics recorder, trace writers) see these events and never
// change the core's state: every method receives const data and returns
// nothing. Default implementations do nothing, so an observer overrides only
// what it needs. Events are emitted synchronously, in the order they happen,
// with the instant from the core's Clock.
#ifndef ORCHSIM_POLICIES_EVENTS_H_
#define ORCHSIM_POLICIES_EVENTS_H_

#include <string>
#include <string_view>

#include "policies/request.h"
#include "policies/time.h"

namespace orchsim {

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen };
std::string_view BreakerStateName(BreakerState s);  // "closed", "open", "half_open"

enum class HealthState : uint8_t { kHealthy, kDegraded, kUnhealthy };
std::string_view HealthStateName(HealthState s);  // "healthy", "degraded", "unhealthy"

struct BreakerTransition {
  std::string breaker;  // BreakerName: "api" or "api/endpoint" (circuit_breaker.h)
  BreakerState from;
  BreakerState to;
  Instant at;
};

class OrchestratorObserver {
 public:
  virtual ~OrchestratorObserver();
  virtual void OnSubmitted(const Request& /*request*/, Instant /*now*/) {}
  // Exactly once per submitted request.
  virtual void OnCompleted(const Request& /*request*/, const Result& /*result*/, Instant /*now*/) {}
  virtual void OnCallSent(const UpstreamCall& /*call*/, Instant /*now*/) {}
  // `late` is true when the answer came after the core stopped waiting.
  virtual void OnCallAnswered(const UpstreamCall& /*call*/, const Response& /*response*/,
                              bool /*late*/, Instant /*now*/) {}
  virtual void OnBreakerTransition(const BreakerTransition& /*transition*/) {}
  virtual void OnRetryScheduled(const Request& /*request*/, int /*attempt*/, Duration /*delay*/,
                                Instant /*now*/) {}
  virtual void OnRetryBudgetDenied(const Request& /*request*/, Instant /*now*/) {}
  virtual void OnHealthChanged(const std::string& /*api*/, HealthState /*from*/, HealthState /*to*/,
                               Instant /*now*/) {}
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_EVENTS_H_
