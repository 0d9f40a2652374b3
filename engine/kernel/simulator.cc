#include "engine/kernel/simulator.h"

#include <stdexcept>
#include <string>

#include "engine/kernel/wheel_event_queue.h"

namespace orchsim::kernel {

Simulator::Simulator(Instant start) : Simulator(start, std::make_unique<WheelEventQueue>()) {}

Simulator::Simulator(Instant start, std::unique_ptr<EventQueue> queue)
    : queue_(std::move(queue)), now_(start) {}

EventId Simulator::ScheduleAt(Instant at, EventCallback callback) {
  if (at < now_) {
    throw std::invalid_argument("Simulator::ScheduleAt: cannot schedule an event at " +
                                FormatInstant(at) + ", which is before the current time " +
                                FormatInstant(now_));
  }
  return queue_->Push(at, std::move(callback));
}

EventId Simulator::ScheduleAfter(Duration delay, EventCallback callback) {
  if (delay < Duration::Zero()) {
    throw std::invalid_argument("Simulator::ScheduleAfter: negative delay " +
                                FormatDuration(delay) + " at " + FormatInstant(now_));
  }
  return queue_->Push(now_ + delay, std::move(callback));
}

bool Simulator::Step() {
  if (queue_->Empty()) return false;
  Instant at;
  EventCallback callback;  // inline storage: no allocation
  queue_->PopNext(&at, &callback);
  now_ = at;
  ++events_run_;
  callback();
  return true;
}

uint64_t Simulator::RunUntil(Instant until) {
  if (until < now_) {
    throw std::invalid_argument("Simulator::RunUntil: " + FormatInstant(until) +
                                " is before the current time " + FormatInstant(now_));
  }
  const uint64_t before = events_run_;
  while (!queue_->Empty() && queue_->NextTime() <= until) Step();
  now_ = until;
  return events_run_ - before;
}

uint64_t Simulator::RunUntilEmpty() {
  const uint64_t before = events_run_;
  while (Step()) {
  }
  return events_run_ - before;
}

}  // namespace orchsim::kernel
