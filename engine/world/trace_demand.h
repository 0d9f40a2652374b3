// trace_demand.h — client requests replayed from a recorded trace (or a CSV
// file of requests), streamed in arrival order in bounded memory.
//
// A demand generator of this kind ({"trace": {...}} in a scenario, read by
// engine/scenario/demand_reader.h) replays the client requests of a file:
//   - JSONL as `orchsim run --record` / `orchsim serve --record` write it
//     (policies/trace/trace_format.h): the header line first, then the
//     "request" lines are the demand ("call" lines are the upstreams' side and
//     are skipped here; `orchsim calibrate` reads them);
//   - CSV with a header row and a column mapping (TraceCsvColumns): an
//     ISO 8601 timestamp with a zone, api, endpoint, key and optionally
//     priority, game (a game id of the scenario's schedule: the request's
//     game_start is its kickoff) and deadline (a duration such as "20s").
//     Rows lack the other request fields; TraceRowDefaults gives them. CSV
//     rules as for schedules (RFC 4180, quoted fields may hold commas, quotes
//     and line breaks; a UTF-8 BOM is skipped; empty lines are skipped).
//
// Options, applied in this order to each request of the file:
//   1. `apis`: only requests to these apis (others are skipped); without it
//      a request to an api the scenario does not model is an error.
//   2. `from`/`until`: only arrivals in [from, until), in the trace's time.
//   3. `rate`: thinning (rate < 1) keeps a request with probability rate;
//      repeating (rate > 1) replays it floor(rate) times plus once more with
//      probability frac(rate). Copy 0 keeps the recorded arrival; each
//      further copy is placed uniformly in [arrival, arrival + spread). The
//      draws come from a hash of (the seed of stream "demand/<name>", the
//      file line, the copy), never from a sequential generator: whether a
//      request is kept depends only on the seed, the generator's name and
//      its line, not on the policy, the window or other generators (common
//      random numbers), and a smaller rate keeps a subset of what a larger
//      one keeps.
//   4. `shift` (a duration) or `start_at` (the instant the first selected
//      arrival moves to) moves arrivals and game starts.
//
// Order and memory. The recorder writes a request when it completes, so
// arrivals are not monotonic in the file: a request appears after every
// request that completed before it, up to its own latency late. The stream
// restores arrival order with a reorder buffer (a min-heap by arrival): a
// request is released once an arrival more than L later has been read, L
// being the largest lateness the file actually has (measured by ScanTrace:
// how far an arrival lies before the latest arrival read before it). L must
// not exceed `max_lateness` (default 1h): a file that needs more is rejected
// at load, naming the line, and should be sorted by arrival (any sorted file,
// CSV or JSONL, has L = 0). Memory therefore holds the requests of one
// window L (about the longest request latency of the trace), whatever the
// file's length. Ties in arrival keep the recorded submission order: the
// trace's request id (JSONL) or the file line (CSV), then the copy.
//
// Bad input is found at load by ScanTrace (one pass over the file, nothing
// kept): malformed lines, a missing or second header, unknown apis, a time
// without a zone, a CSV row with the wrong field count, an unknown game id,
// or lateness beyond max_lateness; each as a TraceProblem naming the file
// and line. A final line without its newline (a recorder cut short) is
// skipped with a warning, as the trace format says.
#ifndef ORCHSIM_ENGINE_WORLD_TRACE_DEMAND_H_
#define ORCHSIM_ENGINE_WORLD_TRACE_DEMAND_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/world/schedule.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::world {

enum class TraceFileFormat : uint8_t { kJsonl, kCsv };

// Which CSV columns hold what; "" = not in the file.
struct TraceCsvColumns {
  std::string timestamp = "timestamp";  // required: ISO 8601 with Z or an offset
  std::string api = "api";              // required
  std::string endpoint = "endpoint";    // required
  std::string key = "key";              // required
  std::string priority;                 // CRITICAL, HIGH, NORMAL, LOW, PREFETCH
  std::string game;                     // a game id of the schedule
  std::string deadline;                 // a duration ("20s")
};

// What a CSV row does not say (an empty cell of an optional column too).
struct TraceRowDefaults {
  Priority priority = Priority::kNormal;
  Duration deadline = Duration::Infinite();  // > 0; Infinite() = none
  bool cacheable = true;
  bool batchable = false;
};

