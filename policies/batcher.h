// batcher.h — gathers requests for the same upstream endpoint into one batch
// call, so one upstream call answers many client requests.
//
// Requests are grouped by a caller-chosen group name (the orchestrator uses
// "<upstream>|<endpoint>"). Each group has at most one open batch:
//   - The first Add to a group without an open batch opens one (opened_at =
//     now) and schedules its flush at now + window.
//   - Requests for a key already in the batch ride along: the key counts once
//     toward max_batch_size and appears once in Batch::keys.
//   - When the batch reaches max_batch_size distinct keys it is flushed at
//     once, from inside that Add, and its timer is cancelled (with
//     max_batch_size = 1 no timer is ever scheduled).
//   - Otherwise the timer flushes it at opened_at + window.
//   - Remove(id) takes a request out of its open batch (timed out,
//     cancelled); the key leaves with its last request, and a batch left
//     empty is dropped without a flush (its timer is cancelled).
// A flushed batch is closed: the next Add to its group opens a fresh one.
//
// Disabled: the orchestrator is expected not to call Add at all; if it does,
// Add flushes at once a batch of exactly that one request (opened_at = now),
// keeping no state and scheduling no timer.
//
// Batch::keys lists the distinct keys in first-seen order (after removals,
// the survivors keep their order); Batch::request_ids lists the requests in
// Add order. The batcher never looks inside keys or groups.
//
// Determinism: flushes happen only from Add (size), from the group's timer,
// or from FlushAll, which flushes groups in name order.
//
// Memory: proportional to the requests currently waiting in open batches,
// plus a small record per group ever used (kept closed between batches).
//
// Cost: Add is O(distinct keys in the open batch) (a scan comparing hashes
// first) and allocates no node per request; a batch allocates its two lists
// once (reserved when it opens; the FlushFn gets them). Remove is
// O(requests in its batch).
//
// Thread rules: one thread, the host's event loop. The FlushFn may call back
// into the batcher (Add, Remove, FlushAll): the flushed batch has already been
// removed from the batcher's state when the FlushFn runs.
// REQUIRES: `timers` outlives the batcher (the destructor cancels every
// pending timer; open batches are dropped, not flushed).
#ifndef ORCHSIM_POLICIES_BATCHER_H_
#define ORCHSIM_POLICIES_BATCHER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "policies/id_table.h"
#include "policies/ports.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

struct BatcherConfig {
  bool enabled = false;
  // How long a batch stays open after its first request; > 0.
  Duration window = Milliseconds(200);
  // Distinct keys per batch (the upstream's limit per call); >= 1.
  size_t max_batch_size = 10;
  // Errors name the field, e.g. "batcher.window: \"0s\" must be > 0".
  Status validate() const;
};

// One flushed batch: what the orchestrator turns into one upstream call.
struct Batch {
  std::string group;
  std::vector<uint64_t> request_ids;  // in Add order; never empty
  std::vector<std::string> keys;      // distinct keys in first-seen order; never empty
  Instant opened_at;                  // the `now` of the Add that opened the batch
};

// Receives each flushed batch.
using FlushFn = std::function<void(Batch)>;

// Why a batch was flushed; counted per reason for metrics.
struct BatcherStats {
  uint64_t flushed_by_window = 0;     // the group's timer fired
  uint64_t flushed_by_size = 0;       // max_batch_size distinct keys reached
  uint64_t flushed_by_flush_all = 0;  // FlushAll()
  uint64_t flushed_unbatched = 0;     // Add while disabled
  uint64_t dropped_empty = 0;         // every request Removed before the flush
};

class Batcher {
 public:
  // REQUIRES: config.validate().ok().
  Batcher(const BatcherConfig& config, Timers& timers, FlushFn flush);
  ~Batcher();  // cancels pending timers; open batches are dropped unflushed
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Adds request `id` with `key` to `group`'s open batch, opening one (and
  // scheduling its flush at now + window) when there is none. Flushes from
  // inside this call when the batch reaches max_batch_size distinct keys, or
  // always when disabled. REQUIRES: `id` is not already waiting in a batch
  // (asserts in debug builds; ignored in release builds).
  void Add(const std::string& group, uint64_t id, const std::string& key, Instant now);
  // The same with `config` (window, max_batch_size, enabled) in place of the
  // constructor's, for a group whose settings differ (per-endpoint
  // batching). One group must always be added to with the same config.
  // REQUIRES: config.validate().ok().
  void Add(const BatcherConfig& config, const std::string& group, uint64_t id,
           const std::string& key, Instant now);
  // Flushes every open batch now, in group name order. Batches opened by the
  // FlushFn while this runs stay open.
  void FlushAll();
  // Takes request `id` out of its open batch. Returns false when it is not
  // waiting in any batch (already flushed, removed, or never added).
  bool Remove(uint64_t id);

  size_t open_batches() const { return open_count_; }
  // Requests waiting in `group`'s open batch (duplicates of a key included);
  // 0 when the group has none.
  size_t pending(const std::string& group) const;
  // Distinct keys in `group`'s open batch; 0 when the group has none.
  size_t pending_keys(const std::string& group) const;
  const BatcherStats& stats() const { return stats_; }

 private:
  // A group and its open batch, if any. Kept once made (closed between
  // batches): its storage is reused by the group's next batch, and pointers
  // to it stay valid (std::map nodes never move), so a timer captures the
  // group itself, not its name. Groups are few (one per endpoint).
  struct Group {
    Batcher* owner = nullptr;
    const std::string* name = nullptr;  // the key in groups_
    bool open = false;
    uint64_t serial = 0;        // tells a stale timer callback from the current batch
    Timers::TimerId timer = 0;  // 0 while none is scheduled
    Batch batch;
    // Per key of batch.keys (same order): its hash, compared before the
    // key, and the requests in the batch that want it. A scan of at most
    // max_batch_size entries replaces a map node per key.
    struct KeyCount {
      size_t hash = 0;
      size_t requests = 0;
    };
    std::vector<KeyCount> key_counts;
  };
  // Where a waiting request is: its group and its key.
  struct Member {
    Group* group = nullptr;
    std::string key;
  };

  Group& GroupFor(const std::string& name);
  // The index of `key` (with hash `hash`) in g's batch.keys, or keys.size().
  static size_t KeyIndex(const Group& g, const std::string& key, size_t hash);
  void OnTimer(Group& g, uint64_t serial);
  // Detaches g's open batch from the state and hands it to the FlushFn.
  void Flush(Group& g, uint64_t& reason_counter);
  Batch Detach(Group& g);

  BatcherConfig config_;
  Timers& timers_;
  FlushFn flush_;
  uint64_t next_serial_ = 1;
  BatcherStats stats_;
  std::map<std::string, Group, std::less<>> groups_;  // by name; ordered for FlushAll
  Group* last_group_ = nullptr;                       // the group Add found last
  size_t open_count_ = 0;                             // groups with an open batch
  IdTable<Member> members_;                           // request id -> where it waits
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_BATCHER_H_
