#include "engine/experiment/metrics.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace orchsim::experiment {

uint64_t RequestAccounting::failed_without_call_total() const {
  uint64_t total = 0;
  for (uint64_t n : failed_without_call) total += n;
  return total;
}

CallBalance BalanceOf(const RequestAccounting& a,
                      const std::array<uint64_t, kCallKindCount>& calls_by_kind) {
  CallBalance b;
  b.requests = a.requests;
  b.served_without_call = a.served_without_call();
  b.failed_without_call = a.failed_without_call_total();
  b.added = calls_by_kind[static_cast<int>(CallKind::kRetry)] +
            calls_by_kind[static_cast<int>(CallKind::kHedge)] +
            calls_by_kind[static_cast<int>(CallKind::kProbe)] +
            calls_by_kind[static_cast<int>(CallKind::kPrefetch)];
  for (uint64_t n : calls_by_kind) b.calls += n;
  b.other = static_cast<int64_t>(b.calls) -
            (static_cast<int64_t>(b.requests) - static_cast<int64_t>(b.served_without_call) -
             static_cast<int64_t>(b.failed_without_call) + static_cast<int64_t>(b.added));
  return b;
}

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

std::string MonthOf(Instant t) {
  const int64_t us = t.unix_micros();
  const int64_t day_us = Days(1).micros();
  const int64_t days = us >= 0 ? us / day_us : -((-us + day_us - 1) / day_us);
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(days, &year, &month, &day);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02u", static_cast<long long>(year), month);
  return buffer;
}

uint64_t VariantMetrics::client_failures() const {
  uint64_t failures = 0;
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (IsClientFailure(static_cast<Outcome>(i))) failures += outcomes[i];
  }
  return failures;
}

MetricsRecorder::MetricsRecorder(Instant start, Duration bucket_width,
                                 VersionLookup current_version, Instant steady_from)
    : current_version_(std::move(current_version)), steady_from_(steady_from) {
  const int64_t day_us = Days(1).micros();
  const int64_t us = start.unix_micros();
  const int64_t floored = us >= 0 ? us - us % day_us : us - (day_us + us % day_us) % day_us;
  metrics_.start = Instant::FromUnixMicros(floored);
  metrics_.steady_from = std::max(start, steady_from);
  metrics_.bucket_width = bucket_width;
}

size_t MetricsRecorder::BucketIndex(Instant t) const {
  const int64_t offset = (t - metrics_.start).micros();
  return offset <= 0 ? 0 : static_cast<size_t>(offset / metrics_.bucket_width.micros());
}

TimeBucket& MetricsRecorder::BucketAt(Instant t) {
  const size_t index = BucketIndex(t);
  if (index > latest_index_) {
    latest_index_ = index;
    SpillClosedHours(index);
  }
  return metrics_.timeline.Mutable(index);
}

void MetricsRecorder::SpillClosedHours(size_t now_index) {
  size_t closed_before = now_index;
  for (const auto& [call_id, sent] : sent_at_) {
    closed_before = std::min(closed_before, BucketIndex(sent));
  }
  metrics_.timeline.SpillBefore(closed_before);
}

const std::string& MetricsRecorder::MonthName(Instant t) {
  if (t < month_from_ || t >= month_until_) {
    month_name_ = MonthOf(t);
    // The UTC month around t: MonthOf is the same for every instant in it.
    const int64_t day_us = Days(1).micros();
    const int64_t us = t.unix_micros();
    const int64_t days = us >= 0 ? us / day_us : -((-us + day_us - 1) / day_us);
    int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    CivilFromDays(days, &year, &month, &day);
    const int64_t first = DaysFromCivil(year, month, 1);
    const int64_t next =
        month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, month + 1, 1);
    month_from_ = Instant::FromUnixMicros(first * day_us);
    month_until_ = Instant::FromUnixMicros(next * day_us);
  }
  return month_name_;
}

