#include "engine/fidelity/bucket_window_check.h"

#include <cmath>
#include <memory>

#include "engine/experiment/runner.h"

namespace orchsim::fidelity {
namespace {

__extension__ using Int128 = __int128;

constexpr int64_t kNanoPerToken = 1'000'000'000;
constexpr int64_t kMicrosPerSecond = 1'000'000;

int64_t ToNano(double tokens) { return std::llround(tokens * static_cast<double>(kNanoPerToken)); }

}  // namespace

// Units of the running sums: nano-tokens x microseconds.
struct BucketWindowChecker::ApiTrack {
  std::string api;
  TokenBucketConfig bucket;
  int64_t cost_nano = 0;
  int64_t rate_nano_per_s = 0;
  int64_t burst_nano = 0;
  uint64_t calls = 0;
  // min over j <= i of g(j) = cost * j - rate * t_j (j counted from 0, before
  // call j), and the instant/index it was reached at.
  Int128 min_g = 0;
  Instant min_g_at;
  uint64_t min_g_index = 0;
  bool any = false;
  Int128 worst_excess = 0;  // cost * n - rate * T over the worst window
  Instant worst_start, worst_end;
  uint64_t worst_calls = 0;
};

BucketWindowChecker::BucketWindowChecker(const OrchestratorConfig& policy) : policy_(policy) {}

BucketWindowChecker::ApiTrack& BucketWindowChecker::Track(const std::string& api) {
  auto it = tracks_.find(api);
  if (it != tracks_.end()) return *it->second;
  auto track = std::make_shared<ApiTrack>();
  track->api = api;
  track->bucket = policy_.ForApi(api).bucket;
  track->cost_nano = ToNano(track->bucket.cost_per_call);
  track->rate_nano_per_s = std::max<int64_t>(1, ToNano(track->bucket.rate_per_s));
  track->burst_nano = ToNano(track->bucket.burst);
  return *tracks_.emplace(api, std::move(track)).first->second;
}

void BucketWindowChecker::OnCallSent(const UpstreamCall& call, Instant now) {
  if (call.kind == CallKind::kProbe) return;
  ApiTrack& t = Track(call.api);
  if (!t.bucket.enabled) return;
  const Int128 cost = static_cast<Int128>(t.cost_nano) * kMicrosPerSecond;
  const Int128 drained = static_cast<Int128>(t.rate_nano_per_s) * now.unix_micros();
  // g before this call (j = calls): the window may start at this call.
  const Int128 g_before = cost * static_cast<Int128>(t.calls) - drained;
  if (!t.any || g_before < t.min_g) {
    t.min_g = g_before;
    t.min_g_at = now;
    t.min_g_index = t.calls;
    t.any = true;
  }
  ++t.calls;
  const Int128 g_after = cost * static_cast<Int128>(t.calls) - drained;
  const Int128 excess = g_after - t.min_g;
  if (t.calls == 1 || excess > t.worst_excess) {
    t.worst_excess = excess;
    t.worst_start = t.min_g_at;
    t.worst_end = now;
    t.worst_calls = t.calls - t.min_g_index;
  }
}

std::vector<BucketWindowReport> BucketWindowChecker::Reports() const {
  std::vector<BucketWindowReport> reports;
  for (const auto& [api, t] : tracks_) {
    if (!t->bucket.enabled || t->calls == 0) continue;
    BucketWindowReport r;
    r.api = api;
    r.rate_per_s = t->bucket.rate_per_s;
    r.burst = t->bucket.burst;
    r.cost_per_call = t->bucket.cost_per_call;
    r.calls = t->calls;
    const double scale = static_cast<double>(kNanoPerToken) * kMicrosPerSecond;
    r.worst_excess_tokens = static_cast<double>(t->worst_excess) / scale;
    r.worst_window_start = t->worst_start;
    r.worst_window_end = t->worst_end;
    r.worst_window_calls = t->worst_calls;
    r.holds = t->worst_excess <= static_cast<Int128>(t->burst_nano) * kMicrosPerSecond;
    reports.push_back(r);
  }
  return reports;
}

bool BucketWindowChecker::AllHold() const {
  for (const BucketWindowReport& r : Reports()) {
    if (!r.holds) return false;
  }
  return true;
}

std::vector<CheckLine> RunBucketWindowChecks(const scenario::Scenario& scenario, uint64_t seed) {
  std::vector<CheckLine> lines;
  for (const scenario::Variant& variant : scenario.variants) {
    BucketWindowChecker checker(variant.policy);
    experiment::RunOptions options;
    options.extra_observers.push_back(&checker);
    experiment::RunVariant(scenario, variant, seed, options);
    if (checker.Reports().empty()) {
      lines.push_back(BoundCheck("bucket/" + variant.name, "no enabled bucket sent calls", 0.0, 0.0,
                                 0.0, 0.0, "nothing to check"));
    }
    for (const BucketWindowReport& r : checker.Reports()) {
      CheckLine line;
      line.check = "bucket/" + variant.name + "/" + r.api;
      line.quantity = "max window (cost - rate*T)";
      line.simulated = r.worst_excess_tokens;
      line.expected = r.burst;
      line.low = -1e300;
      line.high = r.burst;
      line.tolerance = "<= burst, exact (" + std::to_string(r.calls) + " calls; worst window " +
                       std::to_string(r.worst_window_calls) + " calls)";
      line.pass = r.holds;
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace orchsim::fidelity
