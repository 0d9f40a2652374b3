// event_slot_pool.h — the callbacks of pending events, in reusable slots.
//
// Queue implementations keep only small keys (time, slot index, ...) in their
// ordering structure and park each callback here, so reordering never moves a
// callback. A slot is reused through a LIFO free list, so in steady state (as
// many pushes as pops) scheduling never allocates and the slot just freed by
// a pop, still in cache, takes the next push. Each slot carries a generation,
// bumped on release, so an EventId (slot + generation) of an event that
// already ran never names a newer event.
//
// A slot is exactly one 64-byte cache line (the callback plus generation and
// liveness packed into the callback's tail padding), and the array is
// cache-line aligned: running an event touches one line, which the queue can
// Prefetch() ahead of time.
//
// Lifecycle of a slot: Allocate -> live; then either TakeAndRelease (it ran)
// or Cancel -> dead but still reserved -> Release once the queue drops its
// key (lazy deletion). Not thread-safe.
#ifndef ORCHSIM_ENGINE_KERNEL_EVENT_SLOT_POOL_H_
#define ORCHSIM_ENGINE_KERNEL_EVENT_SLOT_POOL_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/kernel/cache_aligned_allocator.h"
#include "engine/kernel/event_queue.h"

namespace orchsim::kernel {

class EventSlotPool {
 public:
  // Stores `callback` in a free slot (growing the pool if none is free) and
  // marks it live. Returns the slot index.
  uint32_t Allocate(EventCallback&& callback) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& s = slots_[slot];
    s.callback = std::move(callback);
    s.live = true;
    ++live_;
    return slot;
  }

  EventId IdOf(uint32_t slot) const {
    return EventId{(static_cast<uint64_t>(slots_[slot].generation) << 32) |
                   (static_cast<uint64_t>(slot) + 1)};
  }

  // If `id` names a live slot: drops its callback, marks it dead (still
  // reserved until Release) and returns true. Otherwise false.
  bool Cancel(EventId id) {
    const uint64_t low = id.value & 0xffffffffu;
    if (low == 0 || low > slots_.size()) return false;
    Slot& s = slots_[static_cast<size_t>(low - 1)];
    if (!s.live || s.generation != static_cast<uint32_t>(id.value >> 32)) return false;
    s.live = false;
    s.callback.Reset();
    --live_;
    return true;
  }

  bool IsLive(uint32_t slot) const { return slots_[slot].live; }

  // Hints that `slot` will be read soon (the queue knows its next events).
  void Prefetch(uint32_t slot) const { __builtin_prefetch(&slots_[slot], 1); }

  // REQUIRES: IsLive(slot). Moves the callback out and frees the slot.
  void TakeAndRelease(uint32_t slot, EventCallback* callback) {
    Slot& s = slots_[slot];
    assert(s.live);
    *callback = std::move(s.callback);
    s.live = false;
    --live_;
    Release(slot);
  }

  // REQUIRES: the slot is not live and its key is gone. Frees the slot.
  void Release(uint32_t slot) {
    ++slots_[slot].generation;  // stale ids of this slot no longer match
    free_.push_back(slot);
  }

  // Live (pushed, not yet taken or cancelled) events.
  size_t live() const { return live_; }

 private:
  struct alignas(kCacheLineBytes) Slot {
    // [[no_unique_address]] lets generation and live sit in the callback's
    // tail padding, keeping the slot to one cache line.
    [[no_unique_address]] EventCallback callback;
    uint32_t generation = 1;
    bool live = false;
  };
  static_assert(sizeof(Slot) == kCacheLineBytes, "a slot should be one cache line");

  std::vector<Slot, CacheAlignedAllocator<Slot>> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_EVENT_SLOT_POOL_H_
