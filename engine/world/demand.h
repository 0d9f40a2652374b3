// demand.h — client requests generated from a schedule, streamed lazily in time order.
//
// A scenario describes its clients' demand as a list of generators, each a
// request template plus a pattern in time:
//   - CronPattern: a time of day in a zone, on chosen weekdays, optionally only
//     on game days (and optionally one request per game of the day);
//   - GameOffsetsPattern: fixed offsets from each kickoff (-2h, -1h, -30m);
//   - KickoffPoissonPattern: Poisson arrivals in a window around each kickoff,
//     the rate piecewise constant over the window;
//   - LivePollingPattern: every `interval` from kickoff for the game's length;
//   - BurstPattern: `count` requests at an instant (absolute, or an offset from
//     each kickoff), spread evenly over `span`;
//   - TracePattern: the requests of a recorded trace or a CSV file, replayed
//     (trace_demand.h: options, order, memory).
//
// Contract:
//   - DemandSource::Next() returns the requests of all enabled generators in
//     time order; ties break by (generator index in the config list, the
//     generator's own sequence), so the order is total and deterministic.
//     Within one generator, simultaneous requests come in game order
//     (GameBefore) and then in the pattern's own order (offsets ascending, burst index).
//   - Memory does not grow with the season: a generator holds one cursor per
//     game whose window is open (plus one pending head per generator), never
//     the season's requests; a trace generator holds its reorder window
//     (trace_demand.h). buffered() reports that count.
//   - Common random numbers: generator "X" draws only from the seed tree's
//     stream "demand/X", split per game as SeedTree::Child("demand/X")
//     .Stream(game id). Demand therefore depends on the seed, the schedule and
//     the generator's own config only: never on the policy, on the other
//     generators or on how fast the caller consumes it.
//   - Requests: id is 1, 2, 3... in emission order; deadline = arrival +
//     RequestTemplate::deadline (Instant::Max() when infinite); game_start is
//     the game's kickoff for per-game patterns (and cron one_per_game), unset
//     otherwise; submitted_at is left for the orchestrator to set. A trace
//     generator's requests carry the file's fields instead (trace_demand.h).
//
// Key templates: literal text with placeholders {game} (game id), {home},
// {away}, {league}, {venue}, {date} and {n}. {date} is Game::date for per-game
// requests, the local date of the firing for cron, and the UTC date of an
// absolute burst. {n} is the request's 0-based index within its game (per-game
// patterns), within its burst, or 0 for cron. Game placeholders are rejected
// by validate() for patterns that have no game (cron without one_per_game,
// absolute bursts).
//
// Units: Instant/Duration are int64 microseconds; offsets are relative to the
// kickoff (negative = before); rates are requests per minute (double).
#ifndef ORCHSIM_ENGINE_WORLD_DEMAND_H_
#define ORCHSIM_ENGINE_WORLD_DEMAND_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/world/schedule.h"
#include "engine/world/time_zone.h"
#include "engine/world/trace_demand.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::world {

// What each generated request carries.
struct RequestTemplate {
  std::string api;       // upstream API name; non-empty
  std::string endpoint;  // non-empty
  std::string key_template = "{game}";
  Priority priority = Priority::kNormal;
  bool cacheable = true;
  bool batchable = false;
  // Overall deadline relative to the arrival; > 0, Duration::Infinite() for none.
  Duration deadline = Duration::Infinite();
};

// Once a day at `time_of_day` local time in `time_zone` (daylight-saving
// changes applied as time_zone.h resolves them).
struct CronPattern {
  Duration time_of_day = Hours(9);  // [0, 24h)
  std::string time_zone = "America/New_York";
  // Indexed by Weekday(): [0] = Sunday ... [6] = Saturday.
  std::array<bool, 7> weekdays = {true, true, true, true, true, true, true};
  // Fire only on days with at least one game whose kickoff falls on that
  // local date (in time_zone).
  bool game_days_only = false;
  // One request per game of the day instead of one per day (implies
  // game_days_only); the key may then use game placeholders.
  bool one_per_game = false;
  // Inclusive range of local dates; unset = the local dates of the first and
  // last game (no requests when the schedule has no games).
  std::optional<CivilDate> first_date;
  std::optional<CivilDate> last_date;
};

