// run_size.h — how big a run is, estimated from the scenario before anything
// runs, and the limits beyond which the commands refuse it.
//
// A scenario file can ask for work no machine finishes: a burst of 2^31
// requests at one instant, polling every microsecond, an upstream whose data
// changes 10^12 times an hour, a season two thousand years long. Such input
// is accepted by the readers (each value is valid on its own), so the size
// is estimated from the whole scenario instead, in milliseconds, and a
// command refuses what is beyond a limit with a message naming the
// quantity, the generator or upstream behind most of it, and the flag that
// raises the limit (exit status 2). Limits (README "Limits"):
//
//   requests  client requests in one variant run                10^8
//   burst     requests arriving within one second (memory: each
//             in-flight request costs ~2 KB)                      10^5
//   events    requests + upstream data changes + health-state
//             changes + active health probes, one variant run    10^9
//   rows      CSV rows of one `orchsim run` result folder       2*10^7
//   runs      a sweep's points x seeds                           10^5
//
// Estimates, not counts: Poisson demand at its expected value, cron days
// from the game dates, data-change keys from the key templates. They are
// close for the shipped scenarios (tests/engine/experiment/run_size_test.cc)
// and never wrap: every sum is in double.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_RUN_SIZE_H_
#define ORCHSIM_ENGINE_EXPERIMENT_RUN_SIZE_H_

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

// A size beyond a limit. Bad input: exit status 2.
class LimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunSize {
  double requests = 0.0;        // per variant run
  double burst = 0.0;           // requests arriving in the busiest second
  double data_changes = 0.0;    // payload versions the mocked upstreams draw
  double other_events = 0.0;    // health-state changes and probes
  double rows = 0.0;            // CSV rows of a run's result folder
  std::string requests_source;  // the demand generator with the most requests
  double requests_source_count = 0.0;
  std::string burst_source;  // ... with the largest share of the busiest second
  std::string data_source;   // the upstream with the most data changes
  double events() const { return requests + data_changes + other_events; }
};

// The size of running each of `variants` (all when empty) once.
RunSize EstimateRunSize(const scenario::Scenario& scenario,
                        const std::vector<std::string>& variants = {});

struct RunLimits {
  double requests = 1e8;
  double burst = 1e5;
  double events = 1e9;
  double rows = 2e7;
  double runs = 1e5;

  // Applies "NAME=VALUE" (NAME: requests, burst, events, rows, runs; VALUE a
  // positive number, "2e8" or "200000000"). Throws LimitError on bad text.
  void Set(const std::string& assignment);
};

// Throws LimitError when `size` is beyond `limits`; `what` names the
// scenario in the message ("scenarios/x.json").
void CheckRunSize(const RunSize& size, const RunLimits& limits, const std::string& what);

// Throws LimitError when a sweep of `runs` runs (points x seeds) is beyond
// limits.runs.
void CheckSweepRuns(double runs, const RunLimits& limits, const std::string& what);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_RUN_SIZE_H_
