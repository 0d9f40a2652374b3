// queueing_experiment.h — the production Orchestrator as a queueing system:
// Poisson arrivals per priority class, exponential service, `servers` calls
// in flight at most (the concurrency limit), every other mechanism off.
//
// The server is ExponentialServer, a Transport whose answer comes after an
// exponential service time; with max_in_flight = c the orchestrator's priority
// queue + bulkhead is an M/M/c queue with non-preemptive priorities (FIFO in a
// class), which Cobham's formula (c = 1) and Erlang C (one class) describe.
//
// What is measured is the core's own Result::queue_wait, defined by the
// orchestrator as (instant the request's flight first went upstream) -
// (instant of Submit): exactly the queueing-theory wait in queue, because the
// orchestrator dispatches the next flight synchronously inside the answer
// callback that frees a slot. Every replication also checks that definition
// against an observer: queue_wait_mismatches counts requests whose
// Result::queue_wait differs from OnCallSent - OnSubmitted (expected 0).
//
// Replications: replication r uses the seed tree Child("replication/<r>") of
// config.seed, streams "arrivals/<class>" and "service". The first
// warmup_customers arrivals are not measured (the queue starts empty).
#ifndef ORCHSIM_ENGINE_FIDELITY_QUEUEING_EXPERIMENT_H_
#define ORCHSIM_ENGINE_FIDELITY_QUEUEING_EXPERIMENT_H_

#include <cstdint>
#include <vector>

#include "engine/fidelity/statistics.h"
#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/call_deliveries.h"
#include "engine/world/sim_ports.h"
#include "policies/orchestrator.h"
#include "policies/ports.h"
#include "policies/status.h"

namespace orchsim::fidelity {

// A Transport answering every call 200 after an exponential service time
// (whole microseconds), through the simulator.
class ExponentialServer : public Transport {
 public:
  ExponentialServer(kernel::Simulator& sim, kernel::Rng rng, Duration mean_service);
  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override;
  void Cancel(CallHandle handle) override;

 private:
  kernel::Simulator& sim_;
  kernel::Rng rng_;
  double mean_us_;
  Response reply_;  // the answer being built, reused
  world::CallDeliveries answers_;
};

struct QueueingExperimentConfig {
  // Arrival rate per class, most urgent first: class i is Priority i
  // (CRITICAL, HIGH, NORMAL, LOW); 1..4 classes, each > 0, total load < servers.
  std::vector<double> arrival_rates_per_s = {0.2, 0.3, 0.3};
  Duration mean_service = Seconds(1);   // > 0
  int servers = 1;                      // the concurrency limit, >= 1
  int64_t warmup_customers = 20000;     // arrivals not measured, >= 0
  int64_t measured_customers = 200000;  // arrivals measured per replication, >= 1
  int replications = 10;                // >= 2
  uint64_t seed = 1;

  Status validate() const;
};

struct QueueingReplication {
  std::vector<double> mean_wait_s;  // per class
  std::vector<int64_t> measured;    // per class
  double mean_wait_all_s = 0.0;
  double p_wait = 0.0;  // fraction of measured arrivals with queue_wait > 0
  int64_t queue_wait_mismatches = 0;
  int64_t not_served = 0;  // outcomes other than kServed (expected 0)
};

struct QueueingExperimentResult {
  std::vector<QueueingReplication> replications;
  std::vector<ConfidenceInterval> wait_by_class_s;
  ConfidenceInterval wait_all_s;
  ConfidenceInterval p_wait;
  int64_t queue_wait_mismatches = 0;
  int64_t not_served = 0;
};

// The core with only the priority queue (no escalation, no capacity) and the
// bulkhead (max_in_flight = servers): cache, coalescer, batcher, prefetch,
// bucket, quota, breaker, retry, retry budget, timeouts and health are off.
OrchestratorConfig QueueingCoreConfig(int servers);

// REQUIRES: config.validate().ok().
QueueingReplication RunQueueingReplication(const QueueingExperimentConfig& config,
                                           const kernel::SeedTree& seeds);
QueueingExperimentResult RunQueueingExperiment(const QueueingExperimentConfig& config);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_QUEUEING_EXPERIMENT_H_
