// data_change_book.h — the data-change instants of keys, drawn once and shared
// by the runs that draw the same processes.
//
// A mocked upstream's payload version of a key at t is a pure function of the
// key, t, the upstream's data-change settings, its data seed and the key's
// kickoffs (mock_upstream.h). Runs of one scenario on one seed — the variants
// of `orchsim run`, every point of a sweep, the baseline beside them — ask for
// the same versions at different instants, and drawing the process (one
// exponential per change, replayed from the key's start) is about a quarter
// of a season's CPU. A DataChangeBook keeps what was drawn: the run that needs
// a change first draws it, the others read it. Versions, and so every number
// of every run, are the same with or without a book.
//
// Processes are grouped in families: one upstream's processes, named by a
// fingerprint of everything they depend on (MockUpstream::ShareDataChanges);
// runs sharing a family must run the same schedule (the caller's contract).
//
// Bounded: at most max_bytes(), counting kBytesPerKey for each key and
// kBytesPerChange for each instant (a five-class nfl-2023 season: 71,604 keys
// and 8.7 M instants, ~97 MB). When a key would take the book past it,
// ChangesThrough says so and the caller draws that key itself, as without a
// book: the bound costs time, never a different number.
//
// Thread-safe: runs on several threads may share one book.
#ifndef ORCHSIM_ENGINE_WORLD_DATA_CHANGE_BOOK_H_
#define ORCHSIM_ENGINE_WORLD_DATA_CHANGE_BOOK_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/time.h"

namespace orchsim::world {

// One key's change process as its upstream draws it.
class ChangeProcess {
 public:
  virtual ~ChangeProcess();
  // The next change, strictly after the previous one (the first: after the
  // process's start); Instant::Max() when no change ever follows.
  virtual Instant Next() = 0;
};

class DataChangeBook {
 public:
  // What a key's process and its place in the book take (measured: the
  // drawing state with its rate pieces and kickoffs, the map node), and one
  // instant.
  static constexpr size_t kBytesPerKey = 384;
  static constexpr size_t kBytesPerChange = sizeof(Instant);
  static constexpr size_t kDefaultMaxBytes = size_t{128} << 20;
  explicit DataChangeBook(size_t max_bytes = kDefaultMaxBytes);
  DataChangeBook(const DataChangeBook&) = delete;
  DataChangeBook& operator=(const DataChangeBook&) = delete;

  class Family;
  // The family named `fingerprint` (created empty the first time); stays
  // valid as long as the book.
  Family& FamilyFor(const std::string& fingerprint);

  // Changes of `key` in `family` at or before `t`, drawing the process (made
  // by `make` the first time the book sees the key) as far as `t` needs.
  // nullopt when that would take the book past max_bytes().
  std::optional<uint64_t> ChangesThrough(
      Family& family, const std::string& key, Instant t,
      const std::function<std::unique_ptr<ChangeProcess>()>& make);

  size_t max_bytes() const { return max_bytes_; }
  // Bytes counted so far, over all families.
  size_t bytes_held() const { return bytes_held_.load(); }
  size_t families() const;

 private:
  // Counts `bytes` more; false (nothing counted) when they do not fit.
  bool Reserve(size_t bytes);

  const size_t max_bytes_;
  mutable std::mutex families_mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  std::atomic<size_t> bytes_held_{0};  // families draw in parallel
};

class DataChangeBook::Family {
 private:
  friend class DataChangeBook;
  struct KeyChanges {
    std::unique_ptr<ChangeProcess> process;  // null once exhausted
    std::vector<Instant> changes;            // drawn so far, increasing
  };
  // Keys spread over shards by hash, each with its lock: runs on other
  // threads ask about the same upstream all the time, seldom the same shard.
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, KeyChanges> keys;
  };
  static constexpr size_t kShards = 64;
  std::array<Shard, kShards> shards_;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_DATA_CHANGE_BOOK_H_
