// mock_upstream.h — one mocked upstream API answering UpstreamCalls over the
// simulator, as configured by an UpstreamModelConfig (upstream_model.h).
//
// How a call sent at instant `now` is answered, checked in this order (the
// first that applies decides):
//   1. a scheduled outage window covering now: its status (503), no headers;
//   2. health state down: HealthModelConfig::down_status (503 at the drawn
//      latency, or 599 after FailureConfig::timeout_latency), no headers;
//      the state is a scheduled health window's where one covers now, else
//      the Markov chain's (degraded likewise scales latency and error rates);
//   3. server-side rate limit reached: 429 with Retry-After (whole seconds,
//      rounded up) — the gateway counts every call it admits, including ones
//      answered 400 or 5xx below;
//   4. more keys than BatchConfig::max_keys (or none): 400;
//   5. quota: the call's credits exceed what remains: the style's exhaustion
//      status (QuotaConfig::exhausted_status, by default 401 odds-api, 403
//      github, 429 ietf/none) with 0-remaining headers;
//   6. a per-call error draw (rates scaled while degraded): 599 after
//      timeout_latency for a timeout, else 500/502/503;
//   7. 200: credits charged, one payload version and one body per key. The
//      body is small deterministic JSON naming the data and its version
//      ({"api":"odds","endpoint":"odds","key":"g1","version":7}), so the bytes
//      a cache holds change exactly when the version does.
// Quota headers (in the configured style) ride on every answer from steps 3-7
// except timeouts. Credits are charged for 2xx answers, or with
// QuotaConfig::charge kAll for every answer of steps 6 and 7.
//
// Capacity (CapacityConfig; only through Submit, which MockTransport uses
// when it is enabled): steps 1-4 are decided when the call arrives and
// answered after their drawn latency, as above (the gateway answers them).
// Then, when every server is busy and the waiting room is full, the call is
// refused at once: CapacityConfig::full_status after full_latency. Otherwise
// it waits for a server (server_queue.h); when a server takes it, steps 5-7
// are decided at that instant (quota, the error draw, the data version), the
// service time is drawn from CapacityConfig::service ("upstream/<name>/service",
// scaled while degraded) instead of the latency, and the answer leaves when
// the service ends: latency = wait + service. A quota refusal at that point
// needs no server (answered at once). An injected timeout keeps the server
// for its service time and reaches the client as 599 at the later of the
// service's end and arrival + timeout_latency. When the service ends the
// upstream asks whether the client still waits (the transport knows; the
// server does not act on it): an answer to a cancelled call, or one that
// ends after UpstreamCall::deadline, is wasted work; a 2xx answer that is not
// wasted is goodput.
//
// Randomness and common random numbers: the health timeline uses the stream
// "upstream/<name>/health" and is generated lazily as time is asked about,
// never from calls, so two policies see the same outages. Per-call draws
// (error, latency) use "upstream/<name>/calls". Each key's data versions use
// a sub-stream seeded from ("upstream/<name>/data", key), advanced from the
// origin, so a version depends only on (seed, key, kickoffs, instant) and not
// on which calls asked for it or in which order.
//
// The origin (start of the health timeline and of the data processes) is the
// simulator's now() when the MockUpstream is constructed.
//
// Delivery: Send answers through the simulator at now + latency, never from
// inside Send. REQUIRES: the Simulator outlives the MockUpstream (pending
// deliveries are cancelled when the MockUpstream is destroyed).
// Memory: the data processes of at most max_keys_with_data() keys (the
// least recently asked are dropped: a key asked again is recomputed from its
// start, which gives the same versions, so the bound changes no number; with
// data changes disabled no key is kept at all), per span of health timeline,
// per admitted call in a sliding rate window, per charge in a rolling quota
// window, and per answer in flight. A season of 900,000 distinct keys holds
// what one of 16,384 does. With a DataChangeBook (ShareDataChanges) the
// versions are read from the book, bounded there, and a key is drawn here
// only when the book is full. Not thread-safe (the book is).
#ifndef ORCHSIM_ENGINE_WORLD_MOCK_UPSTREAM_H_
#define ORCHSIM_ENGINE_WORLD_MOCK_UPSTREAM_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/data_change_book.h"
#include "engine/world/server_queue.h"
#include "engine/world/sim_ports.h"
#include "engine/world/upstream_model.h"
#include "policies/ports.h"
#include "policies/request.h"

