// RequestQueue under a push/pop mix (the hold model): with n entries queued,
// each iteration pops the entry served next and pushes a fresh one of a
// random class (half of them tied to a game 0..6h ahead), while virtual time
// advances 1 ms per iteration so wait and game escalations keep falling due.
// Reports ns per iteration (one Pop + one Push) at n = 10^3 and 10^5:
//   BM_Hold/escalation:0   escalation_enabled = false (pure class + FIFO)
//   BM_Hold/escalation:1   default config (wait thresholds + game rules)
//   BM_ShedAtCapacity      capacity n, full: each Push sheds the newest
//                          entry of the least urgent class or is refused,
//                          then one Pop (escalation on).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>

#include "policies/request_queue.h"
#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

struct Workload {
  testing::SeededRandom mix{12345};
  Instant now = Instant::FromUnixMicros(1694376000000000);
  uint64_t next_id = 1;

  void PushOne(RequestQueue& queue) {
    const Priority p = kAllPriorities[mix.Below(kPriorityCount)];
    std::optional<Instant> game;
    if (mix.Below(2) == 0) game = now + Seconds(static_cast<int64_t>(mix.Below(6 * 3600)));
    queue.Push(next_id++, p, now, game);
  }
};

void BM_Hold(benchmark::State& state) {
  const int64_t queued = state.range(0);
  RequestQueueConfig config;
  config.escalation_enabled = state.range(1) != 0;
  RequestQueue queue(config);
  Workload w;
  for (int64_t i = 0; i < queued; ++i) w.PushOne(queue);
  for (auto _ : state) {
    w.now += Milliseconds(1);
    benchmark::DoNotOptimize(queue.Pop(w.now));
    w.PushOne(queue);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["queued"] = static_cast<double>(queue.size());
}

void BM_ShedAtCapacity(benchmark::State& state) {
  const int64_t queued = state.range(0);
  RequestQueueConfig config;
  config.capacity = static_cast<size_t>(queued);
  RequestQueue queue(config);
  Workload w;
  for (int64_t i = 0; i < queued; ++i) w.PushOne(queue);
  for (auto _ : state) {
    w.now += Milliseconds(1);
    w.PushOne(queue);  // full: sheds or is refused
    benchmark::DoNotOptimize(queue.Pop(w.now));
    w.PushOne(queue);  // refill to capacity
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["queued"] = static_cast<double>(queue.size());
}

BENCHMARK(BM_Hold)->ArgNames({"n", "escalation"})->ArgsProduct({{1000, 100000}, {0, 1}});
BENCHMARK(BM_ShedAtCapacity)->ArgName("n")->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace orchsim

BENCHMARK_MAIN();
