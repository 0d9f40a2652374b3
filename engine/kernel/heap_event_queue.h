// heap_event_queue.h — an EventQueue as a 4-ary min-heap of 16-byte
// (time, sequence, slot) keys over a pool of callback slots.
//
// The keys (EventKeyHeap) are kept apart from the callbacks (EventSlotPool)
// so a sift touches only keys. Simple and good while the keys fit in cache;
// for large queues WheelEventQueue (the Simulator's default) is faster.
//
// Complexity (n = keys in the heap, including cancelled ones not yet reached):
//   Push      O(log4 n)   no allocation once the pool and heap have grown
//   PopNext   O(log4 n)
//   Cancel    O(1): marks the slot dead; the dead key is dropped when it
//             reaches the top (lazy deletion)
//   NextTime  O(1)
// Memory: one 16-byte key + one 64-byte slot per event scheduled and not yet
// reached. tests/bench/event_queue_bench.cc measures it (hold model).
#ifndef ORCHSIM_ENGINE_KERNEL_HEAP_EVENT_QUEUE_H_
#define ORCHSIM_ENGINE_KERNEL_HEAP_EVENT_QUEUE_H_

#include <cstdint>

#include "engine/kernel/event_key_heap.h"
#include "engine/kernel/event_queue.h"
#include "engine/kernel/event_slot_pool.h"

namespace orchsim::kernel {

class HeapEventQueue final : public EventQueue {
 public:
  HeapEventQueue() = default;
  HeapEventQueue(const HeapEventQueue&) = delete;
  HeapEventQueue& operator=(const HeapEventQueue&) = delete;

  EventId Push(Instant at, EventCallback callback) override;
  bool Cancel(EventId id) override;
  bool Empty() const override { return slots_.live() == 0; }
  size_t Size() const override { return slots_.live(); }
  Instant NextTime() const override;
  void PopNext(Instant* at, EventCallback* callback) override;

  // Test hook: see EventKeyHeap::SetNextSequenceForTesting.
  void SetNextSequenceForTesting(uint32_t sequence) { heap_.SetNextSequenceForTesting(sequence); }

 private:
  void DropDeadTops();

  EventKeyHeap heap_;
  EventSlotPool slots_;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_HEAP_EVENT_QUEUE_H_
