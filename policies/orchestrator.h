// orchestrator.h — the orchestration core: every policy composed in front of
// the upstream APIs, behind the Clock / Timers / Transport / RandomSource ports.
//
// The pipeline, in order (every stage can be switched off by configuration,
// per API and endpoint: orchestrator_config.h):
//   1. intake      after Shutdown() begins, new requests end as kCancelled
//   2. cache       a fresh entry answers at once (kCacheHit)
//   3. coalesce    an identical request (same RequestKey) already queued or
//                  in flight: attach to it and share its answer (kCoalesced);
//                  a more urgent duplicate raises the pending one's priority
//   4. batch       batchable requests of one api/endpoint wait up to the
//                  batch window and leave as one flight. The batcher sits
//                  before the queue (not after the limiter) so that a batch
//                  spends one token and one quota check, not one per member
//   5. queue       a priority queue per api (escalation, capacity, shedding)
//   6. admission   per api, for the most urgent flight (api_admission.h):
//                  breaker (open -> stale fallback or kRejectedCircuitOpen),
//                  quota tracker (wait, or kRejectedQuota when it cannot
//                  admit before the flight's deadline), token bucket
//                  (reserves per priority), bulkhead (max in flight)
//   7. transport   one upstream call per attempt of a flight (plus hedges
//                  after the hedge delay), each with a per-attempt timeout
//                  capped by the request's deadline, which the call carries
//                  (deadline propagation); on timeout the call is cancelled
//                  and keeps its bulkhead slot until the transport confirms;
//                  the first good answer wins and cancels the others
//   8. outcome     success: cache fill (payload bytes included), kServed /
//                  kCoalesced. Failure: retry with backoff if retryable,
//                  within max attempts, the api's retry throttling and
//                  retry budget, and if it fits before the deadline; else
//                  stale-if-error (kServedStale) or kFailed
// Overload (per api, off by default): adaptive throttling rejects a call at
// admission (kRejectedThrottled, or stale) while the upstream refuses most
// calls; adaptive concurrency resizes the bulkhead from measured latency.
// Prefetch flights (from the Prefetcher) enter at stage 5 with priority
// PREFETCH and, with reserves configured, spend only spare tokens; they answer
// no client. Active health probes are calls of kind kProbe outside the queue.
//
// The invariant: every submitted request ends in exactly one Outcome,
// reported once through its callback; the sum over outcomes equals the number
// of requests submitted. Callbacks may run synchronously inside Submit (cache
// hits, rejections) or later from a Timers/Transport callback. Results carry
// the upstream's body (shared, never copied per waiter): a cache hit, a
// coalesced or a stale answer hands out the same bytes the upstream sent.
//
// Time: timers, deadlines and waits use Clock::now() (monotonic). Wall
// instants (Request::game_start, AddGame's kickoff, quota resets and
// Retry-After dates in headers) are converted to the monotonic timeline when
// they arrive.
//
// Shutdown(drain): stops intake and prefetching, flushes batches, lets queued
// and in-flight work finish until `drain` has passed, then ends everything
// still pending as kCancelled, cancels the calls still outstanding and calls
// `on_stopped`. Nothing completes after that; late answers and cancellation
// confirmations are discarded (observers see them as late).
//
// Lifetime: the ports and observers must outlive the orchestrator. Destroy
// it only when the transport will deliver no more callbacks for it: after
// stopped() and calls_in_flight() == 0, or once the transport is stopped.
// Thread rules: single-threaded; call it from the host's event loop only.
#ifndef ORCHSIM_POLICIES_ORCHESTRATOR_H_
#define ORCHSIM_POLICIES_ORCHESTRATOR_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/api_admission.h"
#include "policies/batcher.h"
#include "policies/circuit_breaker.h"
#include "policies/coalescer.h"
#include "policies/cost_tracker.h"
#include "policies/events.h"
#include "policies/health_monitor.h"
#include "policies/id_table.h"
#include "policies/orchestrator_config.h"
#include "policies/ports.h"
#include "policies/prefetcher.h"
#include "policies/request.h"
#include "policies/request_key.h"
#include "policies/response_cache.h"
#include "policies/status.h"

namespace orchsim {

// Counters the orchestrator keeps about itself (observers see more).
struct OrchestratorStats {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  std::array<uint64_t, kOutcomeCount> by_outcome{};
  uint64_t calls_sent = 0;
  uint64_t calls_cancelled = 0;  // calls the core abandoned and asked the transport to cancel
  uint64_t retries = 0;
  uint64_t retry_budget_denied = 0;
  uint64_t retries_throttled = 0;  // retries retry throttling refused
  uint64_t hedges = 0;
  uint64_t hedges_denied = 0;  // hedges a closed gate, retry throttling or the budget refused
  // Transport callbacks for calls the core no longer waited for (answers
  // after a timeout, cancellation confirmations, anything after stop) and
  // for calls it never sent or that were already answered (a broken
  // transport's duplicates).
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

  // The orchestrator for `config`, or the Status naming the first invalid
  // setting (config.validate()). The ports must outlive it.
  static StatusOr<std::unique_ptr<Orchestrator>> Create(const OrchestratorConfig& config,
                                                        Clock& clock, Timers& timers,
                                                        Transport& transport, RandomSource& random);
  ~Orchestrator();
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // Takes a request; `done` is called exactly once with its outcome.
  // request.id must be unique among requests not yet completed.
  void Submit(Request request, DoneFn done);

  // Tells the prefetcher about a game kicking off at `kickoff` (wall time);
  // no-op when prefetching is off.
  void AddGame(const std::string& game_id, Instant kickoff);

  // See the header comment. `on_stopped` runs once, when the drain ends.
  void Shutdown(Duration drain_timeout, std::function<void()> on_stopped);
  bool stopped() const { return stopped_; }

