#include "engine/experiment/metrics.h"

#include <utility>

namespace orchsim::experiment {
namespace {

bool IsClientFailure(Outcome o) {
  switch (o) {
    case Outcome::kServed:
    case Outcome::kCacheHit:
    case Outcome::kCoalesced:
    case Outcome::kServedStale:
      return false;
    default:
      return true;
  }
}

}  // namespace

uint64_t VariantMetrics::client_failures() const {
  uint64_t failures = 0;
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (IsClientFailure(static_cast<Outcome>(i))) failures += outcomes[i];
  }
  return failures;
}

MetricsRecorder::MetricsRecorder(Instant start, Duration bucket_width,
                                 VersionLookup current_version)
    : current_version_(std::move(current_version)) {
  metrics_.start = start;
  metrics_.bucket_width = bucket_width;
}

TimeBucket& MetricsRecorder::BucketAt(Instant t) {
  const int64_t offset = (t - metrics_.start).micros();
  const size_t index =
      offset <= 0 ? 0 : static_cast<size_t>(offset / metrics_.bucket_width.micros());
  if (metrics_.timeline.size() <= index) metrics_.timeline.resize(index + 1);
  return metrics_.timeline[index];
}

void MetricsRecorder::OnSubmitted(const Request& request, Instant now) {
  ++metrics_.submitted;
  ++metrics_.requests_by_priority[PriorityIndex(request.priority)];
  ++BucketAt(now).requests;
}

void MetricsRecorder::OnCompleted(const Request& request, const Result& result, Instant now) {
  ++metrics_.completed;
  ++metrics_.outcomes[static_cast<int>(result.outcome)];
  metrics_.wait_by_priority[PriorityIndex(request.priority)].Record(result.queue_wait);
  if (IsClientFailure(result.outcome)) {
    ++BucketAt(now).client_failures;
    return;
  }
  ++metrics_.answered_with_data;
  metrics_.data_age.Record(now - result.fetched_at);
  if (current_version_ && result.payload_version < current_version_(request, now)) {
    ++metrics_.answered_outdated;
  }
}

void MetricsRecorder::OnCallSent(const UpstreamCall& call, Instant now) {
  ApiCallMetrics& api = metrics_.apis[call.api];
  ++api.calls;
  ++api.calls_by_kind[static_cast<int>(call.kind)];
  ++metrics_.upstream_calls;
  ++metrics_.calls_by_kind[static_cast<int>(call.kind)];
  ++BucketAt(now).upstream_calls;
}

void MetricsRecorder::OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                                     Instant now) {
  ApiCallMetrics& api = metrics_.apis[call.api];
  ++api.statuses[response.status];
  if (late) ++api.late_answers;
  api.credits += response.credits_charged;
  metrics_.credits += response.credits_charged;
  BucketAt(now).credits += response.credits_charged;
}

void MetricsRecorder::OnBreakerTransition(const BreakerTransition& t) {
  if (t.to == BreakerState::kOpen) ++metrics_.breaker_trips;
  if (t.from == BreakerState::kClosed && t.to != BreakerState::kClosed) {
    open_since_[t.breaker] = t.at;
  } else if (t.to == BreakerState::kClosed) {
    auto it = open_since_.find(t.breaker);
    if (it != open_since_.end()) {
      metrics_.breaker_open_time += t.at - it->second;
      open_since_.erase(it);
    }
  }
}

void MetricsRecorder::OnRetryScheduled(const Request&, int, Duration, Instant) {
  ++metrics_.retries;
}

void MetricsRecorder::OnRetryBudgetDenied(const Request&, Instant) {
  ++metrics_.retry_budget_denied;
}

void MetricsRecorder::OnHealthChanged(const std::string&, HealthState, HealthState, Instant) {
  ++metrics_.health_changes;
}

void MetricsRecorder::Finish(Instant end) {
  for (const auto& [breaker, since] : open_since_) metrics_.breaker_open_time += end - since;
  open_since_.clear();
}

}  // namespace orchsim::experiment
