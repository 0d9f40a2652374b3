#include "engine/world/data_change_book.h"

#include <algorithm>
#include <cassert>

namespace orchsim::world {

ChangeProcess::~ChangeProcess() = default;

DataChangeBook::DataChangeBook(size_t max_bytes) : max_bytes_(max_bytes) {}

DataChangeBook::Family& DataChangeBook::FamilyFor(const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(families_mutex_);
  std::unique_ptr<Family>& family = families_[fingerprint];
  if (!family) family = std::make_unique<Family>();
  return *family;
}

size_t DataChangeBook::families() const {
  std::lock_guard<std::mutex> lock(families_mutex_);
  return families_.size();
}

bool DataChangeBook::Reserve(size_t bytes) {
  size_t held = bytes_held_.load(std::memory_order_relaxed);
  do {
    if (held + bytes > max_bytes_) return false;
  } while (!bytes_held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

std::optional<uint64_t> DataChangeBook::ChangesThrough(
    Family& family, const std::string& key, Instant t,
    const std::function<std::unique_ptr<ChangeProcess>()>& make) {
  const size_t hash = std::hash<std::string>{}(key);
  Family::Shard& shard = family.shards_[hash % Family::kShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto it = shard.keys.find(key);
  if (it == shard.keys.end()) {
    if (!Reserve(kBytesPerKey)) return std::nullopt;
    it = shard.keys.emplace(key, Family::KeyChanges{make(), {}}).first;
  }
  Family::KeyChanges& k = it->second;
  // Draw until a change after `t` is known (or none will ever come).
  while (k.process && (k.changes.empty() || k.changes.back() <= t)) {
    if (!Reserve(kBytesPerChange)) return std::nullopt;
    const Instant next = k.process->Next();
    if (next == Instant::Max()) {
      k.process.reset();
      bytes_held_.fetch_sub(kBytesPerChange, std::memory_order_relaxed);
      break;
    }
    assert(k.changes.empty() || next > k.changes.back());
    k.changes.push_back(next);
  }
  return static_cast<uint64_t>(std::upper_bound(k.changes.begin(), k.changes.end(), t) -
                               k.changes.begin());
}

}  // namespace orchsim::world
