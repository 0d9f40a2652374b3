// statistics.h — replication statistics and the printed form of one check.
//
// A fidelity check runs an experiment R times on independent seeds and
// compares the mean of the R per-replication estimates with theory: the
// expected value must lie inside mean +/- t(0.975, R-1) * s / sqrt(R), the
// 95% confidence interval of the mean (Student t, s the sample standard
// deviation). Other checks bound a quantity by a fixed tolerance; both are
// reported as a CheckLine: simulated, expected, the accepted interval and
// whether the expected value (or the simulated one, for bounds) passed.
#ifndef ORCHSIM_ENGINE_FIDELITY_STATISTICS_H_
#define ORCHSIM_ENGINE_FIDELITY_STATISTICS_H_

#include <string>
#include <vector>

namespace orchsim::fidelity {

struct ConfidenceInterval {
  double mean = 0.0;
  double stddev = 0.0;      // sample standard deviation (n - 1)
  double half_width = 0.0;  // t(0.975, n-1) * stddev / sqrt(n); 0 when n < 2
  int n = 0;
  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
  bool Contains(double x) const { return x >= low() && x <= high(); }
};

// Mean and 95% confidence interval of the samples (n = 0: all zero), from
// experiment::Summarize (t quantile: experiment::StudentT975).
ConfidenceInterval MeanConfidence95(const std::vector<double>& samples);

// One printed comparison.
struct CheckLine {
  std::string check;     // e.g. "cobham/load0.9"
  std::string quantity;  // e.g. "wait NORMAL (s)"
  double simulated = 0.0;
  double expected = 0.0;
  double low = 0.0;  // accepted interval (the CI, or expected +/- tolerance)
  double high = 0.0;
  std::string tolerance;  // how the interval was formed, e.g. "95% CI (10 reps)"
  bool pass = false;
};

// "check  quantity  simulated=...  expected=...  [low, high] (tolerance)  PASS|FAIL".
std::string FormatCheckLine(const CheckLine& line);

// A line that passes when `expected` lies in the confidence interval.
CheckLine CiCheck(std::string check, std::string quantity, const ConfidenceInterval& ci,
                  double expected);
// A line that passes when low <= simulated <= high.
CheckLine BoundCheck(std::string check, std::string quantity, double simulated, double expected,
                     double low, double high, std::string tolerance);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_STATISTICS_H_
