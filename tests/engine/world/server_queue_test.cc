// ServerQueue (the c servers and waiting room) and an upstream with capacity
// behind MockTransport: exact virtual times, refusals, disciplines, server
// changes, wasted work and goodput.
#include "engine/world/server_queue.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/world/mock_transport.h"

namespace orchsim::world {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'693'526'400'000'000);  // 2023-09-01T00:00Z

int64_t Ms(Instant t) { return (t - kStart).micros() / 1000; }

// A job of fixed service that logs (name, started ms) and (name, finished ms).
struct Log {
  std::vector<std::pair<std::string, int64_t>> started;
  std::vector<std::pair<std::string, int64_t>> finished;
  std::vector<std::pair<std::string, int64_t>> dropped;
};

ServerQueue::Job Job(Log& log, std::string name, Duration service,
                     Instant deadline = Instant::Max()) {
  ServerQueue::Job job;
  job.deadline = deadline;
  job.start = [&log, name, service](Instant now) -> std::optional<Duration> {
    log.started.emplace_back(name, Ms(now));
    return service;
  };
  job.finish = [&log, name](Instant now, Duration) { log.finished.emplace_back(name, Ms(now)); };
  job.drop = [&log, name](Instant now) { log.dropped.emplace_back(name, Ms(now)); };
  return job;
}

using Events = std::vector<std::pair<std::string, int64_t>>;

TEST(ServerQueueTest, FifoWithTwoServersAndALimitedWaitingRoom) {
  kernel::Simulator sim(kStart);
  ServerQueue q(sim, /*servers=*/2, /*queue_limit=*/2, QueueDiscipline::kFifo, false, {});
  Log log;
  EXPECT_TRUE(q.Offer(Job(log, "a", Milliseconds(100))));
  EXPECT_TRUE(q.Offer(Job(log, "b", Milliseconds(300))));
  EXPECT_TRUE(q.Offer(Job(log, "c", Milliseconds(100))));
  EXPECT_TRUE(q.Offer(Job(log, "d", Milliseconds(100))));
  EXPECT_FALSE(q.Offer(Job(log, "e", Milliseconds(100))));  // 2 busy + 2 waiting: full
  EXPECT_EQ(q.refused(), 1u);
  EXPECT_EQ(q.load().busy, 2);
  EXPECT_EQ(q.load().waiting, 2);
  sim.RunUntilEmpty();
  EXPECT_EQ(log.started, (Events{{"a", 0}, {"b", 0}, {"c", 100}, {"d", 200}}));
  EXPECT_EQ(log.finished, (Events{{"a", 100}, {"c", 200}, {"b", 300}, {"d", 300}}));
  const ServerQueue::Integrals i = q.IntegralsAt(sim.now());
  // Busy: a 100 + b 300 + c 100 + d 100 ms; waiting: c 100 ms, d 200 ms.
  EXPECT_EQ(i.busy_us, 600'000.0);
  EXPECT_EQ(i.waiting_us, 300'000.0);
  EXPECT_EQ(i.servers_us, 600'000.0);  // 2 servers x 300 ms
  EXPECT_EQ(i.max_waiting, 2);
}

TEST(ServerQueueTest, LifoServesTheNewestWaitingJobFirst) {
  kernel::Simulator sim(kStart);
  ServerQueue q(sim, 1, 10, QueueDiscipline::kLifo, false, {});
  Log log;
  for (const char* name : {"a", "b", "c", "d"}) q.Offer(Job(log, name, Milliseconds(10)));
  sim.RunUntilEmpty();
  EXPECT_EQ(log.started, (Events{{"a", 0}, {"d", 10}, {"c", 20}, {"b", 30}}));
}

TEST(ServerQueueTest, DropsExpiredWaitingJobsOnlyWhenAsked) {
  for (bool drop : {false, true}) {
    kernel::Simulator sim(kStart);
    ServerQueue q(sim, 1, 10, QueueDiscipline::kFifo, drop, {});
    Log log;
    q.Offer(Job(log, "a", Milliseconds(100)));
    q.Offer(Job(log, "b", Milliseconds(100), kStart + Milliseconds(50)));   // expired at 100
    q.Offer(Job(log, "c", Milliseconds(100), kStart + Milliseconds(100)));  // deadline == start
    q.Offer(Job(log, "d", Milliseconds(100), kStart + Milliseconds(101)));
    sim.RunUntilEmpty();
    if (drop) {
      EXPECT_EQ(log.started, (Events{{"a", 0}, {"d", 100}}));
      EXPECT_EQ(log.dropped, (Events{{"b", 100}, {"c", 100}}));
      EXPECT_EQ(q.dropped(), 2u);
    } else {
      EXPECT_EQ(log.started, (Events{{"a", 0}, {"b", 100}, {"c", 200}, {"d", 300}}));
      EXPECT_TRUE(log.dropped.empty());
    }
  }
}

TEST(ServerQueueTest, ServerChangesLetRunningJobsFinish) {
  kernel::Simulator sim(kStart);
  ServerQueue q(sim, 2, 10, QueueDiscipline::kFifo, false,
                {{kStart + Milliseconds(50), 1}, {kStart + Milliseconds(500), 3}});
  Log log;
  for (const char* name : {"a", "b", "c", "d", "e"}) q.Offer(Job(log, name, Milliseconds(100)));
  sim.RunUntilEmpty();
  // Two until 50 ms, then one: a and b finish at 100, c runs alone until 200,
  // d until 300, e until 400.
  EXPECT_EQ(log.started, (Events{{"a", 0}, {"b", 0}, {"c", 100}, {"d", 200}, {"e", 300}}));
  EXPECT_EQ(q.load().servers, 3);
  // Servers: 2 x 50 ms + 1 x 450 ms (to the last change) = 550 server-ms.
  EXPECT_EQ(q.IntegralsAt(kStart + Milliseconds(500)).servers_us, 550'000.0);
}

TEST(ServerQueueTest, AJobNeedingNoServerLeavesItFree) {
  kernel::Simulator sim(kStart);
  ServerQueue q(sim, 1, 10, QueueDiscipline::kFifo, false, {});
  Log log;
  q.Offer(Job(log, "a", Milliseconds(100)));
  ServerQueue::Job refused;
  refused.start = [&log](Instant now) -> std::optional<Duration> {
    log.started.emplace_back("quota", Ms(now));
    return std::nullopt;
  };
  q.Offer(std::move(refused));
  q.Offer(Job(log, "b", Milliseconds(100)));
  sim.RunUntilEmpty();
  EXPECT_EQ(log.started, (Events{{"a", 0}, {"quota", 100}, {"b", 100}}));
  EXPECT_EQ(log.finished, (Events{{"a", 100}, {"b", 200}}));
}

// ---- an upstream with capacity behind the transport ------------------------

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
    UpstreamCall call{.api = "backend", .endpoint = "e", .keys = {"k" + std::to_string(id)}};
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
