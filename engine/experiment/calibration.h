// calibration.h — upstream models fitted from a recorded trace's calls
// (`orchsim calibrate`), with a fit report.
//
// Calibrate() reads a trace (policies/trace/trace_format.h) twice, in
// bounded memory: pass 1 in file order (counts, latency histograms, quota
// headers, the largest call latency), pass 2 in the order calls were sent
// (through a reorder window as wide as the file needs, measured in pass 1)
// for what depends on order: outages, the rate-limit window, quota resets.
// Per api it fits a world::UpstreamModelConfig that the scenario reader
// loads (engine/scenario/upstream_writer.h writes it):
//
//   latency   answered calls (every status but 499 and 599; outside degraded
//             windows when there are some): a quantile table
//             (kind "empirical", interpolated CDF points at probabilities
//             0, 0.01, ..., 0.99, 0.995, 0.999, 0.9999, 1 from a histogram of
//             0.79% resolution), or the lognormal by median and p99 (the
//             report gives both with their Kolmogorov-Smirnov distance to the
//             sample, evaluated at the histogram's bucket bounds).
//   errors    per-call rates of 500, 502, 503 (other 5xx count as 500) and
//             timeouts, over the calls outside outages (and outside degraded
//             windows when there are some) that reached the
//             upstream's error draw (not rate-limited, not refused for quota,
//             not 400, not cancelled early), with 95% Wilson intervals.
//             Timeouts: 599 answers, and 499 (cancelled by the client) after
//             longer than any answered call; other 499s are censored
//             samples and left out. timeout_latency: the median 599
//             latency; with only 499s, twice the longest wait (the upstream
//             took longer than that; a policy that waits longer meets a guess).
//   outages   change points of the failure sequence: in send order, a
//             maximal run of k consecutive calls failing with one status s
//             is an outage when k >= 3 and N * p_s^k <= 0.01, N the calls of
//             the api and p_s the rate of s outside outages (iterated to a
//             fixed point): a run that long would occur by chance less than
//             once in a hundred traces. Its window runs from midway between
//             the call before and the first of the run to midway between the
//             last and the call after (the change happened somewhere in each
//             gap; the midpoint halves the worst error). An outage of
//             timeouts replays as fast 599 answers (a model outage answers at
//             once).
//   degraded  change points of the error rate outside outages: binary
//             segmentation (Scott & Knott 1974: split where the Bernoulli
//             log-likelihood gains most, when it gains more than the penalty
//             3 ln N, N the calls, then each part likewise; when no single
//             split pays, the best pair of splits, searched on a grid of 512
//             points and refined, at twice the penalty, so a spell inside a
//             quiet stretch is found) over 10-second bins of the
//             failure indicator in send order; the
//             segments are then split into two levels, healthy and degraded,
//             by maximum likelihood (each segment to the level that explains
//             it better, levels re-estimated until stable). When the degraded
//             level fails at least 1.5 times as often, its segments (merged
//             when adjacent, edges on the 10 s bins) are written as health
//             windows (state degraded) with degraded_error_factor = the ratio
//             of the two failure rates and latency degraded_factor = the ratio
//             of the median answered latencies (at least 1); error rates and
//             the latency fit are then those of the healthy level. An outage
//             run inside a degraded window that is not significant at the
//             degraded rate is dropped (a chance run of the spell).
//   rate limit  429 answers with Retry-After that are not quota refusals:
//             the window is the shortest of 1s, 2s, 5s, 10s, 15s, 30s, 1m,
//             2m, 5m, 10m, 15m, 30m, 1h, 1d such that, in windows aligned to
//             the epoch, every window with a 429 admitted the same number of
//             calls M and no window admitted more; max_calls = M. Otherwise
//             (no fixed window explains it) the closest fit, with a note.
//   quota     style from the header names (x-requests-*: odds-api,
//             x-ratelimit-*: github, RateLimit/RateLimit-Policy: ietf);
//             limit (remaining + used, x-ratelimit-limit, q=); period from
//             the resets (GitHub's x-ratelimit-reset, IETF's w=, or where
//             The Odds API's used count drops): calendar month, calendar
//             day, or rolling with the window seen; credits per call by
//             endpoint from the call lines (per key when they scale with the
//             keys); exhausted_status from the refusals seen.
//   batch     enabled with max_keys when a 400 answered a call with more keys
//             than any call that succeeded; otherwise off (any number of keys).
//   not fitted  the health chain (disabled: the outages and degraded windows
//             found replay the trace's own spells at their instants) and data
//             change rates (not in a trace; disabled). Each ApiFit lists such
//             notes.
//
// The file is read three times (file order, send order, file order); memory
// holds histograms, the runs of failures, one counter per 10-second bin with
// calls (for the change points) and the send-order window: it grows with the
// trace's duration, not with its number of lines.
//
// Determinism: the same trace and options give the same fit, byte for byte.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_CALIBRATION_H_
#define ORCHSIM_ENGINE_EXPERIMENT_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/world/upstream_model.h"
#include "policies/time.h"
#include "policies/trace/trace_format.h"