// One request at kickoff + each offset, for every game. Offsets may repeat
// (two requests at that instant) and come in any order.
struct GameOffsetsPattern {
  std::vector<Duration> offsets = {-Hours(2), -Hours(1), -Minutes(30)};  // non-empty
};

// Poisson arrivals in [kickoff + steps[0].from, kickoff + until). Step i's rate
// holds from kickoff + steps[i].from until the next step's start (the last
// step until `until`).
struct KickoffPoissonPattern {
  struct Step {
    Duration from;            // offset from kickoff
    double per_minute = 0.0;  // >= 0, finite
  };
  std::vector<Step> steps;    // non-empty; `from` strictly increasing
  Duration until = Hours(3);  // > the last step's from
};

// Requests at kickoff + start_offset + k * interval while before kickoff +
// game_length.
struct LivePollingPattern {
  Duration interval = Minutes(1);            // > 0
  Duration start_offset = Duration::Zero();  // < game_length
  Duration game_length = Hours(3) + Minutes(30);
};

// `count` requests at at + span * k / count (k = 0 .. count-1, integer
// microseconds): all at once when span is 0.
struct BurstPattern {
  int count = 10;                    // >= 1
  Duration span = Duration::Zero();  // >= 0
  // Absolute instant of a single burst; when unset, one burst per game at
  // kickoff + kickoff_offset.
  std::optional<Instant> at;
  Duration kickoff_offset = Duration::Zero();
};

// Requests replayed from a recorded trace or a CSV file (trace_demand.h).
// The request template is not used: each request comes whole from the file.
using TracePattern = TraceDemandPattern;

using DemandPattern = std::variant<CronPattern, GameOffsetsPattern, KickoffPoissonPattern,
                                   LivePollingPattern, BurstPattern, TracePattern>;

struct DemandGeneratorConfig {
  std::string name;  // non-empty, unique in a source; names the random stream
  bool enabled = true;
  // Only games of this league ("" = every game). Cron game days count only
  // this league's games.
  std::string league;
  RequestTemplate request;
  DemandPattern pattern = GameOffsetsPattern{};

  // Errors name the field as "demand.<name>.<field>", e.g.
  // "demand.picks.request.key_template: \"{gme}\" unknown placeholder {gme}; ...".
  Status validate() const;
};

// Every generator's validate(), and names unique.
Status ValidateDemandGenerators(const std::vector<DemandGeneratorConfig>& generators);

// A request and when the client sends it.
struct TimedRequest {
  Instant at;
  Request request;
  int generator = 0;      // index in the config list
  uint64_t sequence = 0;  // 0-based index among this generator's requests
};

class GeneratorStream;  // one generator's lazy request stream (demand.cc)

class DemandSource {
 public:
  // REQUIRES: ValidateDemandGenerators(generators).ok(); `games` sorted by
  // GameBefore (as schedule.h returns them) and alive as long as the source;
  // trace patterns scanned (ScanTrace). The constructor and Next() throw
  // std::runtime_error when a trace file no longer reads as it did.
  DemandSource(const std::vector<Game>& games, std::vector<DemandGeneratorConfig> generators,
               const kernel::SeedTree& seeds);
  ~DemandSource();
  DemandSource(const DemandSource&) = delete;
  DemandSource& operator=(const DemandSource&) = delete;

  // The next request in (time, generator, sequence) order; nullopt when every
  // generator is exhausted.
  std::optional<TimedRequest> Next();
  // The instant of the request Next() would return, without consuming it.
  std::optional<Instant> PeekTime() const;

  // Cursors and heads held right now: bounded by the games whose windows
  // overlap, independent of the season's length.
  size_t buffered() const;
  uint64_t emitted() const { return emitted_; }
  const DemandGeneratorConfig& generator(int index) const { return configs_[index]; }
  int generator_count() const { return static_cast<int>(configs_.size()); }

 private:
  struct Head {
    Instant at;
    int generator;
  };
  // Heap order: the top is the smallest (at, generator).
  static bool HeadLater(const Head& a, const Head& b);
  void Refill(int generator);

  std::vector<DemandGeneratorConfig> configs_;
  std::vector<std::unique_ptr<GeneratorStream>> streams_;  // null when disabled
  std::vector<uint64_t> sequence_;                         // per generator
  std::vector<Head> heads_;                                // min-heap by (at, generator)
  uint64_t emitted_ = 0;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_DEMAND_H_
