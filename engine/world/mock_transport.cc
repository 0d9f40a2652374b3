#include "engine/world/mock_transport.h"

#include <stdexcept>
#include <utility>

namespace orchsim::world {

MockUpstream& MockTransport::AddUpstream(UpstreamModelConfig config,
                                         const kernel::SeedTree& seeds) {
  if (upstreams_.count(config.name) != 0) {
    throw std::invalid_argument("MockTransport: upstream \"" + config.name +
                                "\" is already configured");
  }
  auto upstream = std::make_unique<MockUpstream>(sim_, seeds, std::move(config));
  MockUpstream& ref = *upstream;
  upstreams_.emplace(ref.name(), std::move(upstream));
  return ref;
}

MockUpstream* MockTransport::Find(std::string_view api) {
  auto it = upstreams_.find(api);
  return it == upstreams_.end() ? nullptr : it->second.get();
}

const MockUpstream* MockTransport::Find(std::string_view api) const {
  auto it = upstreams_.find(api);
  return it == upstreams_.end() ? nullptr : it->second.get();
}

std::vector<std::string> MockTransport::names() const {
  std::vector<std::string> out;
  for (const auto& [name, upstream] : upstreams_) out.push_back(name);
  return out;
}

Transport::CallHandle MockTransport::Send(const UpstreamCall& call, ResponseCallback on_response) {
  MockUpstream* upstream = Find(call.api);
  if (upstream != nullptr && upstream->has_capacity()) {
    // Answered when its servers are done with it; the upstream asks at the
    // end of the service whether the client still waits (wasted work).
    const CallHandle handle = deliveries_.Open(std::move(on_response));
    upstream->Submit(
        call,
        [this, handle](Instant at, Response response) {
          deliveries_.Answer(handle, at, std::move(response));
        },
        [this, handle] { return deliveries_.Awaited(handle); });
    return handle;
  }
  Response response;
  if (upstream != nullptr) {
    response = upstream->Process(call);
  } else {
    ++unknown_api_calls_;
    response.status = kStatusTransportError;
  }
  const Instant at = sim_.now() + response.latency;
  return deliveries_.Schedule(at, std::move(response), std::move(on_response));
}

void MockTransport::Cancel(CallHandle handle) { deliveries_.Cancel(handle); }

}  // namespace orchsim::world
