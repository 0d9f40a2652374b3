// HttpTransport against an in-test upstream on loopback: answers, keep-alive
// reuse, the connection limit, the size limit, timeouts, Cancel (one 499,
// the connection closed), resets, garbage, and quota headers reaching the
// core as they came.
#include "live/http_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "live/asio_ports.h"
#include "live/live_core.h"
#include "tests/live/test_http.h"

namespace orchsim::live {
namespace {

using testing::Reply;
using testing::SeenRequest;
using testing::TestUpstream;
using testing::WaitFor;

UpstreamCall Call(const std::string& key = "/data") {
  UpstreamCall call;
  call.api = "up";
  call.endpoint = "data";
  call.keys = {key};
  return call;
}

// A transport on its own loop, with one origin: the in-test upstream.
class TransportFixture {
 public:
  explicit TransportFixture(const TestUpstream& upstream, OriginOptions options = {})
      : transport_(io_, clock_, [this](const UpstreamCall& call) -> StatusOr<HttpTarget> {
          if (call.api == "refuse") return Status::InvalidArgument("no such upstream");
          HttpTarget target;
          target.origin = origin_;
          target.target = call.keys.front();
          target.headers = {{"X-Api-Key", "secret"}};
          target.credits_if_unreported = 1.5;
          return target;
        }) {
    StatusOr<BaseUrl> url = ParseBaseUrl(upstream.base_url());
    origin_ = *transport_.AddOrigin(*url, options);
  }

  // Sends and runs the loop until the answer came (or 5 s).
  Response SendAndWait(const UpstreamCall& call) {
    std::optional<Response> answer;
    transport_.Send(call, [&](const Response& r) { answer = r; });
    RunUntil([&] { return answer.has_value(); });
    return answer.value_or(Response{});
  }

  template <typename Done>
  void RunUntil(Done done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io_.run_for(std::chrono::milliseconds(5));
      io_.restart();
    }
  }

  boost::asio::io_context io_;
  AsioClock clock_;
  int origin_ = 0;
  HttpTransport transport_;
};

TEST(HttpTransportTest, PassesStatusEveryHeaderAndTheBody) {
  TestUpstream upstream([](const SeenRequest& r) {
    Reply reply;
    reply.status = 203;
    reply.content_type = "application/vnd.test+json";
    reply.body = "{\"path\":\"" + r.target + "\"}";
    reply.headers = {{"X-Requests-Remaining", "480"}, {"X-Requests-Last", "2.5"}, {"ETag", "v1"}};
    return reply;
  });
  TransportFixture f(upstream);
  const Response r = f.SendAndWait(Call("/v4/odds?regions=us"));
  EXPECT_EQ(r.status, 203);
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0]->bytes, "{\"path\":\"/v4/odds?regions=us\"}");
  EXPECT_EQ(r.bodies[0]->content_type, "application/vnd.test+json");
  ASSERT_NE(r.headers.Find("x-requests-remaining"), nullptr);
  EXPECT_EQ(*r.headers.Find("x-requests-remaining"), "480");
  EXPECT_EQ(*r.headers.Find("etag"), "v1");
  EXPECT_DOUBLE_EQ(r.credits_charged, 2.5);  // x-requests-last
  EXPECT_GT(r.latency, Duration::Zero());
  const SeenRequest seen = upstream.seen().at(0);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.headers.at("x-api-key"), "secret");
  EXPECT_EQ(seen.headers.at("host"), "127.0.0.1:" + std::to_string(upstream.port()));
}

TEST(HttpTransportTest, CreditsDefaultToTheTargetsWithoutAHeader) {
  TestUpstream upstream([](const SeenRequest&) { return Reply{}; });
  TransportFixture f(upstream);
  EXPECT_DOUBLE_EQ(f.SendAndWait(Call()).credits_charged, 1.5);
}

