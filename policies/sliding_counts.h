// sliding_counts.h — N event counters over a sliding window of whole seconds.
//
// Time is cut into 1 s buckets aligned on the Unix epoch; the window is the
// bucket holding the latest instant seen plus the window/1s - 1 before it. An
// event is therefore counted for more than window - 1s and at most window
// after it happened (it leaves whole, when time enters the bucket `window`
// after its own). Memory is window/1s buckets, whatever the traffic; each
// call costs amortised O(1). Used by the retry budget (first attempts,
// retries), the hedge budget and adaptive throttling (requests, accepts).
//
// Time must not go backwards; an instant older than the latest seen counts
// in the latest bucket. Not thread-safe.
#ifndef ORCHSIM_POLICIES_SLIDING_COUNTS_H_
#define ORCHSIM_POLICIES_SLIDING_COUNTS_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "policies/time.h"

namespace orchsim {

inline constexpr Duration kSlidingBucket = Seconds(1);

template <size_t N>
class SlidingCounts {
 public:
  using Totals = std::array<uint64_t, N>;

  // REQUIRES: window is whole seconds, >= 1s.
  explicit SlidingCounts(Duration window)
      : ring_(static_cast<size_t>(std::max<int64_t>(1, window / kSlidingBucket))) {}

  // Counts `n` events of counter `which` at `now`. REQUIRES: which < N.
  void Add(size_t which, Instant now, uint64_t n = 1) {
    Advance(now)[which] += n;
    totals_[which] += n;
  }
  // The totals inside the window as of `now` (moves the window there).
  const Totals& At(Instant now) {
    Advance(now);
    return totals_;
  }
  // The totals as of the latest instant seen.
  const Totals& totals() const { return totals_; }
  // Whole seconds the window spans.
  int64_t window_seconds() const { return static_cast<int64_t>(ring_.size()); }

 private:
  static int64_t FloorDiv(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
  }
  size_t SlotOf(int64_t bucket) const {
    const int64_t size = static_cast<int64_t>(ring_.size());
    return static_cast<size_t>((bucket % size + size) % size);
  }
  Totals& Advance(Instant now) {
    const int64_t size = static_cast<int64_t>(ring_.size());
    const int64_t bucket = FloorDiv(now.unix_micros(), kSlidingBucket.micros());
    if (!started_) {
      started_ = true;
      current_ = bucket;
    } else if (bucket > current_) {
      if (bucket - current_ >= size) {
        for (Totals& b : ring_) b = Totals{};
        totals_ = Totals{};
      } else {
        // Each bucket entered reuses the slot of the one leaving the window.
        for (int64_t i = current_ + 1; i <= bucket; ++i) {
          Totals& leaving = ring_[SlotOf(i)];
          for (size_t k = 0; k < N; ++k) totals_[k] -= leaving[k];
          leaving = Totals{};
        }
      }
      current_ = bucket;
    }
    return ring_[SlotOf(current_)];
  }

  std::vector<Totals> ring_;  // bucket index i lives in ring_[i mod size]
  Totals totals_{};
  int64_t current_ = 0;
  bool started_ = false;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_SLIDING_COUNTS_H_
