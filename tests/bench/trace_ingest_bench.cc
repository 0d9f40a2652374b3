// Trace ingestion (issue 16: >= 2 million lines per second per core). A
// synthetic trace as a recorder writes it (tools/make_trace.py's shape: two
// request lines per call line, ~300 bytes a line, written at completion so
// arrivals are out of order by up to one latency, 1000 keys, one api) of
// 400,000 lines in a temporary file (in the page cache after the first
// pass). Reports lines per CPU second (items_per_second):
//   BM_ParseLines        TraceLineParser::Parse over lines held in memory
//   BM_ReadAndParse      TraceFileReader + TraceLineParser over the file
//   BM_ScanTrace         world::ScanTrace: the load-time validation pass
//                        (parse, apis, lateness, window) over the file
//   BM_DemandStream      world::TraceDemandStream: the replay pass (parse,
//                        reorder window, requests out in arrival order)
// A scenario replaying a trace does ScanTrace once and then the stream.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/world/trace_demand.h"
#include "policies/time.h"
#include "policies/trace/trace_reader.h"

namespace orchsim {
namespace {

constexpr int64_t kLines = 400000;

// The trace's lines (with their newlines), as tools/make_trace.py writes them.
std::vector<std::string> MakeLines() {
  std::vector<std::string> lines;
  lines.reserve(kLines);
  lines.push_back(
      "{\"type\":\"header\",\"format\":\"orchsim-trace\",\"version\":1,\"source\":\"live\","
      "\"variant\":\"synthetic\",\"generator\":\"trace_ingest_bench\"}");
  uint64_t state = 12345;
  const Instant start = Instant::FromUnixMicros(1696000000000000);
  struct Pending {
    Instant done;
    std::string line;
  };
  std::vector<Pending> pending;  // small: sorted insertion is fine here
  uint64_t id = 0;
  uint64_t call_id = 0;
  while (static_cast<int64_t>(lines.size()) < kLines) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    ++id;
    const Instant arrival = start + Microseconds(static_cast<int64_t>(id) * 5000);
    const int64_t latency = 20000 + static_cast<int64_t>((state >> 40) % 60000);
    char key[32];
    std::snprintf(key, sizeof key, "game_%05u", static_cast<unsigned>((state >> 20) % 1000));
    const char* priority = (state & 1) ? "HIGH" : "NORMAL";
    const std::string at = trace::FormatTraceTime(arrival);
    const std::string kickoff = trace::FormatTraceTime(arrival + Hours(1));
    const Instant done = arrival + Microseconds(latency);
    pending.push_back(
        {done, "{\"type\":\"request\",\"id\":" + std::to_string(id) + ",\"arrival\":\"" + at +
                   "\",\"api\":\"scores\",\"endpoint\":\"scores\",\"key\":\"" + key +
                   "\",\"priority\":\"" + priority + "\",\"game_start\":\"" + kickoff +
                   "\",\"deadline_us\":10000000,\"cacheable\":true,\"batchable\":false,"
                   "\"outcome\":\"served\",\"status\":200,\"latency_us\":" +
                   std::to_string(latency) + ",\"queue_wait_us\":0,\"attempts\":1}"});
    if (id % 2 == 0) {
      pending.push_back(
          {done, "{\"type\":\"call\",\"call_id\":" + std::to_string(++call_id) + ",\"sent\":\"" +
                     at + "\",\"api\":\"scores\",\"endpoint\":\"scores\",\"keys\":[\"" + key +
                     "\"],\"kind\":\"first_attempt\",\"attempt\":1,\"priority\":\"" + priority +
                     "\",\"status\":200,\"latency_us\":" + std::to_string(latency) +
                     ",\"credits\":1,\"late\":false,\"quota_headers\":{}}"});
    }
    // Written at completion: everything that completed by this arrival.
    std::stable_sort(pending.begin(), pending.end(),
                     [](const Pending& a, const Pending& b) { return a.done < b.done; });
    size_t out = 0;
    while (out < pending.size() && pending[out].done <= arrival &&
           static_cast<int64_t>(lines.size()) < kLines) {
      lines.push_back(std::move(pending[out++].line));
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(out));
  }
  return lines;
}

const std::vector<std::string>& Lines() {
  static const std::vector<std::string> lines = MakeLines();
  return lines;
}

const std::string& TracePath() {
  static const std::string path = [] {
    const std::string p =
        (std::filesystem::temp_directory_path() / "orchsim_trace_ingest_bench.jsonl").string();
    std::ofstream out(p, std::ios::binary);
    for (const std::string& line : Lines()) out << line << '\n';
    return p;
  }();
  return path;
}

void BM_ParseLines(benchmark::State& state) {
  const std::vector<std::string>& lines = Lines();
  trace::TraceLineParser parser;
  int64_t parsed = 0;
  for (auto _ : state) {
    for (const std::string& line : lines) {
      const std::string error = parser.Parse(line);
      if (!error.empty()) state.SkipWithError(error.c_str());
    }
    parsed += static_cast<int64_t>(lines.size());
  }
  state.SetItemsProcessed(parsed);
}
BENCHMARK(BM_ParseLines)->Unit(benchmark::kMillisecond);

void BM_ReadAndParse(benchmark::State& state) {
  const std::string& path = TracePath();
  int64_t parsed = 0;
  for (auto _ : state) {
    trace::TraceFileReader reader(path);
    trace::TraceLineParser parser;
    std::string_view line;
    while (reader.Next(&line)) {
      if (!parser.Parse(line).empty()) state.SkipWithError("parse error");
      ++parsed;
    }
  }
  state.SetItemsProcessed(parsed);
}
BENCHMARK(BM_ReadAndParse)->Unit(benchmark::kMillisecond);

void BM_ScanTrace(benchmark::State& state) {
  const std::string& path = TracePath();
  for (auto _ : state) {
    world::TraceDemandPattern pattern;
    pattern.file = path;
    if (world::ScanTrace(&pattern, {"scores"}, {})) state.SkipWithError("scan failed");
  }
  state.SetItemsProcessed(state.iterations() * kLines);
}
BENCHMARK(BM_ScanTrace)->Unit(benchmark::kMillisecond);

void BM_DemandStream(benchmark::State& state) {
  world::TraceDemandPattern pattern;
  pattern.file = TracePath();
  if (world::ScanTrace(&pattern, {"scores"}, {})) {
    state.SkipWithError("scan failed");
    return;
  }
  const uint64_t seed = kernel::SeedTree(1).SeedFor("demand/recorded");
  size_t peak = 0;
  for (auto _ : state) {
    world::TraceDemandStream stream(pattern, seed, {});
    uint64_t n = 0;
    while (stream.Head()) {
      benchmark::DoNotOptimize(stream.Pop());
      ++n;
    }
    peak = stream.peak_buffered();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.counters["peak_buffered"] = static_cast<double>(peak);
}
BENCHMARK(BM_DemandStream)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace orchsim

BENCHMARK_MAIN();
