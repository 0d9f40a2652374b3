#include "engine/fidelity/overload_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "engine/fidelity/queueing_experiment.h"
#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/mock_transport.h"
#include "engine/world/sim_ports.h"
#include "policies/orchestrator.h"

namespace orchsim::fidelity {
namespace {

const Instant kOrigin = Instant::FromUnixMicros(1'704'067'200'000'000);  // 2024-01-01T00:00Z

std::string Fixed(double x, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, x);
  return buffer;
}

// One replication of the M/M/c/K experiment.
class MmcKRun {
 public:
  MmcKRun(const MmcKConfig& config, uint64_t seed)
      : config_(config),
        sim_(kOrigin),
        seeds_(seed),
        transport_(sim_),
        arrivals_(seeds_.Stream("arrivals")) {
    world::UpstreamModelConfig u;
    u.name = "server";
    u.data.enabled = false;
    u.latency.constant = Duration::Zero();
    u.capacity.enabled = true;
    u.capacity.servers = config.servers;
    u.capacity.queue_limit = config.capacity - config.servers;
    u.capacity.full_latency = Duration::Zero();
    u.capacity.service.kind = world::LatencyKind::kExponential;
    u.capacity.service.mean = Duration::FromMicros(std::llround(1e6 / config.mu));
    upstream_ = &transport_.AddUpstream(u, seeds_);
  }

  // The share of measured arrivals refused, and their mean wait: mean
  // latency minus the mean service time of every call served.
  void Run(double* blocking, double* wait_s) {
    sim_.ScheduleAt(kOrigin, [this] { Arrive(); });
    sim_.RunUntilEmpty();
    *blocking = static_cast<double>(refused_) / static_cast<double>(config_.measured_arrivals);
    const world::UpstreamCounters& c = upstream_->counters();
    const double mean_latency =
        static_cast<double>(latency_us_) / 1e6 / static_cast<double>(answered_);
    const double mean_service =
        static_cast<double>(c.busy_time.micros()) / 1e6 / static_cast<double>(c.served);
    *wait_s = mean_latency - mean_service;
  }

 private:
  void Arrive() {
    const int64_t index = sent_++;
    const bool measured = index >= config_.warmup_arrivals;
    const uint64_t refused_before = upstream_->counters().capacity_refused;
    UpstreamCall call{.api = "server", .endpoint = "e", .keys = {"k"}};
    call.call_id = static_cast<uint64_t>(index + 1);
    const Instant sent = sim_.now();
    Transport& port = transport_;
    port.Send(call, [this, measured, sent](const Response& r) {
      if (!measured || r.status != 200) return;
      latency_us_ += (sim_.now() - sent).micros();
      ++answered_;
    });
    // Offer decides at once: a refusal is counted during Send.
    if (measured && upstream_->counters().capacity_refused > refused_before) ++refused_;
    if (sent_ < config_.warmup_arrivals + config_.measured_arrivals) {
      const double gap_us = arrivals_.Exponential(1e6 / config_.lambda);
      const Duration gap = Duration::FromMicros(std::max<int64_t>(1, std::llround(gap_us)));
      sim_.ScheduleAt(sim_.now() + gap, [this] { Arrive(); });
    }
  }

