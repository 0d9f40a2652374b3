// The M/M/1 queue with four non-preemptive priority classes, through the
// whole core: engine/fidelity/queueing_experiment's replication (the
// production Orchestrator with its priority queue and a bulkhead of one call
// in flight, every other mechanism off; ExponentialServer answering after an
// exponential service time; Poisson arrivals per class; the kernel's event
// queue and the simulator's clock and timers).
//
// The model (the same in tools/mm1_priority_simpy.py, which runs it in SimPy 3
// for tools/bench_vs_simpy.sh):
//   arrival rates 0.1, 0.2, 0.2, 0.3 per s for CRITICAL, HIGH, NORMAL, LOW
//   (class 0 most urgent), mean service 1 s, load 0.8; FIFO inside a class.
//   Cobham's mean waits in queue: 0.889, 1.270, 2.286, 8.000 s.
//
//   BM_MM1Priority/<customers>: one replication of <customers> arrivals (the
//   first 10% are warm-up: simulated but not in the mean waits) per
//   iteration. items_per_second = customers per CPU second; the counters
//   wait_s_<class> are the last iteration's mean waits in queue, cobham_s_<class>
//   Cobham's (queueing_theory.h). The figure includes the replication's own
//   bookkeeping: building each Request (three strings), its completion
//   callback, and the observer that checks queue_wait (a hash map of keys;
//   about 5% of the instructions).
//
// ORCHSIM_MM1_CUSTOMERS=n adds BM_MM1Priority/n (tools/bench_vs_simpy.sh runs
// only that one, with the customer count it gives SimPy);
// ORCHSIM_BENCH_ITERATIONS=n runs exactly n iterations (for valgrind).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/fidelity/queueing_experiment.h"
#include "engine/fidelity/queueing_theory.h"
#include "engine/kernel/random.h"

namespace orchsim::fidelity {
namespace {

QueueingExperimentConfig Mm1FourClasses(int64_t customers) {
  QueueingExperimentConfig config;
  config.arrival_rates_per_s = {0.1, 0.2, 0.2, 0.3};
  config.mean_service = Seconds(1);
  config.servers = 1;
  config.warmup_customers = customers / 10;
  config.measured_customers = customers - config.warmup_customers;
  config.seed = 1;
  return config;
}

void BM_MM1Priority(benchmark::State& state) {
  const int64_t customers = state.range(0);
  const QueueingExperimentConfig config = Mm1FourClasses(customers);
  const Status valid = config.validate();
  if (!valid.ok()) {
    state.SkipWithError(valid.ToString().c_str());
    return;
  }
  const kernel::SeedTree seeds(config.seed);
  QueueingReplication last;
  for (auto _ : state) {
    last = RunQueueingReplication(config, seeds);
    benchmark::DoNotOptimize(last.mean_wait_all_s);
  }
  if (last.not_served != 0 || last.queue_wait_mismatches != 0) {
    state.SkipWithError("a customer was not served, or its queue_wait disagreed with the observer");
    return;
  }
  state.SetItemsProcessed(state.iterations() * customers);
  state.counters["customers"] = static_cast<double>(customers);
  state.counters["warmup"] = static_cast<double>(config.warmup_customers);
  const std::vector<double> cobham = CobhamExponentialWaits(
      config.arrival_rates_per_s, static_cast<double>(config.mean_service.micros()) / 1e6);
  for (size_t k = 0; k < last.mean_wait_s.size(); ++k) {
    state.counters["wait_s_" + std::to_string(k)] = last.mean_wait_s[k];
    state.counters["cobham_s_" + std::to_string(k)] = cobham[k];
  }
}

void Sizes(benchmark::internal::Benchmark* b) {
  constexpr int64_t kDefault = 100000;
  b->Arg(kDefault);
  if (const char* n = std::getenv("ORCHSIM_MM1_CUSTOMERS")) {
    if (std::atoll(n) != kDefault) b->Arg(std::atoll(n));
  }
  if (const char* n = std::getenv("ORCHSIM_BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
}

BENCHMARK(BM_MM1Priority)->Apply(Sizes)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace orchsim::fidelity

BENCHMARK_MAIN();