  // Observers are not owned and must outlive the orchestrator.
  void AddObserver(OrchestratorObserver* observer) { observers_.push_back(observer); }

  const OrchestratorConfig& config() const { return config_; }
  const OrchestratorStats& stats() const { return stats_; }
  size_t pending_requests() const { return requests_.size(); }
  // Calls sent whose transport callback has not come yet (abandoned ones
  // included: they still hold their bulkhead slot).
  size_t calls_in_flight() const { return calls_.size(); }
  const ResponseCache& cache() const { return cache_; }
  const BreakerRegistry& breakers() const { return breakers_; }
  const CostTracker& cost() const { return cost_; }
  const HealthMonitor& health() const { return health_; }
  // Per API; nullptr before the first request to `api`.
  const QuotaTracker* quota(std::string_view api) const;
  const TokenBucket* bucket(std::string_view api) const;
  const ConcurrencyLimiter* bulkhead(std::string_view api) const;
  const RetryBudget* retry_budget(std::string_view api) const;

 private:
  struct ApiState;
  struct EndpointState;
  struct RequestState;
  struct Flight;
  struct Call;

  Orchestrator(const OrchestratorConfig& config, Clock& clock, Timers& timers, Transport& transport,
               RandomSource& random);

  // ---- per-API and per-endpoint state, built on first use
  ApiState& Api(std::string_view api);
  EndpointState& Endpoint(ApiState& api, std::string_view endpoint);
  // The endpoint `key` belongs to, in one hash lookup (Api + Endpoint on
  // first use).
  EndpointState& EndpointFor(const RequestKey& key);
  const ApiState* FindApi(std::string_view api) const;

  // ---- intake
  void SubmitPrefetch(Request request);
  void StartFlight(uint64_t leader_id);
  void OnBatch(Batch batch);
  uint64_t NewFlight(EndpointState& endpoint, CallKind kind, Priority priority,
                     std::optional<Instant> game_start);
  void Enqueue(uint64_t flight_id);

  // ---- dispatch and the flight's attempts
  bool HasLiveMembers(const Flight& flight) const;
  void Dispatch(ApiState& api);
  void ArmWake(ApiState& api, Instant at);
  // A new attempt (first or retry): its call, then its hedges' timer.
  void SendAttempt(Flight& flight);
  void SendCall(Flight& flight, CallKind kind);
  // Hands `call` (in calls_[call_id]) to the transport.
  void Send(uint64_t call_id, const UpstreamCall& call);
  // Releases an entry of calls_, later when a Send is under way.
  void ReleaseCall(const IdTable<Call>::Detached& detached);
  void ArmHedge(Flight& flight);
  void OnHedgeTimer(uint64_t flight_id);
  void OnTransportCallback(uint64_t call_id, const Response& response);
  void OnAttemptTimeout(uint64_t call_id);
  // One call of the flight's attempt answered (or timed out): the attempt
  // ends with its first good answer or its last failure.
  void OnCallResult(Flight& flight, uint64_t call_id, Instant sent_at, const Response& response,
                    bool timed_out);
  // Marks the call abandoned and asks the transport to cancel it.
  void AbandonCall(uint64_t call_id);
  // response.credits_charged if believable, else 0 (counted in stats).
  double BelievableCredits(const Response& response);
  void FinishAttempt(Flight& flight, const Response& response);
  void ScheduleRetry(Flight& flight, const Response& response);

  // ---- endings
  void EndFlight(uint64_t flight_id, Outcome leader_outcome, const Response* response);
  void OnRequestDeadline(uint64_t request_id);
  // When the request's flight first went upstream (Max if it never did).
  Instant FirstSentAt(const RequestState& state) const;
  // `sent_at`: when the request's flight first went upstream (Max if never);
  // the queue wait is measured up to it.
  void Complete(uint64_t request_id, Outcome outcome, int status, uint64_t version, BodyPtr body,
                Instant fetched_at, Instant sent_at);
  bool TryServeStale(uint64_t request_id, int status, Instant sent_at);

  // ---- probes and shutdown
  void ScheduleProbe(ApiState& api);
  void SendProbe(ApiState& api);
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
  HealthMonitor health_;
  CostTracker cost_;

  std::map<std::string, std::unique_ptr<ApiState>, std::less<>> apis_;
  // Endpoints by the (api, endpoint) part of a RequestKey's encoding.
  struct ScopeHash {
    using is_transparent = void;
    size_t operator()(std::string_view scope) const { return std::hash<std::string_view>{}(scope); }
  };
  std::unordered_map<std::string, EndpointState*, ScopeHash, std::equal_to<>> endpoint_by_scope_;
  // Scopes EndpointFor found lately (keys of endpoint_by_scope_) and their
  // endpoints, direct-mapped by ScopeSlot: requests to a few endpoints
  // interleave (a season's APIs, a benchmark's round robin), and a compare of
  // a few bytes is cheaper than hashing the scope. Empty slots hold nullptr.
  struct RecentScope {
    const std::string* scope = nullptr;
    EndpointState* endpoint = nullptr;
  };
  static constexpr size_t kRecentScopes = 8;  // a power of two
  std::array<RecentScope, kRecentScopes> recent_scopes_{};
  // Recycled entries (id_table.h): a request's path allocates no node.
  IdTable<RequestState> requests_;
  IdTable<Flight> flights_;
  IdTable<Call> calls_;  // sent, transport callback not yet come
  int sending_ = 0;      // depth of transport_.Send calls under way
  // Calls answered from inside transport_.Send (a transport breaking its
  // contract): released once Send has returned.
  std::vector<IdTable<Call>::Detached> released_during_send_;
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
