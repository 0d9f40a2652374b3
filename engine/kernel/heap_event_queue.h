// heap_event_queue.h — the production EventQueue: a 4-ary min-heap of small
// (time, sequence, slot) keys over a pool of callback slots.
//
// Complexity (n = entries in the heap, including cancelled ones not yet
// reached):
//   Push      O(log4 n)   no allocation once the pool and heap have grown
//   PopNext   O(log4 n)
//   Cancel    O(1) amortized: marks the slot dead; the dead key is dropped
//             when it reaches the top (lazy deletion)
//   NextTime  O(1)
// Memory: one 24-byte key + one slot per event scheduled and not yet reached.
// tests/bench/event_queue_bench.cc backs these figures (hold model).
#ifndef ORCHSIM_ENGINE_KERNEL_HEAP_EVENT_QUEUE_H_
#define ORCHSIM_ENGINE_KERNEL_HEAP_EVENT_QUEUE_H_

#include <vector>

#include "engine/kernel/event_queue.h"

namespace orchsim::kernel {

class HeapEventQueue final : public EventQueue {
 public:
  HeapEventQueue() = default;
  HeapEventQueue(const HeapEventQueue&) = delete;
  HeapEventQueue& operator=(const HeapEventQueue&) = delete;

  EventId Push(Instant at, EventCallback callback) override;
  bool Cancel(EventId id) override;
  bool Empty() const override { return live_ == 0; }
  size_t Size() const override { return live_; }
  Instant NextTime() const override;
  void PopNext(Instant* at, EventCallback* callback) override;

 private:
  struct Key {
    int64_t time_us;
    uint64_t sequence;
    uint32_t slot;
  };
  struct Slot {
    EventCallback callback;
    uint32_t generation = 1;
    bool live = false;
  };

  static bool Before(const Key& a, const Key& b) {
    return a.time_us < b.time_us || (a.time_us == b.time_us && a.sequence < b.sequence);
  }
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void RemoveTop();
  void DropDeadTops();
  void FreeSlot(uint32_t slot);

  std::vector<Key> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_sequence_ = 0;
  size_t live_ = 0;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_HEAP_EVENT_QUEUE_H_
