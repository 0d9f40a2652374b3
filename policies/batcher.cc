#include "policies/batcher.h"

#include <algorithm>
#include <cassert>
#include <string_view>
#include <utility>

namespace orchsim {
namespace {

size_t KeyHash(const std::string& key) { return std::hash<std::string_view>{}(key); }

// What a new batch reserves for its lists: its limit, up to a bound (a
// batch's lists go to the FlushFn, so each batch allocates them once).
constexpr size_t kMaxReserve = 64;

}  // namespace

Status BatcherConfig::validate() const {
  if (window <= Duration::Zero()) {
    return FieldError("batcher.window", FormatDuration(window), "must be > 0");
  }
  if (max_batch_size < 1) {
    return FieldError("batcher.max_batch_size", max_batch_size, "must be >= 1");
  }
  return Status::Ok();
}

Batcher::Batcher(const BatcherConfig& config, Timers& timers, FlushFn flush)
    : config_(config), timers_(timers), flush_(std::move(flush)) {
  assert(config_.validate().ok());
}

Batcher::~Batcher() {
  for (const auto& [name, g] : groups_) {
    if (g.open && g.timer != 0) timers_.Cancel(g.timer);
  }
}

void Batcher::Add(const std::string& group, uint64_t id, const std::string& key, Instant now) {
  Add(config_, group, id, key, now);
}

Batcher::Group& Batcher::GroupFor(const std::string& name) {
  // Runs of Adds to one group are common: a compare instead of a lookup.
  if (last_group_ != nullptr && *last_group_->name == name) return *last_group_;
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    it = groups_.try_emplace(name).first;
    it->second.owner = this;
    it->second.name = &it->first;
  }
  last_group_ = &it->second;
  return it->second;
}

size_t Batcher::KeyIndex(const Group& g, const std::string& key, size_t hash) {
  const size_t n = g.batch.keys.size();
  for (size_t i = 0; i < n; ++i) {
    if (g.key_counts[i].hash == hash && g.batch.keys[i] == key) return i;
  }
  return n;
}

void Batcher::Add(const BatcherConfig& config, const std::string& group, uint64_t id,
                  const std::string& key, Instant now) {
  if (!config.enabled) {
    ++stats_.flushed_unbatched;
    flush_(Batch{group, {id}, {key}, now});
    return;
  }
  Member* member = members_.Insert(id);
  if (member == nullptr) {
    assert(false && "Batcher::Add: request id already waiting in a batch");
    return;
  }
  Group& g = GroupFor(group);
  if (!g.open) {
    g.open = true;
    ++open_count_;
    g.serial = next_serial_++;
    g.batch.group = group;
    g.batch.opened_at = now;
    g.batch.request_ids.clear();
    g.batch.keys.clear();
    g.key_counts.clear();
    const size_t reserve = std::min(config.max_batch_size, kMaxReserve);
    g.batch.request_ids.reserve(reserve);
    g.batch.keys.reserve(reserve);
  }
  member->group = &g;
  member->key = key;
  g.batch.request_ids.push_back(id);
  const size_t hash = KeyHash(key);
  const size_t index = KeyIndex(g, key, hash);
  if (index == g.batch.keys.size()) {
    g.batch.keys.push_back(key);
    g.key_counts.push_back({hash, 1});
  } else {
    ++g.key_counts[index].requests;
  }

  if (g.batch.keys.size() >= config.max_batch_size) {
    Flush(g, stats_.flushed_by_size);
    return;
  }
  if (g.timer == 0) {
    // Safe to capture the group: groups live as long as the batcher, whose
    // destructor cancels every pending timer. Two words: no allocation.
    Group* timed = &g;
    const uint64_t serial = g.serial;
    g.timer = timers_.ScheduleAt(g.batch.opened_at + config.window,
                                 [timed, serial] { timed->owner->OnTimer(*timed, serial); });
  }
}

void Batcher::FlushAll() {
  // Detach everything first, so batches the FlushFn opens stay open.
  std::vector<Batch> batches;
  batches.reserve(open_count_);
  for (auto& [name, g] : groups_) {
    if (g.open) batches.push_back(Detach(g));
  }
  for (Batch& batch : batches) {
    ++stats_.flushed_by_flush_all;
    flush_(std::move(batch));
  }
}

bool Batcher::Remove(uint64_t id) {
  const IdTable<Member>::Detached member = members_.Detach(id);
  if (member.value == nullptr) return false;
  Group& g = *member.value->group;
  assert(g.open);
  const std::string& key = member.value->key;

  auto& ids = g.batch.request_ids;
  ids.erase(std::find(ids.begin(), ids.end(), id));
  const size_t index = KeyIndex(g, key, KeyHash(key));
  assert(index < g.batch.keys.size());
  if (--g.key_counts[index].requests == 0) {
    g.key_counts.erase(g.key_counts.begin() + static_cast<std::ptrdiff_t>(index));
    g.batch.keys.erase(g.batch.keys.begin() + static_cast<std::ptrdiff_t>(index));
  }
  members_.Release(member);

  if (ids.empty()) {
    if (g.timer != 0) timers_.Cancel(g.timer);
    g.timer = 0;
    g.open = false;
    --open_count_;
    ++stats_.dropped_empty;
  }
  return true;
}

size_t Batcher::pending(const std::string& group) const {
  auto it = groups_.find(group);
  return it == groups_.end() || !it->second.open ? 0 : it->second.batch.request_ids.size();
}

size_t Batcher::pending_keys(const std::string& group) const {
  auto it = groups_.find(group);
  return it == groups_.end() || !it->second.open ? 0 : it->second.batch.keys.size();
}

void Batcher::OnTimer(Group& g, uint64_t serial) {
  // A host may still run a cancelled timer; only the batch it was set for counts.
  if (!g.open || g.serial != serial) return;
  g.timer = 0;  // fired: nothing to cancel
  Flush(g, stats_.flushed_by_window);
}

void Batcher::Flush(Group& g, uint64_t& reason_counter) {
  Batch batch = Detach(g);
  ++reason_counter;
  flush_(std::move(batch));
}

Batch Batcher::Detach(Group& g) {
  if (g.timer != 0) timers_.Cancel(g.timer);
  g.timer = 0;
  for (uint64_t id : g.batch.request_ids) members_.Erase(id);
  g.open = false;
  --open_count_;
  return std::move(g.batch);
}

}  // namespace orchsim
