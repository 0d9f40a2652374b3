// exact_round.h — std::llround without the library call where that is exact.
//
// For 0 <= x < 2^63 the integer part of a double and its remainder are exact
// doubles (above 2^52 there is no fraction left), so llround's
// half-away-from-zero rule is one compare. Negative values, NaN and the rest
// go to std::llround, so the result is std::llround(x) for every x. For hot
// loops: a data change step of the mocked upstreams, every admission check's
// credits.
#ifndef ORCHSIM_POLICIES_EXACT_ROUND_H_
#define ORCHSIM_POLICIES_EXACT_ROUND_H_

#include <cmath>
#include <cstdint>

namespace orchsim {

inline int64_t RoundToInt64(double x) {
  if (x >= 0.0 && x < 0x1p63) {
    const int64_t whole = static_cast<int64_t>(x);
    return x - static_cast<double>(whole) >= 0.5 ? whole + 1 : whole;
  }
  return std::llround(x);
}

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_EXACT_ROUND_H_