namespace orchsim::world {

// A latency drawn from `c` with `rng` (`empirical` built by EmpiricalFor(c)
// for the empirical kind), multiplied by c.degraded_factor while degraded,
// rounded to whole microseconds.
Duration DrawFromLatency(const LatencyConfig& c, kernel::Rng& rng,
                         const std::optional<kernel::Empirical>& empirical, UpstreamHealth health);
// The table of an empirical latency config; nullopt for other kinds.
std::optional<kernel::Empirical> EmpiricalFor(const LatencyConfig& c);

// The health state over [start, end).
struct HealthSpan {
  UpstreamHealth state = UpstreamHealth::kHealthy;
  Instant start;
  Instant end;
  friend bool operator==(const HealthSpan&, const HealthSpan&) = default;
};

// The semi-Markov health process of HealthModelConfig, generated lazily and
// kept as a list of spans. Disabled: one healthy span [origin, Instant::Max()).
// The first span draws its exponential sojourn (rounded to whole
// microseconds, >= 1us); each later span draws one uniform for the jump from
// the previous state, then its sojourn.
class HealthTimeline {
 public:
  HealthTimeline(const HealthModelConfig& config, kernel::Rng rng, Instant origin);

  // The state at `t`; healthy before the origin.
  UpstreamHealth StateAt(Instant t);
  // Every span from the origin through the one containing `t`.
  const std::vector<HealthSpan>& SpansUntil(Instant t);
  // Time spent in `state` within [from, to).
  Duration TimeIn(UpstreamHealth state, Instant from, Instant to);
  // The spans generated so far (at least one).
  const std::vector<HealthSpan>& spans() const { return spans_; }

 private:
  void ExtendPast(Instant t);
  Duration DrawSojourn(UpstreamHealth state);
  UpstreamHealth NextState(UpstreamHealth from, double u) const;

  HealthModelConfig config_;
  kernel::Rng rng_;
  std::vector<HealthSpan> spans_;
};

// What the upstream saw and answered, so metrics can be checked against it.
struct UpstreamCounters {
  uint64_t calls = 0;
  std::array<uint64_t, kCallKindCount> calls_by_kind{};  // index: static_cast<int>(CallKind)
  std::map<std::string, uint64_t, std::less<>> calls_by_endpoint;
  std::map<int, uint64_t> status_counts;
  uint64_t keys_requested = 0;
  double credits_charged = 0.0;
  uint64_t outage_answers = 0;   // step 1
  uint64_t down_answers = 0;     // step 2
  uint64_t rate_limited = 0;     // step 3 (429)
  uint64_t batch_rejected = 0;   // step 4 (400)
  uint64_t quota_rejected = 0;   // step 5
  uint64_t injected_errors = 0;  // step 6, timeouts included
  uint64_t timeouts = 0;         // step 6, 599 only
  // Capacity (all 0 without it):
  uint64_t capacity_refused = 0;  // refused at once: servers busy, waiting room full
  uint64_t expired_dropped = 0;   // dropped by drop_expired (answered 503)
  uint64_t served = 0;            // calls whose service ended
  uint64_t wasted = 0;            // of those, answers nobody waited for
  uint64_t goodput = 0;           // 2xx answers to a waiting client by the call's deadline
  Duration busy_time;             // service time of every call served
  Duration wasted_time;           // service time of the wasted ones

  uint64_t CallsOfKind(CallKind kind) const { return calls_by_kind[static_cast<int>(kind)]; }
  uint64_t StatusCount(int status) const;
};

// What an upstream with capacity tells about its load, for time series.
class CapacityListener {
 public:
  virtual ~CapacityListener();
  // The load after a change (an arrival, a start, an end, a change of servers).
  virtual void OnLoad(const std::string& api, Instant at, const ServerQueue::Load& load) = 0;
  // A call's service ended at `at` after `service`; `wasted`: nobody waited
  // for the answer; `goodput`: a 2xx answer to a waiting client in time.
  virtual void OnServed(const std::string& api, Instant at, Duration service, bool wasted,
                        bool goodput) = 0;
  // A call refused because the queue was full.
  virtual void OnRefused(const std::string& api, Instant at) = 0;
};

class MockUpstream {
 public:
  // Kickoffs of the game(s) a key concerns; called once per key, at its
  // first data query (and again after AddKickoff for that key).
  using KickoffLookup = std::function<std::vector<Instant>(const std::string& key)>;

  // Throws std::invalid_argument with config.validate()'s message when the
  // config is invalid.
  MockUpstream(kernel::Simulator& sim, const kernel::SeedTree& seeds, UpstreamModelConfig config);
  MockUpstream(const MockUpstream&) = delete;
  MockUpstream& operator=(const MockUpstream&) = delete;

  const std::string& name() const { return config_.name; }
  const UpstreamModelConfig& config() const { return config_; }
  Instant origin() const { return origin_; }

