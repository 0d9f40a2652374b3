#include "engine/fidelity/queueing_theory.h"

#include <cassert>

namespace orchsim::fidelity {

std::vector<double> CobhamExponentialWaits(const std::vector<double>& arrival_rates_per_s,
                                           double mean_service_s) {
  const double second_moment = 2.0 * mean_service_s * mean_service_s;
  double w0 = 0.0;
  for (double lambda : arrival_rates_per_s) w0 += lambda * second_moment / 2.0;
  std::vector<double> waits;
  double load_before = 0.0;
  for (double lambda : arrival_rates_per_s) {
    const double load_through = load_before + lambda * mean_service_s;
    assert(load_through < 1.0);
    waits.push_back(w0 / ((1.0 - load_before) * (1.0 - load_through)));
    load_before = load_through;
  }
  return waits;
}

ErlangCResult ErlangC(int servers, double arrival_rate_per_s, double service_rate_per_s) {
  assert(servers >= 1 && arrival_rate_per_s < servers * service_rate_per_s);
  const double a = arrival_rate_per_s / service_rate_per_s;
  const double rho = a / servers;
  double term = 1.0;  // a^k / k!
  double below = 0.0;
  for (int k = 0; k < servers; ++k) {
    below += term;
    term *= a / (k + 1);
  }
  const double top = term / (1.0 - rho);  // a^c / c! / (1 - rho)
  ErlangCResult result;
  result.p_wait = top / (below + top);
  result.mean_wait_s = result.p_wait / (servers * service_rate_per_s - arrival_rate_per_s);
  return result;
}

std::vector<double> PriorityMMcWaits(const std::vector<double>& arrival_rates_per_s,
                                     double service_rate_per_s, int servers) {
  double total = 0.0;
  for (double lambda : arrival_rates_per_s) total += lambda;
  const double capacity = servers * service_rate_per_s;
  const double w0 = ErlangC(servers, total, service_rate_per_s).p_wait / capacity;
  std::vector<double> waits;
  double before = 0.0;
  for (double lambda : arrival_rates_per_s) {
    const double through = before + lambda / capacity;
    waits.push_back(w0 / ((1.0 - before) * (1.0 - through)));
    before = through;
  }
  return waits;
}

}  // namespace orchsim::fidelity
