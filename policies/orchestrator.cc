#include "policies/orchestrator.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace orchsim {
namespace {

Status Prefixed(const std::string& prefix, Status status) {
  if (status.ok()) return status;
  return Status::InvalidArgument(prefix + status.message());
}

}  // namespace

// ---------------------------------------------------------------- config

Status OrchestratorConfig::validate() const {
  Status s = Prefixed("default_api.", default_api.bucket.validate());
  if (!s.ok()) return s;
  s = Prefixed("default_api.", default_api.quota.validate());
  if (!s.ok()) return s;
  if (!(default_api.expected_credits_per_call >= 0)) {
    return FieldError("default_api.expected_credits_per_call",
                      default_api.expected_credits_per_call, "must be >= 0");
  }
  for (const auto& [name, api] : apis) {
    const std::string prefix = "apis." + name + ".";
    if (!(s = Prefixed(prefix, api.bucket.validate())).ok()) return s;
    if (!(s = Prefixed(prefix, api.quota.validate())).ok()) return s;
    if (!(api.expected_credits_per_call >= 0)) {
      return FieldError(prefix + "expected_credits_per_call", api.expected_credits_per_call,
                        "must be >= 0");
    }
  }
  for (Status part :
       {queue.validate(), coalescer.validate(), batcher.validate(), cache.validate(),
        prefetch.validate(), breaker.validate(), retry.validate(), retry_budget.validate(),
        concurrency.validate(), timeouts.validate(), health.validate(), cost.validate()}) {
    if (!part.ok()) return part;
  }
  return Status::Ok();
}

const ApiPolicy& OrchestratorConfig::ForApi(const std::string& api) const {
  auto it = apis.find(api);
  return it == apis.end() ? default_api : it->second;
}

// ---------------------------------------------------------------- state

struct Orchestrator::RequestState {
  Request request;
  DoneFn done;
  std::string canonical_key;
  Instant deadline = Instant::Max();
  Timers::TimerId deadline_timer = 0;
  bool follower = false;
  bool internal = false;  // prefetch: answers no client
  bool in_batcher = false;
  int attempts = 0;
};

struct Orchestrator::Flight {
  uint64_t id = 0;
  std::string api;
  std::string endpoint;
  std::vector<std::string> keys;  // unique keys carried by the call
  // Leading requests and the index of their key in `keys`.
  std::vector<std::pair<uint64_t, size_t>> members;
  CallKind kind = CallKind::kFirstAttempt;
  Priority priority = Priority::kNormal;
  std::optional<Instant> game_start;
  Instant latest_deadline = Instant::Epoch();
  Instant first_sent_at = Instant::Max();
  int attempts = 0;
  bool in_flight = false;
  uint64_t call_id = 0;
  Instant sent_at;
  Timers::TimerId attempt_timer = 0;
  Timers::TimerId backoff_timer = 0;
  std::unique_ptr<Backoff> backoff;
};

struct Orchestrator::ApiState {
  ApiState(std::string api_name, const ApiPolicy& policy, const RequestQueueConfig& queue_config,
           Instant now)
      : name(std::move(api_name)),
        bucket(policy.bucket, now),
        quota(policy.quota),
        queue(queue_config),
        expected_credits(policy.expected_credits_per_call) {}
  std::string name;
  TokenBucket bucket;
  QuotaTracker quota;
  RequestQueue queue;
  double expected_credits;
  Timers::TimerId wake_timer = 0;
  Instant wake_at = Instant::Max();
  Timers::TimerId probe_timer = 0;
  bool dispatching = false;
};

// ---------------------------------------------------------------- setup

