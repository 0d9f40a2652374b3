// ThreadedCore: the core on its own thread, submitted to from many threads;
// every request ends exactly once, also across Shutdown.
#include "live/live_core.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "tests/live/test_http.h"

namespace orchsim::live {
namespace {

using testing::Reply;
using testing::SeenRequest;
using testing::TestUpstream;
using testing::WaitFor;

LiveCore::TransportFactory FactoryFor(const TestUpstream& upstream) {
  const std::string base = upstream.base_url();
  return [base](boost::asio::io_context& io,
                const Clock& clock) -> StatusOr<std::unique_ptr<HttpTransport>> {
    auto transport = std::make_unique<HttpTransport>(
        io, clock, [](const UpstreamCall& call) -> StatusOr<HttpTarget> {
          HttpTarget target;
          target.origin = 0;
          target.target = "/" + call.keys.front();
          return target;
        });
    StatusOr<int> origin = transport->AddOrigin(*ParseBaseUrl(base), {});
    if (!origin.ok()) return origin.status();
    return transport;
  };
}

Request MakeRequest(const std::string& key) {
  Request request;
  request.api = "up";
  request.endpoint = "data";
  request.key = key;
  return request;
}

TEST(ThreadedCoreTest, SubmitsFromManyThreadsEndOnceEach) {
  TestUpstream upstream([](const SeenRequest& r) {
    Reply reply;
    reply.body = r.target;
    return reply;
  });
  OrchestratorConfig config;  // cache and coalescing on (the defaults), no rate limits
  config.defaults.bucket.enabled = false;
  config.defaults.concurrency.enabled = false;
  StatusOr<std::unique_ptr<ThreadedCore>> core =
      ThreadedCore::Create(config, FactoryFor(upstream), LiveCoreOptions{});
  ASSERT_TRUE(core.ok()) << core.status().message();
  constexpr int kThreads = 4, kPerThread = 50;
  std::mutex mutex;
  std::multiset<std::string> bodies;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "k";  // (GCC 12 misreads "k" + std::to_string(...) as an overflow)
        key += std::to_string((t * kPerThread + i) % 20);
        (*core)->Submit(MakeRequest(key), [&, key](const Result& result) {
          EXPECT_TRUE(result.outcome == Outcome::kServed || result.outcome == Outcome::kCacheHit ||
                      result.outcome == Outcome::kCoalesced)
              << OutcomeName(result.outcome);
          std::lock_guard lock(mutex);
          bodies.insert(result.body ? result.body->bytes : "");
          ++done;
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(WaitFor([&] { return done == kThreads * kPerThread; }));
  (*core)->Shutdown(Seconds(1));
  EXPECT_EQ(done, kThreads * kPerThread);
  EXPECT_EQ(bodies.count("/k0"), static_cast<size_t>(kThreads * kPerThread / 20));
  EXPECT_LE(upstream.requests(), 20);  // one call per key, the rest cached or coalesced
}

TEST(ThreadedCoreTest, ShutdownEndsPendingRequestsAndLaterOnesAtOnce) {
  TestUpstream upstream([](const SeenRequest&) {
    Reply reply;
    reply.never = true;
    return reply;
  });
  OrchestratorConfig config;
  StatusOr<std::unique_ptr<ThreadedCore>> core =
      ThreadedCore::Create(config, FactoryFor(upstream), LiveCoreOptions{});
  ASSERT_TRUE(core.ok());
  std::atomic<int> cancelled{0}, other{0};
  for (int i = 0; i < 3; ++i) {
    (*core)->Submit(MakeRequest("slow" + std::to_string(i)), [&](const Result& result) {
      (result.outcome == Outcome::kCancelled ? cancelled : other)++;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return upstream.requests() == 3; }));
  (*core)->Shutdown(Milliseconds(50));
  EXPECT_EQ(cancelled, 3);
  EXPECT_EQ(other, 0);
  bool called = false;
  (*core)->Submit(MakeRequest("late"), [&](const Result& result) {
    EXPECT_EQ(result.outcome, Outcome::kCancelled);
    called = true;
  });
  EXPECT_TRUE(called);
  EXPECT_TRUE(WaitFor([&] { return upstream.client_closes() == 3; }));
}

}  // namespace
}  // namespace orchsim::live
