// reference_event_queue.h — a second EventQueue over std::map, kept simple
// on purpose: it is the oracle the shared test suite compares the heap with,
// and the template for dropping in another implementation. It allocates per
// event; do not use it where speed matters.
//
// Complexity: Push, Cancel, PopNext O(log n); NextTime O(1).
#ifndef ORCHSIM_ENGINE_KERNEL_REFERENCE_EVENT_QUEUE_H_
#define ORCHSIM_ENGINE_KERNEL_REFERENCE_EVENT_QUEUE_H_

#include <map>
#include <unordered_map>
#include <utility>

#include "engine/kernel/event_queue.h"

namespace orchsim::kernel {

class ReferenceEventQueue final : public EventQueue {
 public:
  EventId Push(Instant at, EventCallback callback) override;
  bool Cancel(EventId id) override;
  bool Empty() const override { return events_.empty(); }
  size_t Size() const override { return events_.size(); }
  Instant NextTime() const override;
  void PopNext(Instant* at, EventCallback* callback) override;

 private:
  using Key = std::pair<int64_t, uint64_t>;  // (time, sequence)
  std::map<Key, EventCallback> events_;
  std::unordered_map<uint64_t, Key> keys_by_id_;
  uint64_t next_sequence_ = 0;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_REFERENCE_EVENT_QUEUE_H_