  const MmcKConfig& config_;
  kernel::Simulator sim_;
  kernel::SeedTree seeds_;
  world::MockTransport transport_;
  kernel::Rng arrivals_;
  world::MockUpstream* upstream_ = nullptr;
  int64_t sent_ = 0;
  int64_t refused_ = 0;
  int64_t answered_ = 0;
  int64_t latency_us_ = 0;
};

}  // namespace

MmcKTheory MmcK(int servers, int capacity, double lambda, double mu) {
  const double a = lambda / mu;
  std::vector<double> p(static_cast<size_t>(capacity) + 1, 0.0);
  p[0] = 1.0;
  for (int n = 1; n <= capacity; ++n) {
    p[static_cast<size_t>(n)] = p[static_cast<size_t>(n - 1)] * a / std::min(n, servers);
  }
  double total = 0.0;
  for (double x : p) total += x;
  for (double& x : p) x /= total;
  MmcKTheory t;
  t.blocking = p[static_cast<size_t>(capacity)];
  for (int n = servers + 1; n <= capacity; ++n)
    t.mean_queue += (n - servers) * p[static_cast<size_t>(n)];
  t.mean_wait_s = t.mean_queue / (lambda * (1.0 - t.blocking));
  return t;
}

MmcKResult RunMmcK(const MmcKConfig& config) {
  std::vector<double> blocking;
  std::vector<double> waits;
  const kernel::SeedTree root(config.seed);
  for (int r = 0; r < config.replications; ++r) {
    MmcKRun run(config, root.SeedFor("mmck/" + std::to_string(r)));
    double b = 0.0;
    double w = 0.0;
    run.Run(&b, &w);
    blocking.push_back(b);
    waits.push_back(w);
  }
  return {MeanConfidence95(blocking), MeanConfidence95(waits)};
}

double ExpectedAttempts(double p, int n) {
  if (p >= 1.0) return n;
  return (1.0 - std::pow(p, n)) / (1.0 - p);
}

ConfidenceInterval RunAttempts(const AttemptsConfig& config) {
  std::vector<double> means;
  const kernel::SeedTree root(config.seed);
  for (int r = 0; r < config.replications; ++r) {
    const kernel::SeedTree seeds(root.SeedFor("attempts/" + std::to_string(r)));
    kernel::Simulator sim(kOrigin);
    world::SimClock clock(sim);
    world::SimTimers timers(sim);
    world::RngRandomSource jitter(seeds, "policy/jitter");
    world::MockTransport transport(sim);
    world::UpstreamModelConfig u;
    u.name = "api";
    u.data.enabled = false;
    u.latency.constant = Milliseconds(10);
    u.failures.enabled = true;
    u.failures.rates.status_500 = config.failure_probability;
    world::MockUpstream& upstream = transport.AddUpstream(u, seeds);
    OrchestratorConfig core = QueueingCoreConfig(1);
    core.defaults.concurrency.enabled = false;
    core.defaults.retry.enabled = true;
    core.defaults.retry.max_attempts = config.max_attempts;
    core.defaults.retry.backoff = BackoffKind::kNone;
    std::unique_ptr<Orchestrator> orchestrator =
        Orchestrator::Create(core, clock, timers, transport, jitter).value();
    for (int64_t i = 0; i < config.requests; ++i) {
      sim.ScheduleAt(kOrigin + Milliseconds(100) * i, [&orchestrator, i] {
        Request request;
        request.id = static_cast<uint64_t>(i + 1);
        request.api = std::string("api");
        request.endpoint = std::string("e");
        request.key = std::to_string(i);  // distinct keys
        request.cacheable = false;
        orchestrator->Submit(std::move(request), [](const Result&) {});
      });
    }
    sim.RunUntilEmpty();
    means.push_back(static_cast<double>(upstream.counters().calls) /
                    static_cast<double>(config.requests));
  }
  return MeanConfidence95(means);
}

std::vector<CheckLine> MmcKChecks(bool long_version) {
  struct Case {
    int servers;
    int capacity;
    double lambda;
  };
  const std::vector<Case> cases = {{1, 3, 0.8}, {2, 5, 1.5}, {4, 8, 4.0}};
  std::vector<CheckLine> lines;
  for (const Case& c : cases) {
    MmcKConfig config;
    config.servers = c.servers;
    config.capacity = c.capacity;
    config.lambda = c.lambda;
    config.mu = 1.0;
    config.replications = long_version ? 20 : 10;
    config.measured_arrivals = long_version ? 200000 : 40000;
    config.seed = 17;
    const MmcKResult r = RunMmcK(config);
    const MmcKTheory t = MmcK(c.servers, c.capacity, c.lambda, 1.0);
    // Appended piecewise: GCC 12 warns (-Wrestrict) on a chain of temporaries.
    std::string name = "M/M/";
    name += std::to_string(c.servers);
    name += '/';
    name += std::to_string(c.capacity);
    name += "/lambda";
    name += Fixed(c.lambda, 1);
    lines.push_back(CiCheck(name, "P(blocked)", r.blocking, t.blocking));
    lines.push_back(CiCheck(name, "mean wait (s)", r.mean_wait_s, t.mean_wait_s));
  }
  return lines;
}

std::vector<CheckLine> AttemptsChecks(bool long_version) {
  struct Case {
    double p;
    int n;
  };
  const std::vector<Case> cases = {{0.1, 3}, {0.3, 3}, {0.5, 5}};
  std::vector<CheckLine> lines;
  for (const Case& c : cases) {
    AttemptsConfig config;
    config.failure_probability = c.p;
    config.max_attempts = c.n;
    config.replications = long_version ? 20 : 10;
    config.requests = long_version ? 50000 : 10000;
    config.seed = 3;
    std::string name = "attempts/p";
    name += Fixed(c.p, 1);
    name += "/n";
    name += std::to_string(c.n);
    lines.push_back(
        CiCheck(name, "attempts per request", RunAttempts(config), ExpectedAttempts(c.p, c.n)));
  }
  return lines;
}

}  // namespace orchsim::fidelity
