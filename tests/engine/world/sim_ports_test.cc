#include "engine/world/sim_ports.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace orchsim::world {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'700'000'000'000'000);

TEST(SimClockTest, ReadsTheSimulatorsVirtualTime) {
  kernel::Simulator sim(kStart);
  SimClock clock(sim);
  EXPECT_EQ(clock.now(), kStart);
  sim.RunUntil(kStart + Milliseconds(1500));
  EXPECT_EQ(clock.now(), kStart + Milliseconds(1500));
}

TEST(SimTimersTest, FiresAtTheExactInstantWithALargeCapture) {
  kernel::Simulator sim(kStart);
  SimTimers timers(sim);
  const std::string big(200, 'x');  // far more than the kernel's 48-byte inline capture
  std::vector<int64_t> fired_at;
  std::string seen;
  timers.ScheduleAt(kStart + Microseconds(1234), [&, big] {
    fired_at.push_back((sim.now() - kStart).micros());
    seen = big;
  });
  EXPECT_EQ(timers.pending(), 1u);
  sim.RunUntilEmpty();
  EXPECT_EQ(fired_at, (std::vector<int64_t>{1234}));
  EXPECT_EQ(seen, big);
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(SimTimersTest, AnInstantInThePastRunsAtNowNeverSynchronously) {
  kernel::Simulator sim(kStart);
  sim.RunUntil(kStart + Seconds(10));
  SimTimers timers(sim);
  std::vector<std::string> order;
  sim.ScheduleAt(sim.now(), [&] { order.push_back("queued first"); });
  bool ran = false;
  timers.ScheduleAt(kStart, [&] {
    ran = true;
    order.push_back("past timer");
    EXPECT_EQ(sim.now(), kStart + Seconds(10));
  });
  EXPECT_FALSE(ran);
  sim.RunUntilEmpty();
  EXPECT_EQ(order, (std::vector<std::string>{"queued first", "past timer"}));
}

TEST(SimTimersTest, CancelIsTrueOnlyForAPendingTimer) {
  kernel::Simulator sim(kStart);
  SimTimers timers(sim);
  int fired = 0;
  const Timers::TimerId a = timers.ScheduleAt(kStart + Seconds(1), [&] { ++fired; });
  const Timers::TimerId b = timers.ScheduleAt(kStart + Seconds(2), [&] { fired += 10; });
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(timers.Cancel(b));
  EXPECT_FALSE(timers.Cancel(b));
  EXPECT_EQ(sim.pending(), 1u);  // the kernel event is gone too
  sim.RunUntilEmpty();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timers.Cancel(a));  // already fired
  EXPECT_FALSE(timers.Cancel(12345));
  EXPECT_EQ(sim.now(), kStart + Seconds(1));
}

TEST(SimTimersTest, ACallbackMayScheduleAndCancelTimers) {
  kernel::Simulator sim(kStart);
  SimTimers timers(sim);
  std::vector<int64_t> fired;
  Timers::TimerId doomed = timers.ScheduleAt(kStart + Seconds(5), [&] { fired.push_back(-1); });
  timers.ScheduleAt(kStart + Seconds(1), [&] {
    fired.push_back(1);
    EXPECT_TRUE(timers.Cancel(doomed));
    timers.ScheduleAt(sim.now() + Seconds(2), [&] { fired.push_back(3); });
  });
  sim.RunUntilEmpty();
  EXPECT_EQ(fired, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(sim.now(), kStart + Seconds(3));
}

TEST(SimTimersTest, DestroyingTheTimersCancelsTheirEvents) {
  kernel::Simulator sim(kStart);
  int fired = 0;
  {
    SimTimers timers(sim);
    timers.ScheduleAt(kStart + Seconds(1), [&] { ++fired; });
    timers.ScheduleAt(kStart + Seconds(2), [&] { ++fired; });
    EXPECT_EQ(sim.pending(), 2u);
  }
  EXPECT_EQ(sim.pending(), 0u);
  sim.RunUntilEmpty();
  EXPECT_EQ(fired, 0);
}

TEST(RngRandomSourceTest, ReplaysTheNamedKernelStream) {
  const kernel::SeedTree seeds(7);
  RngRandomSource source(seeds, "policy/jitter");
  kernel::Rng expected = seeds.Stream("policy/jitter");
  for (int i = 0; i < 5; ++i) {
    const double u = source.Uniform01();
    EXPECT_EQ(u, expected.Uniform01());
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  RngRandomSource from_rng(kernel::Rng(99));
  kernel::Rng same(99);
  EXPECT_EQ(from_rng.Uniform01(), same.Uniform01());
}

}  // namespace
}  // namespace orchsim::world
