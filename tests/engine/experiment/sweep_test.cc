#include "engine/experiment/sweep.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/engine/experiment/sweep_test_util.h"

namespace orchsim::experiment {
namespace {

namespace fs = std::filesystem;

// --- parameters -----------------------------------------------------------

TEST(SweepParameterTest, ListValuesKeepTheirJsonTypes) {
  const ParameterSpec p = ParseParameter("retry.backoff=constant, 3 ,2.5,true,\"7\"");
  EXPECT_EQ(p.path, "retry.backoff");
  EXPECT_EQ(p.kind, ParameterKind::kList);
  ASSERT_EQ(p.values.size(), 5u);
  EXPECT_EQ(p.values[0], Json("constant"));
  EXPECT_TRUE(p.values[1].is_number_integer());
  EXPECT_EQ(p.values[1], Json(3));
  EXPECT_EQ(p.values[2], Json(2.5));
  EXPECT_EQ(p.values[3], Json(true));
  EXPECT_EQ(p.values[4], Json("7"));
}

TEST(SweepParameterTest, IntegerRangeListsEveryInteger) {
  const ParameterSpec p = ParseParameter("retry.max_attempts=1..4");
  EXPECT_EQ(p.kind, ParameterKind::kIntRange);
  EXPECT_EQ(Json(p.values), Json::parse("[1,2,3,4]"));
}

TEST(SweepParameterTest, SpacedRealsIntegersDurationsAndLog) {
  EXPECT_EQ(Json(ParseParameter("apis.odds.bucket.rate_per_s=0.5..2:4").values),
            Json::parse("[0.5,1.0,1.5,2.0]"));
  EXPECT_EQ(Json(ParseParameter("x.y=0.1..1:4").values), Json::parse("[0.1,0.4,0.7,1.0]"));
  EXPECT_EQ(Json(ParseParameter("breaker.failure_threshold=1..10:4").values),
            Json::parse("[1,4,7,10]"));
  EXPECT_EQ(Json(ParseParameter("cache.default_ttl=30s..10m:3").values),
            Json::parse(R"(["30s","5m15s","10m"])"));
  EXPECT_EQ(Json(ParseParameter("cache.default_ttl=1s..100s:3:log").values),
            Json::parse(R"(["1s","10s","1m40s"])"));
  // Rounding integer spacing never repeats a value.
  EXPECT_EQ(Json(ParseParameter("a.b=1..3:5").values), Json::parse("[1,2,3]"));
}

TEST(SweepParameterTest, MalformedSpecsNameTheProblem) {
  auto message = [](const std::string& text) {
    try {
      ParseParameter(text);
    } catch (const SweepError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("retry.max_attempts").find("expected PATH=VALUES"), std::string::npos);
  EXPECT_NE(message("retry..x=1").find("dotted policy path"), std::string::npos);
  EXPECT_NE(message("a.b=").find("no values"), std::string::npos);
  EXPECT_NE(message("a.b=1,,2").find("empty value"), std::string::npos);
  EXPECT_NE(message("a.b=0.5..2").find("needs :N"), std::string::npos);
  EXPECT_NE(message("a.b=5..1").find("A < B"), std::string::npos);
  EXPECT_NE(message("a.b=1s..5").find("both durations"), std::string::npos);
  EXPECT_NE(message("a.b=0..5:3:log").find("A > 0"), std::string::npos);
  EXPECT_NE(message("a.b=1..5:1").find("integer from 2"), std::string::npos);
  EXPECT_NE(message("a.b=1..5:3:lin").find("A..B:N:log"), std::string::npos);
}

TEST(SweepSampleTest, ParsesAndRejects) {
  EXPECT_EQ(SampleText(ParseSample("grid")), "grid");
  EXPECT_EQ(ParseSample("random:12").count, 12u);
  EXPECT_EQ(ParseSample("lhs:5").method, SampleMethod::kLatinHypercube);
  EXPECT_THROW(ParseSample("lhs"), SweepError);
  EXPECT_THROW(ParseSample("random:0"), SweepError);
  EXPECT_THROW(ParseSample("sobol:8"), SweepError);
}

TEST(SweepShardTest, ParsesAndAssignsRoundRobin) {
  const ShardSpec s = ParseShard("2/3");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 3);
  EXPECT_FALSE(s.Owns(0));
  EXPECT_TRUE(s.Owns(1));
  EXPECT_TRUE(s.Owns(4));
  EXPECT_THROW(ParseShard("0/3"), SweepError);
  EXPECT_THROW(ParseShard("4/3"), SweepError);
  EXPECT_THROW(ParseShard("1-3"), SweepError);
}

// --- point generation -----------------------------------------------------

TEST(SweepPointsTest, GridIsTheProductWithTheFirstParameterSlowest) {
  const std::vector<ParameterSpec> params = {ParseParameter("a.x=1,2"),
                                             ParseParameter("a.y=p,q,r")};
  const auto points = GeneratePoints(params, ParseSample("grid"), 1);
  EXPECT_EQ(Json(points), Json::parse(R"([[1,"p"],[1,"q"],[1,"r"],[2,"p"],[2,"q"],[2,"r"]])"));
}

TEST(SweepPointsTest, RandomIsSeededAndStaysInTheDomain) {
  const std::vector<ParameterSpec> params = {
      ParseParameter("a.n=1..4"), ParseParameter("a.r=0.5..2:4"), ParseParameter("a.d=30s..10m:2"),
      ParseParameter("a.l=x,y")};
  const auto points = GeneratePoints(params, ParseSample("random:400"), 11);
  ASSERT_EQ(points.size(), 400u);
  EXPECT_EQ(Json(points), Json(GeneratePoints(params, ParseSample("random:400"), 11)));
  EXPECT_NE(Json(points), Json(GeneratePoints(params, ParseSample("random:400"), 12)));
  std::set<int64_t> ints;
  std::set<std::string> labels;
  for (const auto& p : points) {
    ints.insert(p[0].get<int64_t>());
    EXPECT_GE(p[1].get<double>(), 0.5);
    EXPECT_LE(p[1].get<double>(), 2.0);
    const auto d = ParseDuration(p[2].get<std::string>());
    ASSERT_TRUE(d.ok()) << p[2];
    EXPECT_GE(d->micros(), Seconds(30).micros());
    EXPECT_LE(d->micros(), Minutes(10).micros());
    EXPECT_EQ(d->micros() % 1000000, 0) << "drawn durations keep whole seconds";
    labels.insert(p[3].get<std::string>());
  }
  EXPECT_EQ(ints, (std::set<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(labels, (std::set<std::string>{"x", "y"}));
}

TEST(SweepPointsTest, LatinHypercubeUsesEveryStratumOnce) {
  const size_t n = 10;
  const std::vector<ParameterSpec> params = {ParseParameter("a.r=0..1000:2"),
                                             ParseParameter("a.s=0..1000:2"),
                                             ParseParameter("a.n=1..10")};
  const auto points = GeneratePoints(params, ParseSample("lhs:10"), 5);
  ASSERT_EQ(points.size(), n);
  for (size_t j = 0; j < params.size(); ++j) {
    std::set<int64_t> strata;
    for (const auto& p : points) {
      const double v = p[j].get<double>();
      strata.insert(j == 2 ? static_cast<int64_t>(v) - 1 : static_cast<int64_t>(v / 100.0));
    }
    EXPECT_EQ(strata.size(), n) << "parameter " << j;
    EXPECT_EQ(*strata.begin(), 0);
    EXPECT_EQ(*strata.rbegin(), 9);
  }
  // The pairing of strata differs between parameters (seeded permutations).
  bool differs = false;
  for (const auto& p : points) {
    differs |=
        static_cast<int>(p[0].get<double>() / 100) != static_cast<int>(p[1].get<double>() / 100);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(Json(points), Json(GeneratePoints(params, ParseSample("lhs:10"), 5)));
}

// --- overrides --------------------------------------------------------------

scenario::Scenario SmallScenario() {
  return scenario::ParseScenario(testing::SmallScenarioText(), "small.json", "");
}

TEST(SweepOverridesTest, NestsPathsAndOverlaysThePolicy) {
  const std::vector<ParameterSpec> params = {ParseParameter("breaker.failure_threshold=3"),
                                             ParseParameter("cache.default_ttl=2m"),
                                             ParseParameter("apis.odds.bucket.rate_per_s=1.5")};
  const Json overrides = OverridesFor(params, {3, "2m", 1.5});
  EXPECT_EQ(overrides, Json::parse(R"({"breaker": {"failure_threshold": 3},
      "cache": {"default_ttl": "2m"}, "apis": {"odds": {"bucket": {"rate_per_s": 1.5}}}})"));
  const scenario::Scenario s = SmallScenario();
  const scenario::Variant v = ApplyOverrides(*s.FindVariant("tuned"), overrides, "test");
  EXPECT_EQ(v.policy.defaults.breaker.failure_threshold, 3);
  EXPECT_EQ(v.policy.defaults.cache.default_ttl, Minutes(2));
  EXPECT_EQ(v.policy.apis.at("odds").bucket.rate_per_s, 1.5);
  EXPECT_EQ(v.policy.defaults.retry.max_attempts, 2);  // untouched fields keep the variant's value
  EXPECT_THROW(OverridesFor({ParseParameter("a.b=1"), ParseParameter("a.b.c=2")}, {1, 2}),
               SweepError);
}

std::string PlanError(const std::vector<std::string>& params) {
  const scenario::Scenario s = SmallScenario();
  SweepSpec spec;
  spec.params = params;
  try {
    PlanSweep(s, testing::SmallScenarioText(), spec);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(SweepPlanTest, BadPathsAndValuesFailBeforeAnythingRuns) {
  EXPECT_NE(PlanError({"breaker.failure_treshold=3,5"}).find("failure_treshold"),
            std::string::npos);
  EXPECT_NE(PlanError({"breaker.failure_treshold=3,5"}).find("--param"), std::string::npos);
  EXPECT_NE(PlanError({"cache.default_ttl=30,60"}).find("duration"), std::string::npos);
  EXPECT_NE(PlanError({"retry.max_attempts=0,1"}).find("/retry/max_attempts"), std::string::npos);
  EXPECT_NE(PlanError({"retry.backoff=linear"}).find("expected one of"), std::string::npos);
  EXPECT_NE(PlanError({}).find("no parameters"), std::string::npos);
  EXPECT_NE(PlanError({"retry.max_attempts=2", "retry.max_attempts=3"}).find("twice"),
            std::string::npos);
}

// Issue 18, item 8: a parameter for an API the scenario lacks changes nothing;
// the sweep must refuse it and list the APIs it has.
TEST(SweepPlanTest, UnknownApiInAParameterPathIsAnErrorListingTheKnownApis) {
  EXPECT_EQ(PlanError({"apis.odd.bucket.rate_per_s=1,2"}),
            "--param apis.odd.bucket.rate_per_s=1,2: unknown API \"odd\"; expected one of the "
            "scenario's upstreams: odds, scores");
  EXPECT_EQ(PlanError({"apis.odds.bucket.rate_per_s=1,2"}), "no error");
}

TEST(SweepPlanTest, ManifestNamesVariantPointsAndSeeds) {
  const scenario::Scenario s = SmallScenario();
  SweepSpec spec;
  spec.params = {"retry.max_attempts=1..2", "cache.default_ttl=30s,2m"};
  spec.seeds = 3;
  const SweepPlan plan = PlanSweep(s, testing::SmallScenarioText(), spec);
  EXPECT_EQ(plan.manifest["variant"], "tuned");  // the last variant by default
  EXPECT_EQ(plan.manifest["seeds"], Json::parse("[7,8,9]"));
  EXPECT_EQ(plan.points.size(), 4u);
  EXPECT_EQ(plan.variants[3].policy.defaults.retry.max_attempts, 2);
  EXPECT_EQ(plan.variants[3].policy.defaults.cache.default_ttl, Minutes(2));
  spec.variant = "nope";
  EXPECT_THROW(PlanSweep(s, testing::SmallScenarioText(), spec), SweepError);
}

// --- statistics -------------------------------------------------------------

TEST(SweepStatsTest, StudentTQuantilesMatchTables) {
  EXPECT_NEAR(StudentT975(1), 12.706204736432095, 1e-9);
  EXPECT_NEAR(StudentT975(2), 4.302652729911275, 1e-9);
  EXPECT_NEAR(StudentT975(3), 3.182446305284263, 1e-9);
  EXPECT_NEAR(StudentT975(10), 2.2281388519649385, 1e-9);
  EXPECT_NEAR(StudentT975(30), 2.0422724563012373, 1e-9);
}

TEST(SweepStatsTest, MeanSdAndConfidenceIntervalByHand) {
  // 1,2,3,4: mean 2.5, sd sqrt(5/3), half-width t(3) * sd / 2.
  const MetricSummary a = Summarize({1, 2, 3, 4});
  EXPECT_EQ(a.n, 4);
  EXPECT_DOUBLE_EQ(a.mean, 2.5);
  EXPECT_NEAR(a.sd, 1.2909944487358056, 1e-12);
  EXPECT_NEAR(a.ci95_half, 2.054260256760879, 1e-9);
  EXPECT_NEAR(a.ci95_low(), 2.5 - 2.054260256760879, 1e-9);
  // 10,12,17: mean 13, sd sqrt(13), half-width t(2) * sqrt(13) / sqrt(3).
  const MetricSummary b = Summarize({10, 12, 17});
  EXPECT_DOUBLE_EQ(b.mean, 13.0);
  EXPECT_NEAR(b.sd, 3.605551275463989, 1e-12);
  EXPECT_NEAR(b.ci95_half, 8.956685895366439, 1e-9);
  // One replication: no spread, no interval.
  const MetricSummary c = Summarize({5});
  EXPECT_EQ(c.mean, 5.0);
  EXPECT_EQ(c.sd, 0.0);
  EXPECT_EQ(c.ci95_half, 0.0);
  EXPECT_EQ(Summarize({}).n, 0);
}

// --- running, sharding, merging, resuming ---------------------------------

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every file under `dir` (relative path -> bytes).
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = ReadAll(e.path());
  }
  return files;
}

class SweepRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("sweep_run_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    spec_.params = {"retry.max_attempts=1..2", "cache.default_ttl=30s,5m"};
    spec_.seeds = 2;
    plan_ = PlanSweep(scenario_, testing::SmallScenarioText(), spec_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string Dir(const std::string& name) const { return (root_ / name).string(); }

  scenario::Scenario scenario_ = SmallScenario();
  SweepSpec spec_;
  SweepPlan plan_;
  fs::path root_;
};

TEST_F(SweepRunTest, StoresEveryPointAndBaselineAndLoadsThem) {
  RunSweepOptions options;
  size_t last_done = 0, last_total = 0;
  options.progress = [&](size_t done, size_t total) {
    last_done = done;
    last_total = total;
  };
  const RunSweepStats stats = RunSweep(scenario_, plan_, Dir("a"), options);
  EXPECT_EQ(stats.owned, 4u);
  EXPECT_EQ(stats.ran, 4u);
  EXPECT_EQ(last_done, 4u);
  EXPECT_EQ(last_total, 4u);
  const SweepResults r = LoadSweep({Dir("a")});
  ASSERT_EQ(r.points.size(), 4u);
  ASSERT_EQ(r.baseline_runs.size(), 2u);
  EXPECT_EQ(r.points[2].values, (std::vector<Json>{2, "30s"}));
  EXPECT_EQ(r.points[2].seeds, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(r.points[0].summary.at("requests").n, 2);
  EXPECT_GT(r.points[0].summary.at("requests").mean, 0.0);
  // Same demand on the same seed whatever the policy (common random numbers).
  EXPECT_EQ(r.points[0].runs[0].at("requests"), r.points[3].runs[0].at("requests"));
  // calls_saved is measured against the baseline's run on the same seed.
  for (size_t seed = 0; seed < 2; ++seed) {
    EXPECT_EQ(
        r.points[1].runs[seed].at("calls_saved"),
        r.baseline_runs[seed].at("upstream_calls") - r.points[1].runs[seed].at("upstream_calls"));
  }
  EXPECT_NE(r.points[0].runs[0].at("upstream_calls"), r.baseline_runs[0].at("upstream_calls"));
  EXPECT_EQ(r.baseline_runs[0].at("calls_saved"), 0.0);
}

TEST_F(SweepRunTest, ResultsAreByteIdenticalForAnyJobs) {
  RunSweepOptions one;
  one.jobs = 1;
  RunSweepOptions three;
  three.jobs = 3;
  RunSweep(scenario_, plan_, Dir("j1"), one);
  RunSweep(scenario_, plan_, Dir("j3"), three);
  EXPECT_EQ(Snapshot(Dir("j1")), Snapshot(Dir("j3")));
}

TEST_F(SweepRunTest, ThreeShardsMergedEqualTheUnshardedRun) {
  RunSweep(scenario_, plan_, Dir("whole"), RunSweepOptions{});
  std::vector<std::string> shards;
  for (int k = 1; k <= 3; ++k) {
    RunSweepOptions options;
    options.shard = ShardSpec{k, 3};
    const RunSweepStats stats =
        RunSweep(scenario_, plan_, Dir("shard" + std::to_string(k)), options);
    EXPECT_EQ(stats.owned, k == 1 ? 2u : 1u);  // points 0,3 / 1 / 2
    shards.push_back(Dir("shard" + std::to_string(k)));
  }
  EXPECT_THROW(LoadSweep({shards[0], shards[1]}), SweepError);  // shard 3 missing
  StoreSweep(Dir("merged"), LoadSweep(shards));
  EXPECT_EQ(Snapshot(Dir("whole")), Snapshot(Dir("merged")));
}

TEST_F(SweepRunTest, ResumeKeepsFinishedPointsAndEqualsAnUninterruptedRun) {
  RunSweep(scenario_, plan_, Dir("whole"), RunSweepOptions{});
  // An "interrupted" run: only half the points finished, one partial file left.
  RunSweepOptions half;
  half.shard = ShardSpec{1, 2};
  RunSweep(scenario_, plan_, Dir("resumed"), half);
  std::ofstream(root_ / "resumed" / "points" / "p000001.json.partial") << "{\"point\": 1, \"val";
  EXPECT_THROW(RunSweep(scenario_, plan_, Dir("resumed"), RunSweepOptions{}), SweepError);
  RunSweepOptions resume;
  resume.resume = true;
  const RunSweepStats stats = RunSweep(scenario_, plan_, Dir("resumed"), resume);
  EXPECT_EQ(stats.resumed, 2u);
  EXPECT_EQ(stats.ran, 2u);
  fs::remove(root_ / "resumed" / "points" / "p000001.json.partial");
  EXPECT_EQ(Snapshot(Dir("whole")), Snapshot(Dir("resumed")));
  // Resuming a complete sweep runs nothing.
  EXPECT_EQ(RunSweep(scenario_, plan_, Dir("resumed"), resume).ran, 0u);
}

TEST_F(SweepRunTest, RefusesAFolderHoldingAnotherSweep) {
  RunSweep(scenario_, plan_, Dir("a"), RunSweepOptions{});
  spec_.seeds = 3;
  const SweepPlan other = PlanSweep(scenario_, testing::SmallScenarioText(), spec_);
  RunSweepOptions resume;
  resume.resume = true;
  EXPECT_THROW(RunSweep(scenario_, other, Dir("a"), resume), SweepError);
  RunSweep(scenario_, other, Dir("b"), RunSweepOptions{});
  EXPECT_THROW(LoadSweep({Dir("a"), Dir("b")}), SweepError);
}

}  // namespace
}  // namespace orchsim::experiment
