// Fidelity check 4: Brooker's "Exponential Backoff and Jitter" OCC contention
// experiment with the core's Backoff, against the published shape.
#include "engine/fidelity/backoff_contention.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

namespace orchsim::fidelity {
namespace {

TEST(OccServer, ConditionalWriteSucceedsOnlyOnTheCurrentVersion) {
  kernel::Simulator sim(Instant::Epoch());
  OccServer server(sim, kernel::Rng(1), Milliseconds(10), Duration::Zero());
  std::vector<std::pair<Instant, Response>> answers;
  auto record = [&](const Response& r) { answers.emplace_back(sim.now(), r); };
  UpstreamCall read;
  read.endpoint = "read";
  read.keys = {"row"};
  UpstreamCall write = read;
  write.endpoint = "write";
  write.keys = {"0"};
  server.Send(read, record);
  server.Send(write, record);
  server.Send(write, record);    // same stale version: conflict
  EXPECT_TRUE(answers.empty());  // never answered from inside Send
  sim.RunUntilEmpty();
  ASSERT_EQ(answers.size(), 3u);
  // Constant 10 ms each way: every answer 20 ms after sending.
  for (const auto& [at, r] : answers) EXPECT_EQ(at, Instant::Epoch() + Milliseconds(20));
  EXPECT_EQ(answers[0].second.status, 200);
  EXPECT_EQ(answers[0].second.payload_versions, std::vector<uint64_t>{0});
  EXPECT_EQ(answers[1].second.status, 200);
  EXPECT_EQ(answers[2].second.status, kStatusConflict);
  EXPECT_EQ(server.version(), 1u);
  EXPECT_EQ(server.writes(), 2u);
  EXPECT_EQ(server.failed_writes(), 1u);
}

TEST(BackoffContention, OneClientWritesOnceInFourDelays) {
  BackoffContentionConfig config;
  config.clients = 1;
  config.network_delay_sd = Duration::Zero();
  config.runs = 1;
  const BackoffContentionResult r = RunBackoffContention(config);
  EXPECT_EQ(r.runs[0].writes, 1u);
  EXPECT_EQ(r.runs[0].completion, Milliseconds(40));
}

TEST(BackoffContention, PlainExponentialFollowsTheFormula) {
  // Two clients with no network noise collide on every round: both read
  // version v, one write wins, the other fails and sleeps expo(k) =
  // 5 ms * 2^k (the published numbering).
  BackoffContentionConfig config;
  config.clients = 2;
  config.backoff = BackoffKind::kExponential;
  config.network_delay_sd = Duration::Zero();
  config.runs = 1;
  const BackoffContentionResult r = RunBackoffContention(config);
  EXPECT_EQ(r.runs[0].writes, 3u);
  // Loser: 40 ms (fail), sleep 10 ms, 40 ms more.
  EXPECT_EQ(r.runs[0].completion, Milliseconds(90));
}

TEST(BackoffContention, LogLogSlopeOfAPowerLaw) {
  EXPECT_NEAR(LogLogSlope({10, 20, 40}, {300, 1200, 4800}), 2.0, 1e-12);
}

// The fast version: 20 runs per point at N = 10, 25, 50, 100 (the long
// version: 100 runs at N = 10, 20, ..., 100).
TEST(BackoffContention, ReproducesThePublishedShape) {
  const BackoffSweep sweep = RunBackoffSweep({10, 25, 50, 100}, 20, 2015);
  for (size_t k = 0; k < sweep.results.size(); ++k) {
    for (size_t i = 0; i < sweep.clients.size(); ++i) {
      const BackoffContentionResult& r = sweep.results[k][i];
      std::printf("backoff %-20s N=%3d writes=%8.1f +/- %6.1f  completion=%9.1f ms\n",
                  std::string(BackoffKindName(kPublishedBackoffKinds[k])).c_str(), sweep.clients[i],
                  r.writes.mean, r.writes.half_width, r.completion_ms.mean);
    }
  }
  for (const CheckLine& line : BackoffShapeChecks(sweep)) {
    std::printf("%s\n", FormatCheckLine(line).c_str());
    EXPECT_TRUE(line.pass) << FormatCheckLine(line);
  }
}

}  // namespace
}  // namespace orchsim::fidelity
