#include "policies/response_cache.h"

#include <algorithm>
#include <cassert>

namespace orchsim {
namespace {

size_t EntryBytes(const RequestKey& key, const BodyPtr& body) {
  size_t bytes = key.encoded().size();
  if (body) bytes += body->bytes.size() + body->content_type.size();
  return bytes;
}

}  // namespace

Status CacheStoreConfig::validate() const {
  if (max_entries < 1) return FieldError("cache.max_entries", max_entries, "must be >= 1");
  if (max_bytes < 1) return FieldError("cache.max_bytes", max_bytes, "must be >= 1");
  return Status::Ok();
}

ResponseCache::ResponseCache(const CacheStoreConfig& config) : config_(config) {
  assert(config_.validate().ok());
}

ResponseCache::~ResponseCache() = default;

std::pair<CacheLookup, const CacheEntry*> ResponseCache::Get(const RequestKey& key,
                                                             const CachePolicy& policy,
                                                             Instant now) {
  if (!policy.enabled()) {
    ++misses_;
    return {CacheLookup::kMiss, nullptr};
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++misses_;
    return {CacheLookup::kMiss, nullptr};
  }
  Node* node = &it->second;
  if (now < node->entry.expires_at) {
    ++hits_;
    Unlink(node);
    PushFront(node);
    return {CacheLookup::kFresh, &node->entry};
  }
  ++misses_;
  if (!policy.ServableStale(node->entry.fetched_at, now)) {
    Erase(it);  // can never be served again: free the slot
    return {CacheLookup::kMiss, nullptr};
  }
  Unlink(node);
  PushFront(node);
  return {CacheLookup::kStale, &node->entry};
}

const CacheEntry* ResponseCache::GetStale(const RequestKey& key, const CachePolicy& policy,
                                          Instant now) {
  if (!policy.enabled()) return nullptr;
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  Node* node = &it->second;
  if (now >= node->entry.expires_at && !policy.ServableStale(node->entry.fetched_at, now)) {
    return nullptr;
  }
  ++stale_hits_;
  Unlink(node);
  PushFront(node);
  return &node->entry;
}

void ResponseCache::Put(const RequestKey& key, const CachePolicy& policy,
                        std::optional<Instant> game_start, uint64_t payload_version, BodyPtr body,
                        Instant fetched_at, Instant now) {
  if (!policy.enabled()) return;
  fetched_at = std::min(fetched_at, now);
  const size_t bytes = EntryBytes(key, body);
  CacheEntry entry{payload_version, std::move(body), fetched_at,
                   policy.ExpiryFor(key.endpoint(), game_start, fetched_at)};
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.entry.fetched_at > fetched_at) return;  // keep newer
  if (bytes > config_.max_bytes) {
    ++oversized_;
    if (it != entries_.end()) Erase(it);  // the old data is older than what was refused
    return;
  }
  if (it != entries_.end()) {
    Node* node = &it->second;
    bytes_ -= node->bytes;
    Unlink(node);  // out of the LRU list while room is made, so it is not evicted
    EvictFor(bytes);
    node->entry = std::move(entry);
    node->bytes = bytes;
    bytes_ += bytes;
    PushFront(node);
    return;
  }
  if (entries_.size() >= config_.max_entries) {
    ++evictions_;
    Erase(entries_.find(*tail_->key));
  }
  EvictFor(bytes);
  it = entries_.emplace(key, Node{}).first;
  Node* node = &it->second;
  node->entry = std::move(entry);
  node->bytes = bytes;
  node->key = &it->first;
  bytes_ += bytes;
  PushFront(node);
}

void ResponseCache::EvictFor(size_t incoming_bytes) {
  while (tail_ != nullptr && bytes_ + incoming_bytes > config_.max_bytes) {
    ++evictions_;
    Erase(entries_.find(*tail_->key));
  }
}

std::vector<RequestKey> ResponseCache::KeysByRecency() const {
  std::vector<RequestKey> keys;
  keys.reserve(entries_.size());
  for (const Node* n = head_; n != nullptr; n = n->next) keys.push_back(*n->key);
  return keys;
}

void ResponseCache::Unlink(Node* node) {
  (node->prev != nullptr ? node->prev->next : head_) = node->next;
  (node->next != nullptr ? node->next->prev : tail_) = node->prev;
  node->prev = node->next = nullptr;
}

void ResponseCache::PushFront(Node* node) {
  node->prev = nullptr;
  node->next = head_;
  (head_ != nullptr ? head_->prev : tail_) = node;
  head_ = node;
}

void ResponseCache::Erase(Map::iterator it) {
  Node* node = &it->second;
  bytes_ -= node->bytes;
  if (node->prev != nullptr || node->next != nullptr || head_ == node) Unlink(node);
  entries_.erase(it);
}

}  // namespace orchsim
