#include "engine/experiment/progress_line.h"

#include <cstdio>

namespace orchsim::experiment {

std::string ClockText(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buffer[32];
  if (s >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%ldm%02lds", s / 60, s % 60);
  }
  return buffer;
}

std::string ProgressLine::Update(size_t done, size_t total, double elapsed) {
  if (first_) {
    first_ = false;
    resumed_ = done;
  }
  if (total == 0) return "";
  const bool finished = done >= total;
  if (!terminal_) {
    // A log: at most one line every every_ seconds, and the last one.
    if (!finished && elapsed - last_printed_ < every_) return "";
    if (finished && done == resumed_) return "";  // nothing ran: nothing to say
  }
  last_printed_ = elapsed;
  std::string eta;
  if (done > resumed_ && !finished) {
    eta = ", ETA " + ClockText(elapsed / static_cast<double>(done - resumed_) *
                               static_cast<double>(total - done));
  }
  char head[160];
  std::snprintf(head, sizeof(head), "%s: %zu/%zu points (%.0f%%), %s elapsed", what_.c_str(), done,
                total, 100.0 * static_cast<double>(done) / static_cast<double>(total),
                ClockText(elapsed).c_str());
  shown_ = true;
  if (terminal_) return "\r\033[K  " + std::string(head) + eta;
  return std::string(head) + eta + "\n";
}

std::string ProgressLine::Done() {
  if (!terminal_ || !shown_) return "";
  shown_ = false;
  return "\r\033[K";
}

}  // namespace orchsim::experiment
