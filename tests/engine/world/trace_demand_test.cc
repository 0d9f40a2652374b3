// Trace demand: requests replayed from a recorded trace or a CSV file, in
// arrival order through the reorder window, with the options applied.
#include "engine/world/trace_demand.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "engine/world/demand.h"
#include "policies/trace/trace_format.h"

namespace orchsim::world {
namespace {

namespace fs = std::filesystem;

Instant At(const std::string& iso) { return *ParseInstant(iso); }

const Instant kT0 = At("2024-01-01T10:00:00Z");

// "k<i>" (appended: GCC 12's -Wstringop-overflow misfires on "k" + to_string).
std::string KeyOf(size_t i) {
  std::string key = "k";
  key.append(std::to_string(i));
  return key;
}

// One recorded request: arrival offset (us), latency, key, id.
struct Recorded {
  int64_t arrival_us;
  int64_t latency_us;
  std::string key;
  uint64_t id;
  std::string api = "odds";
};

class TraceDemandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orchsim_trace_demand_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes the requests as the recorder would: in completion order (ties in
  // the given order), each line through trace::RequestLine.
  std::string WriteTrace(std::vector<Recorded> requests, const std::string& name = "t.jsonl") {
    std::stable_sort(requests.begin(), requests.end(), [](const Recorded& a, const Recorded& b) {
      return a.arrival_us + a.latency_us < b.arrival_us + b.latency_us;
    });
    trace::TraceHeader header;
    std::string text = trace::HeaderLine(header) + "\n";
    for (const Recorded& r : requests) {
      Request q;
      q.id = r.id;
      q.api = r.api;
      q.endpoint = "odds";
      q.key = r.key;
      q.priority = Priority::kHigh;
      q.game_start = kT0 + Hours(1);
      q.submitted_at = kT0 + Microseconds(r.arrival_us);
      q.deadline = q.submitted_at + Seconds(20);
      Result result;
      result.outcome = Outcome::kServed;
      result.status = 200;
      text += trace::RequestLine(q, result, kT0 + Microseconds(r.arrival_us),
                                 Microseconds(r.latency_us)) +
              "\n";
    }
    return Write(name, text);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  static TraceDemandPattern Pattern(const std::string& file) {
    TraceDemandPattern p;
    p.file = file;
    return p;
  }

  static void Scan(TraceDemandPattern* p, const std::vector<Game>& games = {}) {
    const std::optional<TraceProblem> problem = ScanTrace(p, {"odds", "scores"}, games);
    ASSERT_FALSE(problem.has_value()) << problem->ToString();
  }

  static std::vector<TraceArrival> Drain(const TraceDemandPattern& p, uint64_t seed = 7,
                                         const std::vector<Game>& games = {},
                                         size_t* peak = nullptr) {
    TraceDemandStream stream(p, seed, games);
    std::vector<TraceArrival> out;
    while (stream.Head()) out.push_back(stream.Pop());
    if (peak) *peak = stream.peak_buffered();
    return out;
  }

  static std::vector<std::string> Keys(const std::vector<TraceArrival>& arrivals) {
    std::vector<std::string> keys;
    for (const TraceArrival& a : arrivals) keys.push_back(a.request.key);
    return keys;
  }

  fs::path dir_;
};

TEST_F(TraceDemandTest, CompletionOrderComesBackInArrivalOrderTiesByRecordedId) {
  // Written in completion order: e (done at 1.0s), c (1.5s), b (2.1s), d
  // (2.5s), a (5.0s); c and d arrive together, d submitted first (id 3).
  TraceDemandPattern p = Pattern(WriteTrace({{0, 5'000'000, "a", 1},
                                             {100'000, 2'000'000, "b", 2},
                                             {500'000, 1'000'000, "c", 4},
                                             {500'000, 2'000'000, "d", 3},
                                             {900'000, 100'000, "e", 5}}));
  Scan(&p);
  EXPECT_EQ(p.scan.requests, 5u);
  EXPECT_EQ(p.scan.lines, 6u);
  EXPECT_EQ(p.scan.first_arrival, kT0);
  EXPECT_EQ(p.scan.last_arrival, kT0 + Milliseconds(900));
  // a is read last, 900 ms before e (the latest arrival read before it).
  EXPECT_EQ(p.scan.max_lateness, Milliseconds(900));
  const std::vector<TraceArrival> out = Drain(p);
  EXPECT_EQ(Keys(out), (std::vector<std::string>{"a", "b", "d", "c", "e"}));
  EXPECT_EQ(out[0].at, kT0);
  EXPECT_EQ(out[2].at, kT0 + Milliseconds(500));
  // The recorded fields, the deadline made absolute again.
  const Request& q = out[1].request;
  EXPECT_EQ(q.api, "odds");
  EXPECT_EQ(q.endpoint, "odds");
  EXPECT_EQ(q.priority, Priority::kHigh);
  EXPECT_EQ(q.game_start, kT0 + Hours(1));
  EXPECT_EQ(q.deadline, kT0 + Milliseconds(100) + Seconds(20));
  EXPECT_EQ(q.id, 0u);
}

TEST_F(TraceDemandTest, TheBufferHoldsOneWindowNotTheFile) {
  // 20,000 requests one second apart, latencies cycling 0..6 s: request 6
  // (done at 12 s) is written after request 9 (done at 11 s), 3 s late, the
  // most any is; the buffer holds that window's requests, never the file.
  std::vector<Recorded> requests;
  for (int i = 0; i < 20000; ++i) {
    requests.push_back({int64_t{i} * 1'000'000, int64_t{i % 7} * 1'000'000,
                        KeyOf(static_cast<size_t>(i)), static_cast<uint64_t>(i + 1)});
  }
  TraceDemandPattern p = Pattern(WriteTrace(requests));
  Scan(&p);
  EXPECT_EQ(p.scan.max_lateness, Seconds(3));
  size_t peak = 0;
  const std::vector<TraceArrival> out = Drain(p, 7, {}, &peak);
  ASSERT_EQ(out.size(), 20000u);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].request.key, KeyOf(i));
    ASSERT_EQ(out[i].at, kT0 + Seconds(static_cast<int64_t>(i)));
  }
  EXPECT_LE(peak, 8u);
}

TEST_F(TraceDemandTest, LatenessBeyondTheLimitIsRejectedNamingBothLines) {
  TraceDemandPattern p =
      Pattern(WriteTrace({{0, Seconds(90).micros(), "slow", 1}, {Seconds(1).micros(), 0, "x", 2}}));
  p.max_lateness = Milliseconds(500);
  const std::optional<TraceProblem> problem = ScanTrace(&p, {"odds"}, {});
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->ToString(),
            p.file +
                ": line 3: arrival 2024-01-01T10:00:00Z is 1s before an arrival already read "
                "(line 2, 2024-01-01T10:00:01Z), more than max_lateness 500ms: raise "
                "\"max_lateness\" or sort the file by arrival");
  p.max_lateness = Seconds(1);  // exactly what the file needs
  Scan(&p);
  EXPECT_EQ(p.scan.max_lateness, Seconds(1));
}

TEST_F(TraceDemandTest, RateThinsAndRepeatsByTheLineHashNestedAcrossRates) {
  std::vector<Recorded> requests;
  for (int i = 0; i < 1000; ++i) {
    requests.push_back({int64_t{i} * 10'000, 0, std::to_string(i), static_cast<uint64_t>(i + 1)});
  }
  const std::string file = WriteTrace(requests);
  const uint64_t seed = 12345;
  auto kept = [&](double rate, Duration spread = Duration::Zero()) {
    TraceDemandPattern p = Pattern(file);
    p.rate = rate;
    p.spread = spread;
    Scan(&p);
    return Drain(p, seed);
  };
  // Request i is on line i + 2 (after the header).
  const std::vector<TraceArrival> half = kept(0.5);
  std::vector<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    if (TraceUniform(seed, static_cast<uint64_t>(i + 2), 0) < 0.5) {
      expected.push_back(std::to_string(i));
    }
  }
  EXPECT_EQ(Keys(half), expected);
  EXPECT_EQ(half.size(), 497u);
  const std::vector<std::string> small = Keys(kept(0.3));
  const std::vector<std::string> large = Keys(kept(0.6));
  EXPECT_EQ(small.size(), 298u);
  EXPECT_EQ(large.size(), 592u);
  const std::set<std::string> large_set(large.begin(), large.end());
  for (const std::string& k : small) EXPECT_EQ(large_set.count(k), 1u) << k;
  // The same seed gives the same requests; another seed others.
  EXPECT_EQ(Keys(kept(0.5)), Keys(half));
  TraceDemandPattern other = Pattern(file);
  other.rate = 0.5;
  Scan(&other);
  EXPECT_NE(Keys(Drain(other, seed + 1)), Keys(half));

  // 2.5: two or three copies each; copies after the first within the spread,
  // everything still in arrival order.
  const std::vector<TraceArrival> more = kept(2.5, Milliseconds(30));
  uint64_t expected_count = 0;
  for (int i = 0; i < 1000; ++i) expected_count += TraceCopies(2.5, seed, i + 2);
  EXPECT_EQ(more.size(), expected_count);
  EXPECT_EQ(more.size(), 2497u);
  std::map<std::string, std::vector<Instant>> copies;
  for (const TraceArrival& a : more) copies[a.request.key].push_back(a.at);
  for (int i = 0; i < 1000; ++i) {
    const std::vector<Instant>& at = copies[std::to_string(i)];
    const Instant arrival = kT0 + Microseconds(int64_t{i} * 10'000);
    ASSERT_EQ(at.size(), TraceCopies(2.5, seed, i + 2));
    EXPECT_EQ(*std::min_element(at.begin(), at.end()), arrival);
    for (Instant t : at) EXPECT_LT(t, arrival + Milliseconds(30));
  }
  EXPECT_TRUE(
      std::is_sorted(more.begin(), more.end(),
                     [](const TraceArrival& a, const TraceArrival& b) { return a.at < b.at; }));
}

TEST_F(TraceDemandTest, WindowApisAndStartAtSelectAndMove) {
  TraceDemandPattern p = Pattern(WriteTrace({{0, 0, "a", 1},
                                             {Seconds(10).micros(), 0, "b", 2, "scores"},
                                             {Seconds(20).micros(), 0, "c", 3},
                                             {Seconds(30).micros(), 0, "d", 4}}));
  p.apis = {"odds"};
  p.from = kT0 + Seconds(5);
  p.until = kT0 + Seconds(30);
  p.start_at = At("2024-02-01T00:00:00Z");
  Scan(&p);
  EXPECT_EQ(p.scan.requests, 1u);  // c: a before the window, b another api, d at its end
  EXPECT_EQ(p.scan.skipped, 3u);
  EXPECT_EQ(p.EffectiveShift(), At("2024-02-01T00:00:00Z") - (kT0 + Seconds(20)));
  const std::vector<TraceArrival> out = Drain(p);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].request.key, "c");
  EXPECT_EQ(out[0].at, At("2024-02-01T00:00:00Z"));
  EXPECT_EQ(out[0].request.game_start, At("2024-02-01T00:59:40Z"));
  EXPECT_EQ(out[0].request.deadline, At("2024-02-01T00:00:20Z"));

  // Without "apis", an api the scenario does not model is an error.
  TraceDemandPattern strict = Pattern(p.file);
  const std::optional<TraceProblem> problem = ScanTrace(&strict, {"odds"}, {});
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->line, 3u);
  EXPECT_EQ(problem->message,
            "unknown api \"scores\"; the scenario's upstreams: odds (to replay only some apis, "
            "list them in \"apis\")");
}

TEST_F(TraceDemandTest, CsvWithAColumnMappingQuotesAndDefaults) {
  Game game;
  game.id = "g,1";
  game.kickoff = At("2024-01-01T18:00:00Z");
  const std::vector<Game> games = {game};
  TraceDemandPattern p = Pattern(
      Write("requests.csv",
            "\xEF\xBB\xBFwhen,svc,path,params,class,match,limit,ignored\r\n"
            "2024-01-01T12:00:05-05:00,odds,odds,\"a,\"\"quoted\"\"\nkey\",HIGH,\"g,1\",30s,x\r\n"
            "\r\n"
            "2024-01-01T17:00:00Z,odds,odds,b,,,,\n"
            "2024-01-01T17:00:01Z,scores,scores,c,LOW,,,"));  // no final newline
  p.format = TraceFileFormat::kCsv;
  p.columns = {"when", "svc", "path", "params", "class", "match", "limit"};
  p.defaults.priority = Priority::kPrefetch;
  p.defaults.deadline = Seconds(5);
  p.defaults.cacheable = false;
  Scan(&p, games);
  EXPECT_EQ(p.scan.requests, 3u);
  EXPECT_EQ(p.scan.max_lateness, Seconds(5));  // line 2 is 12:00:05 EST = 17:00:05Z
  const std::vector<TraceArrival> out = Drain(p, 7, games);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].request.key, "b");
  EXPECT_EQ(out[0].request.priority, Priority::kPrefetch);
  EXPECT_FALSE(out[0].request.game_start.has_value());
  EXPECT_EQ(out[0].request.deadline, At("2024-01-01T17:00:05Z"));
  EXPECT_FALSE(out[0].request.cacheable);
  EXPECT_EQ(out[1].request.key, "c");
  EXPECT_EQ(out[1].request.api, "scores");
  EXPECT_EQ(out[1].request.priority, Priority::kLow);
  EXPECT_EQ(out[2].request.key, "a,\"quoted\"\nkey");
  EXPECT_EQ(out[2].at, At("2024-01-01T17:00:05Z"));
  EXPECT_EQ(out[2].request.priority, Priority::kHigh);
  EXPECT_EQ(out[2].request.game_start, game.kickoff);
  EXPECT_EQ(out[2].request.deadline, At("2024-01-01T17:00:35Z"));
}

