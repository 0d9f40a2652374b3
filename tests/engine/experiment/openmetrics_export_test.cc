// OpenMetricsExport: samples at step boundaries, counters from zero, gauges
// from their first value, histogram layout, family grouping, and the same
// text whatever the column budget.
#include "engine/experiment/openmetrics_export.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace orchsim::experiment {
namespace {

const Instant kT0 = *ParseInstant("2023-10-15T10:00:00Z");  // 1697364000

// A tiny run: one request served through one call, then a breaker trip.
void FeedTinyRun(OrchestratorObserver& o) {
  Request r;
  r.id = 1;
  r.api = "odds";
  r.endpoint = "odds";
  r.key = "g1";
  r.priority = Priority::kHigh;
  r.submitted_at = kT0 + Seconds(10);
  o.OnSubmitted(r, kT0 + Seconds(10));
  UpstreamCall call;
  call.call_id = 1;
  call.api = "odds";
  call.endpoint = "odds";
  call.keys = {"g1"};
  o.OnCallSent(call, kT0 + Seconds(10));
  Response answer;
  answer.status = 200;
  answer.credits_charged = 2;
  answer.headers.Set("x-requests-remaining", "98");
  o.OnCallAnswered(call, answer, false, kT0 + Seconds(70));
  Result result;
  result.outcome = Outcome::kServed;
  result.status = 200;
  result.queue_wait = Milliseconds(5);
  o.OnCompleted(r, result, kT0 + Seconds(70));
  o.OnBreakerTransition({"odds", BreakerState::kClosed, BreakerState::kOpen, kT0 + Seconds(90)});
}

std::string Export(size_t budget, int runs = 1) {
  OpenMetricsExport exporter(budget);
  for (int i = 0; i < runs; ++i) {
    FeedTinyRun(exporter.BeginRun(i == 0 ? "tuned" : "naive", kT0, Minutes(1)));
    exporter.EndRun(kT0 + Seconds(100));
  }
  std::ostringstream out;
  exporter.Write(out);
  return out.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(OpenMetricsExportTest, StepIsAMinuteForShortRunsAndAnHourBeyondTwoDays) {
  EXPECT_EQ(OpenMetricsStep(kT0, kT0 + Hours(19)), Minutes(1));
  EXPECT_EQ(OpenMetricsStep(kT0, kT0 + Days(2)), Minutes(1));
  EXPECT_EQ(OpenMetricsStep(kT0, kT0 + Days(2) + Seconds(1)), Hours(1));
}

TEST(OpenMetricsExportTest, SamplesEachBoundaryThroughTheOneAfterTheEnd) {
  const std::vector<std::string> lines = Lines(Export(OpenMetricsExport::kColumnBudgetBytes));
  const std::set<std::string> have(lines.begin(), lines.end());
  // Boundaries 10:00, 10:01 and 10:02 (the first after the end at 10:01:40);
  // a sample counts the events before its instant.
  for (
      const char* want : {
          "# TYPE orchsim_requests_submitted counter",
          R"(orchsim_requests_submitted_total{variant="tuned",api="odds",priority="HIGH"} 0 1697364000)",
          R"(orchsim_requests_submitted_total{variant="tuned",api="odds",priority="HIGH"} 1 1697364060)",
          R"(orchsim_requests_total{variant="tuned",api="odds",outcome="served"} 0 1697364060)",
          R"(orchsim_requests_total{variant="tuned",api="odds",outcome="served"} 1 1697364120)",
          R"(orchsim_upstream_calls_total{variant="tuned",api="odds",kind="first_attempt"} 1 1697364060)",
          R"(orchsim_upstream_responses_total{variant="tuned",api="odds",status="200"} 1 1697364120)",
          R"(orchsim_credits_total{variant="tuned",api="odds"} 2 1697364120)",
          R"(orchsim_breaker_trips_total{variant="tuned",breaker="odds"} 0 1697364000)",
          R"(orchsim_breaker_trips_total{variant="tuned",breaker="odds"} 1 1697364120)",
          "# UNIT orchsim_breaker_open_seconds seconds",
          R"(orchsim_breaker_open_seconds_total{variant="tuned",breaker="odds"} 30 1697364120)",
          R"(orchsim_breaker_state{variant="tuned",breaker="odds"} 0 1697364060)",
          R"(orchsim_breaker_state{variant="tuned",breaker="odds"} 1 1697364120)",
          R"(orchsim_quota_remaining{variant="tuned",api="odds"} 98 1697364120)",
          "# TYPE orchsim_queue_wait_seconds histogram",
          R"(orchsim_queue_wait_seconds_bucket{variant="tuned",priority="HIGH",le="0.001"} 0 1697364120)",
          R"(orchsim_queue_wait_seconds_bucket{variant="tuned",priority="HIGH",le="0.01"} 1 1697364120)",
          R"(orchsim_queue_wait_seconds_sum{variant="tuned",priority="HIGH"} 0.005 1697364120)",
          R"(orchsim_request_latency_seconds_bucket{variant="tuned",priority="HIGH",le="30.0"} 0 1697364120)",
          R"(orchsim_request_latency_seconds_bucket{variant="tuned",priority="HIGH",le="60.0"} 1 1697364120)",
          R"(orchsim_request_latency_seconds_bucket{variant="tuned",priority="HIGH",le="+Inf"} 1 1697364120)",
          R"(orchsim_request_latency_seconds_count{variant="tuned",priority="HIGH"} 1 1697364120)",
          R"(orchsim_request_latency_seconds_sum{variant="tuned",priority="HIGH"} 60 1697364120)",
      }) {
    EXPECT_EQ(have.count(want), 1u) << want;
  }
  // A gauge has no sample before its first value; families without any
  // series are left out.
  EXPECT_EQ(have.count(R"(orchsim_quota_remaining{variant="tuned",api="odds"} 98 1697364060)"), 0u);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("orchsim_upstream_health"), std::string::npos) << line;
    EXPECT_EQ(line.find("orchsim_retries"), std::string::npos) << line;
  }
  EXPECT_EQ(lines.back(), "# EOF");
}

