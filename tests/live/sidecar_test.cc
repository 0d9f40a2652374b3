// orchsim serve end to end, on loopback: an in-test upstream, the sidecar on
// an ephemeral port, real HTTP requests. Served, cache hit, coalesced,
// payload bytes, breaker, quota from The Odds API's headers, malformed
// requests, /metrics, drain (every accepted request answered once) and
// reload (a broken preset keeps the old one).
#include "live/sidecar.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/live/test_http.h"

namespace orchsim::live {
namespace {

using testing::HttpAnswer;
using testing::HttpGet;
using testing::RawExchange;
using testing::Reply;
using testing::SeenRequest;
using testing::TestUpstream;
using testing::WaitFor;

constexpr const char* kPreset = R"({
  "default_api": {"bucket": {"enabled": false}, "quota": {"enabled": true, "mode": "pace"}},
  "queue": {"capacity": 0, "escalation_enabled": false},
  "coalescer": {"enabled": true},
  "batcher": {"enabled": false},
  "cache": {"enabled": true, "default_ttl": "1m", "stale_if_error": false},
  "prefetch": {"enabled": false},
  "breaker": {"enabled": true, "trigger": "consecutive_failures", "failure_threshold": 2,
              "open_wait": "60s"},
  "retry": {"enabled": false},
  "retry_budget": {"enabled": false},
  "concurrency": {"enabled": false},
  "timeouts": {"enabled": true, "per_attempt": "5s", "overall": "10s"},
  "health": {"enabled": false}
})";

// Bytes 0..255, four times: anything that mangles binary shows.
std::string BinaryPayload() {
  std::string bytes;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  }
  return bytes;
}

// The upstream's behaviour by path prefix (the upstreams of serve.json are
// one TestUpstream under different base paths).
Reply Upstream(const SeenRequest& r) {
  Reply reply;
  const std::string& t = r.target;
  if (t.rfind("/up/bin", 0) == 0) {
    reply.content_type = "application/octet-stream";
    reply.body = BinaryPayload();
  } else if (t.rfind("/up/slow", 0) == 0) {
    reply.delay = std::chrono::milliseconds(300);
    reply.body = "{\"slow\":\"" + t + "\"}";
  } else if (t.rfind("/up/never", 0) == 0) {
    reply.never = true;
  } else if (t.rfind("/flaky/", 0) == 0) {
    reply.status = 500;
    reply.body = "{\"error\":\"boom\"}";
  } else if (t.rfind("/quota/", 0) == 0) {
    // The Odds API: no limit header, no reset; remaining 0 means exhausted.
    reply.headers = {
        {"x-requests-remaining", "0"}, {"x-requests-used", "500"}, {"x-requests-last", "1"}};
    reply.body = "[]";
  } else {
    reply.body = "{\"path\":\"" + t + "\"}";
  }
  return reply;
}

