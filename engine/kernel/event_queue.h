// event_queue.h — the pending-event set behind a narrow interface.
//
// Events are totally ordered by (time, sequence): the sequence number is
// assigned at Push, so events at the same instant pop in the order they were
// pushed (FIFO ties). Implementations are interchangeable and are tested by
// one shared suite (tests/engine/kernel/event_queue_test.cc).
//
// Contract:
//   - Push never fails; the returned EventId is unique for the queue's
//     lifetime (slot index + generation), so a stale id never cancels a newer
//     event that reuses the slot.
//   - Cancel(id) returns true if the event was pending and is now removed;
//     false if it already ran, was cancelled, or never existed.
//   - Size() counts live (not cancelled) events.
//   - Not thread-safe: one simulation, one thread.
#ifndef ORCHSIM_ENGINE_KERNEL_EVENT_QUEUE_H_
#define ORCHSIM_ENGINE_KERNEL_EVENT_QUEUE_H_

#include <cstddef>
#include <cstdint>

#include "engine/kernel/inline_function.h"
#include "policies/time.h"

namespace orchsim::kernel {

using EventCallback = InlineFunction<void(), 48>;

// Opaque handle to a pending event. Default-constructed ids name no event.
struct EventId {
  uint64_t value = 0;
  bool valid() const { return value != 0; }
  friend bool operator==(EventId, EventId) = default;
};

class EventQueue {
 public:
  virtual ~EventQueue() = default;

  // Adds an event; O(log n) for the heap implementation.
  virtual EventId Push(Instant at, EventCallback callback) = 0;
  // Removes a pending event. See the contract above.
  virtual bool Cancel(EventId id) = 0;
  virtual bool Empty() const = 0;
  virtual size_t Size() const = 0;
  // REQUIRES: !Empty(). The time of the earliest live event.
  virtual Instant NextTime() const = 0;
  // REQUIRES: !Empty(). Removes the earliest live event and hands back its
  // time and callback; the caller runs it.
  virtual void PopNext(Instant* at, EventCallback* callback) = 0;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_EVENT_QUEUE_H_
