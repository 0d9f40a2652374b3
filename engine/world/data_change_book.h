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
// Bounded: at most max_changes() instants in all (each 8 bytes, plus ~100
// bytes per key). When a key would take the book past it, ChangesThrough
// says so and the caller draws that key itself, as without a book: the bound
// costs time, never a different number.
//
// Thread-safe: runs on several threads may share one book.
#ifndef ORCHSIM_ENGINE_WORLD_DATA_CHANGE_BOOK_H_
#define ORCHSIM_ENGINE_WORLD_DATA_CHANGE_BOOK_H_

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
  // 16 Mi instants: 128 MiB of them; a five-class nfl-2023 season holds ~9 Mi.
  static constexpr size_t kDefaultMaxChanges = size_t{1} << 24;
  // REQUIRES: max_changes >= 1.
  explicit DataChangeBook(size_t max_changes = kDefaultMaxChanges);
  DataChangeBook(const DataChangeBook&) = delete;
  DataChangeBook& operator=(const DataChangeBook&) = delete;

  class Family;
  // The family named `fingerprint` (created empty the first time); stays
  // valid as long as the book.
  Family& FamilyFor(const std::string& fingerprint);

  // Changes of `key` in `family` at or before `t`, drawing the process (made
  // by `make` the first time the book sees the key) as far as `t` needs.
  // nullopt when that would hold more than max_changes() instants.
  std::optional<uint64_t> ChangesThrough(
      Family& family, const std::string& key, Instant t,
      const std::function<std::unique_ptr<ChangeProcess>()>& make);

  size_t max_changes() const { return max_changes_; }
  // Instants held, over all families.
  size_t changes_held() const { return changes_held_.load(); }
  size_t families() const;

 private:
  // Counts one more instant; false (nothing counted) when the book is full.
  bool ReserveOne();

  const size_t max_changes_;
  mutable std::mutex families_mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  std::atomic<size_t> changes_held_{0};  // families draw in parallel
};

class DataChangeBook::Family {
 private:
  friend class DataChangeBook;
  struct KeyChanges {
    std::unique_ptr<ChangeProcess> process;  // null once exhausted
    std::vector<Instant> changes;            // drawn so far, increasing
  };
  std::mutex mutex_;
  std::unordered_map<std::string, KeyChanges> keys_;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_DATA_CHANGE_BOOK_H_