TEST(HttpTransportTest, KeepAliveReusesOneConnection) {
  TestUpstream upstream([](const SeenRequest&) { return Reply{}; });
  TransportFixture f(upstream);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.SendAndWait(Call()).status, 200);
  EXPECT_EQ(upstream.connections(), 1);
  EXPECT_EQ(upstream.requests(), 5);
  EXPECT_EQ(f.transport_.stats().exchanges_on_reused_connections, 4u);
  EXPECT_EQ(f.transport_.idle_connections(f.origin_), 1u);
}

TEST(HttpTransportTest, ConnectionCloseAnswersAreNotReused) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.close = true;
    return reply;
  });
  TransportFixture f(upstream);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f.SendAndWait(Call()).status, 200);
  EXPECT_EQ(upstream.connections(), 3);
  EXPECT_EQ(f.transport_.open_connections(f.origin_), 0u);
}

TEST(HttpTransportTest, AtMostMaxConnectionsPerOriginOthersWait) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.delay = std::chrono::milliseconds(50);
    return reply;
  });
  OriginOptions options;
  options.max_connections = 2;
  TransportFixture f(upstream, options);
  int answered = 0;
  size_t max_open = 0;
  for (int i = 0; i < 6; ++i) {
    f.transport_.Send(Call(), [&](const Response& r) {
      EXPECT_EQ(r.status, 200);
      ++answered;
    });
  }
  f.RunUntil([&] {
    max_open = std::max(max_open, f.transport_.open_connections(f.origin_));
    return answered == 6;
  });
  EXPECT_EQ(answered, 6);
  EXPECT_LE(upstream.connections(), 2);
  EXPECT_LE(max_open, 2u);
}

TEST(HttpTransportTest, ABodyOverTheLimitIsATransportError) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.body = std::string(5000, 'x');
    return reply;
  });
  OriginOptions options;
  options.limits.max_response_bytes = 4096;
  TransportFixture f(upstream, options);
  const Response r = f.SendAndWait(Call());
  EXPECT_EQ(r.status, kStatusTransportError);
  ASSERT_NE(r.headers.Find("x-orchsim-transport-error"), nullptr);
  EXPECT_EQ(*r.headers.Find("x-orchsim-transport-error"), "response body larger than 4096 bytes");
  EXPECT_EQ(f.transport_.open_connections(f.origin_), 0u);  // closed, not pooled
}

TEST(HttpTransportTest, AnUpstreamThatNeverAnswersTimesOut) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.never = true;
    return reply;
  });
  OriginOptions options;
  options.limits.read_timeout = Milliseconds(150);
  TransportFixture f(upstream, options);
  const auto start = std::chrono::steady_clock::now();
  const Response r = f.SendAndWait(Call());
  EXPECT_EQ(r.status, kStatusTransportError);
  EXPECT_EQ(*r.headers.Find("x-orchsim-transport-error"), "read: timed out after 150ms");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  EXPECT_TRUE(WaitFor([&] { return upstream.client_closes() == 1; }));
}

TEST(HttpTransportTest, CancelClosesTheConnectionAndConfirmsOnceWith499) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.never = true;
    return reply;
  });
  TransportFixture f(upstream);
  std::vector<Response> answers;
  bool inside_cancel = false;
  const Transport::CallHandle handle = f.transport_.Send(Call(), [&](const Response& r) {
    EXPECT_FALSE(inside_cancel);
    answers.push_back(r);
  });
  f.RunUntil([&] { return upstream.requests() == 1; });
  f.RunUntil([] { return false; }, std::chrono::milliseconds(20));  // the request is out
  inside_cancel = true;
  f.transport_.Cancel(handle);
  f.transport_.Cancel(handle);  // twice: nothing more
  inside_cancel = false;
  EXPECT_TRUE(answers.empty());  // never inside Cancel
  f.RunUntil([&] { return !answers.empty(); });
  f.RunUntil([] { return false; }, std::chrono::milliseconds(50));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, kStatusCancelled);
  EXPECT_EQ(f.transport_.calls_pending(), 0u);
  EXPECT_EQ(f.transport_.open_connections(f.origin_), 0u);
  EXPECT_TRUE(WaitFor([&] { return upstream.client_closes() == 1; }));
}

