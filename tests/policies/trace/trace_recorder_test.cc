// TraceRecorder over the real orchestrator and fake ports: the exact lines
// of a tiny run, wall time from a live clock, and the file sink's promise
// that a crash loses at most one line.
#include "policies/trace/trace_recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"

namespace orchsim::trace {
namespace {

using orchsim::testing::FakeClock;
using orchsim::testing::FakeTimers;
using orchsim::testing::FakeTransport;
using orchsim::testing::SeededRandom;

const Instant kT0 = *ParseInstant("2023-10-15T16:00:00Z");

// Every mechanism off but retries (2 attempts, constant 1 s backoff).
OrchestratorConfig TinyConfig() {
  OrchestratorConfig c;
  c.defaults.bucket.enabled = false;
  c.defaults.quota.enabled = false;
  c.queue.escalation_enabled = false;
  c.defaults.coalescer.enabled = false;
  c.defaults.batcher.enabled = false;
  c.defaults.cache.enabled = false;
  c.prefetch.enabled = false;
  c.defaults.breaker.enabled = false;
  c.defaults.retry.enabled = true;
  c.defaults.retry.max_attempts = 2;
  c.defaults.retry.backoff = BackoffKind::kConstant;
  c.defaults.retry.base = Seconds(1);
  c.defaults.retry_budget.enabled = false;
  c.defaults.concurrency.enabled = false;
  c.defaults.timeouts.enabled = false;
  c.health.enabled = false;
  return c;
}

class TraceRecorderTest : public ::testing::Test {
 protected:
  TraceRecorderTest() : clock_(kT0), timers_(clock_), transport_(clock_, timers_), random_(1) {
    // "bad" keys fail once with 503, everything else answers 200 with
    // odds-api quota headers; 80 ms each.
    transport_.set_auto_responder([this](const UpstreamCall& call) {
      Response r;
      const bool fail = call.keys.front() == "bad" && call.attempt == 1;
      r.status = fail ? 503 : 200;
      r.credits_charged = fail ? 0.0 : 1.0;
      r.headers.Set("Content-Type", "application/json");
      r.headers.Set("X-Requests-Remaining", std::to_string(500 - ++calls_));
      r.payload_versions = {1};
      return std::make_pair(r, Milliseconds(80));
    });
  }

  void Build(TraceRecorder* recorder) {
    auto built = Orchestrator::Create(TinyConfig(), clock_, timers_, transport_, random_);
    ASSERT_TRUE(built.ok()) << built.status().message();
    orchestrator_ = std::move(built).value();
    orchestrator_->AddObserver(recorder);
  }

  void Submit(uint64_t id, const std::string& key, Priority priority) {
    Request r;
    r.id = id;
    r.api = "odds";
    r.endpoint = "odds";
    r.key = key;
    r.priority = priority;
    r.game_start = *ParseInstant("2023-10-15T17:00:00Z");
    r.deadline = clock_.now() + Seconds(30);
    orchestrator_->Submit(r, [](const Result&) {});
  }

