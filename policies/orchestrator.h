// orchestrator.h — the orchestration core: every policy composed in front of
// the upstream APIs, behind the Clock / Timers / Transport / RandomSource ports.
//
// The pipeline, in order (every stage can be switched off by configuration):
//   1. intake      after Shutdown() begins, new requests end as kCancelled
//   2. cache       a fresh entry answers at once (kCacheHit)
//   3. coalesce    an identical request already queued or in flight: attach
//                  to it and share its answer (kCoalesced); a more urgent
//                  duplicate raises the pending one's priority
//   4. batch       batchable requests of one api/endpoint wait up to the
//                  batch window and leave as one flight. The batcher sits
//                  before the queue (not after the limiter) so that a batch
//                  spends one token and one quota check, not one per member
//   5. queue       a priority queue per api (escalation, capacity, shedding)
//   6. admission   per api, for the most urgent flight: breaker (open ->
//                  stale fallback or kRejectedCircuitOpen), quota tracker
//                  (wait, or kRejectedQuota when it cannot admit before the
//                  flight's deadline), token bucket (reserves per priority),
//                  bulkhead (max in flight)
//   7. transport   one upstream call per flight, with a per-attempt timeout
//   8. outcome     success: cache fill, kServed / kCoalesced. Failure: retry
//                  with backoff if retryable, within max attempts and the
//                  retry budget; else stale-if-error (kServedStale) or kFailed
// Prefetch flights (from the Prefetcher) enter at stage 5 with priority
// PREFETCH and, with reserves configured, spend only spare tokens; they answer
// no client. Active health probes are calls of kind kProbe outside the queue.
//
// The invariant: every submitted request ends in exactly one Outcome,
// reported once through its callback; the sum over outcomes equals the number
// of requests submitted. Callbacks may run synchronously inside Submit (cache
// hits, rejections) or later from a Timers/Transport callback.
//
// Shutdown(drain): stops intake and prefetching, flushes batches, lets queued
// and in-flight work finish until `drain` has passed, then ends everything
// still pending as kCancelled and calls `on_stopped`. Nothing completes after
// that; late upstream answers are discarded.
//
// Thread rules: single-threaded; call it from the host's event loop only.
#ifndef ORCHSIM_POLICIES_ORCHESTRATOR_H_
#define ORCHSIM_POLICIES_ORCHESTRATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "policies/batcher.h"
#include "policies/circuit_breaker.h"
#include "policies/coalescer.h"
#include "policies/concurrency_limiter.h"
#include "policies/cost_tracker.h"
#include "policies/events.h"
#include "policies/health_monitor.h"
#include "policies/ports.h"
#include "policies/prefetcher.h"
#include "policies/quota_tracker.h"
#include "policies/request.h"
#include "policies/request_queue.h"
#include "policies/response_cache.h"
#include "policies/retry.h"
#include "policies/retry_budget.h"
#include "policies/status.h"
#include "policies/timeouts.h"
#include "policies/token_bucket.h"

namespace orchsim {

// Limits of one upstream API.
struct ApiPolicy {
  TokenBucketConfig bucket;
  QuotaConfig quota;
  // Credits one call is expected to cost, for the quota check before sending
  // (the real charge comes back in the response).
  double expected_credits_per_call = 1.0;
};

struct OrchestratorConfig {
  ApiPolicy default_api;                  // for apis without an entry below
  std::map<std::string, ApiPolicy> apis;  // by api name
  RequestQueueConfig queue;
  CoalescerConfig coalescer;
  BatcherConfig batcher;
  CacheConfig cache;
  PrefetchConfig prefetch;
  CircuitBreakerConfig breaker;
  RetryConfig retry;
  RetryBudgetConfig retry_budget;
  ConcurrencyLimitConfig concurrency;
  TimeoutConfig timeouts;
  HealthConfig health;
  CostConfig cost;

  // Every component's validate(), field names prefixed ("apis.odds.bucket.").
  Status validate() const;
  const ApiPolicy& ForApi(const std::string& api) const;
};

// Largest credits_charged one answer may report and be believed: a hostile or
// broken upstream must not turn the cost totals into inf or NaN.
inline constexpr double kMaxCreditsPerCall = 1e12;

// Counters the orchestrator keeps about itself (observers see more).
struct OrchestratorStats {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  std::array<uint64_t, kOutcomeCount> by_outcome{};
  uint64_t calls_sent = 0;
  uint64_t retries = 0;
  uint64_t retry_budget_denied = 0;
  uint64_t late_answers_discarded = 0;
  uint64_t prefetch_flights = 0;
  uint64_t probes_sent = 0;
  uint64_t batched_requests = 0;  // requests that rode in a batch call with others
  // Answers whose credits_charged was not a number in [0, kMaxCreditsPerCall]
  // (NaN, infinite, negative, absurd); such a charge is recorded as 0.
  uint64_t bad_credit_reports = 0;
};

class Orchestrator {
 public:
  using DoneFn = std::function<void(const Result&)>;

