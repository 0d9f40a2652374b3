// backoff_contention.h — Marc Brooker's "Exponential Backoff and Jitter"
// (AWS Architecture Blog, 2015) experiment, with the core's Backoff.
//
// N clients each want to update one row of an optimistic-concurrency store
// exactly once: read the row's version, then write conditionally on that
// version; a write whose version is stale fails, and the client sleeps a
// backoff and starts over with a fresh read. Every message (request or
// answer) takes |Normal(10 ms, 2 ms)| of network delay. The upstream model is
// OccServer, a Transport: a call reaches the server after one delay, is
// decided there, and its answer comes back after another.
//
// Backoff: the sleeps come from policies/retry.h Backoff (base 5 ms, cap 2 s).
// The published simulator (aws-samples/aws-arch-backoff-simulator) numbers
// the first failure n = 1, so its first exponential sleep is 2 * base; the
// core numbers the first retry r = 1 with n = r - 1. To reproduce the
// published numbers a client's k-th failure asks Backoff::Next(k + 1).
// "none" retries at once (the next read still pays its network delay).
//
// Measured per run: writes (every conditional write the server decided,
// successful or not — the blog's "calls") and completion time (when the last
// client's successful write answer arrived). Runs are independent: run i uses
// SeedTree(seed).Child("run/<i>") with streams "network" and "client/<c>".
#ifndef ORCHSIM_ENGINE_FIDELITY_BACKOFF_CONTENTION_H_
#define ORCHSIM_ENGINE_FIDELITY_BACKOFF_CONTENTION_H_

#include <cstdint>
#include <vector>

#include "engine/fidelity/statistics.h"
#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/call_deliveries.h"
#include "engine/world/sim_ports.h"
#include "policies/ports.h"
#include "policies/retry.h"
#include "policies/status.h"

namespace orchsim::fidelity {

// Status a conditional write answers when the version it carries is stale.
inline constexpr int kStatusConflict = 409;

// One row with a version, behind a network. Endpoint "read": 200 with
// payload_versions = {version}. Endpoint "write" with keys[0] = the version
// read (decimal): when it equals the current version, the version advances
// and the answer is 200; otherwise 409. Anything else: 400.
class OccServer : public Transport {
 public:
  OccServer(kernel::Simulator& sim, kernel::Rng network, Duration delay_mean, Duration delay_sd);
  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override;
  void Cancel(CallHandle handle) override;

  uint64_t version() const { return version_; }
  uint64_t writes() const { return writes_; }
  uint64_t failed_writes() const { return failed_writes_; }

 private:
  Duration NetworkDelay();
  Response Decide(const UpstreamCall& call);

  kernel::Simulator& sim_;
  kernel::Rng network_;
  double delay_mean_us_;
  double delay_sd_us_;
  world::SimTimers events_;
  world::CallDeliveries calls_;
  uint64_t version_ = 0;
  uint64_t writes_ = 0;
  uint64_t failed_writes_ = 0;
};

struct BackoffContentionConfig {
  int clients = 10;  // >= 1
  BackoffKind backoff = BackoffKind::kFullJitter;
  Duration base = Milliseconds(5);                 // > 0
  Duration cap = Seconds(2);                       // >= base
  Duration network_delay_mean = Milliseconds(10);  // >= 0
  Duration network_delay_sd = Milliseconds(2);     // >= 0
  int runs = 100;                                  // >= 1
  uint64_t seed = 2015;

  Status validate() const;
};

struct ContentionRun {
  uint64_t writes = 0;
  Duration completion;
};

struct BackoffContentionResult {
  std::vector<ContentionRun> runs;
  ConfidenceInterval writes;         // per run
  ConfidenceInterval completion_ms;  // per run
};

// One run. REQUIRES: config.validate().ok().
ContentionRun RunContentionOnce(const BackoffContentionConfig& config,
                                const kernel::SeedTree& seeds);
// config.runs runs, averaged.
BackoffContentionResult RunBackoffContention(const BackoffContentionConfig& config);

// The published five algorithms, in the blog's order of discussion.
inline constexpr BackoffKind kPublishedBackoffKinds[] = {
    BackoffKind::kNone, BackoffKind::kExponential, BackoffKind::kEqualJitter,
    BackoffKind::kFullJitter, BackoffKind::kDecorrelatedJitter};

// Every published algorithm at every client count (the blog: 10..100 step 10,
// 100 runs per point). Points use `seed` for every algorithm (common random
// numbers for the network).
struct BackoffSweep {
  std::vector<int> clients;
  // [algorithm index in kPublishedBackoffKinds][client-count index]
  std::vector<std::vector<BackoffContentionResult>> results;
  const BackoffContentionResult& At(BackoffKind kind, int clients) const;
};
BackoffSweep RunBackoffSweep(const std::vector<int>& clients, int runs, uint64_t seed);

// Least-squares slope of log(y) against log(x). REQUIRES: >= 2 points, all > 0.
double LogLogSlope(const std::vector<double>& x, const std::vector<double>& y);

// The published shape as checks, judged at the largest client count N (the
// blog's 100) and over the whole range for growth:
//   - writes of none and exponential grow roughly as N^2: log-log slope in
//     [1.5, 2.5];
//   - exponential does the most work of the four backoff algorithms and takes
//     by far the longest: completion >= 5x that of every other algorithm;
//   - full and equal jitter do about the same work (within 15% of each other)
//     and each less than half of exponential;
//   - decorrelated does somewhat more work than full: ratio in (1, 1.6];
//   - equal jitter takes longer than full jitter.
// REQUIRES: the sweep holds at least two client counts.
std::vector<CheckLine> BackoffShapeChecks(const BackoffSweep& sweep);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_BACKOFF_CONTENTION_H_
