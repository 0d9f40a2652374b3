// request_queue.h — the priority queue in front of the upstreams: classes,
// FIFO inside a class, escalation by waiting time and by time to the game's
// start, and a capacity bound that sheds the least urgent work first.
//
// The queue holds request ids (uint64_t), not requests: the orchestrator owns
// the requests and maps ids back to them.
//
// Contract:
//   - Serving order: the most urgent current class first (CRITICAL < HIGH <
//     NORMAL < LOW < PREFETCH by value), then the lowest sequence. Sequences
//     are assigned by Push in call order, so an entry keeps its enqueue order
//     relative to every other entry of the class it moves into.
//   - Escalation by wait: an entry that has been in class C (C != CRITICAL)
//     for escalate_after[C] moves up one class. The time counts from the
//     instant it entered C (enqueue, or the instant of its previous move), so
//     a NORMAL entry enqueued at t=0 with NORMAL=60s and HIGH=30s is HIGH at
//     exactly t=60s and CRITICAL at exactly t=90s, however often the queue is
//     looked at. Infinite means "never".
//   - Escalation by game time: a rule {within W, to P} applies from the
//     instant game_start - W on (inclusive; a game that already started is
//     "within" every rule); the entry moves to P if P is more urgent than its
//     current class. Entries never move down. Rules may be listed in any
//     order; when several apply the most urgent target wins.
//   - An entry whose current class is PREFETCH escalates (by wait or by game
//     rules) only when escalate_prefetch is set; once Raise() moved it out of
//     PREFETCH it escalates like any entry of its new class.
//     escalation_enabled = false turns off both kinds (Raise still works).
//   - Due escalations are applied, in time order, at the start of every call
//     that takes `now` (Push, Peek, Pop, Raise). Find()/size() report the
//     state as of the last such call.
//   - Capacity (0 = unbounded): a Push into a full queue evicts the newest
//     entry (highest sequence) of the least urgent class present when that
//     class is strictly less urgent than the incoming entry's class
//     (its priority after game rules at `now`); otherwise the incoming entry
//     is refused and reported as shed itself. Exactly one of: accepted
//     (shed_id empty), accepted + shed_id = the evicted id, refused +
//     shed_id = the incoming id. Shedding never looks at waiting time: an
//     entry that escalated is judged by its current class.
//   - A Push of an id that is already queued is refused with shed_id empty:
//     nothing was shed, the queued entry is untouched (a caller error).
//   - Wait is measurable: every entry carries enqueued_at (never changes)
//     and class_entered_at; Pop returns the entry, so the wait in the queue
//     is pop time - enqueued_at (QueueEntry::WaitedUntil).
//
// REQUIRES: `now` never decreases from one call to the next.
// Not thread-safe; one owner (the orchestrator) calls it.
//
// Complexity (n = queued entries, R = game rules, k = escalations that fall
// due before `now`): Push O(log n + R); Peek/Pop O(log n) + O(k (log n + R));
// Remove O(log n); Raise O(log n + R); Find O(1) average; size() O(1).
// Each entry keeps at most one pending wait-escalation key and one pending
// game-escalation key in two ordered sets, so finding what is due is a look
// at their heads.
//
// Example:
//   RequestQueue q(RequestQueueConfig{});
//   q.Push(7, Priority::kNormal, now, std::nullopt);
//   auto e = q.Pop(now + Seconds(60));   // e->current == Priority::kHigh
#ifndef ORCHSIM_POLICIES_REQUEST_QUEUE_H_
#define ORCHSIM_POLICIES_REQUEST_QUEUE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "policies/id_table.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

// From the instant game_start - within on, a queued entry of that game is at
// least `to`.
struct GameEscalationRule {
  Duration within;  // > 0 and finite
  Priority to;
};

struct RequestQueueConfig {
  size_t capacity = 0;  // maximum queued entries; 0 = unbounded
  bool escalation_enabled = true;
  // Per class (indexed by PriorityIndex), the time an entry waits in that
  // class before it moves up one class. > 0, or Duration::Infinite() for
  // never. The CRITICAL value is ignored (there is no class above it).
  std::array<Duration, kPriorityCount> escalate_after = {
      Duration::Infinite(), Seconds(30), Seconds(60), Seconds(120), Duration::Infinite()};
  std::vector<GameEscalationRule> game_rules = {{Hours(1), Priority::kCritical},
                                                {Hours(3), Priority::kHigh}};
  bool escalate_prefetch = false;  // may PREFETCH entries escalate at all

  // Errors name the field, e.g. "request_queue.escalate_after[NORMAL]: 0 must be > 0 ...".
  Status validate() const;
};

