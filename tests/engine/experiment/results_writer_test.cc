// Calls saved by mechanism, the count cross-check, the result files' formats
// and atomic, byte-identical writing; and, on the season scenario, that the
// recorder's call counts equal the mocked upstreams' own counters.
#include "engine/experiment/results_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/experiment/comparison.h"
#include "engine/experiment/report.h"

namespace orchsim::experiment {
namespace {

std::string SourceRoot() {
  std::string file = __FILE__;
  const std::string suffix = "tests/engine/experiment/results_writer_test.cc";
  return file.substr(0, file.size() - suffix.size());
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Instant At(const char* text) { return *ParseInstant(text); }

// naive: 10 requests, 10 first-attempt calls. policy: 3 cache hits, 2
// coalesced, 1 breaker rejection and 1 quota rejection before any call, 1
// served alone (after one retry) and 2 served by one 2-key batch call: 6
// served without a call of their own, 2 failed without one, 3 calls.
std::vector<VariantRun> TwoRuns() {
  VariantRun naive;
  naive.variant = "naive";
  naive.seed = 7;
  naive.metrics.submitted = 10;
  naive.metrics.accounting.requests = 10;
  naive.metrics.outcomes[static_cast<int>(Outcome::kServed)] = 10;
  naive.metrics.upstream_calls = 10;
  naive.metrics.calls_by_kind[static_cast<int>(CallKind::kFirstAttempt)] = 10;
  naive.metrics.apis["odds"].calls = 10;
  naive.metrics.apis["odds"].calls_by_kind[static_cast<int>(CallKind::kFirstAttempt)] = 10;
  naive.upstreams["odds"].calls = 10;
  naive.upstreams["odds"].calls_by_kind[static_cast<int>(CallKind::kFirstAttempt)] = 10;

  VariantRun policy;
  policy.variant = "policy";
  policy.seed = 7;
  VariantMetrics& m = policy.metrics;
  m.submitted = 10;
  m.outcomes[static_cast<int>(Outcome::kServed)] = 3;
  m.outcomes[static_cast<int>(Outcome::kCacheHit)] = 3;
  m.outcomes[static_cast<int>(Outcome::kCoalesced)] = 2;
  m.outcomes[static_cast<int>(Outcome::kRejectedCircuitOpen)] = 1;
  m.outcomes[static_cast<int>(Outcome::kRejectedQuota)] = 1;
  m.accounting.requests = 10;
  m.accounting.cache_hits = 3;
  m.accounting.coalesced = 2;
  m.accounting.batched_keys = 1;
  m.accounting.failed_without_call[static_cast<int>(Outcome::kRejectedCircuitOpen)] = 1;
  m.accounting.failed_without_call[static_cast<int>(Outcome::kRejectedQuota)] = 1;
  // Calls: 1 first attempt, 1 retry, 1 batch = 3 = 10 - 6 - 2 + 1.
  m.calls_by_kind[static_cast<int>(CallKind::kFirstAttempt)] = 1;
  m.calls_by_kind[static_cast<int>(CallKind::kRetry)] = 1;
  m.calls_by_kind[static_cast<int>(CallKind::kBatch)] = 1;
  m.upstream_calls = 3;
  m.apis["odds"].calls = 3;
  m.apis["odds"].calls_by_kind = m.calls_by_kind;
  policy.upstreams["odds"].calls = 3;
  policy.upstreams["odds"].calls_by_kind = m.calls_by_kind;
  return {naive, policy};
}

scenario::Scenario MiniScenario() {
  scenario::Scenario s;
  s.name = "mini";
  s.seed = 7;
  s.start = At("2023-09-30T22:00:00Z");
  s.end = At("2023-10-01T02:00:00Z");
  s.baseline = "naive";
  world::UpstreamModelConfig odds;
  odds.name = "odds";
  odds.quota.enabled = true;
  odds.quota.limit = 20;
  odds.quota.default_credits = 1;
  odds.quota.credits_per_endpoint = {{"odds", 6}};
  s.upstreams.push_back(odds);
  return s;
}

TEST(CallsSavedTest, SavedAgainstTheBaselineAndEachRunsBalance) {
  const std::vector<VariantRun> runs = TwoRuns();
  const auto b = SavedAgainst(runs, "naive", runs[1]);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->baseline_calls, 10u);
  EXPECT_EQ(b->calls, 3u);
  EXPECT_EQ(b->saved, 7);
  EXPECT_DOUBLE_EQ(b->saved_fraction, 0.7);
  // 7 saved = 6 served without a call + 2 failed without one (not savings)
  // - 1 added (the retry); the naive run's balance is 10 = 10.
  const CallBalance policy = runs[1].metrics.balance();
  EXPECT_EQ(policy.served_without_call, 6u);
  EXPECT_EQ(policy.failed_without_call, 2u);
  EXPECT_EQ(policy.added, 1u);
  EXPECT_EQ(policy.other, 0);
  EXPECT_EQ(runs[0].metrics.balance().other, 0);
  EXPECT_EQ(CallsSaved(runs, "naive", runs[1]), 7);
  EXPECT_FALSE(SavedAgainst(runs, "nobody", runs[1]).has_value());
  EXPECT_EQ(SavedAgainst(runs, "naive", runs[0])->saved, 0);
}

TEST(CallsSavedTest, CountMismatchesNamesApiAndKind) {
  std::vector<VariantRun> runs = TwoRuns();
  EXPECT_TRUE(CountMismatches(runs[1]).empty());
  runs[1].upstreams["odds"].calls_by_kind[static_cast<int>(CallKind::kRetry)] = 2;
  const std::vector<std::string> m = CountMismatches(runs[1]);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "policy: odds retry calls: core sent 1, upstream counted 2");
}

TEST(ResultsWriterTest, SummaryJsonHasSchemaVersionsAndSavedSplit) {
  const auto json = SummaryJson(MiniScenario(), TwoRuns());
  EXPECT_EQ(json["schema_version"], 2);
  EXPECT_EQ(json["scenario"], "mini");
  EXPECT_EQ(json["seed"], 7);
  EXPECT_TRUE(json["orchsim"]["version"].is_string());
  EXPECT_FALSE(json["orchsim"]["git_commit"].get<std::string>().empty());
  const auto& policy = json["variants"][1];
  EXPECT_EQ(policy["upstream_calls"], 3);
  EXPECT_EQ(policy["counts_match_upstreams"], true);
  EXPECT_EQ(policy["calls_saved"]["total"], 7);
  const auto& balance = policy["call_balance"];
  EXPECT_EQ(balance["requests"], 10);
  EXPECT_EQ(balance["served_without_call"]["total"], 6);
  EXPECT_EQ(balance["served_without_call"]["coalescing"], 2);
  EXPECT_EQ(balance["failed_without_call"]["total"], 2);
  EXPECT_EQ(balance["failed_without_call"]["rejected_quota"], 1);
  EXPECT_EQ(balance["calls_added"], 1);
  EXPECT_EQ(balance["other"], 0);
  EXPECT_EQ(balance["calls"], 3);
  EXPECT_FALSE(policy.contains("avoided_calls"));
  EXPECT_EQ(policy["calls_saved_vs_baseline"], 7);
  EXPECT_EQ(json["upstreams"]["odds"]["quota"]["period"], "calendar_month");
}

TEST(ResultsWriterTest, SummaryCsvIsLong) {
  const std::string csv = SummaryCsv(MiniScenario(), TwoRuns());
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "variant,metric,label,value");
  EXPECT_NE(csv.find("\npolicy,calls_saved,,7\n"), std::string::npos);
  EXPECT_NE(csv.find("\npolicy,call_balance,cache_hits,3\n"), std::string::npos);
  EXPECT_NE(csv.find("\npolicy,call_balance,failed_without_call_rejected_quota,1\n"),
            std::string::npos);
  EXPECT_NE(csv.find("\npolicy,call_balance,calls_added,1\n"), std::string::npos);
  EXPECT_NE(csv.find("\npolicy,upstream_calls_by_kind,retry,1\n"), std::string::npos);
  EXPECT_NE(csv.find("\nnaive,wait_p99_ms,HIGH,0.000\n"), std::string::npos);
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 3) << line;
  }
}

