// asio_ports.h — the core's Clock, Timers and RandomSource ports in real
// time, on a Boost.Asio event loop (the live counterparts of
// engine/world/sim_ports.h).
//
// AsioClock: monotonic time from std::chrono::steady_clock, shifted once at
// construction so that its readings sit near the Unix epoch time of that
// moment (the simulator's origin is the epoch too; values stay recognisable
// in logs and never collide with the Instant() "never" sentinels the core
// uses). It never steps: an operator or NTP changing the system clock moves
// wall_now() only. wall_now() is std::chrono::system_clock in UTC
// microseconds.
//
// AsioTimers: one steady_timer armed for the earliest pending timer, over an
// ordered table keyed by (instant, id). Timers due at the same instant run
// in the order they were scheduled (ids increase), like the simulator's.
// A callback never runs inside ScheduleAt or Cancel; a timer scheduled while
// due timers are being run waits for the next turn of the loop, so a
// callback that reschedules itself "now" cannot starve the loop.
//
// OsRandomSource: xoshiro256** seeded by SplitMix64 from a seed; the seed is
// drawn from std::random_device unless one is given (tests, reproducible
// runs).
//
// Thread rules: AsioTimers and the callbacks it runs belong to the thread
// running its io_context (one thread per orchestrator); AsioClock may be
// read from any thread; OsRandomSource is not thread-safe.
// Lifetime: destroying an AsioTimers drops its pending callbacks (none runs
// afterwards); the io_context must outlive it.
#ifndef ORCHSIM_LIVE_ASIO_PORTS_H_
#define ORCHSIM_LIVE_ASIO_PORTS_H_

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "policies/ports.h"

namespace orchsim::live {

class AsioClock : public Clock {
 public:
  AsioClock();
  Instant now() const override;
  Instant wall_now() const override;
  // The steady_clock time point of a monotonic instant of this clock.
  std::chrono::steady_clock::time_point ToSteady(Instant at) const;

 private:
  int64_t offset_us_;  // added to steady_clock readings
};

class AsioTimers : public Timers {
 public:
  // REQUIRES: `io` and `clock` outlive the timers.
  AsioTimers(boost::asio::io_context& io, const AsioClock& clock);
  AsioTimers(const AsioTimers&) = delete;
  AsioTimers& operator=(const AsioTimers&) = delete;
  ~AsioTimers() override;

  TimerId ScheduleAt(Instant at, Callback callback) override;
  bool Cancel(TimerId id) override;

  // Timers scheduled and neither fired nor cancelled.
  size_t pending() const { return by_id_.size(); }

 private:
  using Table = std::map<std::pair<Instant, TimerId>, Callback>;
  // Arms the asio timer for the earliest entry when it is earlier than what
  // is armed (or nothing is).
  void Arm();
  void OnWake();

  const AsioClock& clock_;
  boost::asio::steady_timer timer_;
  Table table_;
  std::unordered_map<TimerId, Instant> by_id_;
  std::optional<Instant> armed_for_;
  TimerId next_id_ = 1;
  // Shared with the pending wait so that a wake-up after destruction is a
  // no-op (the handler may already be queued when the timers are destroyed).
  std::shared_ptr<AsioTimers*> self_;
};

class OsRandomSource : public RandomSource {
 public:
  // Seeded from std::random_device.
  OsRandomSource();
  explicit OsRandomSource(uint64_t seed);
  double Uniform01() override;
  uint64_t seed() const { return seed_; }

 private:
  uint64_t Next();
  uint64_t seed_;
  std::array<uint64_t, 4> state_{};
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_ASIO_PORTS_H_
