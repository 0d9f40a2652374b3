// overload_checks.h — the capacity model and retries checked against
// closed forms (orchsim fidelity, sections 7 and 8).
//
// M/M/c/K: Poisson arrivals (rate lambda) sent straight to a MockUpstream
// with capacity (c servers, K - c waiting places, FIFO, exponential service
// of mean 1/mu) through MockTransport. Measured per replication, after a
// warm-up: the share of arrivals refused for a full queue, and the mean
// wait of the admitted ones (mean latency minus mean service time, both
// measured). Expected (a = lambda/mu, p_n proportional to a^n/n! for n <= c
// and a^n/(c! c^(n-c)) for c < n <= K): blocking P_K = p_K and
// W_q = L_q / (lambda (1 - P_K)), L_q = sum over n > c of (n - c) p_n.
//
// Expected attempts: the production Orchestrator with retries (max_attempts
// n, no backoff, nothing else on) against a MockUpstream whose calls fail
// (500) independently with probability p; attempts per request = upstream
// calls / requests. Expected (1 - p^n) / (1 - p).
//
// Both pass when the expected value lies inside the 95% confidence interval
// of the replications' means.
#ifndef ORCHSIM_ENGINE_FIDELITY_OVERLOAD_CHECKS_H_
#define ORCHSIM_ENGINE_FIDELITY_OVERLOAD_CHECKS_H_

#include <cstdint>
#include <vector>

#include "engine/fidelity/statistics.h"

namespace orchsim::fidelity {

struct MmcKTheory {
  double blocking = 0.0;     // P_K
  double mean_wait_s = 0.0;  // W_q of admitted customers
  double mean_queue = 0.0;   // L_q
};
// REQUIRES: servers >= 1, capacity >= servers, rates > 0.
MmcKTheory MmcK(int servers, int capacity, double lambda, double mu);

struct MmcKConfig {
  int servers = 2;
  int capacity = 5;  // K: in service + waiting
  double lambda = 1.5;
  double mu = 1.0;
  int64_t warmup_arrivals = 2000;
  int64_t measured_arrivals = 40000;
  int replications = 10;
  uint64_t seed = 1;
};
struct MmcKResult {
  ConfidenceInterval blocking;
  ConfidenceInterval mean_wait_s;
};
MmcKResult RunMmcK(const MmcKConfig& config);

struct AttemptsConfig {
  double failure_probability = 0.3;
  int max_attempts = 3;
  int64_t requests = 20000;  // per replication
  int replications = 10;
  uint64_t seed = 1;
};
// (1 - p^n) / (1 - p).
double ExpectedAttempts(double p, int n);
ConfidenceInterval RunAttempts(const AttemptsConfig& config);

// The printed lines of both checks, fast or long.
std::vector<CheckLine> MmcKChecks(bool long_version);
std::vector<CheckLine> AttemptsChecks(bool long_version);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_OVERLOAD_CHECKS_H_