// Hours 22 and 23 of Sep 30 and hour 0 of Oct 1 carry credits; the month
// rolls over, so the quota resets; day rows sum 24 hours.
TEST(ResultsWriterTest, TimeseriesAndQuotaFollowUtcHoursDaysAndMonths) {
  std::vector<VariantRun> runs = TwoRuns();
  VariantMetrics& m = runs[1].metrics;
  m.start = At("2023-09-30T00:00:00Z");
  m.timeline.resize(26);
  m.timeline[22].requests = 4;
  m.timeline[22].credits = 12;
  m.timeline[22].credits_by_api["odds"] = 12;
  m.timeline[23].requests = 2;
  m.timeline[23].credits = 6;
  m.timeline[23].credits_by_api["odds"] = 6;
  m.timeline[24].requests = 1;
  m.timeline[24].completed = 1;
  m.timeline[24].wait_sum_us = 2000;
  m.timeline[24].credits = 6;
  m.timeline[24].credits_by_api["odds"] = 6;

  const std::string ts = TimeseriesCsv(runs);
  EXPECT_EQ(ts.substr(0, ts.find('\n')), "variant,bucket,bucket_start,metric,label,value");
  EXPECT_NE(ts.find("\npolicy,hour,2023-09-30T22:00:00Z,requests,,4\n"), std::string::npos);
  EXPECT_NE(ts.find("\npolicy,hour,2023-09-30T22:00:00Z,api_credits,odds,12.000\n"),
            std::string::npos);
  EXPECT_NE(ts.find("\npolicy,hour,2023-10-01T00:00:00Z,wait_mean_ms,,2.000\n"), std::string::npos);
  EXPECT_EQ(ts.find("\npolicy,hour,2023-09-30T21:00:00Z"), std::string::npos);  // quiet hour
  EXPECT_EQ(ts.find("\npolicy,hour,2023-09-30T22:00:00Z,wait_mean_ms"), std::string::npos);
  EXPECT_NE(ts.find("\npolicy,day,2023-09-30T00:00:00Z,requests,,6\n"), std::string::npos);
  EXPECT_NE(ts.find("\npolicy,day,2023-10-01T00:00:00Z,requests,,1\n"), std::string::npos);

  const std::string q = QuotaCsv(MiniScenario(), runs);
  EXPECT_NE(
      q.find("\npolicy,odds,2023-09-30T22:00:00Z,2023-09-01T00:00:00Z,20.000,12.000,8.000,0,0\n"),
      std::string::npos);
  // 2 remaining < 6 for the dearest call: exhausted.
  EXPECT_NE(
      q.find("\npolicy,odds,2023-09-30T23:00:00Z,2023-09-01T00:00:00Z,20.000,18.000,2.000,1,0\n"),
      std::string::npos);
  EXPECT_NE(
      q.find("\npolicy,odds,2023-10-01T00:00:00Z,2023-10-01T00:00:00Z,20.000,6.000,14.000,0,0\n"),
      std::string::npos);
}

