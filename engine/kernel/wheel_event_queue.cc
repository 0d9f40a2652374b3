#include "engine/kernel/wheel_event_queue.h"

#include <cassert>

namespace orchsim::kernel {
namespace {
// How many keys ahead of the front a pop prefetches the callback slot: far
// enough for the line to arrive before that event runs.
constexpr size_t kPrefetchDistance = 4;
constexpr int kSuperBits = 24;  // a super-block is 4096 blocks of 4096 us
}  // namespace

WheelEventQueue::WheelEventQueue() : fine_(kBuckets), coarse_(kBuckets) {}

EventId WheelEventQueue::Push(Instant at, EventCallback callback) {
  const uint32_t slot = slots_.Allocate(std::move(callback));
  const int64_t time_us = at.unix_micros();
  if ((time_us >> kBucketBits) < block_ && fine_keys_ + coarse_keys_ > 0) {
    overflow_.Push(time_us, slot);
    if (++early_pushes_ >= fine_keys_ + coarse_keys_) {
      UnloadWheels();
      AimAtOverflow();
    }
  } else {
    Place(time_us, slot);
  }
  return slots_.IdOf(slot);
}

void WheelEventQueue::Place(int64_t time_us, uint32_t slot) const {
  const int64_t block = time_us >> kBucketBits;
  if (block == block_) {
    const size_t index = static_cast<size_t>(time_us & kBucketMask);
    fine_[index].slots.push_back(slot);
    fine_occupied_.Set(index);
    ++fine_keys_;
  } else if (block > block_ && (time_us >> kSuperBits) == (block_ >> kBucketBits)) {
    const size_t index = static_cast<size_t>(block & kBucketMask);
    const uint64_t offset = static_cast<uint64_t>(time_us) & ((uint64_t{1} << kSuperBits) - 1);
    coarse_[index].push_back((offset << 32) | slot);
    coarse_occupied_.Set(index);
    ++coarse_keys_;
  } else {
    overflow_.Push(time_us, slot);
  }
}

void WheelEventQueue::CascadeFirstCoarse() const {
  // The earliest coarse bucket becomes the current block. Its keys are in
  // push order, so each fine bucket receives them in sequence order.
  const size_t c = coarse_occupied_.First();
  block_ = ((block_ >> kBucketBits) << kBucketBits) | static_cast<int64_t>(c);
  std::vector<uint64_t>& bucket = coarse_[c];
  for (const uint64_t entry : bucket) {
    const size_t index = static_cast<size_t>((entry >> 32) & kBucketMask);
    fine_[index].slots.push_back(static_cast<uint32_t>(entry));
    fine_occupied_.Set(index);
  }
  fine_keys_ += bucket.size();
  coarse_keys_ -= bucket.size();
  bucket.clear();
  coarse_occupied_.Clear(c);
}

bool WheelEventQueue::RefillFine() const {
  if (coarse_keys_ > 0) {
    const int64_t block =
        ((block_ >> kBucketBits) << kBucketBits) | static_cast<int64_t>(coarse_occupied_.First());
    // An overflow key before the coarse wheel (pushed early) comes first.
    if (!overflow_.empty() && overflow_.top().time_us < (block << kBucketBits)) return false;
    CascadeFirstCoarse();
    return true;
  }
  if (overflow_.empty()) return false;
  AimAtOverflow();
  return true;
}

void WheelEventQueue::AimAtOverflow() const {
  // Both wheels are empty: aim them at the overflow's earliest key and move
  // in every overflow key of its super-block, earliest first (so equal times
  // keep their push order).
  const int64_t earliest = overflow_.top().time_us;
  block_ = earliest >> kBucketBits;
  early_pushes_ = 0;
  const int64_t super_block = earliest >> kSuperBits;
  while (!overflow_.empty() && (overflow_.top().time_us >> kSuperBits) == super_block) {
    const EventKeyHeap::Key key = overflow_.top();
    overflow_.Pop();
    Place(key.time_us, key.slot);
  }
}

void WheelEventQueue::UnloadWheels() const {
  // The overflow holds no time inside the wheels' range, so pushing the
  // wheels' keys in (time, sequence) order keeps every tie in push order.
  // Coarse buckets go through the fine wheel, which puts them in that order.
  for (;;) {
    while (fine_keys_ > 0) {
      const size_t index = fine_occupied_.First();
      const int64_t time_us = (block_ << kBucketBits) | static_cast<int64_t>(index);
      FineBucket& bucket = fine_[index];
      for (size_t i = bucket.head; i < bucket.slots.size(); ++i) {
        overflow_.Push(time_us, bucket.slots[i]);
      }
      fine_keys_ -= bucket.slots.size() - bucket.head;
      bucket.slots.clear();
      bucket.head = 0;
      fine_occupied_.Clear(index);
    }
    if (coarse_keys_ == 0) break;
    CascadeFirstCoarse();
  }
  early_pushes_ = 0;
}

bool WheelEventQueue::FrontInOverflow() const {
  // The overflow never holds a time inside the wheels' range, so there are
  // no ties to break between the two.
  return fine_keys_ == 0 || (!overflow_.empty() && overflow_.top().time_us < FineFrontTime());
}

uint32_t WheelEventQueue::TakeFine(size_t index) const {
  FineBucket& bucket = fine_[index];
  const uint32_t slot = bucket.slots[bucket.head++];
  --fine_keys_;
  if (bucket.head + kPrefetchDistance < bucket.slots.size()) {
    slots_.Prefetch(bucket.slots[bucket.head + kPrefetchDistance]);
  } else if (bucket.head == bucket.slots.size()) {
    bucket.slots.clear();
    bucket.head = 0;
    fine_occupied_.Clear(index);
    if (fine_keys_ > 0) {
      // Warm the first slots of the next instant's bucket.
      const FineBucket& next = fine_[fine_occupied_.First()];
      const size_t end =
          next.slots.size() < kPrefetchDistance ? next.slots.size() : kPrefetchDistance;
      for (size_t i = next.head; i < end; ++i) slots_.Prefetch(next.slots[i]);
    }
  }
  return slot;
}

bool WheelEventQueue::SettleFront() const {
  for (;;) {
    if (fine_keys_ == 0 && !RefillFine() && overflow_.empty()) return false;
    if (FrontInOverflow()) {
      const uint32_t slot = overflow_.top().slot;
      if (slots_.IsLive(slot)) return true;
      overflow_.Pop();
      slots_.Release(slot);
    } else {
      const size_t index = fine_occupied_.First();
      const FineBucket& bucket = fine_[index];
      if (slots_.IsLive(bucket.slots[bucket.head])) return true;
      slots_.Release(TakeFine(index));
    }
  }
}

bool WheelEventQueue::Cancel(EventId id) { return slots_.Cancel(id); }

Instant WheelEventQueue::NextTime() const {
  assert(!Empty());
  SettleFront();
  return Instant::FromUnixMicros(FrontInOverflow() ? overflow_.top().time_us : FineFrontTime());
}

void WheelEventQueue::PopNext(Instant* at, EventCallback* callback) {
  assert(!Empty());
  SettleFront();
  uint32_t slot;
  if (FrontInOverflow()) {
    const EventKeyHeap::Key top = overflow_.top();
    overflow_.Pop();
    *at = Instant::FromUnixMicros(top.time_us);
    slot = top.slot;
  } else {
    const size_t index = fine_occupied_.First();
    *at = Instant::FromUnixMicros((block_ << kBucketBits) | static_cast<int64_t>(index));
    slot = TakeFine(index);
  }
  slots_.TakeAndRelease(slot, callback);
}

}  // namespace orchsim::kernel
