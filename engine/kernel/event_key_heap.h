// event_key_heap.h — a 4-ary min-heap of 16-byte event keys (time, sequence,
// slot), ordered by (time, sequence). The sequence is assigned at Push, so
// keys with equal times pop in the order they were pushed (FIFO ties).
//
// The callbacks live elsewhere (EventSlotPool); a key names its slot. The
// key array is 64-byte aligned and offset so the four children of a node
// share one cache line. Sequence numbers are 32 bits; when they run out the
// pending keys are renumbered in order (O(n log n) once per 2^32 pushes), so
// FIFO ties hold exactly for the heap's lifetime.
//
// Complexity: Push O(log4 n), Pop O(log4 n) (bottom-up: the hole goes down
// to a leaf, then the last key climbs back, which is cheaper than a classic
// sift-down because that key usually belongs near the bottom), top O(1).
// Not thread-safe.
#ifndef ORCHSIM_ENGINE_KERNEL_EVENT_KEY_HEAP_H_
#define ORCHSIM_ENGINE_KERNEL_EVENT_KEY_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/kernel/cache_aligned_allocator.h"

namespace orchsim::kernel {

class EventKeyHeap {
 public:
  struct Key {
    int64_t time_us;
    uint32_t sequence;
    uint32_t slot;
  };
  static_assert(sizeof(Key) == 16);

  EventKeyHeap();

  bool empty() const { return keys_.size() == kRoot; }
  size_t size() const { return keys_.size() - kRoot; }
  // REQUIRES: !empty(). The earliest key.
  const Key& top() const { return keys_[kRoot]; }

  void Push(int64_t time_us, uint32_t slot);
  // REQUIRES: !empty(). Removes top().
  void Pop();

  // Test hook: makes the next Push use `sequence`, to exercise renumbering
  // when sequence numbers run out without pushing 2^32 keys.
  void SetNextSequenceForTesting(uint32_t sequence) { next_sequence_ = sequence; }

 private:
  // keys_[0..kRoot) is padding so that each group of four siblings starts on
  // a 64-byte boundary; the root is keys_[kRoot].
  static constexpr size_t kRoot = 3;

  static bool Before(const Key& a, const Key& b) {
    return a.time_us < b.time_us || (a.time_us == b.time_us && a.sequence < b.sequence);
  }
  void SiftUp(size_t i, Key moving);
  void Renumber();

  std::vector<Key, CacheAlignedAllocator<Key>> keys_;
  uint32_t next_sequence_ = 0;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_EVENT_KEY_HEAP_H_
