// The classic hold model (Vaucher & Duval; ns-3's bench-scheduler): with n
// events pending, pop the earliest and push one at its time plus a random
// increment. Reports ns per hold operation (one PopNext, running the
// callback, one Push); goal <= 50 ns at 10^4 and <= 150 ns at 10^6.
//
// Increments are exponential with mean 1 ms, in whole microseconds (+1, so
// never zero). They are drawn before the timed loop into a ring of 2^16
// values that the loop cycles through: the figure is the queue's cost, not
// the cost of a logarithm per draw (BM_ExponentialDraw shows that, ~7 ns).
// The ring is long enough that its repetition does not line up with the
// queue's contents, and small enough (256 KB, read sequentially) to cost
// little cache.
//
// BM_Hold uses a mean of 1 ms. BM_HoldMinutes uses a mean of 60 s, which
// spreads the pending events over many of WheelEventQueue's 16.8 s
// super-blocks, so most of them wait in its overflow heap: the wheel's
// less favourable case, kept here so its cost stays visible.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "engine/kernel/heap_event_queue.h"
#include "engine/kernel/random.h"
#include "engine/kernel/reference_event_queue.h"
#include "engine/kernel/wheel_event_queue.h"

namespace orchsim::kernel {
namespace {

constexpr size_t kRingSize = size_t{1} << 16;

int64_t DrawIncrement(Rng& rng, double mean_us = 1000.0) {
  return static_cast<int64_t>(rng.Exponential(mean_us)) + 1;
}

std::vector<int64_t> DrawIncrementRing(Rng& rng, double mean_us) {
  std::vector<int64_t> ring(kRingSize);
  for (int64_t& increment : ring) increment = DrawIncrement(rng, mean_us);
  return ring;
}

void BM_ExponentialDraw(benchmark::State& state) {
  Rng rng(12345);
  int64_t sum = 0;
  for (auto _ : state) {
    sum += DrawIncrement(rng);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Q>
void Hold(benchmark::State& state, double mean_us) {
  const int64_t pending = state.range(0);
  Q queue;
  Rng rng(12345);
  for (int64_t i = 0; i < pending; ++i) {
    queue.Push(Instant::FromUnixMicros(DrawIncrement(rng, mean_us)), [] {});
  }
  const std::vector<int64_t> ring = DrawIncrementRing(rng, mean_us);
  size_t next = 0;
  Instant at;
  EventCallback callback;
  for (auto _ : state) {
    queue.PopNext(&at, &callback);
    callback();
    queue.Push(at + Microseconds(ring[next]), [] {});
    next = (next + 1) & (kRingSize - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["pending"] = static_cast<double>(queue.Size());
}

template <typename Q>
void BM_Hold(benchmark::State& state) {
  Hold<Q>(state, 1000.0);
}

template <typename Q>
void BM_HoldMinutes(benchmark::State& state) {
  Hold<Q>(state, 60e6);
}

BENCHMARK(BM_ExponentialDraw);
BENCHMARK(BM_Hold<WheelEventQueue>)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_Hold<HeapEventQueue>)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_Hold<ReferenceEventQueue>)->Arg(1000)->Arg(10000);
BENCHMARK(BM_HoldMinutes<WheelEventQueue>)->Arg(10000)->Arg(1000000);
BENCHMARK(BM_HoldMinutes<HeapEventQueue>)->Arg(10000)->Arg(1000000);

}  // namespace
}  // namespace orchsim::kernel

BENCHMARK_MAIN();
