// Whole-pipeline throughput: a scenario's variant run end to end (demand
// generation, simulator, mocked upstreams, the production orchestrator,
// metrics), as `orchsim run` does it minus loading and writing files.
//
//   BM_Nfl2023/<variant>:       scenarios/nfl-2023.json, one run per iteration;
//   BM_Synthetic/<seasons>/<v>: scenarios/synthetic-{1-season,10-seasons}.json,
//                               so the cost per request can be compared
//                               between one season and ten.
// items_per_second = client requests per second of wall time (goal: >= 1e6
// per core, issue 4). Scenarios are loaded once, outside the timed loop.
// Peak memory is measured outside (see the report): /usr/bin/time -v
// build/orchsim run scenarios/synthetic-*.json --quiet --out /tmp/x.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {
namespace {

std::string SourceRoot() {
  std::string file = __FILE__;
  const std::string suffix = "tests/bench/season_bench.cc";
  return file.substr(0, file.size() - suffix.size());
}

const scenario::Scenario& Cached(const std::string& name) {
  static std::map<std::string, std::unique_ptr<scenario::Scenario>> loaded;
  auto& slot = loaded[name];
  if (!slot) {
    slot = std::make_unique<scenario::Scenario>(
        scenario::LoadScenario(SourceRoot() + "scenarios/" + name + ".json"));
  }
  return *slot;
}

void RunScenarioVariant(benchmark::State& state, const std::string& name,
                        const std::string& variant) {
  const scenario::Scenario& s = Cached(name);
  const scenario::Variant* v = s.FindVariant(variant);
  if (v == nullptr) {
    state.SkipWithError("unknown variant");
    return;
  }
  uint64_t requests = 0;
  uint64_t events = 0;
  uint64_t calls = 0;
  for (auto _ : state) {
    const VariantRun run = RunVariant(s, *v, s.seed);
    requests += run.metrics.submitted;
    events += run.events;
    calls += run.metrics.upstream_calls;
    benchmark::DoNotOptimize(run.metrics.completed);
  }
  state.SetItemsProcessed(static_cast<int64_t>(requests));
  const double iterations = static_cast<double>(state.iterations());
  state.counters["requests"] = static_cast<double>(requests) / iterations;
  state.counters["upstream_calls"] = static_cast<double>(calls) / iterations;
  state.counters["events"] = static_cast<double>(events) / iterations;
}

void BM_Nfl2023(benchmark::State& state, const char* variant) {
  RunScenarioVariant(state, "nfl-2023", variant);
}
// ORCHSIM_BENCH_ITERATIONS=n runs exactly n iterations (for counts taken
// outside, e.g. valgrind's instructions per client request).
void FixedIterationsFromEnv(benchmark::internal::Benchmark* b) {
  if (const char* n = std::getenv("ORCHSIM_BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
}

BENCHMARK_CAPTURE(BM_Nfl2023, naive, "naive")
    ->Unit(benchmark::kMillisecond)
    ->Apply(FixedIterationsFromEnv);
BENCHMARK_CAPTURE(BM_Nfl2023, seed_plan, "seed-plan")
    ->Unit(benchmark::kMillisecond)
    ->Apply(FixedIterationsFromEnv);
BENCHMARK_CAPTURE(BM_Nfl2023, tuned, "tuned")
    ->Unit(benchmark::kMillisecond)
    ->Apply(FixedIterationsFromEnv);

void BM_Synthetic1Season(benchmark::State& state, const char* variant) {
  RunScenarioVariant(state, "synthetic-1-season", variant);
}
void BM_Synthetic10Seasons(benchmark::State& state, const char* variant) {
  RunScenarioVariant(state, "synthetic-10-seasons", variant);
}
BENCHMARK_CAPTURE(BM_Synthetic1Season, naive, "naive")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Synthetic1Season, tuned, "tuned")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Synthetic10Seasons, naive, "naive")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Synthetic10Seasons, tuned, "tuned")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace orchsim::experiment

BENCHMARK_MAIN();
