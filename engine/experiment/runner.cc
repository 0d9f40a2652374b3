#include "engine/experiment/runner.h"

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/demand.h"
#include "engine/world/game_kickoffs.h"
#include "engine/world/mock_transport.h"
#include "engine/world/shared_limiter.h"
#include "engine/world/sim_ports.h"

namespace orchsim::experiment {
namespace {

// Games are announced to the prefetcher this long before kickoff (longer
// than any sensible prefetch offset).
constexpr Duration kAnnounceLead = Days(1);

// The stats counters the overload metrics report, as one value to subtract.
struct OverloadStats {
  uint64_t calls_cancelled = 0;
  uint64_t retries_throttled = 0;
  uint64_t hedges_denied = 0;
};

OverloadStats OverloadStatsOf(const OrchestratorStats& s) {
  return {s.calls_cancelled, s.retries_throttled, s.hedges_denied};
}

void AddStats(const OrchestratorStats& from, OrchestratorStats* to) {
  to->submitted += from.submitted;
  to->completed += from.completed;
  for (size_t i = 0; i < from.by_outcome.size(); ++i) to->by_outcome[i] += from.by_outcome[i];
  to->calls_sent += from.calls_sent;
  to->calls_cancelled += from.calls_cancelled;
  to->retries += from.retries;
  to->retry_budget_denied += from.retry_budget_denied;
  to->retries_throttled += from.retries_throttled;
  to->hedges += from.hedges;
  to->hedges_denied += from.hedges_denied;
  to->late_answers_discarded += from.late_answers_discarded;
  to->prefetch_flights += from.prefetch_flights;
  to->probes_sent += from.probes_sent;
  to->batched_requests += from.batched_requests;
  to->bad_credit_reports += from.bad_credit_reports;
}

class Run {
 public:
  Run(const scenario::Scenario& scenario, const scenario::Variant& variant, uint64_t seed,
      const RunOptions& options)
      : scenario_(scenario),
        fleet_(variant.fleet),
        seeds_(seed),
        sim_(scenario.start),
        clock_(sim_),
        timers_(sim_),
        transport_(sim_),
        jitter_(seeds_, "policy/jitter"),
        progress_(options.progress),
        on_finished_(options.on_finished),
        kickoffs_(scenario.games) {
    std::vector<std::string> capacity_apis;
    const std::string schedule_tag =
        options.data_changes ? std::to_string(world::KickoffsDigest(scenario.games)) : "";
    for (const auto& upstream : scenario.upstreams) {
      world::MockUpstream& mock = transport_.AddUpstream(upstream, seeds_);
      mock.SetKickoffLookup([this](const std::string& key) { return kickoffs_.For(key); });
      if (options.data_changes) mock.ShareDataChanges(options.data_changes, schedule_tag);
      if (upstream.capacity.enabled) capacity_apis.push_back(upstream.name);
    }
    const Instant steady_from = scenario.start + scenario.warmup;
    recorder_ = std::make_unique<MetricsRecorder>(
        scenario.start, Hours(1),
        [this](const Request& request, Instant now) -> uint64_t {
          world::MockUpstream* mock = transport_.Find(request.api);
          return mock == nullptr ? 0 : mock->PayloadVersionAt(request.key, now);
        },
        steady_from);
    if (scenario.overload.series) {
      overload_ = std::make_unique<OverloadRecorder>(
          scenario.start, scenario.end, scenario.overload.step, capacity_apis, steady_from);
      for (const std::string& api : capacity_apis) {
        transport_.Find(api)->SetCapacityListener(overload_.get());
      }
    }
    for (const std::string& name : transport_.names()) {
      transport_.Find(name)->SetQuotaObserver([this, name](Instant at, double used, bool refused) {
        recorder_->OnQuota(name, at, used, refused);
      });
    }
    if (fleet_.shared_limiter.enabled) {
      limiter_ = std::make_unique<world::SharedLimiter>(sim_, seeds_, fleet_.shared_limiter);
    }
    // Everything that sees the core's events, in the order a single core
    // always had them: the recorder, the overload recorder, the extras.
    std::vector<OrchestratorObserver*> observers = {recorder_.get()};
    if (overload_) observers.push_back(overload_.get());
    for (OrchestratorObserver* o : options.extra_observers) observers.push_back(o);
    const int n = fleet_.replicas;
    if (n > 1) duplicates_ = std::make_unique<DuplicateCallTracker>(n);
    replicas_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      Replica& replica = replicas_[static_cast<size_t>(i)];
      Timers* timers = &timers_;
      RandomSource* jitter = &jitter_;
      if (i > 0) {
        replica.timers = std::make_unique<world::SimTimers>(sim_);
        replica.jitter = std::make_unique<world::RngRandomSource>(
            seeds_, "policy/jitter/replica/" + std::to_string(i));
        timers = replica.timers.get();
        jitter = replica.jitter.get();
      }
      Transport* transport = &transport_;
      if (limiter_) {
        replica.limited =
            std::make_unique<world::LimitedTransport>(sim_, transport_, *limiter_, steady_from);
        transport = replica.limited.get();
      }
      StatusOr<std::unique_ptr<Orchestrator>> core =
          Orchestrator::Create(variant.policy, clock_, *timers, *transport, *jitter);
      if (!core.ok()) {
        // Scenario loading validates every variant; a config built in code may not be.
        throw std::invalid_argument("variant \"" + variant.name +
                                    "\" is invalid: " + core.status().message());
      }
      replica.core = std::move(core).value();
      if (n == 1) {
        for (OrchestratorObserver* o : observers) replica.core->AddObserver(o);
      } else {
        replica.tap = std::make_unique<ReplicaTap>(i, observers, duplicates_.get(), steady_from);
        replica.core->AddObserver(replica.tap.get());
      }
    }
    demand_ = std::make_unique<world::DemandSource>(scenario.games, scenario.demand, seeds_);
  }

