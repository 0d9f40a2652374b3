#include "engine/world/call_deliveries.h"

#include <algorithm>
#include <utility>

namespace orchsim::world {
namespace {

// A handle is (generation << 32) | (slot index + 1): never 0.
uint32_t IndexOf(Transport::CallHandle handle) {
  return static_cast<uint32_t>((handle & 0xffffffffu) - 1);
}

}  // namespace

CallDeliveries::~CallDeliveries() {
  for (const Call& call : calls_) {
    if (call.open && call.delivery.valid()) sim_.Cancel(call.delivery);
  }
}

CallDeliveries::Call* CallDeliveries::Find(CallHandle handle) {
  const uint64_t low = handle & 0xffffffffu;
  if (low == 0 || low > calls_.size()) return nullptr;
  Call& call = calls_[low - 1];
  if (!call.open || call.generation != static_cast<uint32_t>(handle >> 32)) return nullptr;
  return &call;
}

CallDeliveries::CallHandle CallDeliveries::Open(Transport::ResponseCallback on_response) {
  uint32_t index;
  if (free_.empty()) {
    index = static_cast<uint32_t>(calls_.size());
    calls_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  Call& call = calls_[index];
  call.on_response = std::move(on_response);
  call.opened_at = sim_.now();
  call.delivery = kernel::EventId{};
  call.open = true;
  call.cancelled = false;
  ++open_;
  return (static_cast<CallHandle>(call.generation) << 32) | (CallHandle{index} + 1);
}

void CallDeliveries::ScheduleDelivery(Call& call, CallHandle handle, Instant at) {
  call.delivery = sim_.ScheduleAt(std::max(at, sim_.now()), [this, handle] { Deliver(handle); });
}

void CallDeliveries::Answer(CallHandle handle, Instant at, Response response) {
  Call* call = Find(handle);
  if (call == nullptr || call->cancelled || call->delivery.valid()) return;
  call->response = std::move(response);
  ScheduleDelivery(*call, handle, at);
}

CallDeliveries::CallHandle CallDeliveries::ScheduleCopy(Instant at, const Response& response,
                                                        Transport::ResponseCallback on_response) {
  const CallHandle handle = Open(std::move(on_response));
  Call& call = calls_[IndexOf(handle)];
  call.response = response;
  ScheduleDelivery(call, handle, at);
  return handle;
}

bool CallDeliveries::Awaited(CallHandle handle) const {
  const Call* call = Find(handle);
  return call != nullptr && !call->cancelled && !call->delivery.valid();
}

void CallDeliveries::Cancel(CallHandle handle) {
  Call* found = Find(handle);
  if (found == nullptr || found->cancelled) return;
  Call& call = *found;
  if (call.delivery.valid() && !sim_.Cancel(call.delivery)) return;  // being delivered
  call.cancelled = true;
  ++cancelled_;
  const double credits = call.delivery.valid() ? call.response.credits_charged : 0.0;
  Response confirmation;
  confirmation.status = kStatusCancelled;
  confirmation.credits_charged = credits;
  confirmation.latency = sim_.now() - call.opened_at;
  call.response = std::move(confirmation);
  ScheduleDelivery(call, handle, sim_.now());
}

void CallDeliveries::Deliver(CallHandle handle) {
  Call* found = Find(handle);
  if (found == nullptr) return;
  Call& call = *found;
  // The call has ended before its callback runs (Awaited and Cancel see it
  // gone); the slot is reused only after the callback, which reads
  // call.response.
  call.open = false;
  call.delivery = kernel::EventId{};
  --open_;
  Transport::ResponseCallback callback = std::move(call.on_response);
  call.on_response = nullptr;
  callback(call.response);
  call.response.bodies.clear();  // the answered data is not held by a free slot
  if (++call.generation == 0) call.generation = 1;
  free_.push_back(IndexOf(handle));
}

}  // namespace orchsim::world
