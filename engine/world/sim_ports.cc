#include "engine/world/sim_ports.h"

#include <algorithm>
#include <utility>

namespace orchsim::world {

SimTimers::~SimTimers() {
  // Cancelling is order-independent, so iterating the unordered map is safe.
  for (auto& [id, pending] : pending_) sim_.Cancel(pending.event);
}

Timers::TimerId SimTimers::ScheduleAt(Instant at, std::function<void()> callback) {
  const TimerId id = next_id_++;
  const Instant when = std::max(at, sim_.now());
  const kernel::EventId event = sim_.ScheduleAt(when, [this, id] { Fire(id); });
  pending_.emplace(id, Pending{event, std::move(callback)});
  return id;
}

bool SimTimers::Cancel(TimerId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  sim_.Cancel(it->second.event);
  pending_.erase(it);
  return true;
}

void SimTimers::Fire(TimerId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // cancelled (the kernel event should be gone too)
  // Move out before running: the callback may schedule or cancel timers.
  std::function<void()> callback = std::move(it->second.callback);
  pending_.erase(it);
  callback();
}

}  // namespace orchsim::world
