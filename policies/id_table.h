// id_table.h — a map from uint64 ids to objects that never move and whose
// storage is recycled, for the core's per-request, per-flight and per-call
// state (one of each is made and ended for every request: a node-based map
// would allocate and free them every time).
//
// Contract:
//   - Insert(id) adds `id` and returns its object, or returns nullptr when
//     `id` is present already (nothing changes). The object is a recycled
//     one as the last Release left it, or a default-constructed one: the
//     caller resets what it uses. Recycling keeps the capacity of strings
//     and vectors inside, which is the point.
//   - Find(id): the object, or nullptr.
//   - Detach(id) removes `id` (Find no longer sees it, Insert may add it
//     again) but keeps its object valid and unused until Release(detached),
//     so a caller can finish with it (e.g. run a completion callback that
//     may insert other ids) before it is reused. Erase(id) is Detach then
//     Release.
//   - Objects never move: pointers stay valid until their Release.
//   - ForEach visits the present ids in an order that depends only on the
//     sequence of calls made (deterministic; not id order).
// Cost: Insert, Find, Detach O(1) on average (open addressing, linear
// probing, load <= 1/2, deletion by backward shift, no tombstones); nothing
// allocates once the table has held as many ids at once as it holds now.
// Memory: objects and index grow to the peak number present at once, and
// stay (a recycled object keeps what its members hold).
// Not thread-safe; the core runs on one event loop.
#ifndef ORCHSIM_POLICIES_ID_TABLE_H_
#define ORCHSIM_POLICIES_ID_TABLE_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace orchsim {

template <typename T>
class IdTable {
 public:
  IdTable() = default;
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;

  T* Find(uint64_t id) {
    if (size_ == 0) return nullptr;
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      const uint32_t slot = index_[i];
      if (slot == kEmpty) return nullptr;
      if (At(slot).id == id) return &At(slot).value;
    }
  }
  const T* Find(uint64_t id) const { return const_cast<IdTable*>(this)->Find(id); }
  bool contains(uint64_t id) const { return Find(id) != nullptr; }

  // nullptr when `id` is present already.
  T* Insert(uint64_t id) {
    if ((size_ + 1) * 2 > index_.size()) Grow();
    size_t i = Home(id);
    for (;; i = (i + 1) & mask_) {
      const uint32_t slot = index_[i];
      if (slot == kEmpty) break;
      if (At(slot).id == id) return nullptr;
    }
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(count_);
      if ((count_ & (kChunk - 1)) == 0) chunks_.push_back(std::make_unique<Entry[]>(kChunk));
      ++count_;
    }
    Entry& entry = At(slot);
    entry.id = id;
    entry.present = true;
    index_[i] = slot;
    ++size_;
    return &entry.value;
  }

  // A detached object: valid and unused until Release.
  struct Detached {
    T* value = nullptr;  // nullptr: the id was absent
    uint32_t slot = 0;
  };
  Detached Detach(uint64_t id) {
    if (size_ == 0) return {};
    size_t i = Home(id);
    for (;; i = (i + 1) & mask_) {
      const uint32_t slot = index_[i];
      if (slot == kEmpty) return {};
      if (At(slot).id == id) break;
    }
    const uint32_t detached = index_[i];
    Entry& entry = At(detached);
    entry.present = false;
    --size_;
    // Backward-shift deletion: pull later entries of the probe run into the
    // hole when their home is not between the hole and their position.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const uint32_t slot = index_[j];
      if (slot == kEmpty) break;
      const size_t home = Home(At(slot).id);
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      index_[hole] = slot;
      hole = j;
    }
    index_[hole] = kEmpty;
    return {&entry.value, detached};
  }
  // REQUIRES: `detached` came from Detach, holds an object, not released yet.
  void Release(const Detached& detached) {
    assert(detached.value != nullptr);
    free_.push_back(detached.slot);
  }
  bool Erase(uint64_t id) {
    const Detached detached = Detach(id);
    if (detached.value == nullptr) return false;
    Release(detached);
    return true;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // f(id, T&) for every present id.
  template <typename F>
  void ForEach(F&& f) {
    for (size_t slot = 0; slot < count_; ++slot) {
      Entry& entry = At(static_cast<uint32_t>(slot));
      if (entry.present) f(entry.id, entry.value);
    }
  }
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t slot = 0; slot < count_; ++slot) {
      const Entry& entry = At(static_cast<uint32_t>(slot));
      if (entry.present) f(entry.id, entry.value);
    }
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  static constexpr size_t kChunk = 64;  // objects per storage chunk (a power of two)

  struct Entry {
    T value{};
    uint64_t id = 0;
    bool present = false;
  };

  Entry& At(uint32_t slot) const { return chunks_[slot / kChunk][slot & (kChunk - 1)]; }
  // Fibonacci hashing: ids are often consecutive.
  size_t Home(uint64_t id) const {
    return static_cast<size_t>((id * 0x9e3779b97f4a7c15ULL) >> shift_) & mask_;
  }
  void Grow() {
    const size_t capacity = index_.empty() ? 16 : index_.size() * 2;
    std::vector<uint32_t> old = std::move(index_);
    index_.assign(capacity, kEmpty);
    mask_ = capacity - 1;
    shift_ = 64;
    for (size_t c = capacity; c > 1; c >>= 1) --shift_;
    for (uint32_t slot : old) {
      if (slot == kEmpty) continue;
      size_t i = Home(At(slot).id);
      while (index_[i] != kEmpty) i = (i + 1) & mask_;
      index_[i] = slot;
    }
  }

  std::vector<std::unique_ptr<Entry[]>> chunks_;
  size_t count_ = 0;  // objects made so far
  std::vector<uint32_t> free_;
  std::vector<uint32_t> index_;  // slot per bucket, kEmpty when none
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_ID_TABLE_H_
