#include "engine/kernel/simulator.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/kernel/reference_event_queue.h"

namespace orchsim::kernel {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'000'000);

TEST(SimulatorTest, TimeAdvancesToEachEvent) {
  Simulator sim(kStart);
  std::vector<int64_t> seen;
  sim.ScheduleAfter(Seconds(2), [&] { seen.push_back((sim.now() - kStart).micros()); });
  sim.ScheduleAfter(Milliseconds(1), [&] { seen.push_back((sim.now() - kStart).micros()); });
  EXPECT_EQ(sim.RunUntilEmpty(), 2u);
  EXPECT_EQ(seen, (std::vector<int64_t>{1000, 2000000}));
  EXPECT_EQ(sim.now(), kStart + Seconds(2));
}

TEST(SimulatorTest, EventsScheduledForNowRunAfterEarlierOnesFifo) {
  Simulator sim(kStart);
  std::vector<int> order;
  sim.ScheduleAfter(Seconds(1), [&] {
    order.push_back(1);
    sim.ScheduleAfter(Duration::Zero(), [&] { order.push_back(3); });
  });
  sim.ScheduleAfter(Seconds(1), [&] { order.push_back(2); });
  sim.RunUntilEmpty();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(SimulatorTest, RunUntilRunsEventsAtTheBoundAndStopsThere) {
  Simulator sim(kStart);
  int ran = 0;
  sim.ScheduleAt(kStart + Seconds(10), [&] { ++ran; });
  sim.ScheduleAt(kStart + Seconds(10) + Microseconds(1), [&] { ++ran; });
  EXPECT_EQ(sim.RunUntil(kStart + Seconds(5)), 0u);
  EXPECT_EQ(sim.now(), kStart + Seconds(5));
  EXPECT_EQ(sim.RunUntil(kStart + Seconds(10)), 1u);
  EXPECT_EQ(sim.now(), kStart + Seconds(10));
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(sim.pending(), 1u);
  EXPECT_TRUE(sim.Step());
  EXPECT_EQ(sim.now(), kStart + Seconds(10) + Microseconds(1));
  EXPECT_FALSE(sim.Step());
}

TEST(SimulatorTest, SchedulingInThePastThrowsWithBothInstants) {
  Simulator sim(kStart);
  sim.RunUntil(kStart + Seconds(60));
  try {
    sim.ScheduleAt(kStart, [] {});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("1970-01-01T00:00:01Z"), std::string::npos) << message;
    EXPECT_NE(message.find("1970-01-01T00:01:01Z"), std::string::npos) << message;
  }
  EXPECT_THROW(sim.ScheduleAfter(Seconds(-1), [] {}), std::invalid_argument);
  EXPECT_THROW(sim.RunUntil(kStart), std::invalid_argument);
}

TEST(SimulatorTest, CancelledEventNeverRuns) {
  Simulator sim(kStart);
  bool ran = false;
  EventId id = sim.ScheduleAfter(Seconds(1), [&] { ran = true; });
  sim.ScheduleAfter(Milliseconds(500), [&] { EXPECT_TRUE(sim.Cancel(id)); });
  sim.RunUntilEmpty();
  EXPECT_FALSE(ran);
  EXPECT_EQ(sim.events_run(), 1u);
}

TEST(SimulatorTest, WorksOverAnotherQueueImplementation) {
  Simulator sim(kStart, std::make_unique<ReferenceEventQueue>());
  std::vector<int> order;
  for (int i = 0; i < 5; ++i)
    sim.ScheduleAfter(Seconds(5 - i), [&order, i] { order.push_back(i); });
  sim.RunUntilEmpty();
  EXPECT_EQ(order, (std::vector<int>{4, 3, 2, 1, 0}));
}

}  // namespace
}  // namespace orchsim::kernel