class SidecarTest : public ::testing::Test {
 protected:
  SidecarTest() : upstream_(Upstream) {}

  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) /
        ("sidecar_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    WriteFile("preset.json", kPreset);
    WriteConfig("5s");
  }

  void TearDown() override {
    if (runner_.joinable()) {
      sidecar_->BeginDrain();
      runner_.join();
    }
    sidecar_.reset();
    std::filesystem::remove_all(dir_);
  }

  void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  void WriteConfig(const std::string& drain) {
    const std::string base = upstream_.base_url();
    WriteFile("serve.json", R"({
  "listen": "127.0.0.1:0",
  "preset": "preset.json",
  "drain": ")" + drain + R"(",
  "seed": 1,
  "log_level": "debug",
  "upstreams": {
    "up": {"base_url": ")" + base +
                                R"(/up", "routes": [{"path": "/*", "endpoint": "data"}]},
    "flaky": {"base_url": ")" + base +
                                R"(/flaky", "routes": [{"path": "/*", "endpoint": "x"}]},
    "quota": {"base_url": ")" + base +
                                R"(/quota", "routes": [{"path": "/odds", "endpoint": "odds",
              "key_params": ["regions"]}]}
  }
})");
  }

  void Start() {
    SidecarOptions options;
    options.config_path = (dir_ / "serve.json").string();
    options.log_sink = log_;
    options.record_path = record_path_;
    StatusOr<std::unique_ptr<Sidecar>> sidecar = Sidecar::Create(options);
    ASSERT_TRUE(sidecar.ok()) << sidecar.status().message();
    sidecar_ = std::move(sidecar.value());
    port_ = sidecar_->port();
    runner_ = std::thread([this] { exit_status_ = sidecar_->Run(); });
  }

  // Drains and waits for Run() to return.
  void Drain() {
    sidecar_->BeginDrain();
    runner_.join();
  }

  bool Logged(const std::string& text) const {
    for (const std::string& line : log_->last_formatted()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  HttpAnswer Get(const std::string& target, const std::vector<std::string>& headers = {}) {
    return HttpGet(port_, target, headers);
  }

  TestUpstream upstream_;
  std::filesystem::path dir_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
  std::unique_ptr<Sidecar> sidecar_;
  std::thread runner_;
  std::atomic<int> exit_status_{-1};
  std::string record_path_;
  uint16_t port_ = 0;
};

TEST_F(SidecarTest, ServedThenCacheHitWithThePayloadBytesIntact) {
  Start();
  const HttpAnswer first = Get("/up/bin?v=1");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Orchsim-Outcome"), "served");
  EXPECT_EQ(first.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(first.header("Age"), "0");
  EXPECT_EQ(first.body, BinaryPayload());
  const HttpAnswer second = Get("/up/bin?v=1");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("X-Orchsim-Outcome"), "cache_hit");
  EXPECT_EQ(second.body, BinaryPayload());
  EXPECT_FALSE(second.header("Age").empty());
  EXPECT_EQ(upstream_.requests(), 1);
  EXPECT_EQ(upstream_.seen().at(0).target, "/up/bin?v=1");
}

TEST_F(SidecarTest, ConcurrentIdenticalRequestsShareOneUpstreamCall) {
  Start();
  std::vector<HttpAnswer> answers(6);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < answers.size(); ++i) {
    clients.emplace_back([&, i] { answers[i] = Get("/up/slow?k=1"); });
  }
  for (std::thread& t : clients) t.join();
  int served = 0, coalesced = 0;
  for (const HttpAnswer& a : answers) {
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "{\"slow\":\"/up/slow?k=1\"}");
    served += a.header("X-Orchsim-Outcome") == "served";
    coalesced += a.header("X-Orchsim-Outcome") == "coalesced";
  }
  // Clients that arrive after the answer are cache hits; none makes a call.
  EXPECT_EQ(served, 1);
  EXPECT_GE(coalesced, 1);
  EXPECT_EQ(upstream_.requests(), 1);
}

TEST_F(SidecarTest, AnOpenBreakerAnswers503WithRetryAfter) {
  Start();
  for (int i = 0; i < 2; ++i) {
    const HttpAnswer failed = Get("/flaky/x?i=" + std::to_string(i));
    EXPECT_EQ(failed.status, 500);
    EXPECT_EQ(failed.header("X-Orchsim-Outcome"), "failed");
    EXPECT_NE(failed.body.find("\"upstream_failed\""), std::string::npos);
  }
  const HttpAnswer rejected = Get("/flaky/x?i=3");
  EXPECT_EQ(rejected.status, 503);
  EXPECT_EQ(rejected.header("X-Orchsim-Outcome"), "rejected_circuit_open");
  EXPECT_EQ(rejected.header("Content-Type"), "application/json");
  const int retry_after = std::stoi(rejected.header("Retry-After"));
  EXPECT_GE(retry_after, 59);
  EXPECT_LE(retry_after, 60);
  EXPECT_NE(rejected.body.find("\"error\":\"circuit_open\""), std::string::npos);
  EXPECT_EQ(upstream_.requests(), 2);
  EXPECT_TRUE(WaitFor([&] { return Logged("\"event\":\"breaker_transition\""); }));
  const HttpAnswer metrics = Get("/metrics");
  EXPECT_NE(metrics.body.find("orchsim_breaker_state{breaker=\"flaky\",variant=\"preset\"} 1"),
            std::string::npos);
  EXPECT_NE(
      metrics.body.find("orchsim_breaker_trips_total{breaker=\"flaky\",variant=\"preset\"} 1"),
      std::string::npos);
  EXPECT_EQ(metrics.body.find(
                "orchsim_breaker_open_seconds_total{breaker=\"flaky\",variant=\"preset\"} 0\n"),
            std::string::npos);  // accrues while open
}

