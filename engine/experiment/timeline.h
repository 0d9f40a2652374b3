// timeline.h — the hourly time series of one run (TimeBucket per bucket
// index), kept in memory only for the hours that can still change.
//
// Contract: buckets are indexed from 0 (VariantMetrics::start) and the
// timeline has size() buckets; a bucket never written is a default (all
// zero) TimeBucket. The writer (MetricsRecorder) updates buckets through
// Mutable(i) and calls SpillBefore(i) once no event can land before bucket i
// any more; buckets before it are then serialized (empty ones are skipped)
// into an append-only record stream held in a memory buffer of at most
// kSpillBufferBytes and, beyond that, in an anonymous temporary file
// (std::tmpfile, deleted when the last copy is gone). ForEach streams every
// bucket back in index order, so reading a long run costs one bucket of
// memory, not one per hour. Peak memory is therefore bounded by the window
// of open hours plus the buffer, whatever the season's length.
//
// Copies share the spilled records (a copy sees the records spilled before
// it was made) and own their open buckets; a copy that spills after another
// copy has appended gets a private stream first, so copies never see each
// other's later buckets. The stream is guarded by a mutex: copies may be read
// from several threads.
//
// Values round-trip exactly (integers and doubles are stored bit for bit).
// A write to a bucket already spilled (never done by MetricsRecorder, whose
// events land at or after the oldest call in flight) is kept as a patch and
// added (TimeBucket::Add) when the bucket is read back.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_TIMELINE_H_
#define ORCHSIM_ENGINE_EXPERIMENT_TIMELINE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace orchsim::experiment {

// What an upstream's quota did within one bucket, as the upstream reported
// it at each charge and refusal (MockUpstream::SetQuotaObserver): enough to
// draw quotas whose period is shorter than a bucket.
struct QuotaSample {
  double peak_used = 0.0;              // the most credits used in one period during the bucket
  double last_used = 0.0;              // used in the period at the bucket's last event
  int64_t last_at_us = 0;              // unix microseconds of that event
  uint64_t refused = 0;                // calls refused for quota
  void Add(const QuotaSample& later);  // max of peaks, sum of refusals, the later last
};

// One bucket (an hour) of the run, for plots. Day series are sums of 24 of
// these (maxima: the largest; means: recomputed from sums and counts).
struct TimeBucket {
  uint64_t requests = 0;  // submitted
  uint64_t completed = 0;
  uint64_t upstream_calls = 0;
  uint64_t retry_calls = 0;
  uint64_t cache_hits = 0;
  uint64_t coalesced = 0;
  uint64_t client_failures = 0;
  uint64_t breaker_trips = 0;
  uint64_t retry_budget_denied = 0;
  uint64_t answered_with_data = 0;
  uint64_t outdated = 0;
  double credits = 0.0;
  std::map<std::string, double> credits_by_api;     // apis with credits this hour
  std::map<std::string, QuotaSample> quota_by_api;  // apis whose quota moved this hour
  int64_t wait_sum_us = 0;                          // over completed requests
  int64_t wait_max_us = 0;
  int64_t latency_sum_us = 0;  // end to end, over completed requests
  int64_t latency_max_us = 0;

  void Add(const TimeBucket& other);  // sums, and maxima of the maxima
  // True when every field is zero and no api is listed (a default bucket).
  bool empty() const;
};

class Timeline {
 public:
  // Serialized records kept in memory before they go to the temporary file.
  static constexpr size_t kSpillBufferBytes = 256 * 1024;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Grows (never shrinks) to `n` buckets.
  void resize(size_t n);
  // The bucket at `index`, growing the timeline to index + 1 if needed.
  TimeBucket& Mutable(size_t index);
  TimeBucket& operator[](size_t index) { return Mutable(index); }
  // Serializes buckets before `index` (clamped to size()) and frees them.
  void SpillBefore(size_t index);
  // First bucket still held in memory (every earlier one is spilled).
  size_t open_from() const { return open_base_; }

  // Every bucket 0..size()-1 in order.
  void ForEach(const std::function<void(size_t index, const TimeBucket& bucket)>& fn) const;
  // All buckets in memory at once (tests and small runs).
  std::vector<TimeBucket> ToVector() const;

 private:
  class Stream;
  void PrivatizeStream();

  std::shared_ptr<Stream> stream_;  // spilled records; null until the first spill
  uint64_t stream_bytes_ = 0;       // this copy's prefix of the stream
  std::deque<TimeBucket> open_;     // buckets open_base_ .. open_base_ + open_.size() - 1
  size_t open_base_ = 0;
  size_t size_ = 0;
  std::map<size_t, TimeBucket> late_;  // writes to spilled buckets
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_TIMELINE_H_
