#include "policies/batcher.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace orchsim {

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
  for (const auto& [group, open] : open_) {
    if (open.timer != 0) timers_.Cancel(open.timer);
  }
}

void Batcher::Add(const std::string& group, uint64_t id, const std::string& key, Instant now) {
  Add(config_, group, id, key, now);
}

void Batcher::Add(const BatcherConfig& config, const std::string& group, uint64_t id,
                  const std::string& key, Instant now) {
  if (!config.enabled) {
    ++stats_.flushed_unbatched;
    flush_(Batch{group, {id}, {key}, now});
    return;
  }
  if (members_.count(id) != 0) {
    assert(false && "Batcher::Add: request id already waiting in a batch");
    return;
  }
  auto it = open_.find(group);
  if (it == open_.end()) {
    it = open_.emplace(group, OpenBatch{}).first;
    it->second.serial = next_serial_++;
    it->second.batch.group = group;
    it->second.batch.opened_at = now;
  }
  OpenBatch& open = it->second;
  open.batch.request_ids.push_back(id);
  if (open.requests_per_key[key]++ == 0) open.batch.keys.push_back(key);
  members_.emplace(id, Member{group, key});

  if (open.batch.keys.size() >= config.max_batch_size) {
    Flush(it, stats_.flushed_by_size);
    return;
  }
  if (open.timer == 0) {
    const uint64_t serial = open.serial;
    // Safe to capture `this`: the destructor cancels every pending timer.
    open.timer = timers_.ScheduleAt(open.batch.opened_at + config.window,
                                    [this, group, serial] { OnTimer(group, serial); });
  }
}

void Batcher::FlushAll() {
  // Detach everything first, so batches the FlushFn opens stay open.
  std::vector<Batch> batches;
  batches.reserve(open_.size());
  while (!open_.empty()) batches.push_back(Detach(open_.begin()));
  for (Batch& batch : batches) {
    ++stats_.flushed_by_flush_all;
    flush_(std::move(batch));
  }
}

bool Batcher::Remove(uint64_t id) {
  auto member = members_.find(id);
  if (member == members_.end()) return false;
  auto it = open_.find(member->second.group);
  assert(it != open_.end());
  OpenBatch& open = it->second;
  const std::string& key = member->second.key;

  auto& ids = open.batch.request_ids;
  ids.erase(std::find(ids.begin(), ids.end(), id));
  auto refs = open.requests_per_key.find(key);
  if (--refs->second == 0) {
    open.requests_per_key.erase(refs);
    auto& keys = open.batch.keys;
    keys.erase(std::find(keys.begin(), keys.end(), key));
  }
  members_.erase(member);

  if (ids.empty()) {
    if (open.timer != 0) timers_.Cancel(open.timer);
    open_.erase(it);
    ++stats_.dropped_empty;
  }
  return true;
}

size_t Batcher::pending(const std::string& group) const {
  auto it = open_.find(group);
  return it == open_.end() ? 0 : it->second.batch.request_ids.size();
}

size_t Batcher::pending_keys(const std::string& group) const {
  auto it = open_.find(group);
  return it == open_.end() ? 0 : it->second.batch.keys.size();
}

void Batcher::OnTimer(const std::string& group, uint64_t serial) {
  auto it = open_.find(group);
  // A host may still run a cancelled timer; only the batch it was set for counts.
  if (it == open_.end() || it->second.serial != serial) return;
  it->second.timer = 0;  // fired: nothing to cancel
  Flush(it, stats_.flushed_by_window);
}

void Batcher::Flush(std::map<std::string, OpenBatch>::iterator it, uint64_t& reason_counter) {
  Batch batch = Detach(it);
  ++reason_counter;
  flush_(std::move(batch));
}

Batch Batcher::Detach(std::map<std::string, OpenBatch>::iterator it) {
  OpenBatch& open = it->second;
  if (open.timer != 0) timers_.Cancel(open.timer);
  for (uint64_t id : open.batch.request_ids) members_.erase(id);
  Batch batch = std::move(open.batch);
  open_.erase(it);
  return batch;
}

}  // namespace orchsim
