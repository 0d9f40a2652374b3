// The real-time mock upstream over real HTTP on loopback: statuses, waited
// latency, quota headers in each style, rate limit, outages, batches,
// bodies, and hostile clients (garbage, oversized, slow, too many), with no
// connection left behind.
#include "live/mock_upstream_server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/live/http_test_client.h"

namespace orchsim::live {
namespace {

using orchsim::testing::HttpAnswer;
using orchsim::testing::HttpTestClient;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const Instant kScenarioStart = *ParseInstant("2023-10-15T10:00:00Z");

world::UpstreamModelConfig PlainModel() {
  world::UpstreamModelConfig m;
  m.name = "odds";
  m.latency.kind = world::LatencyKind::kConstant;
  m.latency.constant = Milliseconds(50);
  m.data.enabled = false;  // every version stays 1
  return m;
}

long Millis(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

// One server on an ephemeral loopback port, its io_context on a thread.
class MockServer {
 public:
  explicit MockServer(world::UpstreamModelConfig model, Duration start_offset = Duration::Zero(),
                      MockUpstreamServerOptions options = {}) {
    RealTimeUpstream::Options o;
    o.model = std::move(model);
    o.seed = 7;
    o.scenario_start = kScenarioStart;
    o.start_at = kScenarioStart + start_offset;
    auto upstream = RealTimeUpstream::Create(std::move(o), Clock::now());
    EXPECT_TRUE(upstream.ok()) << upstream.status().message();
    upstream_ = std::move(upstream).value();
    server_ = std::make_unique<MockUpstreamServer>(io_, *upstream_, options);
    const Status started = server_->Start();
    EXPECT_TRUE(started.ok()) << started.message();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~MockServer() {
    boost::asio::post(io_, [this] { server_->Stop(); });
    thread_.join();  // returns once every connection has ended
    EXPECT_EQ(server_->connections(), 0u);
  }
  uint16_t port() const { return server_->port(); }
  MockUpstreamServer& server() { return *server_; }

  // Waits (bounded) until no connection is open.
  bool Drained(milliseconds timeout = milliseconds(3000)) {
    const auto deadline = Clock::now() + timeout;
    while (server_->connections() != 0) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
  }

  HttpAnswer Get(const std::string& target) {
    HttpTestClient client;
    EXPECT_TRUE(client.Connect(port()));
    EXPECT_TRUE(client.Get(target, "Connection: close\r\n"));
    std::optional<HttpAnswer> answer = client.Read();
    EXPECT_TRUE(answer.has_value()) << target;
    return answer.value_or(HttpAnswer{});
  }
  nlohmann::json Stats() { return nlohmann::json::parse(Get("/_mock/stats").body); }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<RealTimeUpstream> upstream_;
  std::unique_ptr<MockUpstreamServer> server_;
  std::thread thread_;
};

TEST(MockUpstreamServerTest, AnswersAKeyWithItsBodyAfterTheModelsLatency) {
  MockServer mock(PlainModel());
  const auto sent = Clock::now();
  HttpAnswer a = mock.Get("/odds?key=2023_10_15_DET_BAL");
  const long elapsed = Millis(Clock::now() - sent);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"api":"odds","endpoint":"odds","key":"2023_10_15_DET_BAL","version":1})");
  EXPECT_EQ(a.Header("content-type"), "application/json");
  EXPECT_EQ(a.Header("x-orchsim-versions"), "1");
  EXPECT_EQ(a.Header("x-orchsim-credits"), "0");
  EXPECT_GE(elapsed, 50);
  EXPECT_LT(elapsed, 1000);
  nlohmann::json stats = mock.Stats();
  EXPECT_EQ(stats["calls"], 1);
  EXPECT_EQ(stats["statuses"]["200"], 1);
}

TEST(MockUpstreamServerTest, DecodesPercentEncodedEndpointsAndKeys) {
  MockServer mock(PlainModel());
  HttpAnswer a = mock.Get("/v4/sports%2Fodds?apiKey=secret&key=odds%3AKC+DET&regions=us");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body,
            R"({"api":"odds","endpoint":"v4/sports/odds","key":"odds:KC DET","version":1})");
}

TEST(MockUpstreamServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  MockServer mock(PlainModel());
  HttpTestClient client;
  ASSERT_TRUE(client.Connect(mock.port()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Get("/odds?key=k" + std::to_string(i)));
    std::optional<HttpAnswer> a = client.Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 200);
    EXPECT_NE(a->body.find("\"key\":\"k" + std::to_string(i) + "\""), std::string::npos);
  }
  // Pipelined: both requests at once, answered in order.
  ASSERT_TRUE(client.Send(
      "GET /odds?key=p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /odds?key=p2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(client.Read()->body.find("p1"), std::string::npos);
  EXPECT_NE(client.Read()->body.find("p2"), std::string::npos);
  client.Close();
  EXPECT_EQ(mock.server().stats().connections_accepted, 1u);
  EXPECT_TRUE(mock.Drained());
}

TEST(MockUpstreamServerTest, LatencyIsWaitedConcurrentlyNotOnTheEventLoop) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(300);
  MockServer mock(model);
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  const auto sent = Clock::now();
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<HttpTestClient>());
    ASSERT_TRUE(clients.back()->Connect(mock.port()));
    ASSERT_TRUE(clients.back()->Get("/odds?key=k" + std::to_string(i)));
  }
  for (auto& client : clients) {
    std::optional<HttpAnswer> a = client->Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 200);
  }
  const long elapsed = Millis(Clock::now() - sent);
  EXPECT_GE(elapsed, 300);
  EXPECT_LT(elapsed, 8 * 300 / 2) << "answers were serialized";
}

