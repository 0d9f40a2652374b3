#include "engine/world/call_deliveries.h"

#include <algorithm>
#include <utility>

namespace orchsim::world {

CallDeliveries::CallHandle CallDeliveries::Open(Transport::ResponseCallback on_response) {
  const CallHandle handle = next_handle_++;
  Call& call = calls_[handle];
  call.on_response = std::move(on_response);
  call.opened_at = sim_.now();
  return handle;
}

void CallDeliveries::Answer(CallHandle handle, Instant at, Response response) {
  auto it = calls_.find(handle);
  if (it == calls_.end() || it->second.cancelled || it->second.delivery != 0) return;
  it->second.response = std::move(response);
  it->second.delivery =
      timers_.ScheduleAt(std::max(at, sim_.now()), [this, handle] { Deliver(handle); });
}

bool CallDeliveries::Awaited(CallHandle handle) const {
  auto it = calls_.find(handle);
  return it != calls_.end() && !it->second.cancelled && it->second.delivery == 0;
}

void CallDeliveries::Cancel(CallHandle handle) {
  auto it = calls_.find(handle);
  if (it == calls_.end() || it->second.cancelled) return;
  Call& call = it->second;
  if (call.delivery != 0 && !timers_.Cancel(call.delivery)) return;  // being delivered
  call.cancelled = true;
  ++cancelled_;
  Response confirmation;
  confirmation.status = kStatusCancelled;
  confirmation.credits_charged = call.delivery != 0 ? call.response.credits_charged : 0.0;
  confirmation.latency = sim_.now() - call.opened_at;
  call.response = std::move(confirmation);
  call.delivery = timers_.ScheduleAt(sim_.now(), [this, handle] { Deliver(handle); });
}

void CallDeliveries::Deliver(CallHandle handle) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  Call call = std::move(it->second);
  calls_.erase(it);
  call.on_response(call.response);
}

}  // namespace orchsim::world
