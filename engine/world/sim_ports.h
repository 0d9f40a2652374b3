// sim_ports.h — the core's Clock, Timers and RandomSource ports implemented
// over the simulation kernel.
//
// SimClock reads the simulator's virtual now() (as both its monotonic and its
// wall time). SimTimers schedules
// std::function callbacks as simulator events: the kernel stores callbacks in
// 48-byte InlineFunctions, so SimTimers keeps the std::function in a slot
// table it owns (recycled slots, no hashing: timers are on every request's
// path) and the event captures only (this, timer id). RngRandomSource hands out
// a kernel::Rng stream's uniform numbers.
//
// Contract:
//   - SimTimers::ScheduleAt with an instant before now() runs the callback at
//     now() (after the events already queued for now()), never synchronously.
//   - Cancel returns true only for a pending timer; a fired or cancelled
//     timer's id is not reused (until its slot has been recycled 2^32 times).
//   - Destroying a SimTimers cancels its pending events, so the simulator may
//     outlive it.
//   - Not thread-safe: one simulation, one thread.
#ifndef ORCHSIM_ENGINE_WORLD_SIM_PORTS_H_
#define ORCHSIM_ENGINE_WORLD_SIM_PORTS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "policies/ports.h"

namespace orchsim::world {

// Clock over the simulator's virtual time: the monotonic and the wall clock
// are the same virtual instant (no clock steps in simulation). REQUIRES:
// `sim` outlives it.
class SimClock : public Clock {
 public:
  explicit SimClock(const kernel::Simulator& sim) : sim_(sim) {}
  Instant now() const override { return sim_.now(); }
  Instant wall_now() const override { return sim_.now(); }

 private:
  const kernel::Simulator& sim_;
};

// Timers over the simulator's event queue. REQUIRES: `sim` outlives it.
class SimTimers : public Timers {
 public:
  explicit SimTimers(kernel::Simulator& sim) : sim_(sim) {}
  SimTimers(const SimTimers&) = delete;
  SimTimers& operator=(const SimTimers&) = delete;
  ~SimTimers() override;

  TimerId ScheduleAt(Instant at, std::function<void()> callback) override;
  bool Cancel(TimerId id) override;

  // Timers scheduled and neither fired nor cancelled.
  size_t pending() const { return pending_; }

 private:
  // A timer id is (generation << 32) | (slot index + 1): never 0, and stale
  // ids of a recycled slot do not match its new generation.
  struct Slot {
    kernel::EventId event{};
    std::function<void()> callback;
    uint32_t generation = 1;
    bool live = false;
  };
  Slot* Find(TimerId id);
  void Release(Slot& slot, uint32_t index);
  void Fire(TimerId id);

  kernel::Simulator& sim_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t pending_ = 0;
};

// RandomSource over one kernel::Rng stream.
class RngRandomSource : public RandomSource {
 public:
  explicit RngRandomSource(kernel::Rng rng) : rng_(rng) {}
  // The named stream of `seeds`, e.g. ("policy/jitter").
  RngRandomSource(const kernel::SeedTree& seeds, std::string_view stream_name)
      : rng_(seeds.Stream(stream_name)) {}
  double Uniform01() override { return rng_.Uniform01(); }

 private:
  kernel::Rng rng_;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_SIM_PORTS_H_
