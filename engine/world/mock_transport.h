// mock_transport.h — the core's Transport port over mocked upstreams.
//
// Routes each UpstreamCall to the MockUpstream whose name equals call.api;
// the upstream evaluates it at once (MockUpstream::Process) and its answer is
// delivered through the simulator at now + latency. A call for an api no
// upstream serves answers kStatusTransportError (599) at now(), still through
// the simulator (never from inside Send), and is counted.
//
// An upstream with capacity (CapacityConfig) answers when its servers are
// done with the call (MockUpstream::Submit); a cancelled call stays in its
// queue or service, and the upstream learns when its service ends that
// nobody waits any more (wasted work). Credits such a call is charged after
// it was cancelled are not reported back (the confirmation said 0).
//
// Cancel (the Transport contract in policies/ports.h, call_deliveries.h):
// the answer is withdrawn and kStatusCancelled (499) is delivered at now().
// The upstream is not told: it did the work, and its counters, rate window
// and quota keep the call. The confirmation carries the credits the upstream
// charged for it, as a real client learns them later from the quota headers,
// so what the core's observers count equals what the upstream charged.
//
// Ownership: the transport owns its upstreams. REQUIRES: the Simulator
// outlives the transport. Not thread-safe.
//
// Example:
//   MockTransport transport(sim);
//   transport.AddUpstream(odds_config, seeds);
//   transport.Send(call, [](const Response& r) { ... });
#ifndef ORCHSIM_ENGINE_WORLD_MOCK_TRANSPORT_H_
#define ORCHSIM_ENGINE_WORLD_MOCK_TRANSPORT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/call_deliveries.h"
#include "engine/world/mock_upstream.h"
#include "engine/world/sim_ports.h"
#include "engine/world/upstream_model.h"
#include "policies/ports.h"

namespace orchsim::world {

class MockTransport : public Transport {
 public:
  explicit MockTransport(kernel::Simulator& sim) : sim_(sim), deliveries_(sim) {}
  MockTransport(const MockTransport&) = delete;
  MockTransport& operator=(const MockTransport&) = delete;

  // Creates the upstream for `config.name`. Throws std::invalid_argument when
  // the config is invalid or the name is already served.
  MockUpstream& AddUpstream(UpstreamModelConfig config, const kernel::SeedTree& seeds);
  // The upstream serving `api`, or nullptr.
  MockUpstream* Find(std::string_view api);
  const MockUpstream* Find(std::string_view api) const;
  // Names of the upstreams, sorted.
  std::vector<std::string> names() const;

  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override;
  void Cancel(CallHandle handle) override;

  // Calls whose api no upstream serves (answered 599).
  uint64_t unknown_api_calls() const { return unknown_api_calls_; }
  // Calls cancelled before their answer was delivered.
  uint64_t cancelled_calls() const { return deliveries_.cancelled(); }
  // Calls sent and not yet called back.
  size_t in_flight() const { return deliveries_.in_flight(); }

 private:
  kernel::Simulator& sim_;
  std::map<std::string, std::unique_ptr<MockUpstream>, std::less<>> upstreams_;
  CallDeliveries deliveries_;
  uint64_t unknown_api_calls_ = 0;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_MOCK_TRANSPORT_H_
