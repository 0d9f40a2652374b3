// queueing_theory.h — closed-form results the fidelity suite compares with.
//
//   - Cobham (1954), non-preemptive priority M/G/1 with classes 1..K (1 most
//     urgent), FIFO inside a class: the mean wait in queue of class k is
//       W_k = W0 / ((1 - s_{k-1}) (1 - s_k)),
//     W0 = sum_i lambda_i E[S_i^2] / 2, s_k = sum_{i<=k} rho_i, s_0 = 0.
//     Exponential service with mean m has E[S^2] = 2 m^2. Example: m = 1,
//     lambda = 0.2, 0.3, 0.3 gives W = 1, 2, 8.
//   - Erlang C, M/M/c: the probability an arrival waits
//       C(c, a) = (a^c / c!) / (1 - rho) / (sum_{k<c} a^k / k! + (a^c / c!) / (1 - rho)),
//     a = lambda / mu, rho = a / c, and the mean wait in queue C / (c mu - lambda).
//   - Both at once, M/M/c with non-preemptive priorities and one service rate
//     for every class: W_k = W0 / ((1 - s_{k-1}) (1 - s_k)) with
//     W0 = C(c, a) / (c mu), a = sum lambda / mu, s_k = sum_{i<=k} lambda_i /
//     (c mu). c = 1 gives Cobham, one class gives Erlang C.
//
// Units: rates per second, times in seconds (double: these are parameters
// and results, never simulation state).
#ifndef ORCHSIM_ENGINE_FIDELITY_QUEUEING_THEORY_H_
#define ORCHSIM_ENGINE_FIDELITY_QUEUEING_THEORY_H_

#include <vector>

namespace orchsim::fidelity {

// Mean waits in queue per class for exponential service of the given mean
// (every class the same). REQUIRES: total load sum(lambda) * mean < 1.
std::vector<double> CobhamExponentialWaits(const std::vector<double>& arrival_rates_per_s,
                                           double mean_service_s);

struct ErlangCResult {
  double p_wait = 0.0;       // probability an arrival finds every server busy
  double mean_wait_s = 0.0;  // mean time in queue over all arrivals
};

// M/M/c. REQUIRES: servers >= 1, arrival_rate < servers * service_rate.
ErlangCResult ErlangC(int servers, double arrival_rate_per_s, double service_rate_per_s);

// Mean waits in queue per class (most urgent first) of the M/M/c priority
// queue above. REQUIRES: servers >= 1, sum(rates) < servers * service_rate.
std::vector<double> PriorityMMcWaits(const std::vector<double>& arrival_rates_per_s,
                                     double service_rate_per_s, int servers);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_QUEUEING_THEORY_H_
