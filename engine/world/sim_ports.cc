#include "engine/world/sim_ports.h"

#include <algorithm>
#include <utility>

namespace orchsim::world {

SimTimers::~SimTimers() {
  for (const Slot& slot : slots_) {
    if (slot.live) sim_.Cancel(slot.event);
  }
}

Timers::TimerId SimTimers::ScheduleAt(Instant at, std::function<void()> callback) {
  uint32_t index;
  if (free_slots_.empty()) {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    index = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& slot = slots_[index];
  const TimerId id = (static_cast<TimerId>(slot.generation) << 32) | (TimerId{index} + 1);
  const Instant when = std::max(at, sim_.now());
  slot.event = sim_.ScheduleAt(when, [this, id] { Fire(id); });
  slot.callback = std::move(callback);
  slot.live = true;
  ++pending_;
  return id;
}

SimTimers::Slot* SimTimers::Find(TimerId id) {
  const uint64_t low = id & 0xffffffffu;
  if (low == 0 || low > slots_.size()) return nullptr;
  Slot& slot = slots_[low - 1];
  if (!slot.live || slot.generation != static_cast<uint32_t>(id >> 32)) return nullptr;
  return &slot;
}

void SimTimers::Release(Slot& slot, uint32_t index) {
  slot.live = false;
  slot.callback = nullptr;
  if (++slot.generation == 0) slot.generation = 1;
  free_slots_.push_back(index);
  --pending_;
}

bool SimTimers::Cancel(TimerId id) {
  Slot* slot = Find(id);
  if (slot == nullptr) return false;
  sim_.Cancel(slot->event);
  Release(*slot, static_cast<uint32_t>((id & 0xffffffffu) - 1));
  return true;
}

void SimTimers::Fire(TimerId id) {
  Slot* slot = Find(id);
  if (slot == nullptr) return;  // cancelled (the kernel event should be gone too)
  // Move out and free the slot before running: the callback may schedule or
  // cancel timers (and so grow slots_).
  std::function<void()> callback = std::move(slot->callback);
  Release(*slot, static_cast<uint32_t>((id & 0xffffffffu) - 1));
  callback();
}

}  // namespace orchsim::world