// What ScanTrace measured over the selected requests (before rate and shift).
struct TraceScan {
  bool done = false;      // set by ScanTrace
  uint64_t lines = 0;     // lines of the file
  uint64_t requests = 0;  // selected requests
  uint64_t skipped = 0;   // requests left out by `apis` or the window
  Instant first_arrival;  // of the selected requests (when requests > 0)
  Instant last_arrival;
  Duration max_lateness;         // the reorder window the file needs
  uint64_t peak_per_second = 0;  // most arrivals within one UTC second
  bool truncated_last_line = false;
};

struct TraceDemandPattern {
  std::string file;  // path as the stream opens it (the reader resolves it)
  TraceFileFormat format = TraceFileFormat::kJsonl;
  TraceCsvColumns columns;          // CSV only
  TraceRowDefaults defaults;        // CSV only
  std::vector<std::string> apis;    // empty: every api
  std::optional<Instant> from;      // inclusive, trace time
  std::optional<Instant> until;     // exclusive, trace time
  Duration shift;                   // added to every instant
  std::optional<Instant> start_at;  // instead of shift: where the first arrival goes
  double rate = 1.0;                // > 0, <= kMaxTraceRate
  Duration spread;                  // >= 0: where copies beyond the first go
  Duration max_lateness = Hours(1);

  TraceScan scan;  // filled at load by ScanTrace

  // The shift in effect: start_at - scan.first_arrival, or shift.
  Duration EffectiveShift() const;
};

inline constexpr double kMaxTraceRate = 1000.0;

// Checks the options (not the file). `f` prefixes field names, e.g.
// "demand.prod.trace.".
Status ValidateTracePattern(const std::string& f, const TraceDemandPattern& p);

// A problem with a trace file: "FILE: line N: message" (line 0: not about a line).
struct TraceProblem {
  std::string file;
  uint64_t line = 0;
  std::string message;
  // The file reads, but the options leave nothing of it (a scenario error).
  bool about_options = false;
  std::string ToString() const;
};

// Reads the whole file once: validates every line (see the header) and
// fills pattern->scan. `api_names`: the scenario's upstreams; `games`: its
// schedule (for a CSV game column). Returns the first problem, if any.
std::optional<TraceProblem> ScanTrace(TraceDemandPattern* pattern,
                                      const std::set<std::string>& api_names,
                                      const std::vector<Game>& games);

// One replayed request and its (shifted) arrival.
struct TraceArrival {
  Instant at;
  Request request;  // id 0; deadline absolute; submitted_at unset
};

class TraceRowSource;  // the file's selected requests in file order (trace_demand.cc)

// The stream of a scanned pattern, in (arrival, recorded order, copy) order.
class TraceDemandStream {
 public:
  // REQUIRES: pattern.scan.done (ScanTrace found no problem). `seed`: the
  // generator's stream seed (SeedTree::SeedFor("demand/<name>")). `games`
  // alive as long as the stream. Throws std::runtime_error ("FILE: line N:
  // ...") if the file changed since the scan and no longer reads.
  TraceDemandStream(const TraceDemandPattern& pattern, uint64_t seed,
                    const std::vector<Game>& games);
  ~TraceDemandStream();
  TraceDemandStream(const TraceDemandStream&) = delete;
  TraceDemandStream& operator=(const TraceDemandStream&) = delete;

  // The arrival of the next request; nullopt when the file is exhausted.
  std::optional<Instant> Head();
  // REQUIRES: Head() has a value.
  TraceArrival Pop();
  // Requests held in the reorder buffer (bounded by the window L).
  size_t buffered() const { return heap_.size(); }
  // The most the buffer has held.
  size_t peak_buffered() const { return peak_; }

 private:
  struct Pending {
    Instant arrival;  // trace time, copy offset included
    uint64_t order;   // recorded order (request id or line)
    uint64_t line;
    uint32_t copy;
    uint32_t slot;  // index into slots_
  };
  static bool Later(const Pending& a, const Pending& b);
  void ReadMore();  // reads one selected row into the buffer, or sets eof_

  TraceDemandPattern pattern_;
  uint64_t seed_;
  Duration shift_;
  std::unique_ptr<TraceRowSource> rows_;
  std::vector<Pending> heap_;
  struct Slot {
    Request request;
    std::optional<Duration> deadline;  // relative to the arrival
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  Instant watermark_;  // the latest recorded arrival read so far
  bool any_read_ = false;
  bool eof_ = false;
  size_t peak_ = 0;
};

// The per-line draw of the rate option: a uniform in [0, 1) from (seed,
// line, copy). Exposed for tests.
double TraceUniform(uint64_t seed, uint64_t line, uint32_t copy);
// How many copies of line `line` a rate keeps (0 .. ceil(rate)).
uint32_t TraceCopies(double rate, uint64_t seed, uint64_t line);

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_TRACE_DEMAND_H_
