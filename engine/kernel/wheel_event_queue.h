// wheel_event_queue.h — the Simulator's EventQueue: a two-level timing wheel
// with exact one-microsecond buckets, a heap for whatever lies outside it,
// and a pool of callback slots.
//
// Layout (times are int64 microseconds; 4096 = 2^12):
//   fine wheel    4096 buckets of 1 us covering the current block
//                 [block * 4096, (block + 1) * 4096) us (4.096 ms);
//   coarse wheel  4096 buckets of one block each, covering the rest of the
//                 current super-block (4096 blocks = 2^24 us, ~16.8 s);
//   overflow      an EventKeyHeap for times before the current block (pushed
//                 out of order) or past the current super-block.
// A fine bucket holds keys of exactly one instant, appended in push order, so
// it is a FIFO that is already in (time, sequence) order: no sorting, and
// FIFO ties hold by construction. A coarse bucket keeps push order too; when
// the fine wheel runs dry the earliest coarse bucket is spread over it
// (order-preserving), and when both wheels are empty they are re-aimed at the
// overflow's earliest key and that key's super-block is moved in, earliest
// first. The overflow never holds a time that the wheels cover, so the front
// is simply the earlier of the first fine bucket and the overflow's top.
// Two-level bitmaps find the first non-empty bucket in O(1).
//
// The wheels move only when the front is asked for (NextTime, PopNext), so
// they stay aimed at the current time while callbacks schedule new events.
// A push before the current block (possible after NextTime looked ahead over
// a gap, e.g. at the end of Simulator::RunUntil) goes to the overflow; once
// such early pushes outnumber the keys in the wheels, the wheels are emptied
// into the overflow (in order) and re-aimed, so a simulation never stays on
// the slow path, and the cost is paid for by those pushes.
//
// Complexity (n = pending keys, including cancelled ones not yet reached):
//   Push      O(1) into the wheels, O(log4 n) into the overflow
//   PopNext   O(1) amortized from the wheels (each key is moved from coarse
//             to fine at most once), O(log4 n) from the overflow
//   Cancel    O(1): marks the slot dead; the key is dropped when reached
//   NextTime  O(1) amortized (it may move the wheels, as PopNext does; the
//             queue is logically const, hence the mutable members)
// No allocation in steady state: buckets keep their capacity when emptied.
// Memory: ~270 KB of fixed bucket headers and bitmaps, plus per pending event
// one 64-byte slot and a 4-byte (fine), 8-byte (coarse) or 16-byte
// (overflow) key; emptied buckets keep their peak capacity.
// Events further apart than ~16.8 s go through the overflow heap, so a
// workload that is mostly far-future timers runs at heap speed.
// Not thread-safe. tests/bench/event_queue_bench.cc measures it (hold model).
#ifndef ORCHSIM_ENGINE_KERNEL_WHEEL_EVENT_QUEUE_H_
#define ORCHSIM_ENGINE_KERNEL_WHEEL_EVENT_QUEUE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/kernel/event_key_heap.h"
#include "engine/kernel/event_queue.h"
#include "engine/kernel/event_slot_pool.h"

namespace orchsim::kernel {

class WheelEventQueue final : public EventQueue {
 public:
  WheelEventQueue();
  WheelEventQueue(const WheelEventQueue&) = delete;
  WheelEventQueue& operator=(const WheelEventQueue&) = delete;

  EventId Push(Instant at, EventCallback callback) override;
  bool Cancel(EventId id) override;
  bool Empty() const override { return slots_.live() == 0; }
  size_t Size() const override { return slots_.live(); }
  Instant NextTime() const override;
  void PopNext(Instant* at, EventCallback* callback) override;

 private:
  static constexpr int kBucketBits = 12;
  static constexpr size_t kBuckets = size_t{1} << kBucketBits;
  static constexpr int64_t kBucketMask = static_cast<int64_t>(kBuckets) - 1;

  // Which of the kBuckets buckets are non-empty, as a two-level bitmap.
  class Occupancy {
   public:
    void Set(size_t i) {
      words_[i >> 6] |= uint64_t{1} << (i & 63);
      summary_ |= uint64_t{1} << (i >> 6);
    }
    void Clear(size_t i) {
      words_[i >> 6] &= ~(uint64_t{1} << (i & 63));
      if (words_[i >> 6] == 0) summary_ &= ~(uint64_t{1} << (i >> 6));
    }
    // REQUIRES: some bucket is set. The lowest set index.
    size_t First() const {
      const size_t word = static_cast<size_t>(__builtin_ctzll(summary_));
      return word * 64 + static_cast<size_t>(__builtin_ctzll(words_[word]));
    }

   private:
    uint64_t summary_ = 0;
    std::array<uint64_t, kBuckets / 64> words_{};
  };
  static_assert(kBuckets / 64 <= 64, "the summary word indexes at most 64 words");

  struct FineBucket {
    std::vector<uint32_t> slots;  // push order; slots[head..] are pending
    uint32_t head = 0;
  };

  // Routes a key to the fine wheel, the coarse wheel or the overflow.
  void Place(int64_t time_us, uint32_t slot) const;
  // Moves the wheels until the front key is live (dropping cancelled keys on
  // the way). Returns false when no key is stored.
  bool SettleFront() const;
  // Fine wheel empty: cascades the earliest coarse bucket, or re-aims the
  // empty wheels at the overflow. Returns false if neither applies (the
  // front is in the overflow, before the coarse wheel, or nothing is left).
  bool RefillFine() const;
  // REQUIRES: both wheels empty, overflow not. Aims the wheels at the
  // overflow's earliest key and moves in the keys of its super-block.
  void AimAtOverflow() const;
  // Spreads the earliest coarse bucket over the (empty) fine wheel.
  void CascadeFirstCoarse() const;
  // Moves every wheel key into the overflow in (time, sequence) order.
  void UnloadWheels() const;
  bool FrontInOverflow() const;
  int64_t FineFrontTime() const {
    return (block_ << kBucketBits) | static_cast<int64_t>(fine_occupied_.First());
  }
  // Removes and returns the first key of fine bucket `index`.
  uint32_t TakeFine(size_t index) const;

  mutable int64_t block_ = 0;  // the fine wheel covers [block_ * 4096, (block_ + 1) * 4096)
  mutable std::vector<FineBucket> fine_;
  mutable Occupancy fine_occupied_;
  mutable size_t fine_keys_ = 0;
  // Entries: (time within the super-block) << 32 | slot.
  mutable std::vector<std::vector<uint64_t>> coarse_;
  mutable Occupancy coarse_occupied_;
  mutable size_t coarse_keys_ = 0;
  mutable EventKeyHeap overflow_;
  // Pushes before the current block since the wheels were last aimed.
  mutable size_t early_pushes_ = 0;
  mutable EventSlotPool slots_;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_WHEEL_EVENT_QUEUE_H_
