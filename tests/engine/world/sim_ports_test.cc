#include "engine/world/sim_ports.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
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

TEST(SimTimersTest, AStaleIdDoesNotTouchTheTimerThatReusedItsSlot) {
  kernel::Simulator sim(kStart);
  SimTimers timers(sim);
  int fired = 0;
  const Timers::TimerId old_id = timers.ScheduleAt(kStart + Seconds(1), [&] { fired += 100; });
  ASSERT_TRUE(timers.Cancel(old_id));
  const Timers::TimerId new_id = timers.ScheduleAt(kStart + Seconds(2), [&] { ++fired; });
  EXPECT_NE(new_id, old_id);
  EXPECT_FALSE(timers.Cancel(old_id));
  EXPECT_EQ(timers.pending(), 1u);
  sim.RunUntilEmpty();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timers.Cancel(new_id));
  EXPECT_EQ(timers.pending(), 0u);
}

// Random schedules and cancels against a model: every timer fires exactly
// once at its instant unless cancelled while pending, ids are never reused,
// and pending() counts what is left.
TEST(SimTimersTest, RandomScheduleAndCancelMatchesAModel) {
  kernel::Simulator sim(kStart);
  SimTimers timers(sim);
  kernel::Rng rng(kernel::SeedTree(7).Stream("timers"));
  struct Model {
    Timers::TimerId id;
    Instant at;
    bool cancelled = false;
    int fired = 0;
  };
  std::vector<Model> model;
  std::set<Timers::TimerId> ids;
  for (int step = 0; step < 20000; ++step) {
    if (rng.Uniform01() < 0.7 || model.empty()) {
      const size_t index = model.size();
      const Instant at = sim.now() + Microseconds(static_cast<int64_t>(rng.Uniform01() * 5000));
      const Timers::TimerId id = timers.ScheduleAt(at, [&, index] {
        ++model[index].fired;
        EXPECT_EQ(sim.now(), model[index].at);
      });
      EXPECT_TRUE(ids.insert(id).second) << "id reused";
      model.push_back({id, at});
    } else {
      Model& m = model[static_cast<size_t>(rng.Uniform01() * static_cast<double>(model.size()))];
      const bool pending = !m.cancelled && m.fired == 0;
      EXPECT_EQ(timers.Cancel(m.id), pending);
      if (pending) m.cancelled = true;
    }
    if (step % 10 == 0) sim.RunUntil(sim.now() + Microseconds(500));
    if (step % 1000 == 0) {
      size_t expected_pending = 0;
      for (const Model& m : model) expected_pending += !m.cancelled && m.fired == 0;
      EXPECT_EQ(timers.pending(), expected_pending);
    }
  }
  sim.RunUntilEmpty();
  for (const Model& m : model) EXPECT_EQ(m.fired, m.cancelled ? 0 : 1);
  EXPECT_EQ(timers.pending(), 0u);
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