TEST(MockUpstreamServerTest, OddsApiQuotaHeadersAndExhaustion) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(1);
  model.quota.enabled = true;
  model.quota.limit = 10;
  model.quota.credits_per_endpoint = {{"odds", 4}};
  model.quota.header_style = world::QuotaHeaderStyle::kOddsApi;
  MockServer mock(model);
  HttpAnswer first = mock.Get("/odds?key=a");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("x-requests-remaining"), "6");
  EXPECT_EQ(first.Header("x-requests-used"), "4");
  EXPECT_EQ(first.Header("x-requests-last"), "4");
  EXPECT_EQ(first.Header("x-orchsim-credits"), "4");
  EXPECT_EQ(mock.Get("/odds?key=b").Header("x-requests-remaining"), "2");
  HttpAnswer refused = mock.Get("/odds?key=c");  // 4 > 2 remaining: 401 as The Odds API
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.Header("x-requests-remaining"), "0");
  EXPECT_EQ(refused.Header("x-orchsim-credits"), "0");
  EXPECT_EQ(refused.body, R"({"status":401,"error":"Unauthorized"})");
  EXPECT_EQ(mock.Stats()["quota_rejected"], 1);
}

TEST(MockUpstreamServerTest, GithubResetIsOnThisMachinesWallClock) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(1);
  model.quota.enabled = true;
  model.quota.limit = 2;
  model.quota.period = world::QuotaPeriod::kRollingWindow;
  model.quota.rolling_window = Minutes(10);
  model.quota.header_style = world::QuotaHeaderStyle::kGithub;
  MockServer mock(model);
  HttpAnswer a = mock.Get("/odds?key=a");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.Header("x-ratelimit-limit"), "2");
  EXPECT_EQ(a.Header("x-ratelimit-remaining"), "1");
  EXPECT_EQ(a.Header("x-ratelimit-used"), "1");
  // The reset is 10 minutes after the first charge: on this machine's clock,
  // not in 2023 where the scenario is.
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const int64_t reset_s = std::stoll(a.Header("x-ratelimit-reset"));
  EXPECT_GE(reset_s, now_s + 600 - 5);
  EXPECT_LE(reset_s, now_s + 600 + 5);
  EXPECT_EQ(mock.Get("/odds?key=b").status, 200);
  HttpAnswer refused = mock.Get("/odds?key=c");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.Header("x-ratelimit-remaining"), "0");
}

TEST(MockUpstreamServerTest, IetfHeadersAndRetryAfterOnExhaustion) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(1);
  model.quota.enabled = true;
  model.quota.limit = 1;
  model.quota.period = world::QuotaPeriod::kRollingWindow;
  model.quota.rolling_window = Seconds(60);
  model.quota.header_style = world::QuotaHeaderStyle::kIetf;
  MockServer mock(model);
  HttpAnswer a = mock.Get("/odds?key=a");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.Header("ratelimit"), "\"default\";r=0;t=60");
  EXPECT_EQ(a.Header("ratelimit-policy"), "\"default\";q=1;w=60");
  HttpAnswer refused = mock.Get("/odds?key=b");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("retry-after"), "60");
}

TEST(MockUpstreamServerTest, RateLimitAnswers429WithRetryAfter) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(1);
  model.rate_limit.enabled = true;
  model.rate_limit.max_calls = 2;
  model.rate_limit.window = Seconds(10);
  model.rate_limit.kind = world::RateLimitWindow::kSliding;
  MockServer mock(model);
  EXPECT_EQ(mock.Get("/odds?key=a").status, 200);
  EXPECT_EQ(mock.Get("/odds?key=b").status, 200);
  HttpAnswer limited = mock.Get("/odds?key=c");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("retry-after"), "10");
  EXPECT_EQ(limited.body, R"({"status":429,"error":"Too Many Requests"})");
  EXPECT_EQ(mock.Stats()["rate_limited"], 1);
}

