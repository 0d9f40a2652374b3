// simulator.h — the discrete-event loop: a virtual clock over an EventQueue.
//
// The simulator never moves by itself: time advances only to the instant of
// the event it runs next, and RunUntil(t) leaves now() == t. There is no
// global simulator; each run owns one, so a sweep can run many side by side.
//
// Contract:
//   - ScheduleAt(t) with t < now() throws std::invalid_argument naming both
//     instants: an event in the past is a bug in the caller, never silently
//     moved.
//   - Events at the same instant run in the order they were scheduled.
//   - A callback may schedule and cancel events, including at now().
//   - Not thread-safe.
//
// Example:
//   Simulator sim(Instant::Epoch());
//   sim.ScheduleAfter(Seconds(5), [&] { ... });
//   sim.RunUntilEmpty();
#ifndef ORCHSIM_ENGINE_KERNEL_SIMULATOR_H_
#define ORCHSIM_ENGINE_KERNEL_SIMULATOR_H_

#include <cstdint>
#include <memory>

#include "engine/kernel/event_queue.h"

namespace orchsim::kernel {

class Simulator {
 public:
  // Uses a WheelEventQueue.
  explicit Simulator(Instant start);
  // Uses the given queue (for tests of other implementations).
  Simulator(Instant start, std::unique_ptr<EventQueue> queue);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Instant now() const { return now_; }

  // Schedules `callback` to run at `at`. REQUIRES: at >= now() (throws).
  EventId ScheduleAt(Instant at, EventCallback callback);
  // Schedules after `delay` from now(). REQUIRES: delay >= 0 (throws).
  EventId ScheduleAfter(Duration delay, EventCallback callback);
  // Cancels a pending event; false if it already ran or was cancelled.
  bool Cancel(EventId id) { return queue_->Cancel(id); }

  // Runs the earliest event, if any. Returns false when nothing was pending.
  bool Step();
  // Runs every event with time <= until, then sets now() to `until`.
  // REQUIRES: until >= now() (throws). Returns the number of events run.
  uint64_t RunUntil(Instant until);
  // Runs until no event is pending. Returns the number of events run.
  uint64_t RunUntilEmpty();

  size_t pending() const { return queue_->Size(); }
  uint64_t events_run() const { return events_run_; }

 private:
  std::unique_ptr<EventQueue> queue_;
  Instant now_;
  uint64_t events_run_ = 0;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_SIMULATOR_H_
