#include "policies/orchestrator.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "policies/timeouts.h"

namespace orchsim {

// ---------------------------------------------------------------- state

// One endpoint of an API: its resolved call policy and what is built from it.
struct Orchestrator::EndpointState {
  EndpointState(ApiState& api_state, std::string endpoint_name, const CallPolicy& call_policy,
                CircuitBreaker& endpoint_breaker)
      : api(api_state),
        name(std::move(endpoint_name)),
        policy(call_policy),
        cache(call_policy.cache),
        retry(call_policy.retry),
        breaker(endpoint_breaker) {}
  ApiState& api;
  std::string name;
  const CallPolicy& policy;  // in config_, which never changes
  CachePolicy cache;
  RetryPolicy retry;
  CircuitBreaker& breaker;  // the API's, or the endpoint's own
  std::string batch_group;  // the batcher's group: one per endpoint
  CostTracker::LineRef cost_line;
};

// One upstream API: its admission gates, its queue and its endpoints.
struct Orchestrator::ApiState {
  ApiState(std::string api_name, const ApiPolicy& api_policy,
           const RequestQueueConfig& queue_config, Instant now)
      : name(std::move(api_name)),
        policy(api_policy),
        admission(api_policy, now),
        queue(queue_config) {}
  std::string name;
  const ApiPolicy& policy;  // in config_, which never changes
  ApiAdmission admission;
  RequestQueue queue;
  std::map<std::string, std::unique_ptr<EndpointState>, std::less<>> endpoints;
  Timers::TimerId wake_timer = 0;
  Instant wake_at = Instant::Max();
  Timers::TimerId probe_timer = 0;
  bool dispatching = false;
  HealthMonitor::ApiRef health;
};

struct Orchestrator::RequestState {
  Request request;
  DoneFn done;
  RequestKey key;
  EndpointState* endpoint = nullptr;
  std::optional<Instant> game_start;  // monotonic
  Instant deadline = Instant::Max();
  Timers::TimerId deadline_timer = 0;
  uint64_t flight_id = 0;  // a leader's flight, once it has one
  bool follower = false;
  bool internal = false;  // prefetch: answers no client
  bool in_batcher = false;
  int attempts = 0;

  // Ready for a new request; what its strings and key hold is kept (the
  // table recycles states so a request's path allocates nothing for them).
  void Reuse() {
    done = nullptr;
    endpoint = nullptr;
    game_start.reset();
    deadline = Instant::Max();
    deadline_timer = 0;
    flight_id = 0;
    follower = false;
    internal = false;
    in_batcher = false;
    attempts = 0;
  }
};

// The work of answering one or more keys with upstream calls: its attempts,
// their timer, the backoff between them and the requests waiting on it.
struct Orchestrator::Flight {
  uint64_t id = 0;
  EndpointState* endpoint = nullptr;
  std::vector<RequestKey> keys;  // unique keys carried by the call
  // Leading requests and the index of their key in `keys`.
  std::vector<std::pair<uint64_t, size_t>> members;
  CallKind kind = CallKind::kFirstAttempt;
  Priority priority = Priority::kNormal;
  std::optional<Instant> game_start;  // monotonic
  Instant latest_deadline = Instant::Epoch();
  Instant first_sent_at = Instant::Max();
  int attempts = 0;
  // The calls of the current attempt still out: the attempt's call and its
  // hedges. Empty while queued or backing off.
  std::vector<uint64_t> calls;
  int hedges = 0;  // hedges sent for the current attempt
  Timers::TimerId hedge_timer = 0;
  Timers::TimerId backoff_timer = 0;
  std::unique_ptr<Backoff> backoff;

