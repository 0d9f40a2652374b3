// An upstream with capacity (CapacityConfig) behind MockTransport: latency
// is wait + service, a full queue refuses fast (503, or 429 with
// Retry-After), work goes on after the client gave up and counts as wasted,
// expired calls can be dropped, listeners see the load; without capacity
// nothing changes. Exact virtual times.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/world/mock_transport.h"
#include "engine/world/mock_upstream.h"

namespace orchsim::world {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'693'526'400'000'000);  // 2023-09-01T00:00Z

int64_t Ms(Instant t) { return (t - kStart).micros() / 1000; }

UpstreamModelConfig Backend(int64_t servers, int64_t queue_limit) {
  UpstreamModelConfig c;
  c.name = "backend";
  c.latency.constant = Milliseconds(5);  // gateway answers only
  c.data.enabled = false;
  c.capacity.enabled = true;
  c.capacity.servers = servers;
  c.capacity.queue_limit = queue_limit;
  c.capacity.service.kind = LatencyKind::kConstant;
  c.capacity.service.constant = Milliseconds(100);
  return c;
}

struct Answer {
  int id;
  int64_t at_ms;
  int status;
  int64_t latency_ms;
  friend bool operator==(const Answer&, const Answer&) = default;
};

class CapacityTransportTest : public ::testing::Test {
 protected:
  CapacityTransportTest() : sim_(kStart), seeds_(3), transport_(sim_) {}
  Transport::CallHandle Send(int id, Instant deadline = Instant::Max()) {
    // Appended piecewise: GCC 12 warns (-Wstringop-overflow) on "k" + to_string here.
    std::string key = "k";
    key += std::to_string(id);
    UpstreamCall call{.api = "backend", .endpoint = "e", .keys = {key}};
    call.deadline = deadline;
    Transport& port = transport_;
    return port.Send(call, [this, id](const Response& r) {
      answers_.push_back({id, Ms(sim_.now()), r.status, r.latency.micros() / 1000});
    });
  }
  kernel::Simulator sim_;
  kernel::SeedTree seeds_;
  MockTransport transport_;
  std::vector<Answer> answers_;
};

TEST_F(CapacityTransportTest, LatencyIsWaitPlusServiceAndAFullQueueRefusesFast) {
  transport_.AddUpstream(Backend(1, 1), seeds_);
  Send(1);
  Send(2);
  Send(3);  // one busy, one waiting: refused after full_latency (1 ms)
  EXPECT_TRUE(answers_.empty());
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_,
            (std::vector<Answer>{{3, 1, 503, 1}, {1, 100, 200, 100}, {2, 200, 200, 200}}));
  const UpstreamCounters& c = transport_.Find("backend")->counters();
  EXPECT_EQ(c.calls, 3u);
  EXPECT_EQ(c.capacity_refused, 1u);
  EXPECT_EQ(c.served, 2u);
  EXPECT_EQ(c.goodput, 2u);
  EXPECT_EQ(c.wasted, 0u);
  EXPECT_EQ(c.busy_time, Milliseconds(200));
}

TEST_F(CapacityTransportTest, WorkGoesOnAfterTheClientGaveUpAndIsWasted) {
  transport_.AddUpstream(Backend(1, 10), seeds_);
  Send(1);
  const Transport::CallHandle second = Send(2);
  Send(3, kStart + Milliseconds(250));  // served 200..300: after its deadline
  sim_.RunUntil(kStart + Milliseconds(50));
  transport_.Cancel(second);  // the client gives up; the server does not know
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_, (std::vector<Answer>{
                          {2, 50, kStatusCancelled, 50}, {1, 100, 200, 100}, {3, 300, 200, 300}}));
  const UpstreamCounters& c = transport_.Find("backend")->counters();
  EXPECT_EQ(c.served, 3u);
  EXPECT_EQ(c.wasted, 2u);  // the cancelled call and the late one
  EXPECT_EQ(c.wasted_time, Milliseconds(200));
  EXPECT_EQ(c.goodput, 1u);
  EXPECT_EQ(transport_.in_flight(), 0u);
}

