// Cost per client request through the whole orchestration pipeline (cache,
// coalescer, batcher, queue, bucket, quota, breaker, bulkhead, timeouts,
// retry, health, cost), with a fake transport answering after 50 ms of
// virtual time. Clock and timers are the simulator's (engine/world
// sim_ports over the kernel event queue), as in a season replay, so the
// figure includes the host's timer cost.
//
//   hot:  40 distinct keys, most requests are cache hits or coalesced;
//   cold: every key distinct and not cacheable, every request goes upstream.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/kernel/simulator.h"
#include "engine/world/sim_ports.h"
#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

using testing::SeededRandom;

// Answers every call after 50 ms. Attempts time out after 10 s, so the core
// never cancels here: Cancel aborts rather than pretend.
class AnsweringTransport : public Transport {
 public:
  AnsweringTransport(Timers& timers, Clock& clock) : timers_(timers), clock_(clock) {}
  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override {
    const size_t keys = call.keys.size();
    timers_.ScheduleAt(clock_.now() + Milliseconds(50), [keys, cb = std::move(on_response)] {
      Response r;
      r.status = 200;
      r.payload_versions.assign(keys, 1);
      r.credits_charged = 1;
      r.latency = Milliseconds(50);
      r.headers.Set("x-requests-remaining", "1000000000000");  // pacing never binds
      cb(r);
    });
    return ++handles_;
  }
  void Cancel(CallHandle /*handle*/) override { std::abort(); }

 private:
  Timers& timers_;
  Clock& clock_;
  CallHandle handles_ = 0;
};

OrchestratorConfig EverythingOn() {
  OrchestratorConfig c;
  c.defaults.bucket.rate_per_s = 1e6;
  c.defaults.bucket.burst = 1e6;
  c.defaults.quota.mode = QuotaMode::kPace;
  c.defaults.batcher.enabled = true;
  c.defaults.batcher.window = Milliseconds(20);
  c.defaults.concurrency.max_in_flight = 1000;
  c.health.active_probes = false;
  return c;
}

void RunPipeline(benchmark::State& state, bool hot) {
  const Instant start = Instant::FromUnixMicros(1'700'000'000'000'000);
  kernel::Simulator sim(start);
  world::SimClock clock(sim);
  world::SimTimers timers(sim);
  AnsweringTransport transport(timers, clock);
  SeededRandom jitter(1);
  std::unique_ptr<Orchestrator> core =
      Orchestrator::Create(EverythingOn(), clock, timers, transport, jitter).value();
  Orchestrator& orchestrator = *core;
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("game" + std::to_string(i));
  uint64_t id = 0;
  Instant t = start;
  const char* apis[] = {"odds", "scores", "weather"};
  for (auto _ : state) {
    ++id;
    t += Microseconds(200);
    sim.RunUntil(t);
    Request r;
    r.id = id;
    r.api = apis[id % 3];
    r.endpoint = r.api;
    r.key = hot ? keys[id % keys.size()] : std::to_string(id);
    r.cacheable = hot;
    r.batchable = r.api[0] == 'w';
    r.priority = kAllPriorities[id % 4];
    orchestrator.Submit(std::move(r),
                        [](const Result& result) { benchmark::DoNotOptimize(result.outcome); });
  }
  sim.RunUntilEmpty();
  state.SetItemsProcessed(static_cast<int64_t>(id));
  state.counters["calls_per_request"] =
      static_cast<double>(orchestrator.stats().calls_sent) / static_cast<double>(id);
}

// ORCHSIM_BENCH_ITERATIONS=n runs each benchmark for exactly n iterations,
// so a count taken outside (valgrind's instructions, a counting allocator)
// divides by a known number: the difference of two runs is the cost of the
// iterations between them.
void FixedIterationsFromEnv(benchmark::internal::Benchmark* b) {
  if (const char* n = std::getenv("ORCHSIM_BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
}

void BM_PipelineHot(benchmark::State& state) { RunPipeline(state, true); }
void BM_PipelineCold(benchmark::State& state) { RunPipeline(state, false); }
BENCHMARK(BM_PipelineHot)->Apply(FixedIterationsFromEnv);
BENCHMARK(BM_PipelineCold)->Apply(FixedIterationsFromEnv);

}  // namespace
}  // namespace orchsim

BENCHMARK_MAIN();