TEST_F(SidecarTest, TheOddsApisQuotaHeadersLeadTo429) {
  Start();
  const HttpAnswer first = Get("/quota/odds?regions=us");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Orchsim-Outcome"), "served");
  const HttpAnswer second = Get("/quota/odds?regions=eu");
  EXPECT_EQ(second.status, 429);
  EXPECT_EQ(second.header("X-Orchsim-Outcome"), "rejected_quota");
  EXPECT_GE(std::stoll(second.header("Retry-After")), 1);
  EXPECT_NE(second.body.find("\"error\":\"quota\""), std::string::npos);
  EXPECT_EQ(upstream_.requests(), 1);
  EXPECT_TRUE(WaitFor([&] { return Logged("\"event\":\"quota_exhausted\""); }));
  const HttpAnswer metrics = Get("/metrics");
  EXPECT_NE(metrics.body.find("orchsim_quota_remaining{api=\"quota\",variant=\"preset\"} 0"),
            std::string::npos);
  EXPECT_NE(
      metrics.body.find("orchsim_quota_exhaustions_total{api=\"quota\",variant=\"preset\"} 1"),
      std::string::npos);
}

TEST_F(SidecarTest, MalformedRequestsGetJsonReasonsNeverACrash) {
  Start();
  const HttpAnswer unknown = Get("/nope/x");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("\"error\":\"unknown_api\""), std::string::npos);
  EXPECT_EQ(Get("/up/x", {"X-Orchsim-Priority: urgent"}).status, 400);
  EXPECT_EQ(Get("/up/x", {"X-Orchsim-Deadline: soon"}).status, 400);
  EXPECT_EQ(Get("/up/../etc/passwd").status, 400);
  EXPECT_EQ(
      RawExchange(port_, "POST /up/x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi").status,
      405);
  const HttpAnswer garbage = RawExchange(port_, "BLAH\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(garbage.body.find("\"error\":\"bad_request\""), std::string::npos);
  const HttpAnswer huge =
      RawExchange(port_, "GET /up/x HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(huge.status, 431);
  // Half a request, then the client goes away: nothing to answer, no harm.
  RawExchange(port_, "GET /up/x HTTP/1.1\r\nHost:", std::chrono::milliseconds(50));
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(upstream_.requests(), 0);
}

