// Determinism and common random numbers of whole runs (DESIGN.md,
// "Determinism"): the same scenario and seed give byte-identical result
// files; every policy of one comparison sees the same demand and the same
// upstream health timeline; another seed gives other results.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/experiment/comparison.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"
#include "engine/world/mock_upstream.h"

namespace orchsim::experiment {
namespace {

std::string SourceRoot() {
  std::string file = __FILE__;
  const std::string suffix = "tests/engine/experiment/determinism_test.cc";
  return file.substr(0, file.size() - suffix.size());
}

scenario::Scenario Load(const std::string& name) {
  return scenario::LoadScenario(SourceRoot() + "scenarios/" + name + ".json");
}

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Everything a client request is, as submitted, in submission order.
using Submission = std::tuple<int64_t, std::string, std::string, std::string, int, int64_t>;

class SubmissionRecorder : public OrchestratorObserver {
 public:
  void OnSubmitted(const Request& r, Instant now) override {
    submissions.emplace_back(now.unix_micros(), r.api, r.endpoint, r.key,
                             static_cast<int>(r.priority), r.deadline.unix_micros());
  }
  std::vector<Submission> submissions;
};

// What one variant saw of the world: its demand and each upstream's health
// spans over the scenario's window.
struct WorldSeen {
  std::vector<Submission> demand;
  std::map<std::string, std::vector<world::HealthSpan>> health;
  VariantRun run;
};

WorldSeen RunAndObserve(const scenario::Scenario& s, const std::string& variant, uint64_t seed) {
  WorldSeen seen;
  SubmissionRecorder recorder;
  RunOptions hooks;
  hooks.extra_observers = {&recorder};
  hooks.on_finished = [&](world::MockTransport& upstreams, Instant /*end*/) {
    for (const std::string& name : upstreams.names()) {
      seen.health[name] = upstreams.Find(name)->health().SpansUntil(s.end);
    }
  };
  seen.run = RunVariant(s, *s.FindVariant(variant), seed, hooks);
  seen.demand = std::move(recorder.submissions);
  return seen;
}

// ---- byte-identical results ------------------------------------------------

void ExpectByteIdenticalRuns(const std::string& name) {
  const scenario::Scenario s = Load(name);
  const std::vector<VariantRun> first = RunComparison(s, {}, s.seed);
  const std::vector<VariantRun> second = RunComparison(s, {}, s.seed);
  ASSERT_EQ(first.size(), s.variants.size());

  EXPECT_EQ(SummaryJson(s, first).dump(2), SummaryJson(s, second).dump(2));
  EXPECT_EQ(SummaryCsv(s, first), SummaryCsv(s, second));
  EXPECT_EQ(TimeseriesCsv(first), TimeseriesCsv(second));

  // The files as `orchsim run` writes them, byte for byte.
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() /
      ("orchsim_determinism_" + name + "_" +
       std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(root);
  WriteResults((root / "a").string(), s, first);
  WriteResults((root / "b").string(), s, second);
  for (const char* file : {"summary.json", "summary.csv", "timeseries.csv"}) {
    const std::string a = ReadBytes(root / "a" / file);
    EXPECT_FALSE(a.empty()) << file;
    EXPECT_EQ(a, ReadBytes(root / "b" / file)) << file;
  }
  std::filesystem::remove_all(root);
}

TEST(DeterminismTest, BreakerOutageDayRunsTwiceToIdenticalBytes) {
  ExpectByteIdenticalRuns("breaker-outage-day");
}

TEST(DeterminismTest, KickoffSurgeRunsTwiceToIdenticalBytes) {
  ExpectByteIdenticalRuns("kickoff-surge");
}

TEST(DeterminismTest, QuotaCrunchMonthRunsTwiceToIdenticalBytes) {
  ExpectByteIdenticalRuns("quota-crunch-month");
}

// ---- common random numbers ------------------------------------------------

// Two policies that treat the upstream very differently (one retries into
// the outage, one breaks the circuit) see the same requests at the same
// instants and the same health timeline.
TEST(CommonRandomNumbersTest, PoliciesSeeIdenticalDemandAndHealthTimeline) {
  const scenario::Scenario s = Load("breaker-outage-day");
  const WorldSeen off = RunAndObserve(s, "breaker-off", s.seed);
  const WorldSeen rate = RunAndObserve(s, "failure-rate", s.seed);

  // The policies really differ, so equality below is not vacuous.
  ASSERT_NE(off.run.metrics.upstream_calls, rate.run.metrics.upstream_calls);
  ASSERT_EQ(rate.run.metrics.outcome(Outcome::kRejectedCircuitOpen) > 0, true);
  ASSERT_EQ(off.run.metrics.outcome(Outcome::kRejectedCircuitOpen), 0u);

  ASSERT_EQ(off.demand.size(), off.run.metrics.submitted);
  EXPECT_GT(off.demand.size(), 10000u);
  EXPECT_EQ(off.demand, rate.demand);
  EXPECT_EQ(off.run.metrics.requests_by_priority, rate.run.metrics.requests_by_priority);

  ASSERT_EQ(off.health.count("scores"), 1u);
  // The Markov process leaves the healthy state at least once that day.
  EXPECT_GT(off.health.at("scores").size(), 1u);
  EXPECT_EQ(off.health, rate.health);
  // The scheduled outage is answered as such in the variant that calls into it.
  EXPECT_GT(off.run.upstreams.at("scores").outage_answers, 0u);
}

// The same across the whole default comparison for a quota-bound upstream:
// naive and quota pacing submit the same requests.
TEST(CommonRandomNumbersTest, QuotaPolicyDoesNotChangeDemand) {
  const scenario::Scenario s = Load("quota-crunch-month");
  const WorldSeen naive = RunAndObserve(s, "naive", s.seed);
  const WorldSeen pace = RunAndObserve(s, "pace", s.seed);
  ASSERT_NE(naive.run.metrics.upstream_calls, pace.run.metrics.upstream_calls);
  EXPECT_EQ(naive.demand, pace.demand);
  EXPECT_EQ(naive.health, pace.health);
}

// ---- seeds ----------------------------------------------------------------

TEST(SeedTest, AnotherSeedChangesDemandHealthAndResults) {
  const scenario::Scenario s = Load("breaker-outage-day");
  const WorldSeen a = RunAndObserve(s, "consecutive", s.seed);
  const WorldSeen b = RunAndObserve(s, "consecutive", s.seed + 1);
  EXPECT_NE(a.demand, b.demand);
  EXPECT_NE(a.health, b.health);
  EXPECT_NE(SummaryCsv(s, {a.run}), SummaryCsv(s, {b.run}));
  EXPECT_NE(TimeseriesCsv({a.run}), TimeseriesCsv({b.run}));
}

// An explicit seed equal to the scenario's is the scenario's run.
TEST(SeedTest, SameSeedSameRunWhicheverVariantsAreAsked) {
  const scenario::Scenario s = Load("kickoff-surge");
  const std::vector<VariantRun> all = RunComparison(s, {}, s.seed);
  const std::vector<VariantRun> one = RunComparison(s, {"reserves"}, s.seed);
  ASSERT_EQ(one.size(), 1u);
  const VariantRun* same = nullptr;
  for (const VariantRun& r : all) {
    if (r.variant == "reserves") same = &r;
  }
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(SummaryCsv(s, {*same}), SummaryCsv(s, one));
}

}  // namespace
}  // namespace orchsim::experiment
