// fidelity_suite.h — all eight fidelity checks, fast or long, and the files
// of the long report (results/fidelity by default).
//
// Fast: the parameters of the GoogleTest suite (seconds). Long: more loads,
// more replications and customers, the whole Brooker sweep (N = 10..100 step
// 10, 100 runs per point), two quota months. Every check prints its lines
// (simulated, expected, accepted interval, PASS/FAIL) to `log` as it ends.
//
// Files written by WriteFidelityFiles (atomically: each to a temporary name,
// then renamed): checks.csv (every line), backoff.csv (the sweep),
// quota_daily.csv (credits per day), report.md (tables; links to the plots
// tools/plot_fidelity.py draws from the CSV files: cobham.png, erlang_c.png,
// health_chain.png, backoff_writes.png, backoff_time.png, quota_daily.png,
// bucket.png).
#ifndef ORCHSIM_ENGINE_FIDELITY_FIDELITY_SUITE_H_
#define ORCHSIM_ENGINE_FIDELITY_FIDELITY_SUITE_H_

#include <ostream>
#include <string>
#include <vector>

#include "engine/fidelity/backoff_contention.h"
#include "engine/fidelity/quota_pacing_check.h"
#include "engine/fidelity/statistics.h"
#include "policies/status.h"

namespace orchsim::fidelity {

struct FidelitySuiteOptions {
  bool long_version = false;
  // The scenario whose variants the bucket check runs over whole seasons
  // (the CLI defaults to the source tree's scenarios/nfl-2023.json, whatever
  // the working directory).
  std::string season_scenario = "scenarios/nfl-2023.json";
};

// A user's own queueing case (orchsim fidelity --queueing): the production
// core as an M/M/c queue with non-preemptive priorities, checked against
// PriorityMMcWaits (queueing_theory.h) per class and Erlang C's P(wait).
struct QueueingCheckSpec {
  std::vector<double> arrival_rates_per_s = {0.2, 0.3, 0.3};  // per class, most urgent first
  double service_rate_per_s = 1.0;                            // per server
  int servers = 1;
  int64_t measured_customers = 200000;  // per replication
  int replications = 10;
  uint64_t seed = 1;

  // Names the option and what is wrong ("--servers: 0 must be >= 1", an
  // unstable load), in the CLI's words.
  Status validate() const;
};

struct FidelitySection {
  std::string title;        // e.g. "1. Cobham: non-preemptive priority M/M/1"
  std::string description;  // one paragraph: setup and tolerance
  std::vector<CheckLine> lines;
};

struct FidelitySuiteResult {
  bool long_version = false;
  std::vector<FidelitySection> sections;
  BackoffSweep backoff;
  std::vector<std::pair<std::string, QuotaPacingResult>> quota_months;
  bool AllPass() const;
};

// Runs the user's queueing check (REQUIRES: spec.validate().ok()).
FidelitySection RunQueueingCheck(const QueueingCheckSpec& spec);

// Runs the eight checks in order (7: M/M/c/K, 8: expected attempts;
// overload_checks.h). The season scenario is loaded with
// scenario::LoadScenario (throws ConfigError on bad input).
FidelitySuiteResult RunFidelitySuite(const FidelitySuiteOptions& options, std::ostream& log);

// Writes checks.csv, backoff.csv, quota_daily.csv and report.md into `dir`
// (created if missing). Throws std::runtime_error when a file cannot be written.
void WriteFidelityFiles(const std::string& dir, const FidelitySuiteResult& result);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_FIDELITY_SUITE_H_