  FakeClock clock_;
  FakeTimers timers_;
  FakeTransport transport_;
  SeededRandom random_;
  std::unique_ptr<Orchestrator> orchestrator_;
  int calls_ = 0;
};

TEST_F(TraceRecorderTest, WritesTheExactLinesOfATinyRun) {
  StringTraceSink sink;
  TraceHeader header;
  header.source = TraceSource::kSimulation;
  header.scenario = "tiny";
  header.variant = "retry";
  header.seed = 1;
  TraceRecorder recorder(sink, header);
  Build(&recorder);
  Submit(1, "good", Priority::kHigh);
  timers_.AdvanceBy(Milliseconds(10));
  Submit(2, "bad", Priority::kLow);
  timers_.RunAll();

  const std::vector<std::string> want = {
      R"({"type":"header","format":"orchsim-trace","version":1,"source":"simulation","scenario":"tiny","variant":"retry","seed":1})",
      R"({"type":"call","call_id":1,"sent":"2023-10-15T16:00:00.000000Z","api":"odds","endpoint":"odds","keys":["good"],"kind":"first_attempt","attempt":1,"priority":"HIGH","status":200,"latency_us":80000,"credits":1,"late":false,"quota_headers":{"x-requests-remaining":"499"}})",
      R"({"type":"request","id":1,"arrival":"2023-10-15T16:00:00.000000Z","api":"odds","endpoint":"odds","key":"good","priority":"HIGH","game_start":"2023-10-15T17:00:00.000000Z","deadline_us":30000000,"cacheable":true,"batchable":false,"outcome":"served","status":200,"latency_us":80000,"queue_wait_us":0,"attempts":1})",
      R"({"type":"call","call_id":2,"sent":"2023-10-15T16:00:00.010000Z","api":"odds","endpoint":"odds","keys":["bad"],"kind":"first_attempt","attempt":1,"priority":"LOW","status":503,"latency_us":80000,"credits":0,"late":false,"quota_headers":{"x-requests-remaining":"498"}})",
      R"({"type":"call","call_id":3,"sent":"2023-10-15T16:00:01.090000Z","api":"odds","endpoint":"odds","keys":["bad"],"kind":"retry","attempt":2,"priority":"LOW","status":200,"latency_us":80000,"credits":1,"late":false,"quota_headers":{"x-requests-remaining":"497"}})",
      R"({"type":"request","id":2,"arrival":"2023-10-15T16:00:00.010000Z","api":"odds","endpoint":"odds","key":"bad","priority":"LOW","game_start":"2023-10-15T17:00:00.000000Z","deadline_us":30000000,"cacheable":true,"batchable":false,"outcome":"served","status":200,"latency_us":1160000,"queue_wait_us":0,"attempts":2})",
  };
  EXPECT_EQ(sink.lines(), want);
  EXPECT_EQ(recorder.requests_written(), 2u);
  EXPECT_EQ(recorder.calls_written(), 3u);
  EXPECT_EQ(recorder.calls_in_flight(), 0u);
  EXPECT_EQ(recorder.lines_failed(), 0u);
}

TEST_F(TraceRecorderTest, LiveClockPutsEventsOnTheWallClock) {
  // A host whose monotonic clock started at boot: wall = monotonic + 1 day.
  clock_.StepWall(Hours(24));
  StringTraceSink sink;
  TraceRecorder recorder(sink, TraceHeader{}, &clock_);
  Build(&recorder);
  Submit(1, "good", Priority::kNormal);
  timers_.AdvanceBy(Milliseconds(40));
  clock_.StepWall(Seconds(5));  // NTP steps the wall clock while the call is out
  timers_.RunAll();
  ASSERT_EQ(sink.lines().size(), 3u);
  EXPECT_EQ(sink.lines()[0],
            R"({"type":"header","format":"orchsim-trace","version":1,"source":"live"})");
  // The call's send time was stamped when it was sent; the request's arrival
  // is placed with the offset at completion (after the step).
  EXPECT_NE(sink.lines()[1].find(R"("sent":"2023-10-16T16:00:00.000000Z")"), std::string::npos)
      << sink.lines()[1];
  EXPECT_NE(sink.lines()[1].find(R"("latency_us":80000)"), std::string::npos);
  EXPECT_NE(sink.lines()[2].find(R"("arrival":"2023-10-16T16:00:05.000000Z")"), std::string::npos)
      << sink.lines()[2];
  EXPECT_NE(sink.lines()[2].find(R"("latency_us":80000)"), std::string::npos);
}

TEST_F(TraceRecorderTest, AnswerOfACallSentBeforeAttachingUsesTheTransportsLatency) {
  StringTraceSink sink;
  TraceRecorder recorder(sink, TraceHeader{});
  UpstreamCall call;
  call.call_id = 9;
  call.api = "odds";
  call.endpoint = "odds";
  call.keys = {"k"};
  Response response;
  response.status = 200;
  response.latency = Milliseconds(250);
  recorder.OnCallAnswered(call, response, false, kT0 + Seconds(1));
  ASSERT_EQ(sink.lines().size(), 2u);
  EXPECT_NE(sink.lines()[1].find(R"("sent":"2023-10-15T16:00:00.750000Z")"), std::string::npos);
  EXPECT_NE(sink.lines()[1].find(R"("latency_us":250000)"), std::string::npos);
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "." + std::to_string(::getpid()) + ".jsonl"))
      .string();
}

TEST(FileTraceSinkTest, EveryLineIsOnDiskWhenWriteLineReturns) {
  const std::string path = TempPath("trace_sink_flush");
  auto sink = FileTraceSink::Open(path);
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*sink)->WriteLine("{\"n\":" + std::to_string(i) + "}"));
    // Read through another handle while the sink is still open.
    EXPECT_EQ(ReadLines(path).size(), static_cast<size_t>(i + 1));
  }
  EXPECT_TRUE((*sink)->Close().ok());
  EXPECT_FALSE((*sink)->WriteLine("after close"));
  EXPECT_EQ(ReadLines(path), (std::vector<std::string>{"{\"n\":0}", "{\"n\":1}", "{\"n\":2}"}));
  std::filesystem::remove(path);
}

TEST(FileTraceSinkTest, ACrashLosesNothingAlreadyWritten) {
  const std::string path = TempPath("trace_sink_crash");
  // The child writes 100 lines and aborts: no destructor, no stdio flush at exit.
  EXPECT_DEATH(
      {
        auto sink = FileTraceSink::Open(path);
        if (!sink.ok()) std::exit(3);
        for (int i = 0; i < 100; ++i) (*sink)->WriteLine("{\"n\":" + std::to_string(i) + "}");
        std::abort();
      },
      "");
  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 100u);
  EXPECT_EQ(lines.back(), "{\"n\":99}");
  std::filesystem::remove(path);
}

TEST(FileTraceSinkTest, UnwritablePathIsAnErrorNamingIt) {
  auto sink = FileTraceSink::Open("/nonexistent-dir/trace.jsonl");
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("/nonexistent-dir/trace.jsonl"), std::string::npos);
}

TEST(FileTraceSinkTest, WriteErrorsAreCountedAndReported) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto sink = FileTraceSink::Open("/dev/full");
  ASSERT_TRUE(sink.ok());
  EXPECT_FALSE((*sink)->WriteLine("{}"));
  EXPECT_EQ((*sink)->write_errors(), 1u);
  const Status closed = (*sink)->Close();
  EXPECT_FALSE(closed.ok());
  EXPECT_NE(closed.message().find("/dev/full"), std::string::npos);
}

}  // namespace
}  // namespace orchsim::trace
