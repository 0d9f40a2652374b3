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
  if (slots_.count(id) != 0) return PushResult{false, std::nullopt};

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
  Slot& slot = slots_[id];
  slot.entry = QueueEntry{id, p, p, now, game_start, sequence, now};
  classes_[PriorityIndex(p)].emplace(sequence, id);
  Reschedule(slot, now);
  return result;
}

std::optional<QueueEntry> RequestQueue::Peek(Instant now) {
  ApplyDueEscalations(now);
  for (const auto& members : classes_) {
    if (!members.empty()) return slots_.at(members.begin()->second).entry;
  }
  return std::nullopt;
}

std::optional<QueueEntry> RequestQueue::Pop(Instant now) {
  std::optional<QueueEntry> head = Peek(now);
  if (head) Erase(head->id);
  return head;
}

bool RequestQueue::Remove(uint64_t id) {
  if (slots_.count(id) == 0) return false;
  Erase(id);
  return true;
}

bool RequestQueue::Raise(uint64_t id, Priority p, Instant now) {
  ApplyDueEscalations(now);
  auto it = slots_.find(id);
  if (it == slots_.end() || !MoreUrgent(p, it->second.entry.current)) return false;
  MoveToClass(it->second, p, now);
  Reschedule(it->second, now);
  return true;
}

const QueueEntry* RequestQueue::Find(uint64_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : &it->second.entry;
}

void RequestQueue::ApplyDueEscalations(Instant now) {
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
    Slot& slot = slots_.at(std::get<2>(*next));
    // The move happens at the instant it fell due, not at `now`, so the
    // outcome does not depend on how often the queue is looked at.
    if (by_wait) MoveToClass(slot, OneClassUp(slot.entry.current), at);
    Reschedule(slot, at);  // clears the key just processed
  }
}

void RequestQueue::MoveToClass(Slot& slot, Priority to, Instant at) {
  QueueEntry& e = slot.entry;
  classes_[PriorityIndex(e.current)].erase(e.sequence);
  classes_[PriorityIndex(to)].emplace(e.sequence, e.id);
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
      wait_due_.emplace(due, e.sequence, e.id);
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
      game_due_.emplace(*next, e.sequence, e.id);
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
  if (slot.wait_due) wait_due_.erase(DueKey{*slot.wait_due, slot.entry.sequence, slot.entry.id});
  if (slot.game_due) game_due_.erase(DueKey{*slot.game_due, slot.entry.sequence, slot.entry.id});
  slot.wait_due.reset();
  slot.game_due.reset();
}

void RequestQueue::Erase(uint64_t id) {
  auto it = slots_.find(id);
  assert(it != slots_.end());
  ClearDueKeys(it->second);
  classes_[PriorityIndex(it->second.entry.current)].erase(it->second.entry.sequence);
  slots_.erase(it);
}

}  // namespace orchsim
