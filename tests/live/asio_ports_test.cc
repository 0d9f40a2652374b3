// The real-time ports: AsioTimers order and cancellation, AsioClock, and
// OsRandomSource's seeding.
#include "live/asio_ports.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace orchsim::live {
namespace {

// Runs the loop until `done` or a second of real time.
template <typename Done>
void RunUntil(boost::asio::io_context& io, Done done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
}

TEST(AsioClockTest, MonotonicAndNearTheWallClock) {
  AsioClock clock;
  Instant previous = clock.now();
  for (int i = 0; i < 1000; ++i) {
    const Instant now = clock.now();
    ASSERT_GE(now, previous);
    previous = now;
  }
  // Shifted to the epoch: within a second of the wall clock at start.
  EXPECT_LT(std::llabs((clock.now() - clock.wall_now()).micros()), 1000000);
}

TEST(AsioTimersTest, RunInInstantOrderAndFifoAtOneInstant) {
  boost::asio::io_context io;
  AsioClock clock;
  AsioTimers timers(io, clock);
  std::vector<std::string> order;
  const Instant base = clock.now() + Milliseconds(20);
  timers.ScheduleAt(base + Milliseconds(10), [&] { order.push_back("late"); });
  timers.ScheduleAt(base, [&] { order.push_back("first"); });
  timers.ScheduleAt(base, [&] { order.push_back("second"); });
  timers.ScheduleAt(base, [&] { order.push_back("third"); });
  timers.ScheduleAt(base - Milliseconds(5), [&] { order.push_back("earliest"); });
  RunUntil(io, [&] { return order.size() == 5; });
  EXPECT_EQ(order, (std::vector<std::string>{"earliest", "first", "second", "third", "late"}));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(AsioTimersTest, NeverFiresEarly) {
  boost::asio::io_context io;
  AsioClock clock;
  AsioTimers timers(io, clock);
  const Instant at = clock.now() + Milliseconds(30);
  Instant fired_at;
  timers.ScheduleAt(at, [&] { fired_at = clock.now(); });
  RunUntil(io, [&] { return fired_at != Instant(); });
  EXPECT_GE(fired_at, at);
}

TEST(AsioTimersTest, CancelledTimersDoNotRun) {
  boost::asio::io_context io;
  AsioClock clock;
  AsioTimers timers(io, clock);
  int ran = 0;
  bool last = false;
  const Timers::TimerId a = timers.ScheduleAt(clock.now() + Milliseconds(5), [&] { ++ran; });
  const Timers::TimerId b = timers.ScheduleAt(clock.now() + Milliseconds(5), [&] { ++ran; });
  timers.ScheduleAt(clock.now() + Milliseconds(20), [&] { last = true; });
  EXPECT_TRUE(timers.Cancel(a));
  EXPECT_FALSE(timers.Cancel(a));  // twice
  RunUntil(io, [&] { return last; });
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(timers.Cancel(b));  // already fired
  EXPECT_FALSE(timers.Cancel(12345));
}

TEST(AsioTimersTest, PastInstantsRunOnTheLoopNeverInsideScheduleAt) {
  boost::asio::io_context io;
  AsioClock clock;
  AsioTimers timers(io, clock);
  bool ran = false;
  timers.ScheduleAt(clock.now() - Seconds(10), [&] { ran = true; });
  EXPECT_FALSE(ran);
  RunUntil(io, [&] { return ran; });
  EXPECT_TRUE(ran);
}

TEST(AsioTimersTest, ACallbackReschedulingItselfNowDoesNotStarveTheLoop) {
  boost::asio::io_context io;
  AsioClock clock;
  AsioTimers timers(io, clock);
  int ticks = 0;
  bool other = false;
  std::function<void()> tick = [&] {
    if (++ticks < 1000000) timers.ScheduleAt(clock.now(), tick);
  };
  timers.ScheduleAt(clock.now(), tick);
  timers.ScheduleAt(clock.now() + Milliseconds(10), [&] { other = true; });
  RunUntil(io, [&] { return other; });
  EXPECT_TRUE(other);
  EXPECT_GT(ticks, 1);
}

TEST(AsioTimersTest, DestroyingTheTimersDropsPendingCallbacks) {
  boost::asio::io_context io;
  AsioClock clock;
  bool ran = false;
  {
    AsioTimers timers(io, clock);
    timers.ScheduleAt(clock.now(), [&] { ran = true; });
  }
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(ran);
}

TEST(OsRandomSourceTest, SeededSourcesRepeatAndStayInRange) {
  OsRandomSource a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const double x = a.Uniform01();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    EXPECT_EQ(x, b.Uniform01());
    differs |= x != c.Uniform01();
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(a.seed(), 42u);
  // Unseeded sources draw their seed from the OS.
  std::set<uint64_t> seeds;
  for (int i = 0; i < 4; ++i) seeds.insert(OsRandomSource().seed());
  EXPECT_GT(seeds.size(), 1u);
}

}  // namespace
}  // namespace orchsim::live