  VariantRun Execute(const std::string& variant_name, uint64_t seed) {
    // Scheduled first: at the warm-up's end instant it runs before any call.
    if (scenario_.warmup > Duration::Zero()) {
      // What the upstreams and the cost tracker counted during the warm-up,
      // to leave out of the totals like the recorder does.
      sim_.ScheduleAt(scenario_.start + scenario_.warmup, [this] {
        const Instant now = sim_.now();
        for (const std::string& name : transport_.names()) {
          world::MockUpstream* mock = transport_.Find(name);
          WarmupSnapshot& snapshot = at_warmup_end_[name];
          snapshot.counters = mock->counters();
          snapshot.quota_exhausted = mock->QuotaExhaustedTime(now);
          if (mock->servers() != nullptr) snapshot.load = mock->servers()->IntegralsAt(now);
        }
        cost_at_warmup_end_ = 0.0;
        for (Replica& replica : replicas_) {
          cost_at_warmup_end_ += replica.core->cost().Total().money;
          replica.stats_at_warmup_end = OverloadStatsOf(replica.core->stats());
        }
      });
    }
    ScheduleNextArrival();
    ScheduleNextGame();
    sim_.ScheduleAt(scenario_.end, [this] {
      for (Replica& replica : replicas_) replica.core->Shutdown(scenario_.drain, [] {});
    });
    if (progress_) ScheduleProgress(scenario_.start);
    sim_.RunUntilEmpty();
    if (progress_) progress_(1.0);

    VariantRun run;
    run.variant = variant_name;
    run.seed = seed;
    recorder_->Finish(sim_.now());
    run.metrics = recorder_->metrics();
    double cost = 0.0;
    for (Replica& replica : replicas_) {
      cost += replica.core->cost().Total().money;
      AddStats(replica.core->stats(), &run.stats);
    }
    run.metrics.cost = cost - cost_at_warmup_end_;
    run.events = sim_.events_run();
    for (const std::string& name : transport_.names()) {
      world::MockUpstream* mock = transport_.Find(name);
      const world::UpstreamCounters& c = mock->counters();
      UpstreamSummary& s = run.upstreams[name];
      s.calls = c.calls;
      s.calls_by_kind = c.calls_by_kind;
      s.statuses = c.status_counts;
      s.credits_charged = c.credits_charged;
      s.quota_exhausted_time = mock->QuotaExhaustedTime(sim_.now());
      s.rate_limited = c.rate_limited;
      s.quota_rejected = c.quota_rejected;
      s.injected_errors = c.injected_errors;
      s.outage_answers = c.outage_answers;
      s.down_answers = c.down_answers;
      UpstreamLoad* load = nullptr;
      if (mock->servers() != nullptr) {
        load = &run.overload.upstreams[name];
        const world::ServerQueue::Integrals in = mock->servers()->IntegralsAt(sim_.now());
        load->time = sim_.now() - scenario_.start;
        load->busy_us = in.busy_us;
        load->waiting_us = in.waiting_us;
        load->servers_us = in.servers_us;
        load->max_waiting = in.max_waiting;
        load->served = c.served;
        load->wasted = c.wasted;
        load->goodput = c.goodput;
        load->refused = c.capacity_refused;
        load->dropped = c.expired_dropped;
        load->busy_time = c.busy_time;
        load->wasted_time = c.wasted_time;
      }
      auto warm = at_warmup_end_.find(name);
      if (warm != at_warmup_end_.end()) {
        const world::UpstreamCounters& w = warm->second.counters;
        s.calls -= w.calls;
        for (size_t k = 0; k < s.calls_by_kind.size(); ++k)
          s.calls_by_kind[k] -= w.calls_by_kind[k];
        for (const auto& [status, n] : w.status_counts) {
          if ((s.statuses[status] -= n) == 0) s.statuses.erase(status);
        }
        s.credits_charged -= w.credits_charged;
        s.quota_exhausted_time = s.quota_exhausted_time - warm->second.quota_exhausted;
        s.rate_limited -= w.rate_limited;
        s.quota_rejected -= w.quota_rejected;
        s.injected_errors -= w.injected_errors;
        s.outage_answers -= w.outage_answers;
        s.down_answers -= w.down_answers;
        if (load != nullptr) {
          const world::ServerQueue::Integrals& wl = warm->second.load;
          load->time = sim_.now() - (scenario_.start + scenario_.warmup);
          load->busy_us -= wl.busy_us;
          load->waiting_us -= wl.waiting_us;
          load->servers_us -= wl.servers_us;
          load->served -= w.served;
          load->wasted -= w.wasted;
          load->goodput -= w.goodput;
          load->refused -= w.capacity_refused;
          load->dropped -= w.expired_dropped;
          load->busy_time = load->busy_time - w.busy_time;
          load->wasted_time = load->wasted_time - w.wasted_time;
        }
      }
      run.metrics.quota_exhausted_time += s.quota_exhausted_time;
    }
    FillOverload(&run);
    if (on_finished_) on_finished_(transport_, sim_.now());
    return run;
  }