TEST(MockUpstreamServerTest, OutageWindowOnTheRealClock) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(1);
  model.outages.push_back({kScenarioStart + Seconds(3600), kScenarioStart + Seconds(7200), 503});
  // Process start is a second before the outage begins.
  MockServer mock(model, Seconds(3600) - Seconds(1));
  EXPECT_EQ(mock.Get("/odds?key=a").status, 200);
  std::this_thread::sleep_for(milliseconds(1100));
  HttpAnswer down = mock.Get("/odds?key=a");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body, R"({"status":503,"error":"Service Unavailable"})");
  nlohmann::json stats = mock.Stats();
  EXPECT_EQ(stats["outage_answers"], 1);
  EXPECT_GE(stats["scenario_time"].get<std::string>(), "2023-10-15T11:00:00");
}

TEST(MockUpstreamServerTest, BatchCallsAnswerAnArrayAndRefuseTooManyKeys) {
  world::UpstreamModelConfig model = PlainModel();
  model.name = "weather";
  model.latency.constant = Milliseconds(1);
  model.batch.enabled = true;
  model.batch.max_keys = 3;
  MockServer mock(model);
  HttpAnswer a = mock.Get("/forecast?keys=KC,DET");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"([{"api":"weather","endpoint":"forecast","key":"KC","version":1},)"
                    R"({"api":"weather","endpoint":"forecast","key":"DET","version":1}])");
  EXPECT_EQ(a.Header("x-orchsim-versions"), "1,1");
  EXPECT_EQ(mock.Get("/forecast?keys=a,b,c,d").status, 400);  // the model's batch capacity
  nlohmann::json stats = mock.Stats();
  EXPECT_EQ(stats["calls"], 2);
  EXPECT_EQ(stats["keys_requested"], 6);
  EXPECT_EQ(stats["batch_rejected"], 1);
}

TEST(MockUpstreamServerTest, InjectedErrorsAndTimeouts) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Milliseconds(1);
  model.failures.enabled = true;
  model.failures.rates.status_502 = 1.0;
  {
    MockServer mock(model);
    EXPECT_EQ(mock.Get("/odds?key=a").status, 502);
  }
  model.failures.rates.status_502 = 0.0;
  model.failures.rates.timeout = 1.0;
  model.failures.timeout_latency = Milliseconds(200);
  MockServer mock(model);
  HttpTestClient client;
  ASSERT_TRUE(client.Connect(mock.port()));
  const auto sent = Clock::now();
  ASSERT_TRUE(client.Get("/odds?key=a"));
  // No answer: the connection is closed after the timeout latency.
  EXPECT_TRUE(client.ClosedByPeer(milliseconds(3000)));
  EXPECT_GE(Millis(Clock::now() - sent), 200);
  EXPECT_EQ(mock.Stats()["timeouts"], 1);
}

