#include "engine/fidelity/statistics.h"

#include <array>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <utility>

namespace orchsim::fidelity {

double StudentT975(int degrees_of_freedom) {
  assert(degrees_of_freedom >= 1);
  static constexpr std::array<double, 30> kTable = {
      12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
      2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
      2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
  if (degrees_of_freedom <= 30) return kTable[static_cast<size_t>(degrees_of_freedom - 1)];
  // Cornish-Fisher expansion of t around the normal quantile.
  const double z = 1.959963984540054;
  const double n = degrees_of_freedom;
  const double z3 = z * z * z;
  const double z5 = z3 * z * z;
  return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n);
}

ConfidenceInterval MeanConfidence95(const std::vector<double>& samples) {
  ConfidenceInterval ci;
  ci.n = static_cast<int>(samples.size());
  if (samples.empty()) return ci;
  double sum = 0.0;
  for (double x : samples) sum += x;
  ci.mean = sum / ci.n;
  if (ci.n < 2) return ci;
  double squares = 0.0;
  for (double x : samples) squares += (x - ci.mean) * (x - ci.mean);
  ci.stddev = std::sqrt(squares / (ci.n - 1));
  ci.half_width = StudentT975(ci.n - 1) * ci.stddev / std::sqrt(static_cast<double>(ci.n));
  return ci;
}

std::string FormatCheckLine(const CheckLine& line) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                "%-28s %-30s simulated=%-12.6g expected=%-12.6g accepted=[%.6g, %.6g] (%s)  %s",
                line.check.c_str(), line.quantity.c_str(), line.simulated, line.expected, line.low,
                line.high, line.tolerance.c_str(), line.pass ? "PASS" : "FAIL");
  return buffer;
}

CheckLine CiCheck(std::string check, std::string quantity, const ConfidenceInterval& ci,
                  double expected) {
  CheckLine line;
  line.check = std::move(check);
  line.quantity = std::move(quantity);
  line.simulated = ci.mean;
  line.expected = expected;
  line.low = ci.low();
  line.high = ci.high();
  line.tolerance = "95% CI of " + std::to_string(ci.n) + " replications";
  line.pass = ci.Contains(expected);
  return line;
}

CheckLine BoundCheck(std::string check, std::string quantity, double simulated, double expected,
                     double low, double high, std::string tolerance) {
  CheckLine line;
  line.check = std::move(check);
  line.quantity = std::move(quantity);
  line.simulated = simulated;
  line.expected = expected;
  line.low = low;
  line.high = high;
  line.tolerance = std::move(tolerance);
  line.pass = simulated >= low && simulated <= high;
  return line;
}

}  // namespace orchsim::fidelity
