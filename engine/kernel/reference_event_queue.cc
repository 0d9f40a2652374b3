#include "engine/kernel/reference_event_queue.h"

#include <cassert>

namespace orchsim::kernel {

EventId ReferenceEventQueue::Push(Instant at, EventCallback callback) {
  const Key key{at.unix_micros(), next_sequence_++};
  events_.emplace(key, std::move(callback));
  const EventId id{key.second + 1};  // sequence + 1 so that 0 stays invalid
  keys_by_id_.emplace(id.value, key);
  return id;
}

bool ReferenceEventQueue::Cancel(EventId id) {
  auto it = keys_by_id_.find(id.value);
  if (it == keys_by_id_.end()) return false;
  events_.erase(it->second);
  keys_by_id_.erase(it);
  return true;
}

Instant ReferenceEventQueue::NextTime() const {
  assert(!Empty());
  return Instant::FromUnixMicros(events_.begin()->first.first);
}

void ReferenceEventQueue::PopNext(Instant* at, EventCallback* callback) {
  assert(!Empty());
  auto it = events_.begin();
  *at = Instant::FromUnixMicros(it->first.first);
  *callback = std::move(it->second);
  keys_by_id_.erase(it->first.second + 1);
  events_.erase(it);
}

}  // namespace orchsim::kernel
