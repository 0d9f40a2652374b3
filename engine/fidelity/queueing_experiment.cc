#include "engine/fidelity/queueing_experiment.h"

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>

#include "engine/world/sim_ports.h"

namespace orchsim::fidelity {
namespace {

// Records when each request was first sent. A request's key is its id in
// decimal (QueueingRun::Arrive), ids run 1..customers, so the table is a
// vector indexed by id - 1: no hashing on the path being measured.
class SendTimes : public OrchestratorObserver {
 public:
  explicit SendTimes(int64_t customers)
      : first_sent_(static_cast<size_t>(customers), Instant::Max()) {}
  void OnCallSent(const UpstreamCall& call, Instant now) override {
    for (const std::string& key : call.keys) {
      uint64_t id = 0;
      const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
      if (error != std::errc() || end != key.data() + key.size() || id == 0 ||
          id > first_sent_.size()) {
        continue;  // not one of the run's requests
      }
      Instant& first = first_sent_[id - 1];
      if (first == Instant::Max()) first = now;
    }
  }
  // The first send of request `id`; Instant::Max() if none.
  Instant Get(uint64_t id) const {
    return id == 0 || id > first_sent_.size() ? Instant::Max() : first_sent_[id - 1];
  }

 private:
  std::vector<Instant> first_sent_;  // Instant::Max(): not sent yet
};

struct ClassTotals {
  int64_t measured = 0;
  int64_t wait_us_sum = 0;
};

}  // namespace

ExponentialServer::ExponentialServer(kernel::Simulator& sim, kernel::Rng rng, Duration mean_service)
    : sim_(sim), rng_(rng), mean_us_(static_cast<double>(mean_service.micros())), answers_(sim) {}

Transport::CallHandle ExponentialServer::Send(const UpstreamCall& call,
                                              ResponseCallback on_response) {
  const Duration service = Duration::FromMicros(std::llround(rng_.Exponential(mean_us_)));
  // Built in one reused Response and copied into the call's recycled one: no
  // allocation per call.
  reply_.status = 200;
  reply_.payload_versions.assign(call.keys.size(), 1);
  reply_.latency = service;
  return answers_.ScheduleCopy(sim_.now() + service, reply_, std::move(on_response));
}

void ExponentialServer::Cancel(CallHandle handle) { answers_.Cancel(handle); }

Status QueueingExperimentConfig::validate() const {
  if (arrival_rates_per_s.empty() || arrival_rates_per_s.size() > 4) {
    return FieldError("queueing.arrival_rates_per_s",
                      static_cast<int64_t>(arrival_rates_per_s.size()), "must hold 1..4 classes");
  }
  double load = 0.0;
  for (double rate : arrival_rates_per_s) {
    if (!(rate > 0)) return FieldError("queueing.arrival_rates_per_s", rate, "each must be > 0");
    load += rate * static_cast<double>(mean_service.micros()) / 1e6;
  }
  if (mean_service <= Duration::Zero()) {
    return FieldError("queueing.mean_service", mean_service.micros(), "must be > 0 us");
  }
  if (servers < 1) return FieldError("queueing.servers", servers, "must be >= 1");
  if (!(load < servers)) {
    return FieldError("queueing.arrival_rates_per_s", load,
                      "total load must be < servers (a stable queue)");
  }
  if (warmup_customers < 0) {
    return FieldError("queueing.warmup_customers", warmup_customers, "must be >= 0");
  }
  if (measured_customers < 1) {
    return FieldError("queueing.measured_customers", measured_customers, "must be >= 1");
  }
  if (replications < 2) return FieldError("queueing.replications", replications, "must be >= 2");
  return Status::Ok();
}

OrchestratorConfig QueueingCoreConfig(int servers) {
  OrchestratorConfig config;
  config.defaults.bucket.enabled = false;
  config.defaults.quota.enabled = false;
  config.queue.capacity = 0;
  config.queue.escalation_enabled = false;
  config.queue.game_rules.clear();
  config.defaults.coalescer.enabled = false;
  config.defaults.batcher.enabled = false;
  config.defaults.cache.enabled = false;
  config.prefetch.enabled = false;
  config.defaults.breaker.enabled = false;
  config.defaults.retry.enabled = false;
  config.defaults.retry_budget.enabled = false;
  config.defaults.concurrency.enabled = true;
  config.defaults.concurrency.max_in_flight = servers;
  config.defaults.timeouts.enabled = false;
  config.health.enabled = false;
  config.cost.enabled = false;
  return config;
}

namespace {

// One replication: the simulator, the core and the arrival processes.
class QueueingRun {
 public:
  QueueingRun(const QueueingExperimentConfig& config, const kernel::SeedTree& seeds)
      : config_(config),
        sim_(Instant::Epoch()),
        clock_(sim_),
        timers_(sim_),
        jitter_(seeds, "policy/jitter"),
        server_(sim_, seeds.Stream("service"), config.mean_service),
        orchestrator_(Orchestrator::Create(QueueingCoreConfig(config.servers), clock_, timers_,
                                           server_, jitter_)
                          .value()),
        send_times_(config.warmup_customers + config.measured_customers),
        customers_(static_cast<size_t>(config.warmup_customers + config.measured_customers)),
        totals_(config.arrival_rates_per_s.size()) {
    orchestrator_->AddObserver(&send_times_);
    for (size_t k = 0; k < config.arrival_rates_per_s.size(); ++k) {
      rngs_.push_back(seeds.Stream("arrivals/" + std::to_string(k)));
      processes_.emplace_back(config.arrival_rates_per_s[k], Instant::Epoch());
    }
  }