// Issue 18, item 17: a quota that resets every 15 minutes is drawn from the
// upstream's own samples: per hour, the most used in one period (the lowest
// remaining) and the refusals; an hour without a charge starts fresh.
TEST(ResultsWriterTest, QuotaOfAPeriodShorterThanAnHourFollowsItsPeriods) {
  scenario::Scenario s = MiniScenario();
  s.upstreams[0].quota.period = world::QuotaPeriod::kFixedWindow;
  s.upstreams[0].quota.window = Minutes(15);
  std::vector<VariantRun> runs = TwoRuns();
  runs.erase(runs.begin());
  VariantMetrics& m = runs[0].metrics;
  m.start = At("2023-09-30T00:00:00Z");
  m.timeline.resize(3);
  // Hour 0: 20 credits used by 00:10 (a refusal at 00:12), 6 by 00:40.
  QuotaSample& h0 = m.timeline[0].quota_by_api["odds"];
  h0 = {20, 20, At("2023-09-30T00:12:00Z").unix_micros(), 1};
  h0.Add({6, 6, At("2023-09-30T00:40:00Z").unix_micros(), 0});
  m.timeline[0].credits_by_api["odds"] = 26;
  const std::string q = QuotaCsv(s, runs);
  EXPECT_NE(
      q.find("\npolicy,odds,2023-09-30T00:00:00Z,2023-09-30T00:00:00Z,20.000,20.000,0.000,1,1\n"),
      std::string::npos)
      << q;
  EXPECT_NE(
      q.find("\npolicy,odds,2023-09-30T01:00:00Z,2023-09-30T01:00:00Z,20.000,0.000,20.000,0,0\n"),
      std::string::npos)
      << q;
  EXPECT_EQ(SummaryJson(s, runs)["upstreams"]["odds"]["quota"]["period_length_s"], 900.0);
}

