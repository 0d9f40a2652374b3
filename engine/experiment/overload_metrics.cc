#include "engine/experiment/overload_metrics.h"

#include <algorithm>
#include <utility>

#include "engine/experiment/metrics.h"

namespace orchsim::experiment {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

}  // namespace

bool IsGoodput(Outcome o) {
  return o == Outcome::kServed || o == Outcome::kCoalesced || o == Outcome::kCacheHit;
}

double RecoveryResult::recovery_s() const {
  if (!measured) return 0.0;
  if (!recovered) return kNeverRecovered;
  return static_cast<double>(recovery.micros()) / 1e6;
}

Duration OverloadMetrics::wasted_time() const {
  Duration total;
  for (const auto& [api, load] : upstreams) total += load.wasted_time;
  return total;
}

uint64_t OverloadMetrics::StoppedBeforeUpstream(const std::string& api, CallKind kind) const {
  auto it = limiter_stopped.find(api);
  return it == limiter_stopped.end() ? 0 : it->second[static_cast<size_t>(kind)];
}

uint64_t OverloadMetrics::capacity_refused() const {
  uint64_t total = 0;
  for (const auto& [api, load] : upstreams) total += load.refused;
  return total;
}

RecoveryResult ComputeRecovery(const std::vector<uint64_t>& goodput, Instant series_start,
                               Duration step, const scenario::OverloadConfig& config) {
  RecoveryResult r;
  if (!config.has_trigger || goodput.empty()) return r;
  r.measured = true;
  const int64_t step_us = step.micros();
  const double step_s = static_cast<double>(step_us) / 1e6;
  const auto n = static_cast<int64_t>(goodput.size());
  auto clamp = [n](int64_t b) { return std::clamp<int64_t>(b, 0, n); };
  // Buckets: the trigger covers [b_from, b_until); the reference the R before.
  const int64_t b_from = clamp(FloorDiv((config.trigger_from - series_start).micros(), step_us));
  const int64_t b_until = clamp(CeilDiv((config.trigger_until - series_start).micros(), step_us));
  const int64_t reference = std::max<int64_t>(1, config.recovery_reference.micros() / step_us);
  const int64_t smoothing = std::max<int64_t>(1, config.recovery_smoothing.micros() / step_us);
  const int64_t hold = std::max<int64_t>(1, config.recovery_hold.micros() / step_us);
  auto rate = [&](int64_t from, int64_t to) {  // mean goodput per second over [from, to)
    from = clamp(from);
    to = clamp(to);
    if (to <= from) return 0.0;
    uint64_t sum = 0;
    for (int64_t b = from; b < to; ++b) sum += goodput[static_cast<size_t>(b)];
    return static_cast<double>(sum) / (static_cast<double>(to - from) * step_s);
  };
  r.reference_per_s = rate(b_from - reference, b_from);
  r.during_per_s = rate(b_from, b_until);
  r.after_per_s = rate(b_until, n);
  const double level = config.recovery_threshold * r.reference_per_s;
  // A trailing sum of `smoothing` buckets, updated as b advances.
  uint64_t window = 0;
  const int64_t first = std::max<int64_t>(0, b_until - smoothing + 1);
  for (int64_t b = first; b < b_until; ++b) window += goodput[static_cast<size_t>(b)];
  int64_t run_start = b_until;
  for (int64_t b = b_until; b < n; ++b) {
    window += goodput[static_cast<size_t>(b)];
    if (b - smoothing >= first) window -= goodput[static_cast<size_t>(b - smoothing)];
    const int64_t width = std::min<int64_t>(smoothing, b + 1);
    const double g = static_cast<double>(window) / (static_cast<double>(width) * step_s);
    if (g < level) {
      run_start = b + 1;
      continue;
    }
    if (b - run_start + 1 >= hold) {
      r.recovered = true;
      const Instant at = series_start + Duration::FromMicros(run_start * step_us);
      r.recovery = std::max(Duration::Zero(), at - config.trigger_until);
      return r;
    }
  }
  return r;
}

// ---- OverloadRecorder ------------------------------------------------------