struct QueueEntry {
  uint64_t id = 0;
  Priority original = Priority::kNormal;  // class given at Push
  Priority current = Priority::kNormal;   // class now (after escalations and Raise)
  Instant enqueued_at;
  std::optional<Instant> game_start;
  uint64_t sequence = 0;     // Push order, unique per queue; FIFO key inside a class
  Instant class_entered_at;  // when it entered `current`; wait escalation counts from here

  // Time spent queued as of `now` (e.g. the instant it was popped).
  Duration WaitedUntil(Instant now) const { return now - enqueued_at; }
  bool operator==(const QueueEntry&) const = default;
};

struct PushResult {
  bool accepted = false;
  // accepted: the entry evicted to make room, if any. Refused for capacity:
  // the incoming id. Refused as a duplicate: empty.
  std::optional<uint64_t> shed_id;
};

class RequestQueue {
 public:
  // REQUIRES: config.validate().ok().
  explicit RequestQueue(const RequestQueueConfig& config);

  // Enqueues `id` at class `p` (raised at once by game rules that already
  // apply at `now`). See the header contract for what happens at capacity.
  PushResult Push(uint64_t id, Priority p, Instant now, std::optional<Instant> game_start);
  // The entry that would be served next, after applying due escalations;
  // nullopt when empty.
  std::optional<QueueEntry> Peek(Instant now);
  // Peek, and remove that entry.
  std::optional<QueueEntry> Pop(Instant now);
  // Peek and Pop without copying the entry: Front returns it in place (valid
  // until the next non-const call; nullptr when empty), PopFront removes it
  // (false when empty).
  const QueueEntry* Front(Instant now);
  bool PopFront(Instant now);
  // Removes a queued entry (e.g. its deadline passed). False when not queued.
  bool Remove(uint64_t id);
  // Raises the entry to at least `p` (the coalescer's request: a more urgent
  // duplicate joined). Never lowers. Due escalations are applied first; when
  // the class changes, waiting in the new class counts from `now`. Returns
  // true when the class changed; false when not queued or already >= p.
  bool Raise(uint64_t id, Priority p, Instant now);

  // The queued entry, or nullptr. Valid until the next non-const call.
  const QueueEntry* Find(uint64_t id) const;
  size_t size() const { return slots_.size(); }
  size_t size(Priority p) const { return classes_[PriorityIndex(p)].size(); }
  bool empty() const { return slots_.empty(); }

 private:
  // A pending escalation: (instant it falls due, sequence, id). Sequences are
  // unique, so escalations are totally ordered by (instant, sequence).
  using DueKey = std::tuple<Instant, uint64_t, uint64_t>;

  struct Slot {
    QueueEntry entry;
    std::optional<Instant> wait_due;  // key in wait_due_, if any
    std::optional<Instant> game_due;  // key in game_due_, if any
  };

  // Nothing to do (one look at two set heads) unless an escalation is due.
  void ApplyDueEscalations(Instant now) {
    if (!wait_due_.empty() || !game_due_.empty()) ApplyDueEscalationsSlow(now);
  }
  void ApplyDueEscalationsSlow(Instant now);
  // Moves the entry to class `to` (more urgent than its current one) at `at`.
  void MoveToClass(Slot& slot, Priority to, Instant at);
  // Applies game rules in force at `at`, then re-derives both pending
  // escalation keys for the entry's current class.
  void Reschedule(Slot& slot, Instant at);
  bool MayEscalate(const QueueEntry& e) const;
  // The class the game rules demand at `at` for an entry at `current`, or
  // `current` when none is more urgent.
  Priority GameClassAt(Priority current, const std::optional<Instant>& game_start,
                       Instant at) const;
  void ClearDueKeys(Slot& slot);
  void Erase(uint64_t id);
  // Container inserts and erases that keep erased nodes for the next
  // insert: an entry's way through the queue allocates nothing once the
  // queue has held as many entries as it holds now.
  void ClassInsert(Priority p, uint64_t sequence, uint64_t id);
  void ClassErase(Priority p, uint64_t sequence);
  void DueInsert(std::set<DueKey>& due, const DueKey& key);
  void DueErase(std::set<DueKey>& due, const DueKey& key);

  RequestQueueConfig config_;
  uint64_t next_sequence_ = 0;
  // Recycled entries (id_table.h): a Push allocates no slot.
  IdTable<Slot> slots_;
  // Per class: sequence -> id, in serving order.
  std::array<std::map<uint64_t, uint64_t>, kPriorityCount> classes_;
  std::set<DueKey> wait_due_;
  std::set<DueKey> game_due_;
  // Erased nodes kept for reuse (see ClassInsert).
  std::vector<std::map<uint64_t, uint64_t>::node_type> spare_class_nodes_;
  std::vector<std::set<DueKey>::node_type> spare_due_nodes_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_REQUEST_QUEUE_H_
