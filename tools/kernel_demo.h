// kernel_demo.h — `orchsim demo`: an M/M/1 queue on the simulation kernel,
// printed against queueing theory. It shows the kernel (virtual time, FIFO
// event order, seeded streams) end to end until the season replay lands.
#ifndef ORCHSIM_TOOLS_KERNEL_DEMO_H_
#define ORCHSIM_TOOLS_KERNEL_DEMO_H_

#include <cstdint>
#include <iosfwd>

namespace orchsim::tools {

struct KernelDemoConfig {
  uint64_t seed = 1;
  uint64_t customers = 200000;
  double arrival_rate_per_s = 0.8;
  double service_rate_per_s = 1.0;
};

// Runs the demo and prints the result table to `out`. Returns 0.
int RunKernelDemo(const KernelDemoConfig& config, std::ostream& out);

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_KERNEL_DEMO_H_
