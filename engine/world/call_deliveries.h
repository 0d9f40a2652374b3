// call_deliveries.h — the simulated half of the Transport contract
// (policies/ports.h): answers delivered through the simulator, never from
// inside Send, exactly once, and Cancel honoured.
//
// Every simulated transport (the mocked upstreams, the fidelity servers)
// keeps its calls here:
//   - Open(callback) starts a call whose answer is not known yet and returns
//     its handle; Answer(handle, at, response) delivers `response` at `at`
//     (an instant before now() means now); Schedule does both at once.
//   - Cancel(handle): a scheduled answer is withdrawn and kStatusCancelled
//     (499) is delivered at now() instead, with latency = now - opened and
//     the credits the withdrawn answer carried (the upstream charged them).
//     A call not answered yet gets the same confirmation (0 credits); a later
//     Answer for it does nothing. Cancel after delivery, or twice, does
//     nothing.
// Deliveries at one instant run in the order they were scheduled (the
// simulator's FIFO rule). REQUIRES: the simulator outlives the deliveries;
// destroying them cancels the undelivered answers' events (they are dropped).
// Not thread-safe.
//
// Cost: a call lives in a recycled slot (a handle is the slot's index and
// generation, so a stale handle never names a newer call), its delivery is
// one kernel event capturing (this, handle): no hashing, and once as many
// calls have been open at once as now, no allocation for the call itself
// (a recycled slot's Response keeps its vectors' capacity for Schedule's
// copying overload).
#ifndef ORCHSIM_ENGINE_WORLD_CALL_DELIVERIES_H_
#define ORCHSIM_ENGINE_WORLD_CALL_DELIVERIES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/kernel/simulator.h"
#include "policies/ports.h"

namespace orchsim::world {

class CallDeliveries {
 public:
  using CallHandle = Transport::CallHandle;
  explicit CallDeliveries(kernel::Simulator& sim) : sim_(sim) {}
  CallDeliveries(const CallDeliveries&) = delete;
  CallDeliveries& operator=(const CallDeliveries&) = delete;
  ~CallDeliveries();

  CallHandle Open(Transport::ResponseCallback on_response);
  void Answer(CallHandle handle, Instant at, Response response);
  CallHandle Schedule(Instant at, Response response, Transport::ResponseCallback on_response) {
    const CallHandle handle = Open(std::move(on_response));
    Answer(handle, at, std::move(response));
    return handle;
  }
  // Schedule, copying `response` into the call's recycled Response (whose
  // vectors keep their capacity): for a sender that builds its answers in
  // one reused Response.
  CallHandle ScheduleCopy(Instant at, const Response& response,
                          Transport::ResponseCallback on_response);
  void Cancel(CallHandle handle);

  // True while the call is open, not cancelled and not answered: its client
  // still waits (an upstream with capacity asks when its service ends).
  bool Awaited(CallHandle handle) const;
  // Calls opened and not yet called back.
  size_t in_flight() const { return open_; }
  // Calls cancelled before their answer was delivered.
  uint64_t cancelled() const { return cancelled_; }

 private:
  struct Call {
    Transport::ResponseCallback on_response;
    Response response;
    Instant opened_at;
    kernel::EventId delivery{};  // not valid while no answer is scheduled
    uint32_t generation = 1;
    bool open = false;
    bool cancelled = false;
  };
  // The open call `handle` names, or nullptr.
  Call* Find(CallHandle handle);
  const Call* Find(CallHandle handle) const {
    return const_cast<CallDeliveries*>(this)->Find(handle);
  }
  void ScheduleDelivery(Call& call, CallHandle handle, Instant at);
  void Deliver(CallHandle handle);

  kernel::Simulator& sim_;
  // A deque: a call stays where it is while its callback opens others.
  std::deque<Call> calls_;
  std::vector<uint32_t> free_;  // indexes of released slots
  size_t open_ = 0;
  uint64_t cancelled_ = 0;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_CALL_DELIVERIES_H_