TEST(HttpTransportTest, CancelOfAWaitingCallConfirmsWithoutAConnection) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.delay = std::chrono::milliseconds(100);
    return reply;
  });
  OriginOptions options;
  options.max_connections = 1;
  TransportFixture f(upstream, options);
  std::vector<int> statuses;
  f.transport_.Send(Call(), [&](const Response& r) { statuses.push_back(r.status); });
  const auto waiting =
      f.transport_.Send(Call(), [&](const Response& r) { statuses.push_back(r.status); });
  f.transport_.Cancel(waiting);
  f.RunUntil([&] { return statuses.size() == 2; });
  EXPECT_EQ(statuses, (std::vector<int>{kStatusCancelled, 200}));
  EXPECT_EQ(upstream.requests(), 1);
}

TEST(HttpTransportTest, AResetConnectionIsATransportError) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.reset = true;
    return reply;
  });
  TransportFixture f(upstream);
  const Response r = f.SendAndWait(Call());
  EXPECT_EQ(r.status, kStatusTransportError);
  EXPECT_NE(r.headers.Find("x-orchsim-transport-error")->find("read: "), std::string::npos);
}

TEST(HttpTransportTest, AnIdleConnectionTheServerClosedIsReplacedOnce) {
  int n = 0;
  TestUpstream upstream([&n](const SeenRequest&) {
    Reply reply;
    // The second request's connection is reset before an answer, as a
    // server closing an idle keep-alive connection looks to a client.
    reply.reset = ++n == 2;
    return reply;
  });
  TransportFixture f(upstream);
  EXPECT_EQ(f.SendAndWait(Call()).status, 200);
  EXPECT_EQ(f.SendAndWait(Call()).status, 200);
  EXPECT_EQ(f.transport_.stats().stale_connection_retries, 1u);
  EXPECT_EQ(upstream.connections(), 2);
}

TEST(HttpTransportTest, GarbageInsteadOfHttpIsATransportError) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.raw = "this is not HTTP\r\n\r\n";
    return reply;
  });
  TransportFixture f(upstream);
  EXPECT_EQ(f.SendAndWait(Call()).status, kStatusTransportError);
}

TEST(HttpTransportTest, NothingListeningIsATransportError) {
  uint16_t port;
  {
    TestUpstream gone([](const SeenRequest&) { return Reply{}; });
    port = gone.port();
  }
  boost::asio::io_context io;
  AsioClock clock;
  HttpTransport transport(io, clock, [](const UpstreamCall&) -> StatusOr<HttpTarget> {
    HttpTarget t;
    t.origin = 0;
    t.target = "/";
    return t;
  });
  transport.AddOrigin(*ParseBaseUrl("http://127.0.0.1:" + std::to_string(port)), {});
  std::optional<Response> answer;
  transport.Send(Call(), [&](const Response& r) { answer = r; });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!answer && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, kStatusTransportError);
  EXPECT_NE(answer->headers.Find("x-orchsim-transport-error")->find("connect: "),
            std::string::npos);
}

TEST(HttpTransportTest, AResolverRefusalIsAnsweredOnTheLoop) {
  TestUpstream upstream([](const SeenRequest&) { return Reply{}; });
  TransportFixture f(upstream);
  UpstreamCall call = Call();
  call.api = "refuse";
  std::optional<Response> answer;
  f.transport_.Send(call, [&](const Response& r) { answer = r; });
  EXPECT_FALSE(answer);  // never inside Send
  f.RunUntil([&] { return answer.has_value(); });
  EXPECT_EQ(answer->status, kStatusTransportError);
  EXPECT_EQ(*answer->headers.Find("x-orchsim-transport-error"), "no such upstream");
  EXPECT_EQ(upstream.requests(), 0);
}