TEST_F(TraceDemandTest, MergesWithGeneratedDemandByTimeThenGenerator) {
  TraceDemandPattern p = Pattern(WriteTrace({{0, 0, "t0", 1}, {Seconds(2).micros(), 0, "t2", 2}}));
  Scan(&p);
  DemandGeneratorConfig trace;
  trace.name = "replay";
  trace.pattern = p;
  ASSERT_TRUE(trace.validate().ok()) << trace.validate().message();
  DemandGeneratorConfig burst;
  burst.name = "burst";
  burst.request.api = "odds";
  burst.request.endpoint = "odds";
  burst.request.key_template = "b{n}";
  burst.pattern = BurstPattern{2, Seconds(2), kT0, Duration::Zero()};
  DemandSource source({}, {burst, trace}, kernel::SeedTree(1));
  std::vector<std::string> keys;
  std::vector<uint64_t> ids;
  while (auto r = source.Next()) {
    keys.push_back(r->request.key);
    ids.push_back(r->request.id);
  }
  // Bursts at 0 s and 1 s; trace at 0 s and 2 s; at 0 s the burst (listed first) goes first.
  EXPECT_EQ(keys, (std::vector<std::string>{"b0", "t0", "b1", "t2"}));
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(TracePatternTest, ValidateNamesTheField) {
  TraceDemandPattern p;
  p.file = "x.jsonl";
  EXPECT_TRUE(ValidateTracePattern("t.", p).ok());
  p.rate = 0;
  EXPECT_EQ(ValidateTracePattern("t.", p).message(), "t.rate: 0 must be > 0 and <= 1000");
  p.rate = 1;
  p.start_at = Instant::Epoch();
  p.shift = Seconds(1);
  EXPECT_EQ(ValidateTracePattern("t.", p).message(),
            "t.start_at: give either shift or start_at, not both");
  p.shift = Duration::Zero();
  p.format = TraceFileFormat::kCsv;
  p.columns.key = "";
  EXPECT_EQ(ValidateTracePattern("t.", p).message(),
            "t.columns.key: \"\" must name a column (it is required)");
}

}  // namespace
}  // namespace orchsim::world
