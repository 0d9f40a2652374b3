// bucket_window_check.h — a checker (an observer over a whole run) for the
// token bucket's promise: in ANY window of virtual time of length T the cost
// admitted never exceeds burst + rate * T.
//
// Every call the orchestrator sends through its admission path spends
// bucket.cost_per_call tokens of its api's bucket: first attempts, retries,
// batches and prefetches. Health probes bypass the bucket and are ignored.
// Apis whose bucket is disabled are ignored.
//
// Exact: rate, burst and cost are quantized to nano-tokens as TokenBucket
// does, and compared in 128-bit integers (nano-tokens x microseconds). For
// calls numbered 0, 1, ... of one api sent at t_0 <= t_1 <= ..., the window
// [t_j, t_i] admits cost * (i - j + 1) against burst + rate * (t_i - t_j), so
// with g(k) = cost * k - rate * t_k the worst window ending at call i has
//   excess(i) = (cost * (i + 1) - rate * t_i) - min_{j<=i} g(j)
// and the bound holds when max_i excess(i) <= burst. O(1) time per call and
// O(1) memory per api, so it runs over whole seasons.
#ifndef ORCHSIM_ENGINE_FIDELITY_BUCKET_WINDOW_CHECK_H_
#define ORCHSIM_ENGINE_FIDELITY_BUCKET_WINDOW_CHECK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/fidelity/statistics.h"
#include "engine/scenario/scenario.h"
#include "policies/events.h"
#include "policies/orchestrator.h"

namespace orchsim::fidelity {

// What the checker found for one api.
struct BucketWindowReport {
  std::string api;
  double rate_per_s = 0.0;
  double burst = 0.0;
  double cost_per_call = 0.0;
  uint64_t calls = 0;
  // max over windows of (cost admitted - rate * T), in tokens; the bound
  // holds when it is <= burst.
  double worst_excess_tokens = 0.0;
  Instant worst_window_start;
  Instant worst_window_end;
  uint64_t worst_window_calls = 0;
  bool holds = true;
};

class BucketWindowChecker : public OrchestratorObserver {
 public:
  // `policy` is the configuration the orchestrator runs with.
  explicit BucketWindowChecker(const OrchestratorConfig& policy);

  void OnCallSent(const UpstreamCall& call, Instant now) override;

  // One report per api that sent at least one call through an enabled bucket.
  std::vector<BucketWindowReport> Reports() const;
  bool AllHold() const;

 private:
  struct ApiTrack;
  ApiTrack& Track(const std::string& api);

  OrchestratorConfig policy_;
  std::map<std::string, std::shared_ptr<ApiTrack>> tracks_;
};

// Runs every variant of `scenario` over its whole window on `seed` with a
// BucketWindowChecker attached, and returns one line per (variant, api with
// an enabled bucket): simulated = worst excess, expected = burst; a variant
// without any enabled bucket gets one passing "nothing to check" line.
std::vector<CheckLine> RunBucketWindowChecks(const scenario::Scenario& scenario, uint64_t seed);

}  // namespace orchsim::fidelity

#endif  // ORCHSIM_ENGINE_FIDELITY_BUCKET_WINDOW_CHECK_H_
