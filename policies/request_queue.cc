#include "policies/request_queue.h"

#include <cassert>
#include <limits>
#include <string>

namespace orchsim {
namespace {

// True when `a` is strictly more urgent than `b`.
bool MoreUrgent(Priority a, Priority b) { return PriorityIndex(a) < PriorityIndex(b); }

Priority OneClassUp(Priority p) {
  assert(p != Priority::kCritical);
  return static_cast<Priority>(PriorityIndex(p) - 1);
}

// t + d, clamped to Instant::Max(); an infinite d gives Instant::Max().
Instant AddClamped(Instant t, Duration d) {
  if (d.is_infinite() ||
      (d.micros() > 0 && t.unix_micros() > std::numeric_limits<int64_t>::max() - d.micros())) {
    return Instant::Max();
  }
  return t + d;
}

// t - d for d > 0, clamped to the smallest representable instant.
Instant SubtractClamped(Instant t, Duration d) {
  if (t.unix_micros() < std::numeric_limits<int64_t>::min() + d.micros()) {
    return Instant::FromUnixMicros(std::numeric_limits<int64_t>::min());
  }
  return t - d;
}

}  // namespace

Status RequestQueueConfig::validate() const {
  for (Priority p : kAllPriorities) {
    if (p == Priority::kCritical) continue;  // ignored: nothing above CRITICAL
    const Duration d = escalate_after[PriorityIndex(p)];
    if (!d.is_infinite() && d <= Duration::Zero()) {
      return FieldError("queue.escalate_after[" + std::string(PriorityName(p)) + "]",
                        FormatDuration(d), "must be > 0 (or infinite for never)");
    }
  }
  for (size_t i = 0; i < game_rules.size(); ++i) {
    const std::string field = "queue.game_rules[" + std::to_string(i) + "]";
    const GameEscalationRule& rule = game_rules[i];
    if (rule.within <= Duration::Zero() || rule.within.is_infinite()) {
      return FieldError(field + ".within", FormatDuration(rule.within), "must be > 0 and finite");
    }
    if (PriorityIndex(rule.to) < 0 || PriorityIndex(rule.to) >= kPriorityCount) {
      return FieldError(field + ".to", PriorityIndex(rule.to), "must be a priority class 0..4");
    }
  }
  return Status::Ok();
}

RequestQueue::RequestQueue(const RequestQueueConfig& config) : config_(config) {
  assert(config_.validate().ok());
}

PushResult RequestQueue::Push(uint64_t id, Priority p, Instant now,
                              std::optional<Instant> game_start) {
  ApplyDueEscalations(now);
  if (slots_.contains(id)) return PushResult{false, std::nullopt};

  // The class the entry would hold right after the push decides shedding.
  Priority effective = p;
  if (config_.escalation_enabled && (p != Priority::kPrefetch || config_.escalate_prefetch)) {
    effective = GameClassAt(p, game_start, now);
  }

  PushResult result{true, std::nullopt};
  if (config_.capacity != 0 && slots_.size() >= config_.capacity) {
    int lowest = kPriorityCount - 1;
    while (classes_[lowest].empty()) --lowest;  // the queue is not empty here
    if (lowest <= PriorityIndex(effective)) return PushResult{false, id};  // refused: shed itself
    const uint64_t victim = classes_[lowest].rbegin()->second;             // newest of that class
    Erase(victim);
    result.shed_id = victim;
  }

  const uint64_t sequence = next_sequence_++;
  Slot& slot = *slots_.Insert(id);  // absent: checked above
  slot = Slot{};
  slot.entry = QueueEntry{id, p, p, now, game_start, sequence, now};
  ClassInsert(p, sequence, id);
  Reschedule(slot, now);
  return result;
}

const QueueEntry* RequestQueue::Front(Instant now) {
  ApplyDueEscalations(now);
  for (const auto& members : classes_) {
    if (!members.empty()) return &slots_.Find(members.begin()->second)->entry;
  }
  return nullptr;
}

std::optional<QueueEntry> RequestQueue::Peek(Instant now) {
  const QueueEntry* head = Front(now);
  if (head == nullptr) return std::nullopt;
  return *head;
}

std::optional<QueueEntry> RequestQueue::Pop(Instant now) {
  std::optional<QueueEntry> head = Peek(now);
  if (head) Erase(head->id);
  return head;
}

bool RequestQueue::PopFront(Instant now) {
  // Front and Erase in one: the head is the first node of its class's map,
  // so it is extracted by position rather than searched for by sequence.
  ApplyDueEscalations(now);
  for (auto& members : classes_) {
    if (members.empty()) continue;
    const auto head = members.begin();
    const IdTable<Slot>::Detached detached = slots_.Detach(head->second);
    assert(detached.value != nullptr);
    ClearDueKeys(*detached.value);
    spare_class_nodes_.push_back(members.extract(head));
    slots_.Release(detached);
    return true;
  }
  return false;
}

bool RequestQueue::Remove(uint64_t id) {
  if (!slots_.contains(id)) return false;
  Erase(id);
  return true;
}

bool RequestQueue::Raise(uint64_t id, Priority p, Instant now) {
  ApplyDueEscalations(now);
  Slot* slot = slots_.Find(id);
  if (slot == nullptr || !MoreUrgent(p, slot->entry.current)) return false;
  MoveToClass(*slot, p, now);
  Reschedule(*slot, now);
  return true;
}

const QueueEntry* RequestQueue::Find(uint64_t id) const {
  const Slot* slot = slots_.Find(id);
  return slot == nullptr ? nullptr : &slot->entry;
}

void RequestQueue::ApplyDueEscalationsSlow(Instant now) {
  for (;;) {
    const DueKey* next = nullptr;
    bool by_wait = false;
    if (!wait_due_.empty() && std::get<0>(*wait_due_.begin()) <= now) {
      next = &*wait_due_.begin();
      by_wait = true;
    }
    if (!game_due_.empty() && std::get<0>(*game_due_.begin()) <= now &&
        (next == nullptr || *game_due_.begin() < *next)) {
      next = &*game_due_.begin();
      by_wait = false;
    }
    if (next == nullptr) return;
    const Instant at = std::get<0>(*next);
    Slot& slot = *slots_.Find(std::get<2>(*next));
    // The move happens at the instant it fell due, not at `now`, so the
    // outcome does not depend on how often the queue is looked at.
    if (by_wait) MoveToClass(slot, OneClassUp(slot.entry.current), at);
    Reschedule(slot, at);  // clears the key just processed
  }
}

void RequestQueue::MoveToClass(Slot& slot, Priority to, Instant at) {
  QueueEntry& e = slot.entry;
  ClassErase(e.current, e.sequence);
  ClassInsert(to, e.sequence, e.id);
  e.current = to;
  e.class_entered_at = at;
}

void RequestQueue::Reschedule(Slot& slot, Instant at) {
  ClearDueKeys(slot);
  QueueEntry& e = slot.entry;
  if (!MayEscalate(e)) return;

  const Priority by_game = GameClassAt(e.current, e.game_start, at);
  if (by_game != e.current) MoveToClass(slot, by_game, at);

  if (e.current != Priority::kCritical) {
    const Instant due =
        AddClamped(e.class_entered_at, config_.escalate_after[PriorityIndex(e.current)]);
    if (due != Instant::Max()) {
      slot.wait_due = due;
      DueInsert(wait_due_, DueKey{due, e.sequence, e.id});
    }
  }

  if (e.game_start) {
    // Rules in force at `at` are applied above, so every rule that could
    // still raise the entry starts after `at`.
    std::optional<Instant> next;
    for (const GameEscalationRule& rule : config_.game_rules) {
      if (!MoreUrgent(rule.to, e.current)) continue;
      const Instant starts = SubtractClamped(*e.game_start, rule.within);
      if (!next || starts < *next) next = starts;
    }
    if (next) {
      slot.game_due = *next;
      DueInsert(game_due_, DueKey{*next, e.sequence, e.id});
    }
  }
}

bool RequestQueue::MayEscalate(const QueueEntry& e) const {
  return config_.escalation_enabled &&
         (e.current != Priority::kPrefetch || config_.escalate_prefetch);
}

Priority RequestQueue::GameClassAt(Priority current, const std::optional<Instant>& game_start,
                                   Instant at) const {
  if (!game_start) return current;
  Priority best = current;
  for (const GameEscalationRule& rule : config_.game_rules) {
    if (at >= SubtractClamped(*game_start, rule.within) && MoreUrgent(rule.to, best)) {
      best = rule.to;
    }
  }
  return best;
}

void RequestQueue::ClearDueKeys(Slot& slot) {
  if (slot.wait_due)
    DueErase(wait_due_, DueKey{*slot.wait_due, slot.entry.sequence, slot.entry.id});
  if (slot.game_due)
    DueErase(game_due_, DueKey{*slot.game_due, slot.entry.sequence, slot.entry.id});
  slot.wait_due.reset();
  slot.game_due.reset();
}

void RequestQueue::Erase(uint64_t id) {
  const IdTable<Slot>::Detached detached = slots_.Detach(id);
  assert(detached.value != nullptr);
  Slot& slot = *detached.value;
  ClearDueKeys(slot);
  ClassErase(slot.entry.current, slot.entry.sequence);
  slots_.Release(detached);
}

void RequestQueue::ClassInsert(Priority p, uint64_t sequence, uint64_t id) {
  std::map<uint64_t, uint64_t>& members = classes_[PriorityIndex(p)];
  // A Push's sequence is the largest yet, so the end is the usual place (a
  // wrong hint costs only the ordinary search).
  if (spare_class_nodes_.empty()) {
    members.emplace_hint(members.end(), sequence, id);
    return;
  }
  auto node = std::move(spare_class_nodes_.back());
  spare_class_nodes_.pop_back();
  node.key() = sequence;
  node.mapped() = id;
  members.insert(members.end(), std::move(node));
}

void RequestQueue::ClassErase(Priority p, uint64_t sequence) {
  auto node = classes_[PriorityIndex(p)].extract(sequence);
  if (!node.empty()) spare_class_nodes_.push_back(std::move(node));
}

void RequestQueue::DueInsert(std::set<DueKey>& due, const DueKey& key) {
  if (spare_due_nodes_.empty()) {
    due.insert(key);
    return;
  }
  auto node = std::move(spare_due_nodes_.back());
  spare_due_nodes_.pop_back();
  node.value() = key;
  due.insert(std::move(node));
}

void RequestQueue::DueErase(std::set<DueKey>& due, const DueKey& key) {
  auto node = due.extract(key);
  if (!node.empty()) spare_due_nodes_.push_back(std::move(node));
}

}  // namespace orchsim
