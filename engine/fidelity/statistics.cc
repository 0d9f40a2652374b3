#include "engine/fidelity/statistics.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/experiment/sweep.h"

namespace orchsim::fidelity {

ConfidenceInterval MeanConfidence95(const std::vector<double>& samples) {
  // One implementation of replication statistics: the sweep's (Eigen, the
  // exact Student t quantile from Boost.Math).
  const experiment::MetricSummary summary = experiment::Summarize(samples);
  ConfidenceInterval ci;
  ci.mean = summary.mean;
  ci.stddev = summary.sd;
  ci.half_width = summary.ci95_half;
  ci.n = summary.n;
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
