#include "engine/kernel/event_key_heap.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace orchsim::kernel {
namespace {
// With the root at index 3, the children of p are 4p-8 .. 4p-5: index 4 (the
// first child of the root) and every later group of four start a cache line.
size_t FirstChild(size_t p) { return 4 * p - 8; }
size_t Parent(size_t i) { return i / 4 + 2; }
}  // namespace

EventKeyHeap::EventKeyHeap() : keys_(kRoot) {}

void EventKeyHeap::Push(int64_t time_us, uint32_t slot) {
  if (next_sequence_ == std::numeric_limits<uint32_t>::max()) Renumber();
  const Key key{time_us, next_sequence_++, slot};
  keys_.push_back(key);
  SiftUp(keys_.size() - 1, key);
}

void EventKeyHeap::Pop() {
  assert(!empty());
  const Key last = keys_.back();
  keys_.pop_back();
  const size_t n = keys_.size();
  if (n == kRoot) return;
  // Move the hole from the root down to a leaf along the smallest children.
  size_t hole = kRoot;
  for (;;) {
    const size_t first = FirstChild(hole);
    if (first >= n) break;
    size_t best = first;
    if (first + 4 <= n) {
      // Full group: a fixed trip count the compiler turns into cmovs.
      for (size_t c = first + 1; c < first + 4; ++c)
        best = Before(keys_[c], keys_[best]) ? c : best;
    } else {
      for (size_t c = first + 1; c < n; ++c) best = Before(keys_[c], keys_[best]) ? c : best;
    }
    keys_[hole] = keys_[best];
    hole = best;
  }
  SiftUp(hole, last);
}

void EventKeyHeap::SiftUp(size_t i, Key moving) {
  while (i > kRoot) {
    const size_t parent = Parent(i);
    if (!Before(moving, keys_[parent])) break;
    keys_[i] = keys_[parent];
    i = parent;
  }
  keys_[i] = moving;
}

void EventKeyHeap::Renumber() {
  // A sorted array is a valid heap, and renumbering in sorted order keeps
  // every pending pair in the same relative order.
  std::sort(keys_.begin() + kRoot, keys_.end(), Before);
  uint32_t sequence = 0;
  for (size_t i = kRoot; i < keys_.size(); ++i) keys_[i].sequence = sequence++;
  next_sequence_ = sequence;
}

}  // namespace orchsim::kernel