TEST(MockUpstreamServerTest, RequestsThatAreNotCallsGet4xxAndAreNotCounted) {
  MockServer mock(PlainModel());
  EXPECT_EQ(mock.Get("/odds").status, 400);               // no key
  EXPECT_EQ(mock.Get("/odds?key=a&keys=b").status, 400);  // both
  EXPECT_EQ(mock.Get("/odds?key=a&key=b").status, 400);   // twice
  EXPECT_EQ(mock.Get("/odds?keys=a,,b").status, 400);     // an empty key
  EXPECT_EQ(mock.Get("/odds?key=%zz").status, 400);       // bad escape
  EXPECT_EQ(mock.Get("/?key=a").status, 400);             // no endpoint
  EXPECT_EQ(mock.Get("/_mock/nothing").status, 404);
  EXPECT_EQ(mock.Get("/_mock/healthz").body, "ok\n");
  HttpTestClient client;
  ASSERT_TRUE(client.Connect(mock.port()));
  ASSERT_TRUE(client.Send("POST /odds?key=a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  std::optional<HttpAnswer> post = client.Read();
  ASSERT_TRUE(post.has_value());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("allow"), "GET");
  // A 400 for a bad query keeps a keep-alive connection usable.
  HttpTestClient keep;
  ASSERT_TRUE(keep.Connect(mock.port()));
  ASSERT_TRUE(keep.Get("/odds"));
  EXPECT_EQ(keep.Read()->status, 400);
  ASSERT_TRUE(keep.Get("/odds?key=a"));
  EXPECT_EQ(keep.Read()->status, 200);
  EXPECT_EQ(mock.Stats()["calls"], 1);
}

TEST(MockUpstreamServerTest, HostileClientsAreRefusedAndNothingIsLeft) {
  MockUpstreamServerOptions options;
  options.request_timeout = Milliseconds(300);
  options.max_header_bytes = 1024;
  options.max_body_bytes = 256;
  MockServer mock(PlainModel(), Duration::Zero(), options);
  {  // garbage
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    ASSERT_TRUE(c.Send("HELLO THERE\r\n\r\n"));
    std::optional<HttpAnswer> a = c.Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 400);
    EXPECT_TRUE(c.ClosedByPeer(milliseconds(2000)));
  }
  {  // binary noise
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    ASSERT_TRUE(c.Send(std::string("\x00\x01\x02\xff\r\n\r\n", 8)));
    std::optional<HttpAnswer> a = c.Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 400);
  }
  {  // headers beyond the limit
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    ASSERT_TRUE(c.Get("/odds?key=a", "X-Filler: " + std::string(4096, 'x') + "\r\n"));
    std::optional<HttpAnswer> a = c.Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 431);
    EXPECT_TRUE(c.ClosedByPeer(milliseconds(2000)));
  }
  {  // a body beyond the limit
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    ASSERT_TRUE(c.Send("GET /odds?key=a HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                       std::string(1000, 'x')));
    std::optional<HttpAnswer> a = c.Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 413);
  }
  {  // a slow client: half a request, then nothing
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    ASSERT_TRUE(c.Send("GET /odds?key=a HTTP/1.1\r\nHost: x\r\n"));
    const auto sent = Clock::now();
    EXPECT_TRUE(c.ClosedByPeer(milliseconds(3000)));
    EXPECT_GE(Millis(Clock::now() - sent), 250);
  }
  {  // an idle keep-alive connection
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    EXPECT_TRUE(c.ClosedByPeer(milliseconds(3000)));
  }
  {  // a client that vanishes while its answer is pending
    HttpTestClient c;
    ASSERT_TRUE(c.Connect(mock.port()));
    ASSERT_TRUE(c.Get("/odds?key=a"));
  }
  EXPECT_TRUE(mock.Drained());
  const MockUpstreamServerStats stats = mock.server().stats();
  EXPECT_EQ(stats.bad_requests, 4u);
  EXPECT_EQ(stats.timed_out, 2u);
  // Still serving.
  EXPECT_EQ(mock.Get("/odds?key=b").status, 200);
}

TEST(MockUpstreamServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  MockUpstreamServerOptions options;
  options.max_connections = 2;
  MockServer mock(PlainModel(), Duration::Zero(), options);
  HttpTestClient a, b, c;
  ASSERT_TRUE(a.Connect(mock.port()));
  ASSERT_TRUE(b.Connect(mock.port()));
  // Make sure both are accepted before the third arrives.
  ASSERT_TRUE(a.Get("/odds?key=a"));
  ASSERT_TRUE(a.Read().has_value());
  ASSERT_TRUE(b.Get("/odds?key=b"));
  ASSERT_TRUE(b.Read().has_value());
  ASSERT_TRUE(c.Connect(mock.port()));
  EXPECT_TRUE(c.ClosedByPeer(milliseconds(2000)));
  EXPECT_EQ(mock.server().stats().connections_refused, 1u);
  a.Close();
  b.Close();
  EXPECT_TRUE(mock.Drained());
}

TEST(MockUpstreamServerTest, StopClosesConnectionsWithAnswersPending) {
  world::UpstreamModelConfig model = PlainModel();
  model.latency.constant = Seconds(30);
  auto mock = std::make_unique<MockServer>(model);
  HttpTestClient client;
  ASSERT_TRUE(client.Connect(mock->port()));
  ASSERT_TRUE(client.Get("/odds?key=a"));
  std::this_thread::sleep_for(milliseconds(50));
  const auto stopped = Clock::now();
  mock.reset();  // Stop, and the io thread ends: no 30 s wait
  EXPECT_LT(Millis(Clock::now() - stopped), 2000);
  EXPECT_TRUE(client.ClosedByPeer(milliseconds(1000)));
}

TEST(MockUpstreamServerTest, ListenFailuresNameTheAddress) {
  boost::asio::io_context io;
  RealTimeUpstream::Options o;
  o.model = PlainModel();
  o.scenario_start = kScenarioStart;
  o.start_at = kScenarioStart;
  auto upstream = RealTimeUpstream::Create(o, Clock::now());
  ASSERT_TRUE(upstream.ok());
  MockUpstreamServerOptions bad;
  bad.address = "not-an-address";
  MockUpstreamServer server(io, **upstream, bad);
  const Status s = server.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not-an-address"), std::string::npos);

  MockUpstreamServer first(io, **upstream, {});
  ASSERT_TRUE(first.Start().ok());
  MockUpstreamServerOptions same;
  same.port = first.port();
  MockUpstreamServer second(io, **upstream, same);
  const Status in_use = second.Start();
  EXPECT_FALSE(in_use.ok());
  EXPECT_NE(in_use.message().find(std::to_string(first.port())), std::string::npos);
}

}  // namespace
}  // namespace orchsim::live
