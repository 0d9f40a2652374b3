#include "engine/experiment/number_format.h"

#include <cstdio>

namespace orchsim::experiment {

std::string Fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

std::string Percent(double fraction) { return Fixed(100.0 * fraction, 1) + "%"; }

double InSeconds(Duration d) { return static_cast<double>(d.micros()) / 1e6; }
double InMillis(Duration d) { return static_cast<double>(d.micros()) / 1e3; }

}  // namespace orchsim::experiment