namespace orchsim::experiment {

struct CalibrationOptions {
  std::vector<std::string> apis;  // fit only these (empty: every api in the trace)
  // The latency model written: kEmpirical (quantile table) or kLognormal.
  world::LatencyKind latency = world::LatencyKind::kEmpirical;
  // Expected number of chance runs taken for outages (the test's level).
  double outage_false_runs = 0.01;
};

// A proportion with its 95% Wilson score interval.
struct RateEstimate {
  uint64_t count = 0;
  uint64_t trials = 0;
  double rate = 0.0;  // count / trials (0 when no trials)
  double low = 0.0;
  double high = 0.0;
};
RateEstimate WilsonInterval(uint64_t count, uint64_t trials);

struct DetectedOutage {
  Instant start;
  Instant end;
  int status = 503;
  uint64_t calls = 0;  // calls of the run
};

struct ApiFit {
  std::string api;
  world::UpstreamModelConfig model;  // what is written

  uint64_t calls = 0;
  std::map<int, uint64_t> statuses;  // answers by status
  std::map<std::string, uint64_t> kinds;

  // Latency.
  uint64_t latency_samples = 0;
  Duration p50, p90, p99, max;
  double ks_empirical = 0.0;  // the quantile table against the sample
  double ks_lognormal = 0.0;  // the lognormal (median, p99) against the sample
  double ks_critical = 0.0;   // 1.358 / sqrt(n): the 95% critical value

  // Errors.
  RateEstimate status_500, status_502, status_503, timeout;
  uint64_t other_5xx = 0;     // counted as 500
  uint64_t timeouts_599 = 0;  // of timeout.count
  uint64_t timeouts_499 = 0;  // of timeout.count
  uint64_t censored_499 = 0;  // cancelled early: left out
  bool timeout_latency_guessed = false;

  std::vector<DetectedOutage> outages;
  int outage_min_run = 0;        // the shortest run taken (for the most common status)
  uint64_t outages_dropped = 0;  // chance runs inside degraded windows

  // Degraded windows (change points of the error rate).
  uint64_t segments = 0;                      // segments found
  std::vector<world::HealthWindow> degraded;  // also in model.health_windows
  RateEstimate healthy_failures;              // every failure class, healthy level
  RateEstimate degraded_failures;             // in the degraded windows
  Duration degraded_median;                   // answered latency in degraded windows

  // Rate limit and quota.
  uint64_t rate_limited = 0;          // 429 with Retry-After, not quota refusals
  uint64_t quota_refused = 0;         // exhaustion answers
  std::vector<Instant> quota_resets;  // seen (at most a few are listed)

  std::vector<std::string> notes;  // what was not fitted, or guessed, and why
};

struct Calibration {
  std::string file;
  trace::TraceHeader header;
  uint64_t lines = 0;
  uint64_t requests = 0;
  uint64_t calls = 0;        // of every api
  std::vector<ApiFit> apis;  // by name
};

// A problem with the trace: "FILE: line N: message".
struct CalibrationError {
  std::string file;
  uint64_t line = 0;
  std::string message;
  std::string ToString() const;
};

// Fits every api of the trace at `path` (or those in options.apis; an api
// named there but absent from the trace is an error). Returns the fit, or
// the first problem (malformed line, missing header, no calls).
struct CalibrationResult {
  std::optional<Calibration> calibration;
  std::optional<CalibrationError> error;
};
CalibrationResult Calibrate(const std::string& path, const CalibrationOptions& options);

// The fit report: sample sizes, latency quantiles and KS distances, rates
// with 95% intervals, outages, rate limit, quota, notes. Deterministic text.
std::string CalibrationReport(const Calibration& calibration);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_CALIBRATION_H_