ApiCallMetrics& MetricsRecorder::ApiMetrics(const std::string& api) {
  if (last_api_ == nullptr || api != last_api_name_) {
    last_api_ = &metrics_.apis[api];  // map nodes do not move
    last_api_name_ = api;
  }
  return *last_api_;
}

void MetricsRecorder::OnSubmitted(const Request& request, Instant now) {
  ++BucketAt(now).requests;
  if (InWarmup(request.submitted_at)) return;
  ++metrics_.submitted;
  ++metrics_.requests_by_priority[PriorityIndex(request.priority)];
  ++metrics_.accounting.requests;
  ++ApiMetrics(request.api).accounting.requests;
}

void MetricsRecorder::OnCompleted(const Request& request, const Result& result, Instant now) {
  VariantMetrics& m = metrics_;
  TimeBucket& bucket = BucketAt(now);
  const Duration latency = now - request.submitted_at;
  ++bucket.completed;
  bucket.wait_sum_us += result.queue_wait.micros();
  bucket.wait_max_us = std::max(bucket.wait_max_us, result.queue_wait.micros());
  bucket.latency_sum_us += latency.micros();
  bucket.latency_max_us = std::max(bucket.latency_max_us, latency.micros());
  const bool failure = IsClientFailure(result.outcome);
  if (result.outcome == Outcome::kCacheHit) ++bucket.cache_hits;
  if (result.outcome == Outcome::kCoalesced) ++bucket.coalesced;
  if (failure) ++bucket.client_failures;
  // Requests submitted during the warm-up end in the time series only.
  const bool counted = !InWarmup(request.submitted_at);
  if (counted) {
    ApiCallMetrics& api = ApiMetrics(request.api);
    ++m.completed;
    ++m.outcomes[static_cast<int>(result.outcome)];
    ++api.outcomes[static_cast<int>(result.outcome)];
    const int priority = PriorityIndex(request.priority);
    m.wait_by_priority[priority].Record(result.queue_wait);
    if (result.queue_wait > Duration::Zero()) ++m.waited_by_priority[priority];
    m.latency_by_priority[priority].Record(latency);
    m.latency.Record(latency);
    api.latency.Record(latency);
    // The call balance: what ended without an upstream call of its own.
    const bool no_attempt = result.attempts == 0;
    for (RequestAccounting* a : {&m.accounting, &api.accounting}) {
      switch (result.outcome) {
        case Outcome::kCacheHit:
          ++a->cache_hits;
          break;
        case Outcome::kCoalesced:
          ++a->coalesced;
          break;
        case Outcome::kServedStale:
          if (no_attempt) ++a->stale_without_call;
          break;
        default:
          if (failure && no_attempt) ++a->failed_without_call[static_cast<int>(result.outcome)];
          break;
      }
    }
  }
  if (failure) return;
  const uint64_t current = current_version_ ? current_version_(request, now) : 0;
  const uint64_t behind = current > result.payload_version ? current - result.payload_version : 0;
  ++bucket.answered_with_data;
  if (behind > 0) ++bucket.outdated;
  if (!counted) return;
  ++m.answered_with_data;
  m.data_age.Record(now - result.fetched_at);
  m.versions_behind.RecordValue(static_cast<int64_t>(behind));
  if (behind > 0) ++m.answered_outdated;
}

void MetricsRecorder::OnCallSent(const UpstreamCall& call, Instant now) {
  TimeBucket& bucket = BucketAt(now);
  ++bucket.upstream_calls;
  if (call.kind == CallKind::kRetry) ++bucket.retry_calls;
  sent_at_[call.call_id] = now;
  if (InWarmup(now)) return;
  ApiCallMetrics& api = ApiMetrics(call.api);
  const int kind = static_cast<int>(call.kind);
  ++api.calls;
  ++api.calls_by_kind[kind];
  ++metrics_.upstream_calls;
  ++metrics_.calls_by_kind[kind];
  if (call.kind == CallKind::kBatch && call.keys.size() > 1) {
    metrics_.accounting.batched_keys += call.keys.size() - 1;
    api.accounting.batched_keys += call.keys.size() - 1;
  }
  // Breaker keys are only built while some breaker is HALF_OPEN (rare).
  if (half_open_breakers_ > 0) {
    for (const std::string& key : {call.api, call.api + "/" + call.endpoint}) {
      auto it = breaker_states_.find(key);
      if (it != breaker_states_.end() && it->second.state == BreakerState::kHalfOpen) {
        ++metrics_.breakers[key].half_open_calls;
        ++metrics_.half_open_calls;
      }
    }
  }
}

