// coalescer.h — single-flight: identical requests (same canonical key) that
// are queued or in flight at the same time share one upstream call.
//
// Contract:
//   - A flight exists for a key from its first Join until Complete(key).
//     The first joiner is the leader: it makes the upstream call; every later
//     joiner is a follower that waits for the leader's answer.
//   - Join(key, id, p) on a free key starts a flight: {leader = true,
//     leader_id = id, raised = false, flight_priority = p}. On a key in
//     flight it adds a follower: {leader = false, leader_id = the leader's id,
//     flight_priority = the most urgent priority among the leader and every
//     member that ever joined, raised = true iff this join made it strictly
//     more urgent}. The host uses `raised` to re-prioritise the leader's
//     pending call (e.g. move it up in the request queue).
//   - flight_priority never becomes less urgent while the flight lasts: a
//     follower leaving does not lower it (the pending call keeps its place).
//   - Complete(key) ends the flight and returns its current followers (not
//     the leader) in join order, so the host answers them in that order; the
//     key is free again afterwards. Unknown key -> empty, nothing changes.
//   - Leave(key, id) removes a follower that gave up (e.g. its timeout) and
//     returns true; returns false (nothing changes) for the leader, an id not
//     in the flight, or an unknown key. The leader cannot leave: the host ends
//     a flight with Complete.
//   - Ids are the host's request ids; REQUIRES an id be in at most one flight.
//     Joining again a flight the id is already in adds no member: the result
//     describes the flight as it stands, and a more urgent `p` still raises
//     flight_priority (so a request escalated while waiting can pass that on).
//   - Disabled (`enabled = false`): nothing is shared; every Join returns
//     {leader = true, leader_id = id, raised = false, flight_priority = p}
//     and records nothing, so InFlight is false, Complete returns empty,
//     Leave returns false and flights() is 0.
//   - Attach(key, flight) records the host's handle of the call that will
//     answer the key's flight (0: none yet, e.g. still in a batch window);
//     Join results carry it, so the host needs no map of its own from keys
//     to calls: the coalescer alone knows who waits on which key.
//   - Keys are RequestKeys (request_key.h), compared exactly; building the
//     key (API, endpoint, sorted parameters) is the caller's job.
// Cost: Join and Leave O(log members + key length), Complete O(followers).
// Memory: one entry per key in flight plus one per follower join (a follower
// that left keeps a tombstone until Complete). Complete keeps the ended
// flight's map node (its key and vectors with their storage) for the next
// Join of a new key, up to the most keys ever in flight at once: a request's
// path allocates nothing here once that peak has been reached.
// Not thread-safe; the core runs on one event loop.
#ifndef ORCHSIM_POLICIES_COALESCER_H_
#define ORCHSIM_POLICIES_COALESCER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "policies/request.h"
#include "policies/request_key.h"
#include "policies/status.h"

namespace orchsim {

struct CoalescerConfig {
  bool enabled = true;  // false: every request makes its own upstream call

  // Always OK: there is nothing to misconfigure yet; kept so every component
  // validates the same way.
  Status validate() const;
};

struct JoinResult {
  bool leader = false;     // true: the caller makes the upstream call
  uint64_t leader_id = 0;  // id of the request making the call
  bool raised = false;     // this join made flight_priority strictly more urgent
  Priority flight_priority = Priority::kNormal;  // most urgent priority joined so far
  uint64_t flight = 0;                           // what Attach recorded; 0 if nothing
};

// REQUIRES: config.validate() is ok.
class Coalescer {
 public:
  explicit Coalescer(const CoalescerConfig& config);

  // Joins the flight for `key` as request `id` with priority `p`, starting it
  // when the key is free. See the contract above for the result.
  JoinResult Join(const RequestKey& key, uint64_t id, Priority p);
  // Records the host's handle for the call answering `key`'s flight; no-op
  // for a free key or when disabled.
  void Attach(const RequestKey& key, uint64_t flight);
  // Ends the flight for `key`; its followers in join order (empty if none or
  // unknown key). The key is free afterwards.
  std::vector<uint64_t> Complete(const RequestKey& key);
  // A follower gives up; true iff `id` was a follower of `key`'s flight.
  bool Leave(const RequestKey& key, uint64_t id);

  bool InFlight(const RequestKey& key) const;
  // Current followers of `key` (0 for a free key).
  size_t followers(const RequestKey& key) const;
  // The leader of `key`'s flight, and what Attach recorded (0s for a free key).
  uint64_t leader(const RequestKey& key) const;
  uint64_t flight(const RequestKey& key) const;
  // Most urgent priority joined to `key`'s flight; kPrefetch (the least
  // urgent) for a free key.
  Priority flight_priority(const RequestKey& key) const;
  // Keys currently in flight.
  size_t flights() const { return flights_.size(); }

 private:
  struct Flight {
    uint64_t leader_id = 0;
    uint64_t flight = 0;
    Priority priority = Priority::kNormal;
    // Every follower join in order; `present[i]` is false once join_order[i]
    // left. slot_of maps each current follower to its place, so Join and
    // Leave need no scan of a flight with thousands of followers.
    std::vector<uint64_t> join_order;
    std::vector<bool> present;
    std::map<uint64_t, size_t> slot_of;
  };

  using Map = std::unordered_map<RequestKey, Flight, RequestKeyHash>;

  CoalescerConfig config_;
  // Looked up by key only, never iterated, so hash order cannot leak out.
  Map flights_;
  std::vector<Map::node_type> spare_;  // ended flights' nodes, for reuse
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_COALESCER_H_