  QueueingReplication Execute() {
    for (size_t k = 0; k < processes_.size(); ++k) ScheduleNext(k);
    sim_.RunUntilEmpty();
    int64_t measured_all = 0;
    int64_t wait_all_us = 0;
    for (const ClassTotals& t : totals_) {
      result_.measured.push_back(t.measured);
      result_.mean_wait_s.push_back(
          t.measured == 0 ? 0.0 : static_cast<double>(t.wait_us_sum) / t.measured / 1e6);
      measured_all += t.measured;
      wait_all_us += t.wait_us_sum;
    }
    result_.mean_wait_all_s =
        measured_all == 0 ? 0.0 : static_cast<double>(wait_all_us) / measured_all / 1e6;
    result_.p_wait = measured_all == 0 ? 0.0 : static_cast<double>(waited_) / measured_all;
    return result_;
  }

 private:
  // One pending arrival event per class; each schedules the next.
  void ScheduleNext(size_t k) {
    const Instant at = processes_[k].Next(rngs_[k]);
    sim_.ScheduleAt(at, [this, k] { Arrive(k); });
  }

  void Arrive(size_t k) {
    if (arrivals_ >= config_.warmup_customers + config_.measured_customers) return;
    const int64_t index = arrivals_++;
    Request request;
    request.id = static_cast<uint64_t>(index + 1);
    request.api = "server";
    request.endpoint = "serve";
    request.key = std::to_string(request.id);
    request.priority = static_cast<Priority>(k);
    request.cacheable = false;
    customers_[static_cast<size_t>(index)] = Customer{sim_.now(), k};
    // The callback captures two words, so std::function holds it without
    // allocating; what it needs about the customer is in customers_.
    orchestrator_->Submit(std::move(request),
                          [this, index](const Result& r) { Completed(index, r); });
    ScheduleNext(k);
  }

  void Completed(int64_t index, const Result& r) {
    const Customer& customer = customers_[static_cast<size_t>(index)];
    const Instant sent = send_times_.Get(static_cast<uint64_t>(index + 1));
    if (r.outcome != Outcome::kServed) ++result_.not_served;
    if (sent == Instant::Max() || r.queue_wait != sent - customer.submitted) {
      ++result_.queue_wait_mismatches;
    }
    if (index < config_.warmup_customers) return;  // not measured
    ClassTotals& totals = totals_[customer.k];
    totals.measured += 1;
    totals.wait_us_sum += r.queue_wait.micros();
    if (r.queue_wait > Duration::Zero()) ++waited_;
  }

  // What the completion needs about an arrival.
  struct Customer {
    Instant submitted;
    size_t k = 0;  // its class
  };

  const QueueingExperimentConfig& config_;
  kernel::Simulator sim_;
  world::SimClock clock_;
  world::SimTimers timers_;
  world::RngRandomSource jitter_;
  ExponentialServer server_;
  std::unique_ptr<Orchestrator> orchestrator_;
  SendTimes send_times_;
  std::vector<Customer> customers_;  // by arrival index
  std::vector<kernel::Rng> rngs_;
  std::vector<kernel::PoissonArrivals> processes_;
  std::vector<ClassTotals> totals_;
  int64_t arrivals_ = 0;
  int64_t waited_ = 0;
  QueueingReplication result_;
};

}  // namespace

QueueingReplication RunQueueingReplication(const QueueingExperimentConfig& config,
                                           const kernel::SeedTree& seeds) {
  QueueingRun run(config, seeds);
  return run.Execute();
}

QueueingExperimentResult RunQueueingExperiment(const QueueingExperimentConfig& config) {
  QueueingExperimentResult result;
  const kernel::SeedTree root(config.seed);
  for (int r = 0; r < config.replications; ++r) {
    result.replications.push_back(
        RunQueueingReplication(config, root.Child("replication/" + std::to_string(r))));
  }
  const size_t classes = config.arrival_rates_per_s.size();
  for (size_t k = 0; k < classes; ++k) {
    std::vector<double> waits;
    for (const QueueingReplication& rep : result.replications) waits.push_back(rep.mean_wait_s[k]);
    result.wait_by_class_s.push_back(MeanConfidence95(waits));
  }
  std::vector<double> all, p_wait;
  for (const QueueingReplication& rep : result.replications) {
    all.push_back(rep.mean_wait_all_s);
    p_wait.push_back(rep.p_wait);
    result.queue_wait_mismatches += rep.queue_wait_mismatches;
    result.not_served += rep.not_served;
  }
  result.wait_all_s = MeanConfidence95(all);
  result.p_wait = MeanConfidence95(p_wait);
  return result;
}

}  // namespace orchsim::fidelity
