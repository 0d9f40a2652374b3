// shared_limiter.h — the shared limiter of a fleet (fleet.h,
// SharedLimiterConfig) and the transport each replica asks it through.
//
// SharedLimiter is one token bucket for the whole fleet, as a central
// service keeps it: rate_per_s tokens a second up to `burst`, full at the
// start, one token per call. Ask() is one request to that service, decided
// at the instant it is made: with probability failure_rate the service does
// not answer (the ask fails after failure_latency; the bucket is untouched);
// otherwise a round trip is drawn from `latency` and the call is allowed
// when a token is there (and takes it); when none is, it reserves the next
// free token if that comes within max_wait (the bucket goes below zero; the
// call leaves at that token's instant, or when the verdict is back if that is
// later), else it is denied with
// the time until the next token. Draws come from the stream "fleet/shared_limiter": the
// failure draw (only when failure_rate > 0), then the latency.
//
// LimitedTransport wraps a replica's transport (the shared mocked
// upstreams): a call to an API the limiter covers first asks it, and leaves
// for the upstream only when allowed (or when the ask failed and the limiter
// fails open), after the ask's round trip; a denied call is answered
// `deny_status` with Retry-After (whole seconds until the next token, >= 1)
// without reaching the upstream. The answer's latency includes the ask.
// Calls to other APIs go straight through. Cancel (ports.h): while asking,
// the call ends with 499 at once (through the simulator, never inside
// Cancel) and is never sent; once sent, the cancel goes to the upstream's
// transport, whose 499 comes back through. Calls that end without reaching
// the upstream (denied, refused on a failed ask, cancelled while asking) are
// counted by API and kind when the core sent them at or after `count_from`
// (stopped(); the run's cross-check of the core's call counts against the
// upstreams' subtracts them). REQUIRES: the simulator, the limiter and the
// wrapped transport outlive it. Not thread-safe.
#ifndef ORCHSIM_ENGINE_WORLD_SHARED_LIMITER_H_
#define ORCHSIM_ENGINE_WORLD_SHARED_LIMITER_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/fleet.h"
#include "engine/world/sim_ports.h"
#include "policies/ports.h"

namespace orchsim::world {

class SharedLimiter {
 public:
  struct Verdict {
    bool allowed = false;
    bool failed = false;   // the service did not answer
    Duration delay;        // until the call may leave (or is refused)
    Duration retry_after;  // denied: until the next token
  };
  struct Counters {
    uint64_t asks = 0;
    uint64_t allowed = 0;  // failed asks let through included
    uint64_t denied = 0;   // failed asks refused included
    uint64_t failures = 0;
    uint64_t reserved = 0;  // allowed after waiting for a reserved token
  };

  // REQUIRES: config.validate("").ok().
  SharedLimiter(kernel::Simulator& sim, const kernel::SeedTree& seeds, SharedLimiterConfig config);
  Verdict Ask();
  const SharedLimiterConfig& config() const { return config_; }
  const Counters& counters() const { return counters_; }
  // Tokens in the bucket at now() (refilled to now).
  double TokensNow();

 private:
  kernel::Simulator& sim_;
  SharedLimiterConfig config_;
  kernel::Rng rng_;
  std::optional<kernel::Empirical> empirical_;
  double tokens_;
  Instant refilled_at_;
  Counters counters_;
};

class LimitedTransport : public Transport {
 public:
  // Calls kept from the upstream, by API and CallKind (index).
  using StoppedCalls = std::map<std::string, std::array<uint64_t, kCallKindCount>>;

  LimitedTransport(kernel::Simulator& sim, Transport& next, SharedLimiter& limiter,
                   Instant count_from = Instant::Min())
      : sim_(sim), timers_(sim), next_(next), limiter_(limiter), count_from_(count_from) {}
  LimitedTransport(const LimitedTransport&) = delete;
  LimitedTransport& operator=(const LimitedTransport&) = delete;

  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override;
  void Cancel(CallHandle handle) override;
  // Calls sent and not yet called back.
  size_t in_flight() const { return calls_.size(); }
  const StoppedCalls& stopped() const { return stopped_; }

 private:
  struct Call {
    ResponseCallback on_response;
    UpstreamCall call;
    Instant sent;
    Duration asked;  // time spent asking the limiter
    Timers::TimerId timer = 0;
    CallHandle inner = 0;    // once sent on
    bool cancelled = false;  // while asking: the 499 is on its way
  };
  void OnVerdict(CallHandle handle, const SharedLimiter::Verdict& verdict);
  void SendOn(CallHandle handle);
  void Deliver(CallHandle handle, Response response);
  void CountStopped(const Call& call);

  kernel::Simulator& sim_;
  SimTimers timers_;
  Transport& next_;
  SharedLimiter& limiter_;
  Instant count_from_;
  std::unordered_map<CallHandle, Call> calls_;
  CallHandle next_handle_ = 1;
  StoppedCalls stopped_;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_SHARED_LIMITER_H_