  // The ports must outlive the orchestrator. REQUIRES: config.validate().ok().
  Orchestrator(const OrchestratorConfig& config, Clock& clock, Timers& timers, Transport& transport,
               RandomSource& random);
  ~Orchestrator();
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // Takes a request; `done` is called exactly once with its outcome.
  // request.id must be unique among requests not yet completed.
  void Submit(Request request, DoneFn done);

  // Tells the prefetcher about a game (no-op when prefetching is off).
  void AddGame(const std::string& game_id, Instant kickoff);

  // See the header comment. `on_stopped` runs once, when the drain ends.
  void Shutdown(Duration drain_timeout, std::function<void()> on_stopped);
  bool stopped() const { return stopped_; }

  // Observers are not owned and must outlive the orchestrator.
  void AddObserver(OrchestratorObserver* observer) { observers_.push_back(observer); }

  const OrchestratorStats& stats() const { return stats_; }
  size_t pending_requests() const { return requests_.size(); }
  const ResponseCache& cache() const { return cache_; }
  const BreakerRegistry& breakers() const { return breakers_; }
  const CostTracker& cost() const { return cost_; }
  const HealthMonitor& health() const { return health_; }
  const ConcurrencyLimiter& concurrency() const { return concurrency_; }
  // Nullptr before the first request to `api`.
  const QuotaTracker* quota(const std::string& api) const;
  const TokenBucket* bucket(const std::string& api) const;

 private:
  struct RequestState;
  struct Flight;
  struct ApiState;

  ApiState& Api(const std::string& api);
  void StartFlight(uint64_t leader_id);
  void OnBatch(Batch batch);
  uint64_t NewFlight(const std::string& api, const std::string& endpoint, CallKind kind,
                     Priority priority, std::optional<Instant> game_start);
  void Enqueue(uint64_t flight_id);
  bool HasLiveMembers(const Flight& flight) const;
  void Dispatch(const std::string& api);
  void ArmWake(ApiState& api, Instant at);
  void Send(Flight& flight, ApiState& api);
  void OnAnswer(uint64_t flight_id, uint64_t call_id, const Response& response);
  void OnAttemptTimeout(uint64_t flight_id, uint64_t call_id);
  // response.credits_charged if believable, else 0 (counted in stats).
  double BelievableCredits(const Response& response);
  void FinishAttempt(Flight& flight, const Response& response, bool timed_out);
  void EndFlight(uint64_t flight_id, Outcome leader_outcome, const Response* response);
  void RejectFlight(uint64_t flight_id, Outcome outcome);
  void DropFlight(uint64_t flight_id);
  void OnRequestDeadline(uint64_t request_id);
  // `sent_at`: when the request's flight first went upstream (Max if never);
  // the queue wait is measured up to it.
  void Complete(uint64_t request_id, Outcome outcome, int status, uint64_t version,
                Instant fetched_at, Instant sent_at);
  bool TryServeStale(uint64_t request_id, int status, Instant sent_at);
  void ScheduleProbe(ApiState& api);
  void SubmitPrefetch(Request request);
  void MaybeFinishDrain();
  void FinishShutdown();

  OrchestratorConfig config_;
  Clock& clock_;
  Timers& timers_;
  Transport& transport_;
  RandomSource& random_;

  ResponseCache cache_;
  Coalescer coalescer_;
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<Prefetcher> prefetcher_;
  BreakerRegistry breakers_;
  RetryPolicy retry_policy_;
  RetryBudget retry_budget_;
  ConcurrencyLimiter concurrency_;
  HealthMonitor health_;
  CostTracker cost_;

  std::unordered_map<uint64_t, RequestState> requests_;
  std::unordered_map<uint64_t, Flight> flights_;
  // Canonical key -> the flight that will answer it (coalescing target).
  std::unordered_map<std::string, uint64_t> flight_of_key_;
  // Calls sent and not yet answered, for observers of late answers.
  std::unordered_map<uint64_t, UpstreamCall> pending_calls_;
  std::map<std::string, std::unique_ptr<ApiState>> apis_;
  std::vector<OrchestratorObserver*> observers_;
  OrchestratorStats stats_;
  uint64_t next_flight_id_ = 1;
  uint64_t next_call_id_ = 1;
  uint64_t next_internal_request_id_ = 1ULL << 62;  // prefetch ids stay apart
  bool shutting_down_ = false;
  bool stopped_ = false;
  bool finishing_ = false;
  Timers::TimerId drain_timer_ = 0;
  std::function<void()> on_stopped_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_ORCHESTRATOR_H_