TEST(ResultsWriterTest, BreakerAndStalenessFiles) {
  std::vector<VariantRun> runs = TwoRuns();
  runs[1].metrics.breaker_transitions.push_back(
      {"scores", BreakerState::kClosed, BreakerState::kOpen, At("2023-09-30T23:30:00Z")});
  runs[1].metrics.data_age.Record(Seconds(3));
  runs[1].metrics.versions_behind.RecordValue(0);
  runs[1].metrics.versions_behind.RecordValue(5);
  EXPECT_EQ(BreakerTransitionsCsv(MiniScenario(), runs),
            "variant,breaker,at,hours_since_start,from,to\n"
            "policy,scores,2023-09-30T23:30:00Z,1.500000,closed,open\n");
  // 3 s lies in [2^21, 2^22) us, halves of width 2^20: [2097152, 3145728).
  // Issue 18, item 6: the denominators come first, so a plot of the share
  // of requests that got fresh data counts the failed ones too.
  runs[1].metrics.answered_with_data = 8;
  EXPECT_EQ(StalenessCsv(runs),
            "variant,metric,low,high,count\n"
            "naive,requests,,,10\n"
            "naive,answered_with_data,,,0\n"
            "policy,requests,,,10\n"
            "policy,answered_with_data,,,8\n"
            "policy,age_s,2.097152,3.145728,1\n"
            "policy,versions_behind,0,1,1\n"
            "policy,versions_behind,4,6,1\n");
}

TEST(ResultsWriterTest, WritesEveryFileAtomicallyAndIdentically) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "orchsim_results_writer_test";
  fs::remove_all(dir);
  WriteResults(dir.string(), MiniScenario(), TwoRuns());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"breaker_transitions.csv", "quota.csv", "report.md",
                                             "staleness.csv", "summary.csv", "summary.json",
                                             "timeseries.csv"}));
  const std::string first = Slurp(dir / "summary.json") + Slurp(dir / "report.md");
  WriteResults(dir.string(), MiniScenario(), TwoRuns());
  EXPECT_EQ(Slurp(dir / "summary.json") + Slurp(dir / "report.md"), first);
  fs::remove_all(dir);
}

TEST(ReportTest, SaysWhatChangedWithNumbersAndLinksPlots) {
  const std::string md = ReportMarkdown(MiniScenario(), TwoRuns());
  EXPECT_NE(md.find("# orchsim report: mini"), std::string::npos);
  EXPECT_NE(md.find("| seed | 7 |"), std::string::npos);
  // Issue 18, items 2-4: failures without a call are not savings, every
  // term of the balance is a count >= 0, and upstream quota refusals are
  // told apart from the outcome rejected_quota.
  EXPECT_NE(md.find("**policy** made 3 upstream calls, 7 (70.0%) fewer than naive (10). Of its "
                    "10 requests, 6 were served without a call of their own (3 from the cache, "
                    "2 coalesced onto another request's call and 1 carried in a batch call), "
                    "and 2 failed before any call (not a saving: the caller got no data); "
                    "retries, hedges, probes and prefetches added 1 call."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `policy` | 10 | 3 | 0 | 2 | 1 | 2 | 1 | 0 | 3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("upstream quota refusals"), std::string::npos);
  EXPECT_NE(md.find("the outcome `rejected_quota` below counts client requests the core itself "
                    "refused for quota"),
            std::string::npos);
  EXPECT_EQ(md.find("quota pacing"), std::string::npos);
  EXPECT_EQ(md.find("refused for quota |"), std::string::npos);
  for (const char* plot : kPlotNames) {
    EXPECT_NE(md.find(std::string("](") + plot + ".png)"), std::string::npos) << plot;
  }
  EXPECT_EQ(WithCommas(1234567), "1,234,567");
  EXPECT_EQ(WithCommas(-1000), "-1,000");
  EXPECT_EQ(WithCommas(999), "999");
}

TEST(SeasonCountsTest, RecorderCallsEqualTheMockedUpstreamsCounters) {
  const scenario::Scenario s = scenario::LoadScenario(SourceRoot() + "scenarios/nfl-2023.json");
  const std::vector<VariantRun> runs = RunComparison(s, {}, s.seed);
  ASSERT_GE(runs.size(), 2u);
  for (const VariantRun& run : runs) {
    EXPECT_TRUE(CountMismatches(run).empty()) << run.variant;
    uint64_t at_mocks = 0;
    for (const auto& [name, u] : run.upstreams) {
      at_mocks += u.calls;
      EXPECT_EQ(u.calls, run.metrics.apis.count(name) ? run.metrics.apis.at(name).calls : 0u);
    }
    EXPECT_EQ(at_mocks, run.metrics.upstream_calls) << run.variant;
    uint64_t outcomes = 0;
    for (uint64_t o : run.metrics.outcomes) outcomes += o;
    EXPECT_EQ(outcomes, run.metrics.submitted) << run.variant;
  }
}

}  // namespace
}  // namespace orchsim::experiment
