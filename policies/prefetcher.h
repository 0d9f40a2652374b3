// prefetcher.h — warms the response cache at fixed offsets before kickoff.
//
// For every game added, the prefetcher schedules one timer per offset whose
// instant (kickoff - offset) is not yet past; when it fires it issues one
// PREFETCH-class Request per target, in config order, through the IssueFn.
// Issued requests fill the cache like any other cacheable request, so the
// client requests that arrive near kickoff find fresh entries.
//
// Spare capacity only: the prefetcher decides *when* and *what*, never
// *whether there is budget*. The orchestrator admits Priority::kPrefetch
// requests only from tokens above every per-priority reserve, so a prefetch
// can never spend capacity that a client class has reserved; a prefetch that
// finds no spare capacity waits in the queue and, with deadline_at_kickoff,
// times out at kickoff, when it has lost its purpose.
//
// Requests issued: id = 0 (the orchestrator assigns ids), api and endpoint
// from the target, key = key_template with every "{game}" replaced by the
// game id, priority = kPrefetch, game_start = kickoff, cacheable = true,
// batchable = target.batchable, deadline = kickoff (or Instant::Max() when
// deadline_at_kickoff is false).
//
// Timing: an offset instant equal to `now` is scheduled (the Timers port runs
// it as soon as possible, never synchronously); one strictly before `now` is
// skipped. Same-instant timers fire in the order they were scheduled: games
// in AddGame order, offsets in config order.
//
// Memory: one small record per pending timer; a game's record is dropped
// when its last timer fires.
//
// Thread rules: one thread, the host's event loop. The IssueFn may call back
// into the prefetcher (AddGame, RemoveGame, Stop).
// REQUIRES: `timers` outlives the prefetcher (the destructor cancels).
#ifndef ORCHSIM_POLICIES_PREFETCHER_H_
#define ORCHSIM_POLICIES_PREFETCHER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "policies/ports.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

struct PrefetchTarget {
  std::string api;           // non-empty
  std::string endpoint;      // non-empty
  std::string key_template;  // "{game}" is replaced by the game id
  bool batchable = false;    // copied to Request::batchable
};

struct PrefetchConfig {
  bool enabled = false;
  // Before kickoff; each > 0, all distinct. Issue instant = kickoff - offset.
  std::vector<Duration> offsets = {Hours(2), Hours(1), Minutes(30)};
  std::vector<PrefetchTarget> targets;  // non-empty when enabled
  // Request::deadline = kickoff (a prefetch finished after kickoff is useless).
  bool deadline_at_kickoff = true;
  // Errors name the field, e.g. "prefetch.offsets[1]: "0s" must be > 0".
  Status validate() const;
};

// Receives each prefetch request; the orchestrator decides whether to send it
// (skips a fresh cache entry or an identical call in flight).
using IssueFn = std::function<void(Request)>;

class Prefetcher {
 public:
  // REQUIRES: config.validate().ok().
  Prefetcher(const PrefetchConfig& config, Timers& timers, IssueFn issue);
  ~Prefetcher();  // cancels every pending timer
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Schedules the game's prefetches: one timer per offset with
  // kickoff - offset >= now, issuing one request per target. Adding a game id
  // again replaces its schedule (a moved kickoff). No-op when disabled or
  // after Stop().
  void AddGame(const std::string& game_id, Instant kickoff, Instant now);
  // Cancels the game's pending prefetches (a postponed game). Returns the
  // number of timers cancelled.
  size_t RemoveGame(const std::string& game_id);
  // Shutdown: cancels every pending timer; later AddGame calls are ignored.
  void Stop();

  uint64_t issued() const { return issued_; }         // requests passed to the IssueFn
  size_t pending() const { return pending_.size(); }  // timers not yet fired

 private:
  struct Pending {
    Timers::TimerId timer = 0;
    std::string game_id;
    Instant kickoff;
  };

  void Fire(uint64_t token);
  Request MakeRequest(const PrefetchTarget& target, const std::string& game_id,
                      Instant kickoff) const;

  PrefetchConfig config_;
  Timers& timers_;
  IssueFn issue_;
  bool stopped_ = false;
  uint64_t next_token_ = 1;
  uint64_t issued_ = 0;
  std::map<uint64_t, Pending> pending_;  // token -> timer
  std::unordered_map<std::string, std::vector<uint64_t>> tokens_by_game_;
};

// key_template with every occurrence of "{game}" replaced by game_id.
std::string ExpandKeyTemplate(const std::string& key_template, const std::string& game_id);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_PREFETCHER_H_
