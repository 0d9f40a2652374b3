// Replications (issue 18, item 15): `run --seeds N` reports the mean and the
// 95% confidence half-width of every metric over the seeds, in summary.json
// and report.md.
#include "engine/experiment/replications.h"

#include <gtest/gtest.h>

namespace orchsim::experiment {
namespace {

std::vector<std::map<std::string, MetricValues>> ThreeSeeds() {
  std::vector<std::map<std::string, MetricValues>> per_seed;
  for (double calls : {100.0, 110.0, 120.0}) {
    std::map<std::string, MetricValues> v;
    v["naive"] = {{"upstream_calls", 200}, {"latency_p99_s", 1.5}};
    v["tuned"] = {{"upstream_calls", calls}, {"latency_p99_s", 0.5}};
    per_seed.push_back(v);
  }
  return per_seed;
}

TEST(ReplicationsTest, MeanSdAndStudentTHalfWidthPerVariantAndMetric) {
  const ReplicationSummary r = SummarizeReplications({7, 8, 9}, {"naive", "tuned"}, ThreeSeeds());
  const MetricSummary& calls = r.metrics.at("tuned").at("upstream_calls");
  EXPECT_EQ(calls.n, 3);
  EXPECT_DOUBLE_EQ(calls.mean, 110.0);
  EXPECT_DOUBLE_EQ(calls.sd, 10.0);
  // t(0.975, 2) = 4.302653; 4.302653 * 10 / sqrt(3) = 24.841...
  EXPECT_NEAR(calls.ci95_half, 24.8414, 1e-3);
  EXPECT_DOUBLE_EQ(r.metrics.at("naive").at("upstream_calls").ci95_half, 0.0);

  const Json json = ReplicationsJson(r);
  EXPECT_EQ(json["seeds"], Json::parse("[7, 8, 9]"));
  EXPECT_EQ(json["variants"]["tuned"]["upstream_calls"]["mean"], 110.0);
  EXPECT_EQ(json["variants"]["tuned"]["upstream_calls"]["n"], 3);
  EXPECT_NE(json["interval"].get<std::string>().find("95% confidence half-width"),
            std::string::npos);

  const std::string md = ReplicationsMarkdown(r);
  EXPECT_NE(md.find("## Replications: 3 seeds (7, 8, 9)"), std::string::npos) << md;
  EXPECT_NE(md.find("| `tuned` | 110 ± 24.84 |"), std::string::npos) << md;
  EXPECT_NE(md.find("0.5 s ± 0 s"), std::string::npos) << md;
  EXPECT_NE(ReplicationsTable(r).find("tuned"), std::string::npos);
}

}  // namespace
}  // namespace orchsim::experiment