 private:
  struct Replica {
    std::unique_ptr<world::SimTimers> timers;          // replica 0 uses the run's
    std::unique_ptr<world::RngRandomSource> jitter;    // replica 0 uses the run's
    std::unique_ptr<world::LimitedTransport> limited;  // with a shared limiter
    std::unique_ptr<ReplicaTap> tap;                   // fleets of 2 or more
    std::unique_ptr<Orchestrator> core;
    OverloadStats stats_at_warmup_end;
  };

  void FillOverload(VariantRun* run) {
    OverloadMetrics& o = run->overload;
    const Instant steady_from = scenario_.start + scenario_.warmup;
    o.counted = scenario_.end - steady_from;
    o.replicas = fleet_.replicas;
    o.split = fleet_.split;
    for (size_t i = 0; i < replicas_.size(); ++i) {
      const Replica& replica = replicas_[i];
      const OverloadStats now = OverloadStatsOf(replica.core->stats());
      const OverloadStats& w = replica.stats_at_warmup_end;
      o.calls_cancelled += now.calls_cancelled - w.calls_cancelled;
      o.retries_throttled += now.retries_throttled - w.retries_throttled;
      o.hedges_denied += now.hedges_denied - w.hedges_denied;
      if (replica.tap) {
        ReplicaMetrics m = replica.tap->metrics();
        m.calls_cancelled = now.calls_cancelled - w.calls_cancelled;
        m.retries_throttled = now.retries_throttled - w.retries_throttled;
        m.hedges_denied = now.hedges_denied - w.hedges_denied;
        o.duplicate_calls += m.duplicate_calls;
        o.per_replica.push_back(m);
      }
    }
    if (limiter_) {
      o.limiter_enabled = true;
      o.limiter = limiter_->counters();
      for (const Replica& replica : replicas_) {
        for (const auto& [api, counts] : replica.limited->stopped()) {
          auto& total = o.limiter_stopped[api];
          for (size_t k = 0; k < counts.size(); ++k) total[k] += counts[k];
        }
      }
    }
    if (overload_) {
      overload_->Finish();
      o.series_enabled = true;
      o.series_start = scenario_.start;
      o.step = scenario_.overload.step;
      for (const auto& upstream : scenario_.upstreams) {
        if (upstream.capacity.enabled) o.capacity_apis.push_back(upstream.name);
      }
      for (size_t i = 0; i < o.capacity_apis.size(); ++i) {
        auto it = o.upstreams.find(o.capacity_apis[i]);
        if (it != o.upstreams.end()) it->second.max_waiting = overload_->max_waiting()[i];
      }
      o.series = overload_->TakeSeries();
      std::vector<uint64_t> goodput;
      goodput.reserve(o.series.size());
      for (const OverloadBucket& b : o.series) goodput.push_back(b.goodput);
      o.recovery = ComputeRecovery(goodput, o.series_start, o.step, scenario_.overload);
    }
  }

