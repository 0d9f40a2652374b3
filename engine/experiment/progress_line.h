// progress_line.h — what a long job (a sweep) prints about its progress, and
// when: on a terminal one line rewritten in place at every update; in a log
// (CI, a batch job, stderr not a terminal) a whole line at most every
// `every_seconds`, and one when the work is done, so logs show the job is
// alive without a line per point.
//
//   sweep: 120/1000 points (12%), 1m05s elapsed, ETA 7m58s
//
// The ETA extrapolates the points finished since the start (not those kept
// from an earlier run) over the ones left. Pure: the caller passes the
// elapsed time, so tests need no clock.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_PROGRESS_LINE_H_
#define ORCHSIM_ENGINE_EXPERIMENT_PROGRESS_LINE_H_

#include <cstddef>
#include <string>

namespace orchsim::experiment {

// "42s" -> "0m42s", "3725s" -> "1h02m".
std::string ClockText(double seconds);

class ProgressLine {
 public:
  ProgressLine(std::string what, bool terminal, double every_seconds = 5.0)
      : what_(std::move(what)), terminal_(terminal), every_(every_seconds) {}

  // The text to write to stderr now for `done` of `total` points, `elapsed`
  // seconds after the start; "" when nothing is due. The first call's `done`
  // counts as kept from before (no ETA from it).
  std::string Update(size_t done, size_t total, double elapsed);
  // Clears a terminal line ("" in a log or when nothing was shown).
  std::string Done();

 private:
  std::string what_;
  bool terminal_;
  double every_;
  bool first_ = true;
  size_t resumed_ = 0;
  bool shown_ = false;
  double last_printed_ = 0.0;
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_PROGRESS_LINE_H_
