// number_format.h — the fixed-precision number formatting every output file
// and table of a run shares, so the same numbers print the same everywhere
// (and byte-identically from run to run: printf's "%.*f", never iostream
// state).
#ifndef ORCHSIM_ENGINE_EXPERIMENT_NUMBER_FORMAT_H_
#define ORCHSIM_ENGINE_EXPERIMENT_NUMBER_FORMAT_H_

#include <string>

#include "policies/time.h"

namespace orchsim::experiment {

// "12.346" for Fixed(12.3456, 3).
std::string Fixed(double value, int digits);
// 100 * fraction with one decimal and a percent sign: "12.5%".
std::string Percent(double fraction);
double InSeconds(Duration d);
double InMillis(Duration d);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_NUMBER_FORMAT_H_
