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
// destroying them drops undelivered answers. Not thread-safe.
#ifndef ORCHSIM_ENGINE_WORLD_CALL_DELIVERIES_H_
#define ORCHSIM_ENGINE_WORLD_CALL_DELIVERIES_H_

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "engine/kernel/simulator.h"
#include "engine/world/sim_ports.h"
#include "policies/ports.h"

namespace orchsim::world {

class CallDeliveries {
 public:
  using CallHandle = Transport::CallHandle;
  explicit CallDeliveries(kernel::Simulator& sim) : sim_(sim), timers_(sim) {}
  CallDeliveries(const CallDeliveries&) = delete;
  CallDeliveries& operator=(const CallDeliveries&) = delete;

  CallHandle Open(Transport::ResponseCallback on_response);
  void Answer(CallHandle handle, Instant at, Response response);
  CallHandle Schedule(Instant at, Response response, Transport::ResponseCallback on_response) {
    const CallHandle handle = Open(std::move(on_response));
    Answer(handle, at, std::move(response));
    return handle;
  }
  void Cancel(CallHandle handle);

  // True while the call is open, not cancelled and not answered: its client
  // still waits (an upstream with capacity asks when its service ends).
  bool Awaited(CallHandle handle) const;
  // Calls opened and not yet called back.
  size_t in_flight() const { return calls_.size(); }
  // Calls cancelled before their answer was delivered.
  uint64_t cancelled() const { return cancelled_; }

 private:
  struct Call {
    Transport::ResponseCallback on_response;
    Response response;
    Instant opened_at;
    Timers::TimerId delivery = 0;  // 0 while no answer is scheduled
    bool cancelled = false;
  };
  void Deliver(CallHandle handle);

  kernel::Simulator& sim_;
  SimTimers timers_;
  std::unordered_map<CallHandle, Call> calls_;
  CallHandle next_handle_ = 1;
  uint64_t cancelled_ = 0;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_CALL_DELIVERIES_H_