TEST_F(CapacityTransportTest, DropExpiredAnswers503WithoutWork) {
  UpstreamModelConfig config = Backend(1, 10);
  config.capacity.drop_expired = true;
  transport_.AddUpstream(config, seeds_);
  Send(1);
  Send(2, kStart + Milliseconds(80));
  Send(3);
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_,
            (std::vector<Answer>{{1, 100, 200, 100}, {2, 100, 503, 100}, {3, 200, 200, 200}}));
  const UpstreamCounters& c = transport_.Find("backend")->counters();
  EXPECT_EQ(c.expired_dropped, 1u);
  EXPECT_EQ(c.busy_time, Milliseconds(200));
}

TEST_F(CapacityTransportTest, FullAnswers429WithRetryAfterWhenConfigured) {
  UpstreamModelConfig config = Backend(1, 0);
  config.capacity.full_status = 429;
  config.capacity.full_latency = Duration::Zero();
  config.capacity.full_retry_after = Milliseconds(1500);
  transport_.AddUpstream(config, seeds_);
  std::string retry_after;
  Send(1);
  Transport& port = transport_;
  port.Send(UpstreamCall{.api = "backend", .endpoint = "e", .keys = {"x"}}, [&](const Response& r) {
    EXPECT_EQ(r.status, 429);
    if (const std::string* h = r.headers.Find("Retry-After")) retry_after = *h;
  });
  sim_.RunUntilEmpty();
  EXPECT_EQ(retry_after, "2");  // whole seconds, rounded up
}

// A listener sees every load change and every service end.
class Recorder : public CapacityListener {
 public:
  void OnLoad(const std::string&, Instant at, const ServerQueue::Load& load) override {
    loads.push_back({Ms(at), load.waiting, load.busy});
  }
  void OnServed(const std::string&, Instant at, Duration service, bool wasted,
                bool goodput) override {
    served.push_back({Ms(at), service.micros() / 1000, wasted, goodput});
  }
  void OnRefused(const std::string&, Instant at) override { refused.push_back(Ms(at)); }
  struct LoadAt {
    int64_t at_ms, waiting, busy;
    friend bool operator==(const LoadAt&, const LoadAt&) = default;
  };
  struct Served {
    int64_t at_ms, service_ms;
    bool wasted, goodput;
    friend bool operator==(const Served&, const Served&) = default;
  };
  std::vector<LoadAt> loads;
  std::vector<Served> served;
  std::vector<int64_t> refused;
};

TEST_F(CapacityTransportTest, ListenerSeesLoadServiceAndRefusals) {
  MockUpstream& upstream = transport_.AddUpstream(Backend(1, 1), seeds_);
  Recorder recorder;
  upstream.SetCapacityListener(&recorder);
  Send(1);
  Send(2, kStart + Milliseconds(150));
  Send(3);
  sim_.RunUntilEmpty();
  EXPECT_EQ(recorder.loads,
            (std::vector<Recorder::LoadAt>{{0, 0, 1}, {0, 1, 1}, {100, 0, 1}, {200, 0, 0}}));
  EXPECT_EQ(recorder.served,
            (std::vector<Recorder::Served>{{100, 100, false, true}, {200, 100, true, false}}));
  EXPECT_EQ(recorder.refused, (std::vector<int64_t>{0}));
}

TEST_F(CapacityTransportTest, WithoutCapacityNothingChanges) {
  UpstreamModelConfig config = Backend(1, 1);
  config.capacity.enabled = false;
  transport_.AddUpstream(config, seeds_);
  for (int id = 1; id <= 3; ++id) Send(id);
  sim_.RunUntilEmpty();
  EXPECT_EQ(answers_, (std::vector<Answer>{{1, 5, 200, 5}, {2, 5, 200, 5}, {3, 5, 200, 5}}));
  EXPECT_EQ(transport_.Find("backend")->servers(), nullptr);
}

}  // namespace
}  // namespace orchsim::world