Orchestrator::Orchestrator(const OrchestratorConfig& config, Clock& clock, Timers& timers,
                           Transport& transport, RandomSource& random)
    : config_(config),
      clock_(clock),
      timers_(timers),
      transport_(transport),
      random_(random),
      cache_(config.cache),
      coalescer_(config.coalescer),
      breakers_(config.breaker),
      retry_policy_(config.retry),
      retry_budget_(config.retry_budget),
      concurrency_(config.concurrency),
      health_(config.health),
      cost_(config.cost) {
  assert(config.validate().ok());
  batcher_ = std::make_unique<Batcher>(config_.batcher, timers_,
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

Orchestrator::ApiState& Orchestrator::Api(const std::string& api) {
  auto it = apis_.find(api);
  if (it != apis_.end()) return *it->second;
  auto state = std::make_unique<ApiState>(api, config_.ForApi(api), config_.queue, clock_.now());
  ApiState& ref = *state;
  apis_.emplace(api, std::move(state));
  ScheduleProbe(ref);
  return ref;
}

const QuotaTracker* Orchestrator::quota(const std::string& api) const {
  auto it = apis_.find(api);
  return it == apis_.end() ? nullptr : &it->second->quota;
}

const TokenBucket* Orchestrator::bucket(const std::string& api) const {
  auto it = apis_.find(api);
  return it == apis_.end() ? nullptr : &it->second->bucket;
}

// ---------------------------------------------------------------- intake

void Orchestrator::Submit(Request request, DoneFn done) {
  const Instant now = clock_.now();
  ++stats_.submitted;
  request.submitted_at = now;
  for (OrchestratorObserver* o : observers_) o->OnSubmitted(request, now);
  const uint64_t id = request.id;
  auto [it, inserted] = requests_.try_emplace(id);
  if (!inserted) {
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
  RequestState& state = it->second;
  state.canonical_key = request.CanonicalKey();
  state.request = std::move(request);
  state.done = std::move(done);
  if (shutting_down_) {
    Complete(id, Outcome::kCancelled, 0, 0, Instant::Epoch(), Instant::Max());
    return;
  }
  state.deadline = OverallDeadline(config_.timeouts, now, state.request.deadline);
  if (state.deadline <= now) {
    Complete(id, Outcome::kTimedOut, 0, 0, Instant::Epoch(), Instant::Max());
    return;
  }
  if (state.deadline != Instant::Max()) {
    state.deadline_timer =
        timers_.ScheduleAt(state.deadline, [this, id] { OnRequestDeadline(id); });
  }
  if (state.request.cacheable) {
    auto [lookup, entry] = cache_.Get(state.canonical_key, now);
    if (lookup == CacheLookup::kFresh) {
      Complete(id, Outcome::kCacheHit, 200, entry->payload_version, entry->fetched_at,
               Instant::Max());
      return;
    }
  }
  if (config_.coalescer.enabled) {
    const JoinResult join = coalescer_.Join(state.canonical_key, id, state.request.priority);
    if (!join.leader) {
      state.follower = true;
      auto flight_it = flight_of_key_.find(state.canonical_key);
      if (flight_it != flight_of_key_.end()) {
        Flight& flight = flights_.at(flight_it->second);
        flight.latest_deadline = std::max(flight.latest_deadline, state.deadline);
        if (join.raised && AtLeast(join.flight_priority, flight.priority) &&
            join.flight_priority != flight.priority && !flight.in_flight) {
          flight.priority = join.flight_priority;
          Api(flight.api).queue.Raise(flight.id, join.flight_priority, now);
          Dispatch(flight.api);
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
  const std::string canonical = request.CanonicalKey();
  if (cache_.Get(canonical, now).first == CacheLookup::kFresh) return;
  if (flight_of_key_.count(canonical) != 0) return;
  const uint64_t id = next_internal_request_id_++;
  request.id = id;
  request.submitted_at = now;
  request.priority = Priority::kPrefetch;
  request.batchable = false;
  RequestState& state = requests_[id];
  state.canonical_key = canonical;
  state.request = std::move(request);
  state.internal = true;
  if (config_.coalescer.enabled) coalescer_.Join(canonical, id, Priority::kPrefetch);
  ++stats_.prefetch_flights;
  StartFlight(id);
}

void Orchestrator::AddGame(const std::string& game_id, Instant kickoff) {
  if (!shutting_down_) prefetcher_->AddGame(game_id, kickoff, clock_.now());
}

void Orchestrator::StartFlight(uint64_t leader_id) {
  RequestState& state = requests_.at(leader_id);
  const Request& r = state.request;
  if (r.batchable && config_.batcher.enabled && !state.internal) {
    state.in_batcher = true;
    batcher_->Add(r.api + "|" + r.endpoint, leader_id, r.key, clock_.now());
    return;
  }
  const uint64_t flight_id =
      NewFlight(r.api, r.endpoint, state.internal ? CallKind::kPrefetch : CallKind::kFirstAttempt,
                r.priority, r.game_start);
  Flight& flight = flights_.at(flight_id);
  flight.keys.push_back(r.key);
  flight.members.emplace_back(leader_id, 0);
  flight.latest_deadline = state.deadline;
  flight_of_key_[state.canonical_key] = flight_id;
  Enqueue(flight_id);
}

void Orchestrator::OnBatch(Batch batch) {
  if (batch.request_ids.empty()) return;
  // Members that timed out while batching were removed from the batcher.
  const RequestState& first = requests_.at(batch.request_ids.front());
  const uint64_t flight_id =
      NewFlight(first.request.api, first.request.endpoint,
                batch.keys.size() > 1 ? CallKind::kBatch : CallKind::kFirstAttempt,
                first.request.priority, first.request.game_start);
  Flight& flight = flights_.at(flight_id);
  flight.keys = batch.keys;
  for (uint64_t id : batch.request_ids) {
    RequestState& state = requests_.at(id);
    state.in_batcher = false;
    const size_t index = static_cast<size_t>(
        std::find(flight.keys.begin(), flight.keys.end(), state.request.key) - flight.keys.begin());
    flight.members.emplace_back(id, index);
    if (AtLeast(state.request.priority, flight.priority)) flight.priority = state.request.priority;
    flight.latest_deadline = std::max(flight.latest_deadline, state.deadline);
    if (state.request.game_start &&
        (!flight.game_start || *state.request.game_start < *flight.game_start)) {
      flight.game_start = state.request.game_start;
    }
    flight_of_key_[state.canonical_key] = flight_id;
  }
  if (batch.request_ids.size() > 1) stats_.batched_requests += batch.request_ids.size();
  Enqueue(flight_id);
}

uint64_t Orchestrator::NewFlight(const std::string& api, const std::string& endpoint, CallKind kind,
                                 Priority priority, std::optional<Instant> game_start) {
  const uint64_t id = next_flight_id_++;
  Flight& flight = flights_[id];
  flight.id = id;
  flight.api = api;
  flight.endpoint = endpoint;
  flight.kind = kind;
  flight.priority = priority;
  flight.game_start = game_start;
  return id;
}

void Orchestrator::Enqueue(uint64_t flight_id) {
  Flight& flight = flights_.at(flight_id);
  ApiState& api = Api(flight.api);
  const PushResult pushed =
      api.queue.Push(flight_id, flight.priority, clock_.now(), flight.game_start);
  // A refused push names the incoming flight as shed; an accepted one may
  // have pushed out a queued flight of a less urgent class.
  if (!pushed.accepted) {
    RejectFlight(flight_id, Outcome::kShed);
    return;
  }
  if (pushed.shed_id) RejectFlight(*pushed.shed_id, Outcome::kShed);
  Dispatch(api.name);
}

// ---------------------------------------------------------------- dispatch

bool Orchestrator::HasLiveMembers(const Flight& flight) const {
  if (flight.kind == CallKind::kPrefetch) return true;
  for (const auto& [id, index] : flight.members) {
    if (requests_.count(id) != 0) return true;
  }
  if (config_.coalescer.enabled) {
    for (const std::string& key : flight.keys) {
      if (coalescer_.followers(flight.api + "|" + flight.endpoint + "|" + key) > 0) return true;
    }
  }
  return false;
}

void Orchestrator::Dispatch(const std::string& api_name) {
  if (stopped_) return;
  ApiState& api = Api(api_name);
  if (api.dispatching) return;  // a completion inside this loop re-entered
  api.dispatching = true;
  for (;;) {
    const Instant now = clock_.now();
    const std::optional<QueueEntry> entry = api.queue.Peek(now);
    if (!entry) break;
    Flight& flight = flights_.at(entry->id);
    if (entry->current != flight.priority && AtLeast(entry->current, flight.priority)) {
      flight.priority = entry->current;  // escalated while waiting
    }
    if (!HasLiveMembers(flight)) {
      api.queue.Pop(now);
      DropFlight(flight.id);
      continue;
    }
    CircuitBreaker& breaker = breakers_.For(flight.api, flight.endpoint);
    if (!breaker.WouldAllow(now)) {
      api.queue.Pop(now);
      RejectFlight(flight.id, Outcome::kRejectedCircuitOpen);
      continue;
    }
    if (!concurrency_.CanAcquire(api.name)) break;  // woken by a completion
    const QuotaAdmission admission = api.quota.Check(flight.priority, api.expected_credits, now);
    if (!admission.allowed) {
      if (admission.retry_at > flight.latest_deadline) {
        api.queue.Pop(now);
        RejectFlight(flight.id, Outcome::kRejectedQuota);
        continue;
      }
      ArmWake(api, admission.retry_at);
      break;
    }
    const double cost = config_.ForApi(api.name).bucket.cost_per_call;
    const Duration wait = api.bucket.TimeUntilAvailable(flight.priority, cost, now);
    if (wait > Duration::Zero()) {
      if (wait.is_infinite() || now + wait > flight.latest_deadline) {
        api.queue.Pop(now);
        RejectFlight(flight.id, Outcome::kRejectedQuota);
        continue;
      }
      ArmWake(api, now + wait);
      break;
    }
    api.queue.Pop(now);
    api.bucket.TryAcquire(flight.priority, cost, now);
    breaker.AllowRequest(now);
    concurrency_.TryAcquire(api.name);
    Send(flight, api);
  }
  api.dispatching = false;
}

void Orchestrator::ArmWake(ApiState& api, Instant at) {
  if (api.wake_timer != 0) {
    if (api.wake_at <= at) return;
    timers_.Cancel(api.wake_timer);
  }
  api.wake_at = at;
  const std::string name = api.name;
  api.wake_timer = timers_.ScheduleAt(at, [this, name] {
    ApiState& state = Api(name);
    state.wake_timer = 0;
    state.wake_at = Instant::Max();
    Dispatch(name);
  });
}

void Orchestrator::Send(Flight& flight, ApiState& api) {
  const Instant now = clock_.now();
  ++flight.attempts;
  flight.in_flight = true;
  flight.call_id = next_call_id_++;
  flight.sent_at = now;
  if (flight.first_sent_at == Instant::Max()) flight.first_sent_at = now;
  for (const auto& [id, index] : flight.members) {
    auto it = requests_.find(id);
    if (it != requests_.end()) ++it->second.attempts;
  }
  UpstreamCall call;
  call.call_id = flight.call_id;
  call.api = flight.api;
  call.endpoint = flight.endpoint;
  call.keys = flight.keys;
  call.kind = flight.attempts > 1 ? CallKind::kRetry : flight.kind;
  call.priority = flight.priority;
  call.attempt = flight.attempts;
  api.quota.OnSent(flight.priority, api.expected_credits, now);
  ++stats_.calls_sent;
  if (call.kind == CallKind::kRetry) ++stats_.retries;
  const Instant attempt_deadline = AttemptDeadline(config_.timeouts, now, flight.latest_deadline);
  const uint64_t flight_id = flight.id;
  const uint64_t call_id = flight.call_id;
  if (attempt_deadline != Instant::Max()) {
    flight.attempt_timer = timers_.ScheduleAt(
        attempt_deadline, [this, flight_id, call_id] { OnAttemptTimeout(flight_id, call_id); });
  }
  for (OrchestratorObserver* o : observers_) o->OnCallSent(call, now);
  pending_calls_.emplace(call_id, call);
  transport_.Send(call, [this, flight_id, call_id](const Response& response) {
    OnAnswer(flight_id, call_id, response);
  });
}

// ---------------------------------------------------------------- answers

void Orchestrator::OnAnswer(uint64_t flight_id, uint64_t call_id, const Response& response) {
  const Instant now = clock_.now();
  auto call_it = pending_calls_.find(call_id);
  auto it = flights_.find(flight_id);
  const bool current =
      !stopped_ && it != flights_.end() && it->second.in_flight && it->second.call_id == call_id;
  if (!current) {
    ++stats_.late_answers_discarded;
    if (call_it != pending_calls_.end()) {
      for (OrchestratorObserver* o : observers_)
        o->OnCallAnswered(call_it->second, response, true, now);
      pending_calls_.erase(call_it);
    }
    return;
  }
  Flight& flight = it->second;
  if (flight.attempt_timer != 0) timers_.Cancel(flight.attempt_timer);
  flight.attempt_timer = 0;
  if (call_it != pending_calls_.end()) {
    for (OrchestratorObserver* o : observers_)
      o->OnCallAnswered(call_it->second, response, false, now);
    pending_calls_.erase(call_it);
  }
  Api(flight.api).quota.Observe(response, now);
  cost_.RecordCall(flight.api, flight.endpoint, BelievableCredits(response));
  FinishAttempt(flight, response, /*timed_out=*/false);
}

double Orchestrator::BelievableCredits(const Response& response) {
  const double credits = response.credits_charged;
  // NaN fails both comparisons; -0.0 is fine.
  if (credits >= 0.0 && credits <= kMaxCreditsPerCall) return credits;
  ++stats_.bad_credit_reports;
  return 0.0;
}

void Orchestrator::OnAttemptTimeout(uint64_t flight_id, uint64_t call_id) {
  auto it = flights_.find(flight_id);
  if (it == flights_.end() || !it->second.in_flight || it->second.call_id != call_id) return;
  Flight& flight = it->second;
  flight.attempt_timer = 0;
  // The call stays in pending_calls_: its answer, if it ever comes, is late.
  cost_.RecordCall(flight.api, flight.endpoint, 0.0);
  Response timeout;
  timeout.status = kStatusTransportError;
  timeout.latency = clock_.now() - flight.sent_at;
  FinishAttempt(flight, timeout, /*timed_out=*/true);
}

void Orchestrator::FinishAttempt(Flight& flight, const Response& response, bool timed_out) {
  const Instant now = clock_.now();
  (void)timed_out;
  flight.in_flight = false;
  concurrency_.Release(flight.api);
  const Duration latency = now - flight.sent_at;
  breakers_.For(flight.api, flight.endpoint).RecordResult(response.status, latency, now);
  health_.Record(flight.api, response.ok(), latency, now);
  const std::string api = flight.api;
  if (response.ok()) {
    for (size_t i = 0; i < flight.keys.size(); ++i) {
      const uint64_t version =
          i < response.payload_versions.size() ? response.payload_versions[i] : 0;
      bool cacheable = flight.kind == CallKind::kPrefetch;
      for (const auto& [id, index] : flight.members) {
        auto it = requests_.find(id);
        if (index == i && it != requests_.end() && it->second.request.cacheable) cacheable = true;
      }
      if (cacheable) {
        cache_.Put(flight.api + "|" + flight.endpoint + "|" + flight.keys[i], flight.endpoint,
                   flight.game_start, version, now, now);
      }
    }
    EndFlight(flight.id, Outcome::kServed, &response);
  } else if (!shutting_down_ && config_.retry.enabled &&
             retry_policy_.ShouldRetry(response.status, flight.attempts) &&
             HasLiveMembers(flight)) {
    if (!retry_budget_.TryAcquireRetry(now)) {
      ++stats_.retry_budget_denied;
      for (const auto& [id, index] : flight.members) {
        auto it = requests_.find(id);
        if (it != requests_.end() && !it->second.internal) {
          for (OrchestratorObserver* o : observers_)
            o->OnRetryBudgetDenied(it->second.request, now);
        }
      }
      EndFlight(flight.id, Outcome::kFailed, &response);
    } else {
      if (!flight.backoff) flight.backoff = std::make_unique<Backoff>(config_.retry, random_);
      const Duration delay =
          retry_policy_.DelayFor(response, *flight.backoff, flight.attempts, now);
      if (now + delay > flight.latest_deadline) {
        EndFlight(flight.id, Outcome::kFailed, &response);
      } else {
        for (const auto& [id, index] : flight.members) {
          auto it = requests_.find(id);
          if (it != requests_.end() && !it->second.internal) {
            for (OrchestratorObserver* o : observers_) {
              o->OnRetryScheduled(it->second.request, flight.attempts + 1, delay, now);
            }
          }
        }
        const uint64_t flight_id = flight.id;
        flight.backoff_timer = timers_.ScheduleAt(now + delay, [this, flight_id] {
          auto f = flights_.find(flight_id);
          if (f == flights_.end()) return;
          f->second.backoff_timer = 0;
          Enqueue(flight_id);
        });
      }
    }
  } else {
    EndFlight(flight.id, Outcome::kFailed, &response);
  }
  Dispatch(api);
}

// ---------------------------------------------------------------- endings

void Orchestrator::EndFlight(uint64_t flight_id, Outcome leader_outcome, const Response* response) {
  auto it = flights_.find(flight_id);
  if (it == flights_.end()) return;
  Flight flight = std::move(it->second);
  flights_.erase(it);
  if (flight.attempt_timer != 0) timers_.Cancel(flight.attempt_timer);
  if (flight.backoff_timer != 0) timers_.Cancel(flight.backoff_timer);
  const Instant now = clock_.now();
  const bool success = leader_outcome == Outcome::kServed;
  const int status = response != nullptr ? response->status : 0;
  for (size_t i = 0; i < flight.keys.size(); ++i) {
    const std::string canonical = flight.api + "|" + flight.endpoint + "|" + flight.keys[i];
    auto key_it = flight_of_key_.find(canonical);
    if (key_it != flight_of_key_.end() && key_it->second == flight_id) flight_of_key_.erase(key_it);
    const uint64_t version = success && response != nullptr && i < response->payload_versions.size()
                                 ? response->payload_versions[i]
                                 : 0;
    std::vector<uint64_t> followers;
    if (config_.coalescer.enabled) followers = coalescer_.Complete(canonical);
    auto finish = [&](uint64_t id, Outcome success_outcome) {
      if (requests_.count(id) == 0) return;
      if (success) {
        Complete(id, success_outcome, status, version, now, flight.first_sent_at);
      } else if ((leader_outcome == Outcome::kFailed ||
                  leader_outcome == Outcome::kRejectedCircuitOpen) &&
                 TryServeStale(id, status, flight.first_sent_at)) {
      } else {
        Complete(id, leader_outcome, status, 0, Instant::Epoch(), flight.first_sent_at);
      }
    };
    for (const auto& [id, index] : flight.members) {
      if (index == i) finish(id, Outcome::kServed);
    }
    for (uint64_t id : followers) finish(id, Outcome::kCoalesced);
  }
  MaybeFinishDrain();
}

void Orchestrator::RejectFlight(uint64_t flight_id, Outcome outcome) {
  EndFlight(flight_id, outcome, nullptr);
}

void Orchestrator::DropFlight(uint64_t flight_id) {
  // No member is waiting any more: end it without a call. Followers cannot
  // exist here (HasLiveMembers checked), but the coalescer's flight must end.
  EndFlight(flight_id, Outcome::kCancelled, nullptr);
}

bool Orchestrator::TryServeStale(uint64_t request_id, int status, Instant sent_at) {
  auto it = requests_.find(request_id);
  if (it == requests_.end() || !it->second.request.cacheable) return false;
  const CacheEntry* entry = cache_.GetStale(it->second.canonical_key, clock_.now());
  if (entry == nullptr) return false;
  Complete(request_id, Outcome::kServedStale, status, entry->payload_version, entry->fetched_at,
           sent_at);
  return true;
}

void Orchestrator::OnRequestDeadline(uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  RequestState& state = it->second;
  state.deadline_timer = 0;
  if (state.follower) {
    coalescer_.Leave(state.canonical_key, request_id);
  } else if (state.in_batcher) {
    batcher_->Remove(request_id);
  }
  // A leader's flight goes on for its followers; with none left, Dispatch
  // drops it before it spends a call.
  Complete(request_id, Outcome::kTimedOut, 0, 0, Instant::Epoch(), Instant::Max());
  MaybeFinishDrain();
}

void Orchestrator::Complete(uint64_t request_id, Outcome outcome, int status, uint64_t version,
                            Instant fetched_at, Instant sent_at) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  RequestState state = std::move(it->second);
  requests_.erase(it);
  if (state.deadline_timer != 0) timers_.Cancel(state.deadline_timer);
  if (state.internal) return;
  const Instant now = clock_.now();
  Result result;
  result.outcome = outcome;
  result.status = status;
  result.payload_version = version;
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
    const std::string& api_name = state->name;
    const Instant now = clock_.now();
    health_.Refresh(now);  // judge on the current window, not the last sample's
    if (health_.ProbeDue(api_name, now)) {
      health_.OnProbeSent(api_name, now);
      UpstreamCall call;
      call.call_id = next_call_id_++;
      call.api = api_name;
      call.endpoint = config_.health.probe_endpoint;
      call.keys = {"probe"};
      call.kind = CallKind::kProbe;
      call.priority = Priority::kPrefetch;
      ++stats_.probes_sent;
      ++stats_.calls_sent;
      for (OrchestratorObserver* o : observers_) o->OnCallSent(call, now);
      pending_calls_.emplace(call.call_id, call);
      const uint64_t call_id = call.call_id;
      transport_.Send(call, [this, api_name, call_id, now](const Response& response) {
        auto call_it = pending_calls_.find(call_id);
        if (call_it == pending_calls_.end()) return;
        const bool late = stopped_;
        for (OrchestratorObserver* o : observers_) {
          o->OnCallAnswered(call_it->second, response, late, clock_.now());
        }
        pending_calls_.erase(call_it);
        if (late) return;
        cost_.RecordCall(api_name, config_.health.probe_endpoint, BelievableCredits(response));
        health_.Record(api_name, response.ok(), clock_.now() - now, clock_.now());
      });
    }
    ScheduleProbe(*state);
  });
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
  for (const auto& [id, state] : requests_) {
    if (!state.internal) return;
  }
  FinishShutdown();
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
  for (auto& [id, flight] : flights_) {
    if (flight.attempt_timer != 0) timers_.Cancel(flight.attempt_timer);
    if (flight.backoff_timer != 0) timers_.Cancel(flight.backoff_timer);
    if (flight.in_flight) concurrency_.Release(flight.api);
  }
  flights_.clear();
  flight_of_key_.clear();
  // Cancel in id order so the order of callbacks does not depend on hashing.
  std::vector<uint64_t> ids;
  ids.reserve(requests_.size());
  for (const auto& [id, state] : requests_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) Complete(id, Outcome::kCancelled, 0, 0, Instant::Epoch(), Instant::Max());
  stopped_ = true;
  if (on_stopped_) {
    auto callback = std::move(on_stopped_);
    callback();
  }
}

}  // namespace orchsim
