#include "engine/experiment/runner.h"

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/demand.h"
#include "engine/world/game_kickoffs.h"
#include "engine/world/mock_transport.h"
#include "engine/world/sim_ports.h"

namespace orchsim::experiment {
namespace {

// Games are announced to the prefetcher this long before kickoff (longer
// than any sensible prefetch offset).
constexpr Duration kAnnounceLead = Days(1);

class Run {
 public:
  Run(const scenario::Scenario& scenario, const scenario::Variant& variant, uint64_t seed,
      const RunOptions& options)
      : scenario_(scenario),
        seeds_(seed),
        sim_(scenario.start),
        clock_(sim_),
        timers_(sim_),
        transport_(sim_),
        jitter_(seeds_, "policy/jitter"),
        progress_(options.progress),
        on_finished_(options.on_finished),
        kickoffs_(scenario.games) {
    for (const auto& upstream : scenario.upstreams) {
      world::MockUpstream& mock = transport_.AddUpstream(upstream, seeds_);
      mock.SetKickoffLookup([this](const std::string& key) { return kickoffs_.For(key); });
    }
    StatusOr<std::unique_ptr<Orchestrator>> core =
        Orchestrator::Create(variant.policy, clock_, timers_, transport_, jitter_);
    if (!core.ok()) {
      // Scenario loading validates every variant; a config built in code may not be.
      throw std::invalid_argument("variant \"" + variant.name +
                                  "\" is invalid: " + core.status().message());
    }
    orchestrator_ = std::move(core).value();
    recorder_ = std::make_unique<MetricsRecorder>(
        scenario.start, Hours(1),
        [this](const Request& request, Instant now) -> uint64_t {
          world::MockUpstream* mock = transport_.Find(request.api);
          return mock == nullptr ? 0 : mock->PayloadVersionAt(request.key, now);
        },
        scenario.start + scenario.warmup);
    orchestrator_->AddObserver(recorder_.get());
    for (const std::string& name : transport_.names()) {
      transport_.Find(name)->SetQuotaObserver([this, name](Instant at, double used, bool refused) {
        recorder_->OnQuota(name, at, used, refused);
      });
    }
    for (OrchestratorObserver* observer : options.extra_observers) {
      orchestrator_->AddObserver(observer);
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
          at_warmup_end_[name] = {mock->counters(), mock->QuotaExhaustedTime(now)};
        }
        cost_at_warmup_end_ = orchestrator_->cost().Total().money;
      });
    }
    ScheduleNextArrival();
    ScheduleNextGame();
    sim_.ScheduleAt(scenario_.end, [this] { orchestrator_->Shutdown(scenario_.drain, [] {}); });
    if (progress_) ScheduleProgress(scenario_.start);
    sim_.RunUntilEmpty();
    if (progress_) progress_(1.0);

    VariantRun run;
    run.variant = variant_name;
    run.seed = seed;
    recorder_->Finish(sim_.now());
    run.metrics = recorder_->metrics();
    run.metrics.cost = orchestrator_->cost().Total().money - cost_at_warmup_end_;
    run.stats = orchestrator_->stats();
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
      }
      run.metrics.quota_exhausted_time += s.quota_exhausted_time;
    }
    if (on_finished_) on_finished_(transport_, sim_.now());
    return run;
  }

 private:
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
      orchestrator_->Submit(std::move(request), [](const Result&) {});
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
      orchestrator_->AddGame(g.id, g.kickoff);
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
  };
  std::map<std::string, WarmupSnapshot> at_warmup_end_;  // by upstream
  double cost_at_warmup_end_ = 0.0;
  std::unique_ptr<Orchestrator> orchestrator_;
  std::unique_ptr<MetricsRecorder> recorder_;
  std::unique_ptr<world::DemandSource> demand_;
  Request pending_arrival_;
  uint64_t next_request_id_ = 1;
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