  // Requests the demand generates before scenario.start (a date window over a
  // longer schedule) are dropped, not piled up at the start: the run covers
  // [start, end) only.
  void ScheduleNextArrival() {
    std::optional<world::TimedRequest> next = demand_->Next();
    while (next && next->at < scenario_.start) next = demand_->Next();
    if (!next || next->at >= scenario_.end) return;
    pending_arrival_ = std::move(next->request);
    sim_.ScheduleAt(std::max(next->at, sim_.now()), [this] {
      Request request = std::move(pending_arrival_);
      request.id = next_request_id_++;
      const int replica = fleet_.ReplicaFor(request, arrivals_++);
      replicas_[static_cast<size_t>(replica)].core->Submit(std::move(request),
                                                           [](const Result&) {});
      ScheduleNextArrival();
    });
  }

  // Games kicking off before scenario.start are never announced.
  void ScheduleNextGame() {
    while (next_game_ < scenario_.games.size() &&
           scenario_.games[next_game_].kickoff < scenario_.start) {
      ++next_game_;
    }
    if (next_game_ >= scenario_.games.size()) return;
    const world::Game& game = scenario_.games[next_game_];
    const Instant announce = std::max(game.kickoff - kAnnounceLead, sim_.now());
    if (announce >= scenario_.end) return;
    sim_.ScheduleAt(announce, [this] {
      const world::Game& g = scenario_.games[next_game_++];
      for (Replica& replica : replicas_) replica.core->AddGame(g.id, g.kickoff);
      ScheduleNextGame();
    });
  }

  void ScheduleProgress(Instant at) {
    const Duration step = Duration::FromMicros(
        std::max<int64_t>(1, (scenario_.end - scenario_.start).micros() / 100));
    sim_.ScheduleAt(at, [this, at, step] {
      progress_(static_cast<double>((at - scenario_.start).micros()) /
                static_cast<double>((scenario_.end - scenario_.start).micros()));
      if (at + step < scenario_.end) ScheduleProgress(at + step);
    });
  }

  const scenario::Scenario& scenario_;
  world::FleetConfig fleet_;
  kernel::SeedTree seeds_;
  kernel::Simulator sim_;
  world::SimClock clock_;
  world::SimTimers timers_;
  world::MockTransport transport_;
  world::RngRandomSource jitter_;
  ProgressFn progress_;
  std::function<void(world::MockTransport&, Instant)> on_finished_;
  world::GameKickoffs kickoffs_;  // the games a key names (game_kickoffs.h)
  struct WarmupSnapshot {
    world::UpstreamCounters counters;
    Duration quota_exhausted;
    world::ServerQueue::Integrals load;
  };
  std::map<std::string, WarmupSnapshot> at_warmup_end_;  // by upstream
  double cost_at_warmup_end_ = 0.0;
  std::unique_ptr<MetricsRecorder> recorder_;
  std::unique_ptr<OverloadRecorder> overload_;
  std::unique_ptr<world::SharedLimiter> limiter_;
  std::unique_ptr<DuplicateCallTracker> duplicates_;
  std::vector<Replica> replicas_;  // destroyed before the recorders and the transport
  std::unique_ptr<world::DemandSource> demand_;
  Request pending_arrival_;
  uint64_t next_request_id_ = 1;
  uint64_t arrivals_ = 0;
  size_t next_game_ = 0;
};

}  // namespace

VariantRun RunVariant(const scenario::Scenario& scenario, const scenario::Variant& variant,
                      uint64_t seed, const ProgressFn& progress) {
  RunOptions options;
  options.progress = progress;
  return RunVariant(scenario, variant, seed, options);
}

VariantRun RunVariant(const scenario::Scenario& scenario, const scenario::Variant& variant,
                      uint64_t seed, const RunOptions& options) {
  Run run(scenario, variant, seed, options);
  return run.Execute(variant.name, seed);
}

std::vector<VariantRun> RunComparison(
    const scenario::Scenario& scenario, const std::vector<std::string>& names, uint64_t seed,
    const std::function<void(const std::string& variant, double fraction)>& progress) {
  std::vector<const scenario::Variant*> chosen;
  if (names.empty()) {
    for (const scenario::Variant& v : scenario.variants) chosen.push_back(&v);
  } else {
    for (const std::string& name : names) {
      const scenario::Variant* v = scenario.FindVariant(name);
      if (v == nullptr) throw std::invalid_argument("unknown variant \"" + name + "\"");
      chosen.push_back(v);
    }
  }
  std::vector<VariantRun> runs;
  for (const scenario::Variant* v : chosen) {
    ProgressFn one;
    if (progress) one = [&progress, v](double f) { progress(v->name, f); };
    runs.push_back(RunVariant(scenario, *v, seed, one));
  }
  return runs;
}

}  // namespace orchsim::experiment