  // Ready for a new flight; the vectors keep their storage (and `keys` its
  // elements' strings: callers resize and assign).
  void Reuse() {
    endpoint = nullptr;
    members.clear();
    kind = CallKind::kFirstAttempt;
    priority = Priority::kNormal;
    game_start.reset();
    latest_deadline = Instant::Epoch();
    first_sent_at = Instant::Max();
    attempts = 0;
    calls.clear();
    hedges = 0;
    hedge_timer = 0;
    backoff_timer = 0;
    backoff.reset();
  }
};

// An upstream call the transport has not called back for yet. Recycled by
// calls_: `call` keeps its strings' and keys' storage for the next call.
struct Orchestrator::Call {
  UpstreamCall call;
  // The endpoint whose names call.api and call.endpoint hold (nullptr: none
  // or a probe's): a recycled entry sent to the same endpoint again needs no
  // string copies (an endpoint's names never change).
  const EndpointState* names_of = nullptr;
  ApiState* api = nullptr;
  EndpointState* endpoint = nullptr;  // nullptr: a health probe
  uint64_t flight_id = 0;             // 0: a health probe
  Transport::CallHandle handle = 0;
  Instant sent_at;
  Timers::TimerId attempt_timer = 0;
  bool holds_slot = false;  // admitted through the bulkhead
  bool abandoned = false;   // the core no longer waits for it (cancelled)
};

// ---------------------------------------------------------------- setup

StatusOr<std::unique_ptr<Orchestrator>> Orchestrator::Create(const OrchestratorConfig& config,
                                                             Clock& clock, Timers& timers,
                                                             Transport& transport,
                                                             RandomSource& random) {
  const Status status = config.validate();
  if (!status.ok()) return status;
  return std::unique_ptr<Orchestrator>(new Orchestrator(config, clock, timers, transport, random));
}

Orchestrator::Orchestrator(const OrchestratorConfig& config, Clock& clock, Timers& timers,
                           Transport& transport, RandomSource& random)
    : config_(config),
      clock_(clock),
      timers_(timers),
      transport_(transport),
      random_(random),
      cache_(config.cache_store),
      coalescer_(CoalescerConfig{}),  // whether to share is each endpoint's choice
      health_(config.health),
      cost_(config.cost) {
  batcher_ = std::make_unique<Batcher>(config_.defaults.batcher, timers_,
                                       [this](Batch batch) { OnBatch(std::move(batch)); });
  prefetcher_ = std::make_unique<Prefetcher>(config_.prefetch, timers_,
                                             [this](Request r) { SubmitPrefetch(std::move(r)); });
  breakers_.set_transition_listener([this](const BreakerTransition& t) {
    for (OrchestratorObserver* o : observers_) o->OnBreakerTransition(t);
  });
  health_.set_change_listener(
      [this](const std::string& api, HealthState from, HealthState to, Instant at) {
        for (OrchestratorObserver* o : observers_) o->OnHealthChanged(api, from, to, at);
      });
}

Orchestrator::~Orchestrator() = default;

Orchestrator::ApiState& Orchestrator::Api(std::string_view api) {
  auto it = apis_.find(api);
  if (it != apis_.end()) return *it->second;
  auto state = std::make_unique<ApiState>(std::string(api), config_.ForApi(api), config_.queue,
                                          clock_.now());
  ApiState& ref = *state;
  apis_.emplace(ref.name, std::move(state));
  ScheduleProbe(ref);
  return ref;
}

Orchestrator::EndpointState& Orchestrator::Endpoint(ApiState& api, std::string_view endpoint) {
  auto it = api.endpoints.find(endpoint);
  if (it != api.endpoints.end()) return *it->second;
  const CallPolicy& policy = api.policy.ForEndpoint(endpoint);
  // The API's breaker, unless this endpoint's settings call for its own.
  const bool own_breaker = policy.breaker.per_endpoint || !(policy.breaker == api.policy.breaker);
  CircuitBreaker& breaker = own_breaker
                                ? breakers_.For(BreakerName(api.name, endpoint), policy.breaker)
                                : breakers_.For(BreakerName(api.name), api.policy.breaker);
  auto state = std::make_unique<EndpointState>(api, std::string(endpoint), policy, breaker);
  state->batch_group = RequestKey(api.name, endpoint, "").encoded();
  EndpointState& ref = *state;
  api.endpoints.emplace(ref.name, std::move(state));
  return ref;
}

namespace {

// Where EndpointFor looks for `scope` among its recent scopes: a mix of the
// length and two bytes (the end of the endpoint name, and the middle), enough
// to tell a handful of endpoints apart without hashing the whole scope. Any
// value is correct (a hit is confirmed by comparing the scope); a collision
// only costs the hash lookup. REQUIRES: !scope.empty().
inline size_t ScopeSlot(std::string_view scope, size_t slots) {
  const size_t n = scope.size();
  return (n * 7 + static_cast<unsigned char>(scope[n - 1]) * 3 +
          static_cast<unsigned char>(scope[n / 2])) &
         (slots - 1);
}

}  // namespace

Orchestrator::EndpointState& Orchestrator::EndpointFor(const RequestKey& key) {
  // The encoding up to the key names (api, endpoint) unambiguously (and is
  // never empty: it holds the two lengths).
  const std::string_view scope =
      std::string_view(key.encoded()).substr(0, key.encoded().size() - key.key().size());
  // The remembered scope is the map's own key, never copied.
  RecentScope& recent = recent_scopes_[ScopeSlot(scope, kRecentScopes)];
  if (recent.scope != nullptr && scope == *recent.scope) return *recent.endpoint;
  auto it = endpoint_by_scope_.find(scope);
  if (it == endpoint_by_scope_.end()) {
    EndpointState& endpoint = Endpoint(Api(key.api()), key.endpoint());
    it = endpoint_by_scope_.emplace(std::string(scope), &endpoint).first;
  }
  recent.scope = &it->first;  // unordered_map keys stay put through rehashing
  recent.endpoint = it->second;
  return *it->second;
}

const Orchestrator::ApiState* Orchestrator::FindApi(std::string_view api) const {
  auto it = apis_.find(api);
  return it == apis_.end() ? nullptr : it->second.get();
}

const QuotaTracker* Orchestrator::quota(std::string_view api) const {
  const ApiState* state = FindApi(api);
  return state == nullptr ? nullptr : &state->admission.quota();
}

const TokenBucket* Orchestrator::bucket(std::string_view api) const {
  const ApiState* state = FindApi(api);
  return state == nullptr ? nullptr : &state->admission.bucket();
}

const ConcurrencyLimiter* Orchestrator::bulkhead(std::string_view api) const {
  const ApiState* state = FindApi(api);
  return state == nullptr ? nullptr : &state->admission.bulkhead();
}

const RetryBudget* Orchestrator::retry_budget(std::string_view api) const {
  const ApiState* state = FindApi(api);
  return state == nullptr ? nullptr : &state->admission.retry_budget();
}

// ---------------------------------------------------------------- intake

void Orchestrator::Submit(Request request, DoneFn done) {
  const Instant now = clock_.now();
  ++stats_.submitted;
  request.submitted_at = now;
  for (OrchestratorObserver* o : observers_) o->OnSubmitted(request, now);
  const uint64_t id = request.id;
  RequestState* inserted = requests_.Insert(id);
  if (inserted == nullptr) {
    // Two live requests with one id is the caller's bug; end the newcomer
    // without disturbing the live one.
    assert(false && "duplicate request id");
    Result result;
    result.outcome = Outcome::kFailed;
    ++stats_.completed;
    ++stats_.by_outcome[static_cast<int>(Outcome::kFailed)];
    for (OrchestratorObserver* o : observers_) o->OnCompleted(request, result, now);
    done(result);
    return;
  }
  RequestState& state = *inserted;
  state.Reuse();
  state.key.Assign(request.api, request.endpoint, request.key);
  state.endpoint = &EndpointFor(state.key);
  if (request.game_start) state.game_start = ToMonotonic(clock_, *request.game_start);
  state.request = std::move(request);
  state.done = std::move(done);
  if (shutting_down_) {
    Complete(id, Outcome::kCancelled, 0, 0, nullptr, Instant::Epoch(), Instant::Max());
    return;
  }
  EndpointState& endpoint = *state.endpoint;
  state.deadline = OverallDeadline(endpoint.policy.timeouts, now, state.request.deadline);
  if (state.deadline <= now) {
    Complete(id, Outcome::kTimedOut, 0, 0, nullptr, Instant::Epoch(), Instant::Max());
    return;
  }
  if (state.request.cacheable) {
    auto [lookup, entry] = cache_.Get(state.key, endpoint.cache, now);
    if (lookup == CacheLookup::kFresh) {
      // Answered at once: no deadline timer was needed.
      Complete(id, Outcome::kCacheHit, 200, entry->payload_version, entry->body, entry->fetched_at,
               Instant::Max());
      return;
    }
  }
  if (state.deadline != Instant::Max()) {
    state.deadline_timer =
        timers_.ScheduleAt(state.deadline, [this, id] { OnRequestDeadline(id); });
  }
  if (endpoint.policy.coalescer.enabled) {
    const JoinResult join = coalescer_.Join(state.key, id, state.request.priority);
    if (!join.leader) {
      state.follower = true;
      if (Flight* found = flights_.Find(join.flight)) {
        Flight& flight = *found;
        flight.latest_deadline = std::max(flight.latest_deadline, state.deadline);
        if (join.raised && AtLeast(join.flight_priority, flight.priority) &&
            join.flight_priority != flight.priority && flight.calls.empty()) {
          flight.priority = join.flight_priority;
          ApiState& api = flight.endpoint->api;
          api.queue.Raise(flight.id, join.flight_priority, now);
          Dispatch(api);
        }
      }
      return;
    }
  }
  StartFlight(id);
}

void Orchestrator::SubmitPrefetch(Request request) {
  if (shutting_down_) return;
  const Instant now = clock_.now();
  const RequestKey key = request.identity();
  EndpointState& endpoint = Endpoint(Api(request.api), request.endpoint);
  if (cache_.Get(key, endpoint.cache, now).first == CacheLookup::kFresh) return;
  const bool coalescing = endpoint.policy.coalescer.enabled;
  if (coalescing && coalescer_.InFlight(key)) return;
  const uint64_t id = next_internal_request_id_++;
  request.id = id;
  request.submitted_at = now;
  request.priority = Priority::kPrefetch;
  request.batchable = false;
  RequestState& state = *requests_.Insert(id);  // internal ids are fresh
  state.Reuse();
  state.key = key;
  state.endpoint = &endpoint;
  state.game_start = request.game_start;  // the prefetcher works on the monotonic timeline
  state.deadline = request.deadline;      // kickoff, when deadline_at_kickoff
  state.request = std::move(request);
  state.internal = true;
  if (coalescing) coalescer_.Join(key, id, Priority::kPrefetch);
  ++stats_.prefetch_flights;
  StartFlight(id);
}

void Orchestrator::AddGame(const std::string& game_id, Instant kickoff) {
  if (!shutting_down_) {
    prefetcher_->AddGame(game_id, ToMonotonic(clock_, kickoff), clock_.now());
  }
}

void Orchestrator::StartFlight(uint64_t leader_id) {
  RequestState& state = *requests_.Find(leader_id);
  const Request& r = state.request;
  EndpointState& endpoint = *state.endpoint;
  if (r.batchable && endpoint.policy.batcher.enabled && !state.internal) {
    state.in_batcher = true;
    batcher_->Add(endpoint.policy.batcher, endpoint.batch_group, leader_id, r.key, clock_.now());
    return;
  }
  const uint64_t flight_id =
      NewFlight(endpoint, state.internal ? CallKind::kPrefetch : CallKind::kFirstAttempt,
                r.priority, state.game_start);
  Flight& flight = *flights_.Find(flight_id);
  flight.keys.resize(1);
  flight.keys[0] = state.key;  // reuses the recycled key's storage
  flight.members.emplace_back(leader_id, 0);
  flight.latest_deadline = state.deadline;
  state.flight_id = flight_id;
  if (endpoint.policy.coalescer.enabled) coalescer_.Attach(state.key, flight_id);
  Enqueue(flight_id);
}

void Orchestrator::OnBatch(Batch batch) {
  if (batch.request_ids.empty()) return;
  // Members that timed out while batching were removed from the batcher.
  const RequestState& first = *requests_.Find(batch.request_ids.front());
  EndpointState& endpoint = *first.endpoint;
  const uint64_t flight_id =
      NewFlight(endpoint, batch.keys.size() > 1 ? CallKind::kBatch : CallKind::kFirstAttempt,
                first.request.priority, first.game_start);
  Flight& flight = *flights_.Find(flight_id);
  flight.keys.resize(batch.keys.size());
  for (size_t i = 0; i < batch.keys.size(); ++i) {
    flight.keys[i].Assign(endpoint.api.name, endpoint.name, batch.keys[i]);
  }
  for (uint64_t id : batch.request_ids) {
    RequestState& state = *requests_.Find(id);
    state.in_batcher = false;
    state.flight_id = flight_id;
    const size_t index = static_cast<size_t>(
        std::find(batch.keys.begin(), batch.keys.end(), state.request.key) - batch.keys.begin());
    flight.members.emplace_back(id, index);
    if (AtLeast(state.request.priority, flight.priority)) flight.priority = state.request.priority;
    flight.latest_deadline = std::max(flight.latest_deadline, state.deadline);
    if (state.game_start && (!flight.game_start || *state.game_start < *flight.game_start)) {
      flight.game_start = state.game_start;
    }
    if (endpoint.policy.coalescer.enabled) coalescer_.Attach(state.key, flight_id);
  }
  if (batch.request_ids.size() > 1) stats_.batched_requests += batch.request_ids.size();
  Enqueue(flight_id);
}

uint64_t Orchestrator::NewFlight(EndpointState& endpoint, CallKind kind, Priority priority,
                                 std::optional<Instant> game_start) {
  const uint64_t id = next_flight_id_++;
  Flight& flight = *flights_.Insert(id);  // flight ids are fresh
  flight.Reuse();
  flight.id = id;
  flight.endpoint = &endpoint;
  flight.kind = kind;
  flight.priority = priority;
  flight.game_start = game_start;
  return id;
}

void Orchestrator::Enqueue(uint64_t flight_id) {
  Flight& flight = *flights_.Find(flight_id);
  ApiState& api = flight.endpoint->api;
  const PushResult pushed =
      api.queue.Push(flight_id, flight.priority, clock_.now(), flight.game_start);
  // A refused push names the incoming flight as shed; an accepted one may
  // have pushed out a queued flight of a less urgent class.
  if (!pushed.accepted) {
    EndFlight(flight_id, Outcome::kShed, nullptr);
    return;
  }
  if (pushed.shed_id) EndFlight(*pushed.shed_id, Outcome::kShed, nullptr);
  Dispatch(api);
}

// ---------------------------------------------------------------- dispatch

bool Orchestrator::HasLiveMembers(const Flight& flight) const {
  if (flight.kind == CallKind::kPrefetch) return true;
  for (const auto& [id, index] : flight.members) {
    if (requests_.contains(id)) return true;
  }
  if (flight.endpoint->policy.coalescer.enabled) {
    for (const RequestKey& key : flight.keys) {
      if (coalescer_.followers(key) > 0) return true;
    }
  }
  return false;
}

void Orchestrator::Dispatch(ApiState& api) {
  if (stopped_) return;
  if (api.dispatching) return;  // a completion inside this loop re-entered
  api.dispatching = true;
  for (;;) {
    const Instant now = clock_.now();
    // In place: the queue is not changed until the Pop below.
    const QueueEntry* entry = api.queue.Front(now);
    if (entry == nullptr) break;
    Flight& flight = *flights_.Find(entry->id);
    if (entry->current != flight.priority && AtLeast(entry->current, flight.priority)) {
      flight.priority = entry->current;  // escalated while waiting
    }
    if (!HasLiveMembers(flight)) {
      // No member is waiting any more: end it without a call.
      api.queue.PopFront(now);
      EndFlight(flight.id, Outcome::kCancelled, nullptr);
      continue;
    }
    const double credits = flight.endpoint->policy.expected_credits_per_call;
    const AdmissionDecision decision = api.admission.Check(
        flight.endpoint->breaker, flight.priority, credits, flight.latest_deadline, now);
    if (decision.verdict == AdmissionVerdict::kRejectOpen) {
      api.queue.PopFront(now);
      EndFlight(flight.id, Outcome::kRejectedCircuitOpen, nullptr);
      continue;
    }
    if (decision.verdict == AdmissionVerdict::kRejectQuota) {
      api.queue.PopFront(now);
      EndFlight(flight.id, Outcome::kRejectedQuota, nullptr);
      continue;
    }
    if (decision.verdict == AdmissionVerdict::kWait) {
      ArmWake(api, decision.wake_at);
      break;
    }
    if (decision.verdict == AdmissionVerdict::kWaitForSlot) break;  // a call's end wakes it
    api.queue.PopFront(now);
    if (!api.admission.PassThrottle(random_, now)) {
      EndFlight(flight.id, Outcome::kRejectedThrottled, nullptr);
      continue;
    }
    api.admission.Admit(flight.endpoint->breaker, flight.priority, credits, now);
    SendAttempt(flight);
  }
  api.dispatching = false;
}

void Orchestrator::ArmWake(ApiState& api, Instant at) {
  if (api.wake_timer != 0) {
    if (api.wake_at <= at) return;
    timers_.Cancel(api.wake_timer);
  }
  api.wake_at = at;
  ApiState* state = &api;  // ApiStates live as long as the orchestrator
  api.wake_timer = timers_.ScheduleAt(at, [this, state] {
    state->wake_timer = 0;
    state->wake_at = Instant::Max();
    Dispatch(*state);
  });
}

void Orchestrator::SendAttempt(Flight& flight) {
  const Instant now = clock_.now();
  ++flight.attempts;
  flight.hedges = 0;
  if (flight.first_sent_at == Instant::Max()) flight.first_sent_at = now;
  for (const auto& [id, index] : flight.members) {
    if (RequestState* state = requests_.Find(id)) ++state->attempts;
  }
  const CallKind kind = flight.attempts > 1 ? CallKind::kRetry : flight.kind;
  if (kind == CallKind::kRetry) {
    ++stats_.retries;
  } else {
    flight.endpoint->api.admission.RecordFirstAttempt(now);
  }
  SendCall(flight, kind);
  ArmHedge(flight);
}

void Orchestrator::SendCall(Flight& flight, CallKind kind) {
  const Instant now = clock_.now();
  EndpointState& endpoint = *flight.endpoint;
  ApiState& api = endpoint.api;
  const uint64_t call_id = next_call_id_++;
  flight.calls.push_back(call_id);
  // Built in place in its (recycled) entry: the transport gets it by
  // reference, so the call is neither copied nor allocated per send.
  Call& entry = *calls_.Insert(call_id);  // call ids are fresh
  UpstreamCall& call = entry.call;
  call.call_id = call_id;
  if (entry.names_of != &endpoint) {
    call.api = api.name;
    call.endpoint = endpoint.name;
    entry.names_of = &endpoint;
  }
  call.keys.resize(flight.keys.size());
  for (size_t i = 0; i < flight.keys.size(); ++i) call.keys[i] = flight.keys[i].key();
  call.kind = kind;
  call.priority = flight.priority;
  call.attempt = flight.attempts;
  call.deadline = AttemptDeadline(endpoint.policy.timeouts, now, flight.latest_deadline);
  entry.api = &api;
  entry.endpoint = &endpoint;
  entry.flight_id = flight.id;
  entry.handle = 0;
  entry.sent_at = now;
  entry.attempt_timer = 0;
  entry.holds_slot = true;
  entry.abandoned = false;
  ++stats_.calls_sent;
  if (call.deadline != Instant::Max()) {
    entry.attempt_timer =
        timers_.ScheduleAt(call.deadline, [this, call_id] { OnAttemptTimeout(call_id); });
  }
  for (OrchestratorObserver* o : observers_) o->OnCallSent(call, now);
  Send(call_id, call);
}

void Orchestrator::Send(uint64_t call_id, const UpstreamCall& call) {
  ++sending_;
  const Transport::CallHandle handle = transport_.Send(
      call, [this, call_id](const Response& response) { OnTransportCallback(call_id, response); });
  --sending_;
  // A transport that broke its contract may have called back already; then
  // the entry `call` lives in is released only now.
  if (Call* entry = calls_.Find(call_id)) entry->handle = handle;
  if (sending_ == 0) {
    for (const auto& detached : released_during_send_) calls_.Release(detached);
    released_during_send_.clear();
  }
}

void Orchestrator::ReleaseCall(const IdTable<Call>::Detached& detached) {
  if (sending_ > 0) {
    released_during_send_.push_back(detached);  // the transport may still read it
  } else {
    calls_.Release(detached);
  }
}

void Orchestrator::ArmHedge(Flight& flight) {
  const HedgeConfig& hedging = flight.endpoint->policy.hedging;
  if (!hedging.enabled || flight.hedges >= hedging.max_hedges || shutting_down_) return;
  const uint64_t flight_id = flight.id;
  flight.hedge_timer = timers_.ScheduleAt(clock_.now() + hedging.delay,
                                          [this, flight_id] { OnHedgeTimer(flight_id); });
}

void Orchestrator::OnHedgeTimer(uint64_t flight_id) {
  Flight* found = flights_.Find(flight_id);
  if (found == nullptr) return;
  Flight& flight = *found;
  flight.hedge_timer = 0;
  if (flight.calls.empty() || shutting_down_) return;
  const Instant now = clock_.now();
  ApiState& api = flight.endpoint->api;
  const double credits = flight.endpoint->policy.expected_credits_per_call;
  // A hedge goes only through open gates: it never waits, and it spends the
  // API's retry throttling and hedge budget like a retry would.
  if (api.admission
              .Check(flight.endpoint->breaker, flight.priority, credits, flight.latest_deadline,
                     now)
              .verdict != AdmissionVerdict::kSend ||
      !api.admission.retry_throttle().AllowRetry() ||
      !api.admission.hedge_budget().TryAcquireRetry(now)) {
    ++stats_.hedges_denied;
    return;
  }
  if (!api.admission.PassThrottle(random_, now)) {
    ++stats_.hedges_denied;
    return;
  }
  api.admission.Admit(flight.endpoint->breaker, flight.priority, credits, now);
  ++flight.hedges;
  ++stats_.hedges;
  SendCall(flight, CallKind::kHedge);
  ArmHedge(flight);
}

// ---------------------------------------------------------------- answers

void Orchestrator::OnTransportCallback(uint64_t call_id, const Response& response) {
  const IdTable<Call>::Detached detached = calls_.Detach(call_id);
  if (detached.value == nullptr) {
    ++stats_.late_answers_discarded;  // a duplicate, or a call never sent
    return;
  }
  // Released when this returns: sends from in here get other entries.
  struct Release {
    Orchestrator* self;
    const IdTable<Call>::Detached& detached;
    ~Release() { self->ReleaseCall(detached); }
  } release{this, detached};
  const Call& call = *detached.value;
  const Instant now = clock_.now();
  // The call has ended: its bulkhead slot is free again.
  if (call.holds_slot) call.api->admission.OnCallEnded();
  if (call.attempt_timer != 0) timers_.Cancel(call.attempt_timer);
  if (call.endpoint != nullptr) {
    cost_.RecordCall(call.endpoint->cost_line, call.call.api, call.call.endpoint,
                     BelievableCredits(response));
  } else {
    cost_.RecordCall(call.call.api, call.call.endpoint, BelievableCredits(response));
  }
  Flight* flight = nullptr;
  if (call.flight_id != 0 && !call.abandoned) flight = flights_.Find(call.flight_id);
  const bool late = stopped_ || (call.flight_id != 0 && flight == nullptr);
  for (OrchestratorObserver* o : observers_) o->OnCallAnswered(call.call, response, late, now);
  if (late) {
    ++stats_.late_answers_discarded;
    if (!stopped_) Dispatch(*call.api);  // the freed slot may admit a waiting flight
    return;
  }
  if (flight == nullptr) {  // a health probe
    health_.Record(call.api->health, call.api->name, response.ok(), now - call.sent_at, now);
    return;
  }
  call.api->admission.quota().Observe(response, now, clock_.wall_now());
  OnCallResult(*flight, call_id, call.sent_at, response, /*timed_out=*/false);
}

double Orchestrator::BelievableCredits(const Response& response) {
  const double credits = response.credits_charged;
  // NaN fails both comparisons; -0.0 is fine.
  if (credits >= 0.0 && credits <= kMaxCreditsPerCall) return credits;
  ++stats_.bad_credit_reports;
  return 0.0;
}

void Orchestrator::OnAttemptTimeout(uint64_t call_id) {
  Call* call = calls_.Find(call_id);
  if (call == nullptr || call->abandoned) return;
  call->attempt_timer = 0;
  const Instant sent_at = call->sent_at;
  Flight* flight = flights_.Find(call->flight_id);
  AbandonCall(call_id);
  if (flight == nullptr) return;
  Response timeout;
  timeout.status = kStatusTransportError;
  timeout.latency = clock_.now() - sent_at;
  OnCallResult(*flight, call_id, sent_at, timeout, /*timed_out=*/true);
}

void Orchestrator::AbandonCall(uint64_t call_id) {
  Call* call = calls_.Find(call_id);
  if (call == nullptr || call->abandoned) return;
  call->abandoned = true;
  if (call->attempt_timer != 0) timers_.Cancel(call->attempt_timer);
  call->attempt_timer = 0;
  ++stats_.calls_cancelled;
  transport_.Cancel(call->handle);
}

void Orchestrator::OnCallResult(Flight& flight, uint64_t call_id, Instant sent_at,
                                const Response& response, bool timed_out) {
  const Instant now = clock_.now();
  auto call = std::find(flight.calls.begin(), flight.calls.end(), call_id);
  if (call != flight.calls.end()) flight.calls.erase(call);
  EndpointState& endpoint = *flight.endpoint;
  const Duration latency = now - sent_at;
  endpoint.breaker.RecordResult(response.status, latency, now);
  health_.Record(endpoint.api.health, endpoint.api.name, response.ok(), latency, now);
  endpoint.api.admission.OnCallResult(response.status, latency, timed_out,
                                      !response.ok() && endpoint.retry.IsRetryable(response.status),
                                      now);
  if (!response.ok() && !flight.calls.empty()) return;  // a hedge may still answer
  if (flight.hedge_timer != 0) timers_.Cancel(flight.hedge_timer);
  flight.hedge_timer = 0;
  // The first good answer wins: the attempt's other calls are cancelled.
  for (uint64_t other : flight.calls) AbandonCall(other);
  flight.calls.clear();
  FinishAttempt(flight, response);
}

void Orchestrator::FinishAttempt(Flight& flight, const Response& response) {
  const Instant now = clock_.now();
  EndpointState& endpoint = *flight.endpoint;
  ApiState& api = endpoint.api;
  if (response.ok()) {
    for (size_t i = 0; i < flight.keys.size(); ++i) {
      bool cacheable = flight.kind == CallKind::kPrefetch;
      for (const auto& [id, index] : flight.members) {
        const RequestState* state = index == i ? requests_.Find(id) : nullptr;
        if (state != nullptr && state->request.cacheable) cacheable = true;
      }
      if (!cacheable) continue;
      const uint64_t version =
          i < response.payload_versions.size() ? response.payload_versions[i] : 0;
      BodyPtr body = i < response.bodies.size() ? response.bodies[i] : nullptr;
      cache_.Put(flight.keys[i], endpoint.cache, flight.game_start, version, std::move(body), now,
                 now);
    }
    EndFlight(flight.id, Outcome::kServed, &response);
  } else if (!shutting_down_ && endpoint.policy.retry.enabled &&
             endpoint.retry.ShouldRetry(response.status, flight.attempts) &&
             HasLiveMembers(flight)) {
    ScheduleRetry(flight, response);
  } else {
    EndFlight(flight.id, Outcome::kFailed, &response);
  }
  Dispatch(api);
}

void Orchestrator::ScheduleRetry(Flight& flight, const Response& response) {
  const Instant now = clock_.now();
  EndpointState& endpoint = *flight.endpoint;
  if (!endpoint.api.admission.retry_throttle().AllowRetry()) {
    ++stats_.retries_throttled;
    EndFlight(flight.id, Outcome::kFailed, &response);
    return;
  }
  if (!endpoint.api.admission.retry_budget().TryAcquireRetry(now)) {
    ++stats_.retry_budget_denied;
    for (const auto& [id, index] : flight.members) {
      const RequestState* state = requests_.Find(id);
      if (state != nullptr && !state->internal) {
        for (OrchestratorObserver* o : observers_) o->OnRetryBudgetDenied(state->request, now);
      }
    }
    EndFlight(flight.id, Outcome::kFailed, &response);
    return;
  }
  if (!flight.backoff) flight.backoff = std::make_unique<Backoff>(endpoint.policy.retry, random_);
  // Retry-After is wall time (seconds from now, or an HTTP-date).
  const Duration delay =
      endpoint.retry.DelayFor(response, *flight.backoff, flight.attempts, clock_.wall_now());
  // Deadline propagation: no retry that cannot finish in time.
  if (!AttemptFits(endpoint.policy.timeouts, now + delay, flight.latest_deadline)) {
    EndFlight(flight.id, Outcome::kFailed, &response);
    return;
  }
  for (const auto& [id, index] : flight.members) {
    const RequestState* state = requests_.Find(id);
    if (state != nullptr && !state->internal) {
      for (OrchestratorObserver* o : observers_) {
        o->OnRetryScheduled(state->request, flight.attempts + 1, delay, now);
      }
    }
  }
  const uint64_t flight_id = flight.id;
  flight.backoff_timer = timers_.ScheduleAt(now + delay, [this, flight_id] {
    Flight* f = flights_.Find(flight_id);
    if (f == nullptr) return;
    f->backoff_timer = 0;
    Enqueue(flight_id);
  });
}

// ---------------------------------------------------------------- endings

void Orchestrator::EndFlight(uint64_t flight_id, Outcome leader_outcome, const Response* response) {
  const IdTable<Flight>::Detached detached = flights_.Detach(flight_id);
  if (detached.value == nullptr) return;
  // Released when this returns: flights started from in here get other entries.
  struct Release {
    IdTable<Flight>& flights;
    const IdTable<Flight>::Detached& detached;
    ~Release() { flights.Release(detached); }
  } release{flights_, detached};
  Flight& flight = *detached.value;
  if (flight.hedge_timer != 0) timers_.Cancel(flight.hedge_timer);
  if (flight.backoff_timer != 0) timers_.Cancel(flight.backoff_timer);
  for (uint64_t call : flight.calls) AbandonCall(call);
  const Instant now = clock_.now();
  const bool success = leader_outcome == Outcome::kServed;
  const int status = response != nullptr ? response->status : 0;
  const bool coalescing = flight.endpoint->policy.coalescer.enabled;
  for (size_t i = 0; i < flight.keys.size(); ++i) {
    uint64_t version = 0;
    BodyPtr body;
    if (success && response != nullptr) {
      if (i < response->payload_versions.size()) version = response->payload_versions[i];
      if (i < response->bodies.size()) body = response->bodies[i];
    }
    std::vector<uint64_t> followers;
    if (coalescing) followers = coalescer_.Complete(flight.keys[i]);
    auto finish = [&](uint64_t id, Outcome success_outcome) {
      if (!requests_.contains(id)) return;
      if (success) {
        Complete(id, success_outcome, status, version, body, now, flight.first_sent_at);
      } else if ((leader_outcome == Outcome::kFailed ||
                  leader_outcome == Outcome::kRejectedCircuitOpen ||
                  leader_outcome == Outcome::kRejectedThrottled) &&
                 TryServeStale(id, status, flight.first_sent_at)) {
      } else {
        Complete(id, leader_outcome, status, 0, nullptr, Instant::Epoch(), flight.first_sent_at);
      }
    };
    for (const auto& [id, index] : flight.members) {
      if (index == i) finish(id, Outcome::kServed);
    }
    for (uint64_t id : followers) finish(id, Outcome::kCoalesced);
  }
  MaybeFinishDrain();
}

bool Orchestrator::TryServeStale(uint64_t request_id, int status, Instant sent_at) {
  const RequestState* state = requests_.Find(request_id);
  if (state == nullptr || !state->request.cacheable) return false;
  const CacheEntry* entry = cache_.GetStale(state->key, state->endpoint->cache, clock_.now());
  if (entry == nullptr) return false;
  Complete(request_id, Outcome::kServedStale, status, entry->payload_version, entry->body,
           entry->fetched_at, sent_at);
  return true;
}

Instant Orchestrator::FirstSentAt(const RequestState& state) const {
  const uint64_t flight_id = state.follower ? coalescer_.flight(state.key) : state.flight_id;
  const Flight* flight = flights_.Find(flight_id);
  return flight == nullptr ? Instant::Max() : flight->first_sent_at;
}

void Orchestrator::OnRequestDeadline(uint64_t request_id) {
  RequestState* found = requests_.Find(request_id);
  if (found == nullptr) return;
  RequestState& state = *found;
  state.deadline_timer = 0;
  // The queue wait ends when its flight first went upstream, not now: time
  // in flight is not waiting in the queue.
  const Instant sent_at = FirstSentAt(state);
  if (state.follower) {
    coalescer_.Leave(state.key, request_id);
  } else if (state.in_batcher) {
    batcher_->Remove(request_id);
  }
  // A leader's flight goes on for its followers; with none left, Dispatch
  // drops it before it spends a call.
  Complete(request_id, Outcome::kTimedOut, 0, 0, nullptr, Instant::Epoch(), sent_at);
  MaybeFinishDrain();
}

void Orchestrator::Complete(uint64_t request_id, Outcome outcome, int status, uint64_t version,
                            BodyPtr body, Instant fetched_at, Instant sent_at) {
  const IdTable<RequestState>::Detached detached = requests_.Detach(request_id);
  if (detached.value == nullptr) return;
  // Released when this returns: requests submitted from `done` get other
  // entries. The callback goes with it (what it captured is let go now).
  struct Release {
    IdTable<RequestState>& requests;
    const IdTable<RequestState>::Detached& detached;
    ~Release() {
      detached.value->done = nullptr;
      requests.Release(detached);
    }
  } release{requests_, detached};
  RequestState& state = *detached.value;
  if (state.deadline_timer != 0) timers_.Cancel(state.deadline_timer);
  if (state.internal) return;
  const Instant now = clock_.now();
  Result result;
  result.outcome = outcome;
  result.status = status;
  result.payload_version = version;
  result.body = std::move(body);
  result.fetched_at = fetched_at;
  const Instant waited_until = std::min(sent_at, now);
  result.queue_wait = std::max(Duration::Zero(), waited_until - state.request.submitted_at);
  result.attempts = state.attempts;
  ++stats_.completed;
  ++stats_.by_outcome[static_cast<int>(outcome)];
  for (OrchestratorObserver* o : observers_) o->OnCompleted(state.request, result, now);
  if (state.done) state.done(result);
}

// ---------------------------------------------------------------- probes

void Orchestrator::ScheduleProbe(ApiState& api) {
  if (!config_.health.enabled || !config_.health.active_probes || shutting_down_) return;
  // ApiStates live as long as the orchestrator, so the tick (once a probe
  // interval for every API, the most frequent timer of a season) captures the
  // state itself: no lookup by name, and small enough not to allocate.
  ApiState* state = &api;
  api.probe_timer = timers_.ScheduleAt(clock_.now() + config_.health.probe_interval, [this, state] {
    state->probe_timer = 0;
    if (shutting_down_) return;
    const Instant now = clock_.now();
    health_.Refresh(now);  // judge on the current window, not the last sample's
    if (health_.ProbeDue(state->health, state->name, now)) SendProbe(*state);
    ScheduleProbe(*state);
  });
}

void Orchestrator::SendProbe(ApiState& api) {
  const Instant now = clock_.now();
  health_.OnProbeSent(api.name, now);
  const uint64_t call_id = next_call_id_++;
  Call& entry = *calls_.Insert(call_id);  // call ids are fresh
  UpstreamCall& call = entry.call;
  call.call_id = call_id;
  call.api = api.name;
  call.endpoint = config_.health.probe_endpoint;
  entry.names_of = nullptr;
  call.keys.resize(1);
  call.keys[0] = "probe";
  call.kind = CallKind::kProbe;
  call.priority = Priority::kPrefetch;
  call.attempt = 1;
  call.deadline = Instant::Max();
  // Probes bypass the queue and the bulkhead: they must get through when
  // the API's slots are held by calls to an unhealthy upstream.
  entry.api = &api;
  entry.endpoint = nullptr;
  entry.flight_id = 0;
  entry.handle = 0;
  entry.sent_at = now;
  entry.attempt_timer = 0;
  entry.holds_slot = false;
  entry.abandoned = false;
  ++stats_.probes_sent;
  ++stats_.calls_sent;
  for (OrchestratorObserver* o : observers_) o->OnCallSent(call, now);
  Send(call_id, call);
}

// ---------------------------------------------------------------- shutdown

void Orchestrator::Shutdown(Duration drain_timeout, std::function<void()> on_stopped) {
  if (shutting_down_) return;
  shutting_down_ = true;
  on_stopped_ = std::move(on_stopped);
  prefetcher_->Stop();
  for (auto& [name, api] : apis_) {
    if (api->probe_timer != 0) timers_.Cancel(api->probe_timer);
    api->probe_timer = 0;
  }
  batcher_->FlushAll();
  drain_timer_ = timers_.ScheduleAt(clock_.now() + drain_timeout, [this] {
    drain_timer_ = 0;
    FinishShutdown();
  });
  MaybeFinishDrain();
}

void Orchestrator::MaybeFinishDrain() {
  if (!shutting_down_ || stopped_ || finishing_) return;
  bool client_pending = false;
  requests_.ForEach([&](uint64_t, const RequestState& state) {
    if (!state.internal) client_pending = true;
  });
  if (!client_pending) FinishShutdown();
}

void Orchestrator::FinishShutdown() {
  if (stopped_ || finishing_) return;
  finishing_ = true;
  if (drain_timer_ != 0) timers_.Cancel(drain_timer_);
  drain_timer_ = 0;
  for (auto& [name, api] : apis_) {
    if (api->wake_timer != 0) timers_.Cancel(api->wake_timer);
    api->wake_timer = 0;
  }
  // What is still pending ends in id order, so the order of callbacks does
  // not depend on hashing; each request's wait ends when its flight went out.
  std::vector<std::pair<uint64_t, Instant>> pending;
  pending.reserve(requests_.size());
  requests_.ForEach([&](uint64_t id, const RequestState& state) {
    pending.emplace_back(id, FirstSentAt(state));
  });
  std::sort(pending.begin(), pending.end());
  std::vector<uint64_t> flights;
  flights.reserve(flights_.size());
  flights_.ForEach([&](uint64_t id, Flight& flight) {
    if (flight.hedge_timer != 0) timers_.Cancel(flight.hedge_timer);
    if (flight.backoff_timer != 0) timers_.Cancel(flight.backoff_timer);
    flights.push_back(id);
  });
  for (uint64_t id : flights) flights_.Erase(id);
  std::vector<uint64_t> calls;
  calls.reserve(calls_.size());
  calls_.ForEach([&](uint64_t id, const Call&) { calls.push_back(id); });
  std::sort(calls.begin(), calls.end());
  for (uint64_t id : calls) AbandonCall(id);
  for (const auto& [id, sent_at] : pending) {
    Complete(id, Outcome::kCancelled, 0, 0, nullptr, Instant::Epoch(), sent_at);
  }
  stopped_ = true;
  if (on_stopped_) {
    auto callback = std::move(on_stopped_);
    callback();
  }
}

}  // namespace orchsim
