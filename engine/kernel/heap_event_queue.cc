#include "engine/kernel/heap_event_queue.h"

#include <cassert>

namespace orchsim::kernel {

EventId HeapEventQueue::Push(Instant at, EventCallback callback) {
  const uint32_t slot = slots_.Allocate(std::move(callback));
  heap_.Push(at.unix_micros(), slot);
  return slots_.IdOf(slot);
}

bool HeapEventQueue::Cancel(EventId id) {
  if (!slots_.Cancel(id)) return false;
  DropDeadTops();
  return true;
}

Instant HeapEventQueue::NextTime() const {
  assert(!Empty());
  return Instant::FromUnixMicros(heap_.top().time_us);
}

void HeapEventQueue::PopNext(Instant* at, EventCallback* callback) {
  assert(!Empty());
  const EventKeyHeap::Key top = heap_.top();
  heap_.Pop();
  *at = Instant::FromUnixMicros(top.time_us);
  slots_.TakeAndRelease(top.slot, callback);
  DropDeadTops();
}

void HeapEventQueue::DropDeadTops() {
  while (!heap_.empty() && !slots_.IsLive(heap_.top().slot)) {
    const uint32_t slot = heap_.top().slot;
    heap_.Pop();
    slots_.Release(slot);
  }
}

}  // namespace orchsim::kernel