  // Answers `call` at now() + the answer's latency through the simulator.
  void Send(const UpstreamCall& call, Transport::ResponseCallback on_response);
  // Evaluates `call` as sent at now(): updates counters, rate window and
  // quota, and returns the answer with `latency` set, without delivering it.
  Response Process(const UpstreamCall& call);
  // Answers scheduled by Send and not yet delivered.
  size_t in_flight() const { return deliveries_.pending(); }

  // ---- capacity (config().capacity.enabled) ----
  bool has_capacity() const { return servers_ != nullptr; }
  // Delivers the answer at `at` (never before now); asked nothing else.
  using Deliver = std::function<void(Instant at, Response response)>;
  // Whether the client still waits for the call (not cancelled).
  using Awaited = std::function<bool()>;
  // Evaluates `call` arriving now through the gateway and, when it has
  // capacity, its servers (see the header); `deliver` is called once, from
  // Submit itself only with an instant after now or for a gateway answer
  // (whose instant is now + latency). Without capacity: Process, delivered
  // at now + latency.
  void Submit(const UpstreamCall& call, Deliver deliver, Awaited awaited);
  // The servers; nullptr without capacity.
  const ServerQueue* servers() const { return servers_.get(); }
  // Not owned; may be null. REQUIRES: outlives the upstream or is reset.
  void SetCapacityListener(CapacityListener* listener) { capacity_listener_ = listener; }

  // The body answered for `key` at `version` (see the header, step 7).
  BodyPtr BodyFor(const std::string& endpoint, const std::string& key, uint64_t version) const;

  // ---- data versions ----
  // Registers a kickoff for `key` (any number per key). Resets the key's
  // process so its versions are recomputed from the origin with the new
  // schedule: register kickoffs before the run for versions to stay stable.
  void AddKickoff(const std::string& key, Instant kickoff);
  void SetKickoffLookup(KickoffLookup lookup) { kickoff_lookup_ = std::move(lookup); }
  // The payload version of `key` at `t` (1 at the origin, +1 per change).
  // Asking about an earlier instant than before recomputes from the origin.
  uint64_t PayloadVersionAt(const std::string& key, Instant t);
  // Reads (and draws) versions through `book`, shared with other runs
  // (data_change_book.h); null: each key's process is drawn here, the
  // default. The family's fingerprint holds the name, the data seed, the
  // origin and the data settings; `schedule_tag` stands for what it cannot
  // see, the schedule behind the kickoff lookup: equal tags REQUIRE equal
  // schedules. Versions are the same either way. After AddKickoff the book
  // is no longer used (its kickoffs differ from the other runs').
  void ShareDataChanges(std::shared_ptr<DataChangeBook> book, const std::string& schedule_tag);
  // Keys whose data process is kept (<= max_keys_with_data()).
  size_t keys_with_data() const { return data_.size(); }
  static constexpr size_t kDefaultMaxKeysWithData = 16384;
  size_t max_keys_with_data() const { return max_keys_with_data_; }
  // REQUIRES: max >= 1. For tests (the default suits any season).
  void set_max_keys_with_data(size_t max) { max_keys_with_data_ = max; }

  // ---- health and outages ----
  // The state calls see at `t`: a scheduled health window's, else the chain's.
  UpstreamHealth HealthAt(Instant t);
  HealthTimeline& health() { return health_; }
  // The outage window covering `t`, if any.
  const OutageWindow* OutageAt(Instant t) const;

  // ---- quota (meaningful when config().quota.enabled) ----
  double QuotaUsed(Instant now);
  double QuotaRemaining(Instant now);
  // When credits next come back: the period's end (calendar) or when the
  // oldest charge leaves the window (rolling; now + window when none).
  Instant QuotaResetAt(Instant now);
  // Called at every quota charge (refused = false) and refusal (true) with
  // the credits used in the period at that instant, so a recorder can show
  // quotas whose period is shorter than its time buckets. May be empty.
  using QuotaObserver = std::function<void(Instant at, double used, bool refused)>;
  void SetQuotaObserver(QuotaObserver observer) { quota_observer_ = std::move(observer); }
  // Total time, up to `now`, during which the quota refused calls: from the
  // first call refused for quota (or from when what remained fell below the
  // cheapest call) until credits came back for it (the period's end for a
  // calendar period). A 6-credit call refused with 4 credits left counts.
  Duration QuotaExhaustedTime(Instant now) const;

  const UpstreamCounters& counters() const { return counters_; }