void MetricsRecorder::OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                                     Instant now) {
  // Credits belong to the instant the upstream counted them: when sent.
  Instant sent = now;
  auto it = sent_at_.find(call.call_id);
  if (it != sent_at_.end()) {
    sent = it->second;
    sent_at_.erase(it);
  }
  const double credits = response.credits_charged;
  if (credits != 0.0) {
    TimeBucket& bucket = BucketAt(sent);
    bucket.credits += credits;
    bucket.credits_by_api[call.api] += credits;
  }
  if (InWarmup(sent)) return;
  ApiCallMetrics& api = ApiMetrics(call.api);
  ++api.statuses[response.status];
  if (late) ++api.late_answers;
  if (credits == 0.0) return;
  api.credits += credits;
  api.credits_by_month[MonthName(sent)] += credits;
  metrics_.credits += credits;
}

void MetricsRecorder::CloseInterval(const std::string& breaker, BreakerTrack& s, Instant at) {
  // Only the part after the warm-up counts.
  const Instant from = std::max(s.since, metrics_.steady_from);
  s.since = at;
  if (at <= from) return;
  BreakerMetrics& b = metrics_.breakers[breaker];
  const Duration spent = at - from;
  if (s.state == BreakerState::kOpen) b.open_time += spent;
  if (s.state == BreakerState::kHalfOpen) b.half_open_time += spent;
  if (s.state != BreakerState::kClosed) metrics_.breaker_open_time += spent;
}

void MetricsRecorder::OnBreakerTransition(const BreakerTransition& t) {
  BreakerTrack& track = breaker_states_[t.breaker];
  CloseInterval(t.breaker, track, t.at);
  if (track.state == BreakerState::kHalfOpen) --half_open_breakers_;
  if (t.to == BreakerState::kHalfOpen) ++half_open_breakers_;
  track.state = t.to;
  if (t.to == BreakerState::kOpen) ++BucketAt(t.at).breaker_trips;
  if (InWarmup(t.at)) return;
  BreakerMetrics& b = metrics_.breakers[t.breaker];
  if (t.to == BreakerState::kOpen) {
    ++b.trips;
    ++metrics_.breaker_trips;
  }
  if (metrics_.breaker_transitions.size() < kMaxBreakerTransitions) {
    metrics_.breaker_transitions.push_back(t);
  } else {
    ++metrics_.breaker_transitions_dropped;
  }
}

void MetricsRecorder::OnRetryScheduled(const Request&, int, Duration, Instant now) {
  if (!InWarmup(now)) ++metrics_.retries;
}

void MetricsRecorder::OnRetryBudgetDenied(const Request&, Instant now) {
  ++BucketAt(now).retry_budget_denied;
  if (!InWarmup(now)) ++metrics_.retry_budget_denied;
}

void MetricsRecorder::OnHealthChanged(const std::string&, HealthState, HealthState, Instant now) {
  if (!InWarmup(now)) ++metrics_.health_changes;
}

void MetricsRecorder::OnQuota(const std::string& api, Instant at, double used, bool refused) {
  QuotaSample sample;
  sample.peak_used = used;
  sample.last_used = used;
  sample.last_at_us = at.unix_micros();
  sample.refused = refused ? 1 : 0;
  auto& quotas = BucketAt(at).quota_by_api;
  auto [it, inserted] = quotas.emplace(api, sample);
  if (!inserted) it->second.Add(sample);
}

void MetricsRecorder::Finish(Instant end) {
  for (auto& [breaker, track] : breaker_states_) CloseInterval(breaker, track, end);
}

}  // namespace orchsim::experiment
