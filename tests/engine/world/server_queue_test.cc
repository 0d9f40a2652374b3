// ServerQueue (the c servers and waiting room): exact virtual times,
// refusals, disciplines, drops of expired jobs, server changes.
#include "engine/world/server_queue.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

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

}  // namespace
}  // namespace orchsim::world
