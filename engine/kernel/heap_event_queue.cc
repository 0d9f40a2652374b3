#include "engine/kernel/heap_event_queue.h"

#include <cassert>

namespace orchsim::kernel {
namespace {
constexpr size_t kArity = 4;

EventId MakeId(uint32_t slot, uint32_t generation) {
  return EventId{(static_cast<uint64_t>(generation) << 32) | (static_cast<uint64_t>(slot) + 1)};
}
}  // namespace

EventId HeapEventQueue::Push(Instant at, EventCallback callback) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.live = true;
  heap_.push_back(Key{at.unix_micros(), next_sequence_++, slot});
  SiftUp(heap_.size() - 1);
  ++live_;
  return MakeId(slot, s.generation);
}

bool HeapEventQueue::Cancel(EventId id) {
  if (!id.valid()) return false;
  const uint64_t low = id.value & 0xffffffffu;
  if (low == 0 || low > slots_.size()) return false;
  const uint32_t slot = static_cast<uint32_t>(low - 1);
  Slot& s = slots_[slot];
  if (!s.live || s.generation != static_cast<uint32_t>(id.value >> 32)) return false;
  s.live = false;
  s.callback.Reset();
  --live_;
  DropDeadTops();
  return true;
}

Instant HeapEventQueue::NextTime() const {
  assert(!Empty());
  return Instant::FromUnixMicros(heap_.front().time_us);
}

void HeapEventQueue::PopNext(Instant* at, EventCallback* callback) {
  assert(!Empty());
  const Key top = heap_.front();
  RemoveTop();
  Slot& s = slots_[top.slot];
  *at = Instant::FromUnixMicros(top.time_us);
  *callback = std::move(s.callback);
  s.live = false;
  --live_;
  FreeSlot(top.slot);
  DropDeadTops();
}

void HeapEventQueue::FreeSlot(uint32_t slot) {
  ++slots_[slot].generation;  // stale ids of this slot no longer match
  free_slots_.push_back(slot);
}

void HeapEventQueue::DropDeadTops() {
  while (!heap_.empty() && !slots_[heap_.front().slot].live) {
    const uint32_t slot = heap_.front().slot;
    RemoveTop();
    FreeSlot(slot);
  }
}

void HeapEventQueue::RemoveTop() {
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) SiftDown(0);
}

void HeapEventQueue::SiftUp(size_t i) {
  const Key moving = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!Before(moving, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = moving;
}

void HeapEventQueue::SiftDown(size_t i) {
  const size_t n = heap_.size();
  const Key moving = heap_[i];
  for (;;) {
    const size_t first = i * kArity + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t last = first + kArity < n ? first + kArity : n;
    for (size_t c = first + 1; c < last; ++c) {
      if (Before(heap_[c], heap_[best])) best = c;
    }
    if (!Before(heap_[best], moving)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = moving;
}

}  // namespace orchsim::kernel
