// The classic hold model (Vaucher & Duval; ns-3's bench-scheduler): with n
// events pending, pop the earliest and push one at now + a random increment.
// Reports ns per hold operation; goal <= 50 ns at 10^4 and <= 150 ns at 10^6.
#include <benchmark/benchmark.h>

#include <memory>

#include "engine/kernel/heap_event_queue.h"
#include "engine/kernel/random.h"
#include "engine/kernel/reference_event_queue.h"

namespace orchsim::kernel {
namespace {

template <typename Q>
void BM_Hold(benchmark::State& state) {
  const int64_t pending = state.range(0);
  Q queue;
  Rng rng(12345);
  // Increments exponential with mean 1 ms, in whole microseconds.
  auto increment = [&rng] { return static_cast<int64_t>(rng.Exponential(1000.0)) + 1; };
  for (int64_t i = 0; i < pending; ++i) {
    queue.Push(Instant::FromUnixMicros(increment()), [] {});
  }
  Instant at;
  EventCallback callback;
  for (auto _ : state) {
    queue.PopNext(&at, &callback);
    callback();
    queue.Push(at + Microseconds(increment()), [] {});
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["pending"] = static_cast<double>(queue.Size());
}

BENCHMARK(BM_Hold<HeapEventQueue>)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_Hold<ReferenceEventQueue>)->Arg(1000)->Arg(10000);

}  // namespace
}  // namespace orchsim::kernel

BENCHMARK_MAIN();