OverloadRecorder::OverloadRecorder(Instant start, Instant end, Duration step,
                                   std::vector<std::string> capacity_apis, Instant steady_from)
    : start_(start),
      end_(end),
      step_(step),
      apis_(std::move(capacity_apis)),
      steady_from_(steady_from),
      levels_(apis_.size(), Level{start, 0, 0}),
      max_waiting_(apis_.size(), 0) {
  const int64_t buckets = CeilDiv((end - start).micros(), step.micros());
  series_.resize(static_cast<size_t>(std::max<int64_t>(0, buckets)));
  for (OverloadBucket& b : series_) {
    b.waiting_us.assign(apis_.size(), 0.0);
    b.busy_us.assign(apis_.size(), 0.0);
  }
}

OverloadBucket* OverloadRecorder::BucketAt(Instant t) {
  if (t < start_ || t >= end_) return nullptr;
  const auto index = static_cast<size_t>((t - start_).micros() / step_.micros());
  return index < series_.size() ? &series_[index] : nullptr;
}

size_t OverloadRecorder::ApiIndex(const std::string& api) {
  for (size_t i = 0; i < apis_.size(); ++i) {
    if (apis_[i] == api) return i;
  }
  return apis_.size();
}

void OverloadRecorder::OnSubmitted(const Request&, Instant now) {
  if (OverloadBucket* b = BucketAt(now)) ++b->requests;
}

void OverloadRecorder::OnCompleted(const Request&, const Result& result, Instant now) {
  OverloadBucket* b = BucketAt(now);
  if (b == nullptr) return;
  if (IsGoodput(result.outcome)) ++b->goodput;
  if (IsClientFailure(result.outcome)) ++b->failures;
}

void OverloadRecorder::OnCallSent(const UpstreamCall& call, Instant now) {
  OverloadBucket* b = BucketAt(now);
  if (b == nullptr) return;
  ++b->calls;
  if (call.kind == CallKind::kRetry) ++b->retries;
  if (call.kind == CallKind::kHedge) ++b->hedges;
}

void OverloadRecorder::Integrate(size_t api, Instant to) {
  const Level& level = levels_[api];
  Instant from = std::max(level.since, start_);
  to = std::min(to, end_);
  if (to <= from || (level.waiting == 0 && level.busy == 0)) return;
  auto index = static_cast<size_t>((from - start_).micros() / step_.micros());
  while (from < to && index < series_.size()) {
    const Instant bucket_end =
        start_ + Duration::FromMicros(step_.micros() * static_cast<int64_t>(index + 1));
    const Instant until = std::min(to, bucket_end);
    const double dt = static_cast<double>((until - from).micros());
    series_[index].waiting_us[api] += static_cast<double>(level.waiting) * dt;
    series_[index].busy_us[api] += static_cast<double>(level.busy) * dt;
    from = until;
    ++index;
  }
}

void OverloadRecorder::OnLoad(const std::string& api, Instant at,
                              const world::ServerQueue::Load& load) {
  const size_t i = ApiIndex(api);
  if (i == apis_.size()) return;
  Integrate(i, at);
  levels_[i] = Level{at, load.waiting, load.busy};
  if (at >= steady_from_) max_waiting_[i] = std::max(max_waiting_[i], load.waiting);
}

void OverloadRecorder::OnServed(const std::string&, Instant at, Duration service, bool wasted,
                                bool) {
  if (!wasted) return;
  if (OverloadBucket* b = BucketAt(at)) b->wasted_us += static_cast<double>(service.micros());
}

void OverloadRecorder::OnRefused(const std::string&, Instant at) {
  if (OverloadBucket* b = BucketAt(at)) ++b->refused;
}

void OverloadRecorder::Finish() {
  for (size_t i = 0; i < apis_.size(); ++i) {
    Integrate(i, end_);
    levels_[i].since = std::max(levels_[i].since, end_);
  }
}

// ---- fleets ------------------------------------------------------------------

std::string DuplicateCallTracker::KeyOf(const UpstreamCall& call, const std::string& key) {
  std::string k;
  k.reserve(call.api.size() + call.endpoint.size() + key.size() + 2);
  k += call.api;
  k += '\n';
  k += call.endpoint;
  k += '\n';
  k += key;
  return k;
}