TEST(HttpTransportTest, StopDropsPendingCallbacksAndClosesConnections) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.never = true;
    return reply;
  });
  TransportFixture f(upstream);
  bool called = false;
  f.transport_.Send(Call(), [&](const Response&) { called = true; });
  f.RunUntil([&] { return upstream.requests() == 1; });
  f.transport_.Stop();
  f.RunUntil([] { return false; }, std::chrono::milliseconds(50));
  EXPECT_FALSE(called);
  EXPECT_TRUE(WaitFor([&] { return upstream.client_closes() == 1; }));
}

TEST(HttpTransportTest, HttpsToAPlainServerFailsTheHandshake) {
  TestUpstream upstream([](const SeenRequest&) { return Reply{}; });
  boost::asio::io_context io;
  AsioClock clock;
  HttpTransport transport(io, clock, [](const UpstreamCall&) -> StatusOr<HttpTarget> {
    HttpTarget t;
    t.origin = 0;
    t.target = "/";
    return t;
  });
  OriginOptions options;
  options.limits.connect_timeout = Seconds(2);
  ASSERT_TRUE(
      transport
          .AddOrigin(*ParseBaseUrl("https://127.0.0.1:" + std::to_string(upstream.port())), options)
          .ok());
  std::optional<Response> answer;
  transport.Send(Call(), [&](const Response& r) { answer = r; });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!answer && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, kStatusTransportError);
  EXPECT_NE(answer->headers.Find("x-orchsim-transport-error")->find("tls handshake"),
            std::string::npos);
}

TEST(HttpTransportTest, AMissingCaFileIsAnError) {
  boost::asio::io_context io;
  AsioClock clock;
  HttpTransport transport(io, clock, nullptr);
  OriginOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  const StatusOr<int> origin = transport.AddOrigin(*ParseBaseUrl("https://example.com"), options);
  ASSERT_FALSE(origin.ok());
  EXPECT_NE(origin.status().message().find("cannot load CA file /nonexistent/ca.pem"),
            std::string::npos);
}

// Garbage and contradictory quota headers pass the transport untouched and
// reach the core's quota tracker, which counts them as bad values (and
// neither crashes nor believes them).
TEST(HttpTransportTest, GarbageAndContradictoryQuotaHeadersReachTheCore) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.headers = {{"x-requests-remaining", "10"},
                     {"x-requests-remaining", "5"},  // contradictory: joined "10, 5"
                     {"x-requests-used", "lots"},
                     {"x-ratelimit-reset", "99999999999999999999"},
                     {"Retry-After", "soon"}};
    return reply;
  });
  boost::asio::io_context io;
  OrchestratorConfig config;
  config.defaults.quota.enabled = true;
  LiveCoreOptions options;
  options.seed = 1;
  int origin = -1;
  StatusOr<std::unique_ptr<LiveCore>> core = LiveCore::Create(
      io, config,
      [&](boost::asio::io_context& loop,
          const Clock& clock) -> StatusOr<std::unique_ptr<HttpTransport>> {
        auto transport = std::make_unique<HttpTransport>(
            loop, clock, [&origin](const UpstreamCall& call) -> StatusOr<HttpTarget> {
              HttpTarget t;
              t.origin = origin;
              t.target = call.keys.front();
              return t;
            });
        origin = *transport->AddOrigin(*ParseBaseUrl(upstream.base_url()), {});
        return transport;
      },
      options);
  ASSERT_TRUE(core.ok()) << core.status().message();
  Request request;
  request.id = 1;
  request.api = "up";
  request.endpoint = "data";
  request.key = "/data";
  std::optional<Result> result;
  (*core)->orchestrator().Submit(request, [&](const Result& r) { result = r; });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!result && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, Outcome::kServed);
  const QuotaTracker* quota = (*core)->orchestrator().quota("up");
  ASSERT_NE(quota, nullptr);
  EXPECT_GE(quota->bad_header_values(), 2);
  EXPECT_FALSE(quota->SnapshotAt((*core)->clock().now()).remaining.has_value());
  EXPECT_EQ(upstream.seen().at(0).target, "/data");
}

}  // namespace
}  // namespace orchsim::live