TEST_F(SidecarTest, MetricsCountWhatHappened) {
  Start();
  EXPECT_EQ(Get("/up/a").status, 200);
  EXPECT_EQ(Get("/up/a").status, 200);
  const HttpAnswer metrics = Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  // The names, labels and bucket bounds of docs/metrics.md; the variant is
  // the preset's file name.
  for (const char* line :
       {"orchsim_requests_submitted_total{api=\"up\",priority=\"NORMAL\",variant=\"preset\"} 2",
        "orchsim_requests_total{api=\"up\",outcome=\"served\",variant=\"preset\"} 1",
        "orchsim_requests_total{api=\"up\",outcome=\"cache_hit\",variant=\"preset\"} 1",
        "orchsim_upstream_calls_total{api=\"up\",kind=\"first_attempt\",variant=\"preset\"} 1",
        "orchsim_upstream_responses_total{api=\"up\",status=\"200\",variant=\"preset\"} 1",
        "orchsim_credits_total{api=\"up\",variant=\"preset\"} 1",
        "orchsim_breaker_state{breaker=\"up\",variant=\"preset\"} 0",
        "orchsim_queue_wait_seconds_count{priority=\"NORMAL\",variant=\"preset\"} 2",
        "orchsim_request_latency_seconds_bucket{priority=\"NORMAL\",variant=\"preset\",le=\"1.0\"} "
        "2",
        "orchsim_request_latency_seconds_bucket{priority=\"NORMAL\",variant=\"preset\",le=\"0."
        "001\"}",
        "orchsim_http_responses_total{code=\"200\"} 2", "orchsim_ready 1"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(Get("/readyz").status, 200);
}

TEST_F(SidecarTest, DrainAnswersEveryAcceptedRequestExactlyOnce) {
  Start();
  constexpr int kClients = 8;
  std::vector<HttpAnswer> answers(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { answers[i] = Get("/up/slow?i=" + std::to_string(i)); });
  }
  ASSERT_TRUE(WaitFor([&] { return upstream_.requests() == kClients; }));
  sidecar_->BeginDrain();
  ASSERT_TRUE(WaitFor([&] { return Logged("\"event\":\"drain_started\""); }));
  // New work is refused while the old finishes (or the listener is gone).
  const HttpAnswer late = Get("/up/late");
  EXPECT_TRUE(late.status == 503 || late.status == 0) << late.status;
  const HttpAnswer ready = Get("/readyz");
  EXPECT_TRUE(ready.status == 503 || ready.status == 0) << ready.status;
  for (std::thread& t : clients) t.join();
  runner_.join();
  EXPECT_EQ(exit_status_, 0);
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(answers[i].status, 200) << i;
    EXPECT_EQ(answers[i].header("X-Orchsim-Outcome"), "served") << i;
  }
  const SidecarCounters c = sidecar_->counters();
  EXPECT_EQ(c.accepted, c.answered);
  EXPECT_EQ(c.submitted, c.completed);
  EXPECT_EQ(c.submitted, static_cast<uint64_t>(kClients));
  EXPECT_TRUE(Logged("\"event\":\"stopped\""));
  EXPECT_EQ(upstream_.requests(), kClients);  // the late request never went upstream
}

TEST_F(SidecarTest, WhatTheDrainTimeDoesNotCoverEndsAsCancelledOnce) {
  WriteConfig("200ms");
  Start();
  constexpr int kClients = 3;
  std::vector<HttpAnswer> answers(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { answers[i] = Get("/up/never?i=" + std::to_string(i)); });
  }
  ASSERT_TRUE(WaitFor([&] { return upstream_.requests() == kClients; }));
  const auto start = std::chrono::steady_clock::now();
  Drain();
  for (std::thread& t : clients) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(exit_status_, 0);
  for (const HttpAnswer& a : answers) {
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.header("X-Orchsim-Outcome"), "cancelled");
    EXPECT_NE(a.body.find("\"error\":\"shutting_down\""), std::string::npos);
  }
  const SidecarCounters c = sidecar_->counters();
  EXPECT_EQ(c.accepted, c.answered);
  EXPECT_EQ(c.submitted, c.completed);
  // The calls were abandoned: the upstream saw each connection close.
  EXPECT_TRUE(WaitFor([&] { return upstream_.client_closes() == kClients; }));
}

