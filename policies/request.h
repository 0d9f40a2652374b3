// request.h — the core's request model: what a client asks for, what an
// upstream answers, and how each request ends.
//
// Every client request submitted to the Orchestrator ends in exactly one
// terminal Outcome, reported once through its completion callback.
//
// Units: times are Instant/Duration (int64 microseconds) on the Clock's
// monotonic timeline unless a field says "wall"; credits are the upstream's
// quota units (double, because some APIs charge fractions).
#ifndef ORCHSIM_POLICIES_REQUEST_H_
#define ORCHSIM_POLICIES_REQUEST_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/request_key.h"
#include "policies/time.h"

namespace orchsim {

// Priority classes, most urgent first. The numeric order is the priority
// order: a smaller value is served first.
enum class Priority : uint8_t { kCritical = 0, kHigh = 1, kNormal = 2, kLow = 3, kPrefetch = 4 };
inline constexpr int kPriorityCount = 5;
inline constexpr std::array<Priority, kPriorityCount> kAllPriorities = {
    Priority::kCritical, Priority::kHigh, Priority::kNormal, Priority::kLow, Priority::kPrefetch};

// "CRITICAL", "HIGH", "NORMAL", "LOW", "PREFETCH".
std::string_view PriorityName(Priority p);
// Inverse of PriorityName (exact, upper case); nullopt when unknown.
std::optional<Priority> ParsePriority(std::string_view name);
inline int PriorityIndex(Priority p) { return static_cast<int>(p); }
// True when `a` is at least as urgent as `b`.
inline bool AtLeast(Priority a, Priority b) { return static_cast<int>(a) <= static_cast<int>(b); }

// A client request, as a job in the service would submit it.
struct Request {
  uint64_t id = 0;       // unique per orchestrator; assigned by the caller
  std::string api;       // upstream API name, e.g. "odds"
  std::string endpoint;  // e.g. "odds", "scores", "weather"
  std::string key;       // canonical parameters; identical requests share it
  Priority priority = Priority::kNormal;
  std::optional<Instant> game_start;  // wall: kickoff of the game it concerns, if any
  bool cacheable = true;              // may be answered from the cache
  bool batchable = false;             // may ride in a batch call with others of its api
  Instant deadline = Instant::Max();  // overall deadline (absolute, monotonic)
  Instant submitted_at;               // set by the orchestrator at submit()

  // The single-flight / cache identity (see request_key.h).
  RequestKey identity() const { return RequestKey(api, endpoint, key); }
};

// What an upstream answered for one key: the bytes and their media type.
// Immutable once made and shared by every holder (the cache, each waiter on
// a coalesced call, the host), so an answer is never copied per waiter.
struct Body {
  std::string content_type;  // e.g. "application/json"; "" when unknown
  std::string bytes;
};
using BodyPtr = std::shared_ptr<const Body>;
BodyPtr MakeBody(std::string content_type, std::string bytes);

// ASCII case-insensitive equality, for header names (ASCII tokens, RFC 9110).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// HTTP-style headers with case-insensitive names; insertion order kept.
class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<std::pair<std::string, std::string>> entries);
  void Set(std::string name, std::string value);  // replaces an existing name
  // Adds a field as received: a name already present gets ", value"
  // appended to its value (RFC 9110 5.3), in one pass over the entries.
  void Add(std::string_view name, std::string_view value);
  // The value of `name` (any case), or nullptr.
  const std::string* Find(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Why the core sent an upstream call.
enum class CallKind : uint8_t { kFirstAttempt, kRetry, kProbe, kPrefetch, kBatch, kHedge };
inline constexpr int kCallKindCount = 6;
std::string_view CallKindName(CallKind k);

// One call to an upstream. A batch call carries several keys.
struct UpstreamCall {
  uint64_t call_id = 0;  // unique per orchestrator
  std::string api;
  std::string endpoint;
  std::vector<std::string> keys;  // >= 1; batch calls carry several
  CallKind kind = CallKind::kFirstAttempt;
  Priority priority = Priority::kNormal;
  int attempt = 1;  // 1 for the first attempt, 2 for the first retry, ...
  // When the core stops waiting for this call (monotonic; Instant::Max()
  // when never): a transport may pass it on (deadline propagation) so the
  // upstream can drop work nobody will wait for.
  Instant deadline = Instant::Max();
};

// Status code the transport reports when no HTTP answer came (connection
// failure or the upstream's own timeout). Counts as a failure.
inline constexpr int kStatusTransportError = 599;
// Status code of the transport's confirmation that a cancelled call ended
// (nginx's "client closed request"). The core asked for it; it is neither a
// success nor an upstream failure.
inline constexpr int kStatusCancelled = 499;

// What an upstream answered.
struct Response {
  int status = 0;  // HTTP status, or kStatusTransportError
  Headers headers;
  // Version of the data answered, per key of the call (same order). Versions
  // grow as the upstream's data changes; staleness is measured against them.
  std::vector<uint64_t> payload_versions;
  // The body answered per key of the call (same order); may be shorter than
  // the keys (a key without an entry has no body: nullptr).
  std::vector<BodyPtr> bodies;
  double credits_charged = 0.0;  // quota units this call cost
  Duration latency;              // time from send to answer, as the host saw it

  bool ok() const { return status >= 200 && status < 300; }
};

// How a client request ended. Exactly one per request.
enum class Outcome : uint8_t {
  kServed,               // answered by an upstream call made for it (or its batch)
  kCacheHit,             // answered from a fresh cache entry
  kCoalesced,            // answered by another request's call (single-flight)
  kServedStale,          // upstream failed; answered from an expired entry
  kFailed,               // upstream failed and no fallback was allowed
  kShed,                 // dropped by the queue at capacity
  kRejectedCircuitOpen,  // the upstream's breaker was open
  kRejectedQuota,        // the quota or the bucket could not admit it in time
  kTimedOut,             // the overall deadline passed
  kCancelled,            // still pending when shutdown's drain ended
  kRejectedThrottled,    // refused by client-side adaptive throttling (upstream overloaded)
};
inline constexpr int kOutcomeCount = 11;
std::string_view OutcomeName(Outcome o);

// What the caller's completion callback receives.
struct Result {
  Outcome outcome = Outcome::kFailed;
  int status = 0;                // last upstream status seen, 0 if none
  uint64_t payload_version = 0;  // version of the data served, 0 if none
  BodyPtr body;                  // the data served (shared, immutable); nullptr if none
  Instant fetched_at;            // when the served data left the upstream
  Duration queue_wait;           // time spent waiting in the priority queue
  int attempts = 0;              // upstream attempts made for this request
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_REQUEST_H_
