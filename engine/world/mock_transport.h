// mock_transport.h — the core's Transport port over mocked upstreams.
//
// Routes each UpstreamCall to the MockUpstream whose name equals call.api;
// the upstream answers through the simulator at now + latency. A call for an
// api no upstream serves answers kStatusTransportError (599) at now(), still
// through the simulator (never from inside Send), and is counted.
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
#include "engine/world/mock_upstream.h"
#include "engine/world/sim_ports.h"
#include "engine/world/upstream_model.h"
#include "policies/ports.h"

namespace orchsim::world {

class MockTransport : public Transport {
 public:
  explicit MockTransport(kernel::Simulator& sim) : sim_(sim), unknown_deliveries_(sim) {}
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

  void Send(const UpstreamCall& call, ResponseCallback on_response) override;

  // Calls whose api no upstream serves (answered 599).
  uint64_t unknown_api_calls() const { return unknown_api_calls_; }

 private:
  kernel::Simulator& sim_;
  std::map<std::string, std::unique_ptr<MockUpstream>, std::less<>> upstreams_;
  SimTimers unknown_deliveries_;
  uint64_t unknown_api_calls_ = 0;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_MOCK_TRANSPORT_H_
