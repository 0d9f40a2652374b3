#include "tools/kernel_demo.h"

#include <cstdio>
#include <deque>
#include <ostream>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"

namespace orchsim::tools {
namespace {

// One server, FIFO queue; waits measured in virtual microseconds.
class MM1 {
 public:
  MM1(kernel::Simulator& sim, const KernelDemoConfig& c, const kernel::SeedTree& seeds)
      : sim_(sim),
        config_(c),
        arrivals_rng_(seeds.Stream("demo/arrivals")),
        service_rng_(seeds.Stream("demo/service")),
        arrivals_(c.arrival_rate_per_s, sim.now()) {}

  void Start() { ScheduleNextArrival(); }
  double mean_wait_s() const { return served_ == 0 ? 0.0 : total_wait_us_ / 1e6 / served_; }
  uint64_t served() const { return served_; }

 private:
  void ScheduleNextArrival() {
    if (generated_ == config_.customers) return;
    ++generated_;
    sim_.ScheduleAt(arrivals_.Next(arrivals_rng_), [this] { Arrive(); });
  }
  void Arrive() {
    waiting_.push_back(sim_.now());
    if (!busy_) StartService();
    ScheduleNextArrival();
  }
  void StartService() {
    busy_ = true;
    total_wait_us_ += static_cast<double>((sim_.now() - waiting_.front()).micros());
    waiting_.pop_front();
    const double service_s = service_rng_.Exponential(1.0 / config_.service_rate_per_s);
    sim_.ScheduleAfter(Microseconds(static_cast<int64_t>(service_s * 1e6)), [this] { Depart(); });
  }
  void Depart() {
    ++served_;
    busy_ = false;
    if (!waiting_.empty()) StartService();
  }

  kernel::Simulator& sim_;
  KernelDemoConfig config_;
  kernel::Rng arrivals_rng_;
  kernel::Rng service_rng_;
  kernel::PoissonArrivals arrivals_;
  std::deque<Instant> waiting_;
  bool busy_ = false;
  uint64_t generated_ = 0;
  uint64_t served_ = 0;
  double total_wait_us_ = 0;
};

}  // namespace

int RunKernelDemo(const KernelDemoConfig& c, std::ostream& out) {
  const Instant start = Instant::FromUnixMicros(1693526400000000);  // 2023-09-01T00:00:00Z
  kernel::Simulator sim(start);
  kernel::SeedTree seeds(c.seed);
  MM1 queue(sim, c, seeds);
  queue.Start();
  sim.RunUntilEmpty();
  const double rho = c.arrival_rate_per_s / c.service_rate_per_s;
  const double expected = rho / (c.service_rate_per_s - c.arrival_rate_per_s);
  char line[256];
  out << "orchsim kernel demo: M/M/1 queue in virtual time (seed " << c.seed << ")\n";
  std::snprintf(line, sizeof line, "  customers served      %llu\n",
                static_cast<unsigned long long>(queue.served()));
  out << line;
  std::snprintf(line, sizeof line, "  events run            %llu\n",
                static_cast<unsigned long long>(sim.events_run()));
  out << line;
  out << "  virtual time elapsed  " << FormatDuration(sim.now() - start) << " (ends "
      << FormatInstant(sim.now()) << ")\n";
  std::snprintf(line, sizeof line,
                "  mean wait in queue    %.3f s simulated, %.3f s by theory (rho/(mu-lambda))\n",
                queue.mean_wait_s(), expected);
  out << line;
  return 0;
}

}  // namespace orchsim::tools