TEST(OpenMetricsExportTest, FamiliesAreContiguousAndEachMetricInTimeOrder) {
  const std::vector<std::string> lines = Lines(Export(OpenMetricsExport::kColumnBudgetBytes, 2));
  std::vector<std::string> families;
  std::map<std::string, long> last_time;  // by series (name + labels)
  std::set<std::string> variants;
  for (const std::string& line : lines) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string family = line.substr(7, line.find(' ', 7) - 7);
      for (const std::string& seen : families) EXPECT_NE(seen, family) << "family twice";
      families.push_back(family);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    ASSERT_EQ(line.rfind(families.back(), 0), 0u) << line << " outside its family";
    const size_t space = line.rfind(' ');
    const std::string series = line.substr(0, line.find("} ") + 1);
    const long t = std::stol(line.substr(space + 1));
    if (last_time.count(series)) {
      EXPECT_GT(t, last_time[series]) << line;
    }
    last_time[series] = t;
    variants.insert(series.substr(series.find("variant=\""), 15));
  }
  EXPECT_EQ(families.front(), "orchsim_requests_submitted");
  EXPECT_EQ(families.back(), "orchsim_request_latency_seconds");
  EXPECT_EQ(variants.size(), 2u);
}

TEST(OpenMetricsExportTest, TheColumnBudgetDoesNotChangeTheText) {
  const std::string whole = Export(OpenMetricsExport::kColumnBudgetBytes, 2);
  EXPECT_EQ(Export(1, 2), whole);  // one metric per pass over the samples
  EXPECT_EQ(Export(200, 2), whole);
}

TEST(OpenMetricsExportTest, LabelValuesAreEscaped) {
  OpenMetricsExport exporter;
  OrchestratorObserver& o = exporter.BeginRun("a\"b\\c\nd", kT0, Minutes(1));
  o.OnBreakerTransition({"odds", BreakerState::kClosed, BreakerState::kOpen, kT0});
  exporter.EndRun(kT0);
  std::ostringstream out;
  exporter.Write(out);
  EXPECT_NE(out.str().find(R"({variant="a\"b\\c\nd",breaker="odds"})"), std::string::npos)
      << out.str();
}

TEST(OpenMetricsExportTest, RunsMustBeginAndEndInTurn) {
  OpenMetricsExport exporter;
  EXPECT_THROW(exporter.EndRun(kT0), std::logic_error);
  exporter.BeginRun("a", kT0, Minutes(1));
  EXPECT_THROW(exporter.BeginRun("b", kT0, Minutes(1)), std::logic_error);
  std::ostringstream out;
  EXPECT_THROW(exporter.Write(out), std::logic_error);
  exporter.EndRun(kT0);
  EXPECT_THROW(exporter.BeginRun("c", kT0, Duration::Zero()), std::invalid_argument);
}

}  // namespace
}  // namespace orchsim::experiment
