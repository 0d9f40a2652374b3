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

void MockTransport::Send(const UpstreamCall& call, ResponseCallback on_response) {
  if (MockUpstream* upstream = Find(call.api)) {
    upstream->Send(call, std::move(on_response));
    return;
  }
  ++unknown_api_calls_;
  Response response;
  response.status = kStatusTransportError;
  unknown_deliveries_.ScheduleAt(
      sim_.now(),
      [callback = std::move(on_response), response = std::move(response)] { callback(response); });
}

}  // namespace orchsim::world