 private:
  // A piece of a key's change rate: `rate_per_hour` from `from` on, until
  // the next piece's `from`.
  struct RateSegment {
    Instant from;
    double rate_per_hour = 0.0;
  };
  struct KeyData {
    kernel::Rng rng;
    std::vector<Instant> kickoffs;  // sorted
    uint64_t version = 1;
    Instant start;        // DataProcessStart: version 1 until here
    Instant at;           // the process has been advanced through this instant
    Instant next_change;  // Instant::Max() when the rate stays 0 for ever
    // The rate as pieces, built once from the kickoffs (DataRatePerHour and
    // NextRateBoundary at every boundary), so a change step does not scan
    // every kickoff twice: the rate before the first boundary, the pieces in
    // time order, and the piece the process was last in (it only moves
    // forward).
    double rate_before = 0.0;
    std::vector<RateSegment> segments;
    size_t segment = 0;  // segments before this one start at or before `at`
  };
  struct Charge {
    Instant at;
    double credits;
  };

  Duration DrawLatency(UpstreamHealth health);
  Duration DrawService(UpstreamHealth health);
  void CountCall(const UpstreamCall& call);
  // Steps 1-4; true when one of them answered (`r` complete, status counted).
  bool Gateway(const UpstreamCall& call, Instant now, UpstreamHealth health, Response* r);
  // Steps 5-7 into `r`. The latency of each answer is drawn from the latency
  // config, or with `queued` from the service config; returns the work the
  // server does (nullopt: none, a quota refusal).
  std::optional<Duration> Serve(const UpstreamCall& call, Instant now, UpstreamHealth health,
                                bool queued, Response* r);
  struct PendingCall;
  void FinishService(PendingCall& pending, Instant end, Duration service);
  // nullopt when the call is admitted (and counted), else the wait until one would be.
  std::optional<Duration> RateLimitDelay(Instant now);
  void RollQuotaPeriod(Instant now);
  void ChargeQuota(Instant now, double credits);
  // Starts an exhausted interval at `now` when fewer than `needed` credits
  // remain and none is open yet.
  void NoteExhaustion(Instant now, double needed);
  void AddQuotaHeaders(Instant now, double charged, bool exhausted, Response* response);
  double CheapestCall() const;

  // Where a key's version process starts: the origin, or for a key with
  // games, kDataProcessLead before the first game's pregame window if that
  // is later. A key first asked late in a long run (the tenth season) then
  // costs no replay of years of changes, and the start still depends only on
  // the key's kickoffs, never on who asked when.
  static constexpr Duration kDataProcessLead = Days(1);
  Instant DataProcessStart(const std::vector<Instant>& sorted_kickoffs) const;
  KeyData& DataFor(const std::string& key);
  // A key's process positioned at its start, version 1 (not kept).
  KeyData NewKeyData(const std::string& key) const;
  void ForgetData(const std::string& key);
  static Instant NextDataChange(KeyData& data, Instant from);
  class BookProcess;
  double DataRatePerHour(const KeyData& data, Instant t) const;
  Instant NextRateBoundary(const KeyData& data, Instant t) const;
  // Fills data.rate_before and data.segments from data.kickoffs.
  void BuildRateSegments(KeyData& data) const;

  kernel::Simulator& sim_;
  UpstreamModelConfig config_;
  Instant origin_;
  kernel::Rng call_rng_;
  uint64_t data_seed_;
  std::optional<kernel::Empirical> empirical_;
  kernel::Rng service_rng_;
  std::optional<kernel::Empirical> service_empirical_;
  HealthTimeline health_;
  SimTimers deliveries_;
  UpstreamCounters counters_;

  // Rate limit: the fixed window's index and count, or the sliding window's
  // admitted instants.
  int64_t fixed_window_index_ = 0;
  int64_t fixed_window_count_ = 0;
  std::deque<Instant> sliding_admitted_;

  // Quota: calendar period [period_start_, period_end_) and its use, or the
  // rolling window's charges.
  Instant period_start_;
  Instant period_end_;
  double period_used_ = 0.0;
  std::deque<Charge> rolling_charges_;
  double rolling_used_ = 0.0;
  // The current or last exhausted interval [from, until) and the closed total.
  std::optional<Instant> exhausted_from_;
  Instant exhausted_until_;
  Duration exhausted_closed_total_;

  // Data processes by key, bounded: `recency_` orders the keys from the most
  // to the least recently asked; each entry holds its place there.
  struct KeyEntry {
    KeyData data;
    std::list<std::string>::iterator recency;
  };
  std::unordered_map<std::string, KeyEntry> data_;
  std::list<std::string> recency_;
  size_t max_keys_with_data_ = kDefaultMaxKeysWithData;
  std::unordered_map<std::string, std::vector<Instant>> kickoffs_;
  KickoffLookup kickoff_lookup_;
  std::shared_ptr<DataChangeBook> book_;  // null: not shared
  DataChangeBook::Family* book_family_ = nullptr;
  QuotaObserver quota_observer_;
  std::unique_ptr<ServerQueue> servers_;  // with capacity only
  CapacityListener* capacity_listener_ = nullptr;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_MOCK_UPSTREAM_H_