bool DuplicateCallTracker::OnSent(int replica, const UpstreamCall& call) {
  if (call.kind == CallKind::kProbe) return false;
  bool duplicate = false;
  for (const std::string& key : call.keys) {
    std::vector<uint32_t>& counts = in_flight_[KeyOf(call, key)];
    if (counts.empty()) counts.assign(static_cast<size_t>(replicas_), 0);
    for (int r = 0; r < replicas_; ++r) {
      if (r != replica && counts[static_cast<size_t>(r)] > 0) duplicate = true;
    }
    ++counts[static_cast<size_t>(replica)];
  }
  return duplicate;
}

void DuplicateCallTracker::OnAnswered(int replica, const UpstreamCall& call) {
  if (call.kind == CallKind::kProbe) return;
  for (const std::string& key : call.keys) {
    auto it = in_flight_.find(KeyOf(call, key));
    if (it == in_flight_.end()) continue;
    uint32_t& count = it->second[static_cast<size_t>(replica)];
    if (count > 0) --count;
    if (std::all_of(it->second.begin(), it->second.end(), [](uint32_t c) { return c == 0; })) {
      in_flight_.erase(it);
    }
  }
}

ReplicaTap::ReplicaTap(int replica, std::vector<OrchestratorObserver*> targets,
                       DuplicateCallTracker* duplicates, Instant steady_from)
    : replica_(replica),
      targets_(std::move(targets)),
      duplicates_(duplicates),
      steady_from_(steady_from) {}

UpstreamCall ReplicaTap::Renamed(const UpstreamCall& call) const {
  UpstreamCall renamed = call;
  renamed.call_id = (static_cast<uint64_t>(replica_) << 56) | call.call_id;
  return renamed;
}

void ReplicaTap::OnSubmitted(const Request& request, Instant now) {
  if (request.submitted_at >= steady_from_) ++metrics_.requests;
  for (OrchestratorObserver* o : targets_) o->OnSubmitted(request, now);
}

void ReplicaTap::OnCompleted(const Request& request, const Result& result, Instant now) {
  if (request.submitted_at >= steady_from_) {
    if (IsGoodput(result.outcome)) ++metrics_.goodput;
    if (IsClientFailure(result.outcome)) ++metrics_.client_failures;
  }
  for (OrchestratorObserver* o : targets_) o->OnCompleted(request, result, now);
}

void ReplicaTap::OnCallSent(const UpstreamCall& call, Instant now) {
  const bool duplicate = duplicates_ != nullptr && duplicates_->OnSent(replica_, call);
  if (now >= steady_from_) {
    ++metrics_.calls;
    if (call.kind == CallKind::kRetry) ++metrics_.retries;
    if (call.kind == CallKind::kHedge) ++metrics_.hedges;
    if (duplicate) ++metrics_.duplicate_calls;
  }
  const UpstreamCall renamed = Renamed(call);
  for (OrchestratorObserver* o : targets_) o->OnCallSent(renamed, now);
}

void ReplicaTap::OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                                Instant now) {
  if (duplicates_ != nullptr) duplicates_->OnAnswered(replica_, call);
  const UpstreamCall renamed = Renamed(call);
  for (OrchestratorObserver* o : targets_) o->OnCallAnswered(renamed, response, late, now);
}

void ReplicaTap::OnBreakerTransition(const BreakerTransition& transition) {
  BreakerTransition renamed = transition;
  renamed.breaker += "@r" + std::to_string(replica_);
  for (OrchestratorObserver* o : targets_) o->OnBreakerTransition(renamed);
}

void ReplicaTap::OnRetryScheduled(const Request& request, int attempt, Duration delay,
                                  Instant now) {
  for (OrchestratorObserver* o : targets_) o->OnRetryScheduled(request, attempt, delay, now);
}

void ReplicaTap::OnRetryBudgetDenied(const Request& request, Instant now) {
  for (OrchestratorObserver* o : targets_) o->OnRetryBudgetDenied(request, now);
}

void ReplicaTap::OnHealthChanged(const std::string& api, HealthState from, HealthState to,
                                 Instant now) {
  for (OrchestratorObserver* o : targets_) o->OnHealthChanged(api, from, to, now);
}

}  // namespace orchsim::experiment