TEST_F(SidecarTest, AReloadWithABrokenPresetKeepsTheOldOne) {
  Start();
  EXPECT_EQ(Get("/up/a").status, 200);
  WriteFile("preset.json", "{\"retry\": {\"max_attempts\": }");
  sidecar_->Reload();
  ASSERT_TRUE(WaitFor([&] { return sidecar_->counters().reloads_failed == 1; }));
  EXPECT_EQ(sidecar_->counters().generation, 1u);
  EXPECT_TRUE(Logged("\"event\":\"reload_failed\""));
  EXPECT_TRUE(Logged("preset.json: malformed JSON"));
  // Still the old core: its cache answers.
  EXPECT_EQ(Get("/up/a").header("X-Orchsim-Outcome"), "cache_hit");

  WriteFile("preset.json", kPreset);
  sidecar_->Reload();
  ASSERT_TRUE(WaitFor([&] { return sidecar_->counters().reloads_ok == 1; }));
  EXPECT_EQ(sidecar_->counters().generation, 2u);
  EXPECT_TRUE(Logged("\"event\":\"reload\""));
  // A new core: its cache starts empty.
  EXPECT_EQ(Get("/up/a").header("X-Orchsim-Outcome"), "served");
  const HttpAnswer metrics = Get("/metrics");
  EXPECT_NE(metrics.body.find("orchsim_config_reloads_total{result=\"error\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("orchsim_config_reloads_total{result=\"ok\"} 1"), std::string::npos);
}

TEST_F(SidecarTest, ARequestInFlightDuringAReloadIsAnsweredOnceByItsGeneration) {
  Start();
  HttpAnswer slow;
  std::thread client([&] { slow = Get("/up/slow?r=1"); });
  ASSERT_TRUE(WaitFor([&] { return upstream_.requests() == 1; }));
  sidecar_->Reload();
  ASSERT_TRUE(WaitFor([&] { return sidecar_->counters().reloads_ok == 1; }));
  EXPECT_EQ(Get("/up/b").status, 200);  // the new generation serves
  client.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.header("X-Orchsim-Outcome"), "served");
  EXPECT_TRUE(WaitFor([&] { return Logged("\"event\":\"generation_retired\""); }));
  Drain();
  const SidecarCounters c = sidecar_->counters();
  EXPECT_EQ(c.accepted, c.answered);
  EXPECT_EQ(c.submitted, c.completed);
}

TEST_F(SidecarTest, RecordsATraceOfEveryRequestAndCall) {
  record_path_ = (dir_ / "trace.jsonl").string();
  Start();
  EXPECT_EQ(Get("/up/t?x=1").status, 200);
  EXPECT_EQ(Get("/up/t?x=1").status, 200);  // a cache hit: a request line, no call
  sidecar_->Reload();
  ASSERT_TRUE(WaitFor([&] { return sidecar_->counters().reloads_ok == 1; }));
  EXPECT_EQ(Get("/up/t?x=2").status, 200);  // the second core writes trace-g2.jsonl
  Drain();
  auto lines = [](const std::filesystem::path& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  const std::vector<std::string> first = lines(dir_ / "trace.jsonl");
  ASSERT_EQ(first.size(), 4u);
  EXPECT_NE(first[0].find("\"type\":\"header\""), std::string::npos);
  EXPECT_NE(first[0].find("\"source\":\"live\""), std::string::npos);
  EXPECT_NE(first[0].find("\"variant\":\"preset\""), std::string::npos);
  int requests = 0, calls = 0;
  for (size_t i = 1; i < first.size(); ++i) {
    requests += first[i].find("\"type\":\"request\"") != std::string::npos;
    calls += first[i].find("\"type\":\"call\"") != std::string::npos;
  }
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(lines(dir_ / "trace-g2.jsonl").size(), 3u);  // header, call, request
}

TEST_F(SidecarTest, ABadConfigIsRefusedAtStart) {
  WriteFile("serve.json", R"({"listen": "127.0.0.1:0"})");
  SidecarOptions options;
  options.config_path = (dir_ / "serve.json").string();
  const StatusOr<std::unique_ptr<Sidecar>> sidecar = Sidecar::Create(options);
  ASSERT_FALSE(sidecar.ok());
  EXPECT_EQ(sidecar.status().message(),
            options.config_path + ": /preset: required field is missing");
}

}  // namespace
}  // namespace orchsim::live
