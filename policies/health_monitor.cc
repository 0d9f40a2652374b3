#include "policies/health_monitor.h"

#include <algorithm>
#include <cmath>

namespace orchsim {
namespace {

// Latencies are clamped so that a sum over any realistic window fits int64.
constexpr Duration kMaxSampleLatency = Days(1);

bool IsFraction(double x) { return x > 0.0 && x <= 1.0; }

}  // namespace

Status HealthConfig::validate() const {
  const std::string p = "health.";
  if (window <= Duration::Zero()) {
    return FieldError(p + "window", FormatDuration(window), "must be > 0");
  }
  if (min_samples < 1) return FieldError(p + "min_samples", min_samples, "must be >= 1");
  if (!IsFraction(degraded_error_rate)) {
    return FieldError(p + "degraded_error_rate", degraded_error_rate, "must be in (0, 1]");
  }
  if (!IsFraction(unhealthy_error_rate)) {
    return FieldError(p + "unhealthy_error_rate", unhealthy_error_rate, "must be in (0, 1]");
  }
  if (unhealthy_error_rate < degraded_error_rate) {
    return FieldError(p + "unhealthy_error_rate", unhealthy_error_rate,
                      "must be >= degraded_error_rate (" + ShortestText(degraded_error_rate) + ")");
  }
  if (degraded_latency <= Duration::Zero()) {
    return FieldError(p + "degraded_latency", FormatDuration(degraded_latency), "must be > 0");
  }
  if (!(latency_percentile >= 0.0 && latency_percentile <= 100.0)) {
    return FieldError(p + "latency_percentile", latency_percentile,
                      "must be 0 (mean) or in (0, 100]");
  }
  if (active_probes) {
    if (probe_interval <= Duration::Zero()) {
      return FieldError(p + "probe_interval", FormatDuration(probe_interval), "must be > 0");
    }
    if (probe_endpoint.empty()) {
      return FieldError(p + "probe_endpoint", probe_endpoint,
                        "must not be empty when active_probes is on");
    }
  }
  return Status::Ok();
}

HealthMonitor::HealthMonitor(const HealthConfig& config) : config_(config) {}

void HealthMonitor::Evict(ApiHealth& h, Instant now) const {
  const Instant cutoff = now - config_.window;  // samples at or before it are out
  while (static_cast<int64_t>(h.samples.size()) > config_.min_samples &&
         h.samples.front().at <= cutoff) {
    const Sample& old = h.samples.front();
    if (!old.success) --h.failures;
    h.latency_sum_us -= old.latency.micros();
    h.samples.pop_front();
  }
}

HealthSnapshot HealthMonitor::Judge(const ApiHealth& h, Instant now) const {
  // The same rule as Evict, applied to running totals without touching them.
  const Instant cutoff = now - config_.window;
  int64_t n = static_cast<int64_t>(h.samples.size());
  int64_t failures = h.failures;
  int64_t latency_sum_us = h.latency_sum_us;
  size_t aged_out = 0;  // leading samples no longer in the evidence
  for (const Sample& s : h.samples) {
    if (n <= config_.min_samples || s.at > cutoff) break;
    --n;
    ++aged_out;
    if (!s.success) --failures;
    latency_sum_us -= s.latency.micros();
  }
  HealthSnapshot snap;
  snap.samples = n;
  snap.failures = failures;
  snap.mean_latency = n > 0 ? Duration::FromMicros(latency_sum_us / n) : Duration::Zero();
  const bool use_percentile = config_.latency_percentile > 0.0;
  if (use_percentile && n > 0) {
    snap.percentile_latency = PercentileLatency(h, aged_out, n);
  }
  if (n < config_.min_samples) return snap;  // not enough evidence yet: healthy
  const double samples = static_cast<double>(n);
  const double failed = static_cast<double>(failures);
  const int64_t limit_us = config_.degraded_latency.micros();
  bool slow = false;
  if (use_percentile) {
    slow = snap.percentile_latency.micros() > limit_us;
  } else {
    // Exact "sum / n > degraded_latency" without the overflow of multiplying.
    const int64_t mean_floor_us = latency_sum_us / n;
    slow = mean_floor_us > limit_us || (mean_floor_us == limit_us && latency_sum_us % n > 0);
  }
  if (failed >= config_.unhealthy_error_rate * samples) {
    snap.state = HealthState::kUnhealthy;
  } else if (failed >= config_.degraded_error_rate * samples || slow) {
    snap.state = HealthState::kDegraded;
  }
  return snap;
}

Duration HealthMonitor::PercentileLatency(const ApiHealth& h, size_t aged_out, int64_t n) const {
  std::vector<int64_t> latencies_us;
  latencies_us.reserve(static_cast<size_t>(n));
  for (size_t i = aged_out; i < h.samples.size(); ++i) {
    latencies_us.push_back(h.samples[i].latency.micros());
  }
  // Nearest rank: the ceil(p/100 * n)-th smallest, 1-based, kept in [1, n].
  const double exact_rank = config_.latency_percentile / 100.0 * static_cast<double>(n);
  int64_t rank = static_cast<int64_t>(std::ceil(exact_rank));
  rank = std::clamp<int64_t>(rank, 1, n);
  const auto nth = latencies_us.begin() + (rank - 1);
  std::nth_element(latencies_us.begin(), nth, latencies_us.end());
  return Duration::FromMicros(*nth);
}

void HealthMonitor::Report(const std::string& api, ApiHealth& h, Instant now) {
  const HealthState judged = Judge(h, now).state;
  if (judged == h.reported) return;
  const HealthState from = h.reported;
  h.reported = judged;
  if (listener_) listener_(api, from, judged, now);
}

void HealthMonitor::Record(const std::string& api, bool success, Duration latency, Instant now) {
  if (!config_.enabled) return;
  RecordIn(api, apis_[api], success, latency, now);
}

void HealthMonitor::Record(ApiRef& ref, const std::string& api, bool success, Duration latency,
                           Instant now) {
  if (!config_.enabled) return;
  if (ref.health == nullptr) {
    // std::map nodes never move, so the pointers stay valid.
    auto it = apis_.try_emplace(api).first;
    ref.name = &it->first;
    ref.health = &it->second;
  }
  RecordIn(*ref.name, *static_cast<ApiHealth*>(ref.health), success, latency, now);
}

void HealthMonitor::RecordIn(const std::string& api, ApiHealth& h, bool success, Duration latency,
                             Instant now) {
  const Duration clamped = std::clamp(latency, Duration::Zero(), kMaxSampleLatency);
  h.samples.push_back({now, clamped, success});
  if (!success) ++h.failures;
  h.latency_sum_us += clamped.micros();
  Evict(h, now);
  NoteEvictable(h);
  Report(api, h, now);
}

void HealthMonitor::NoteEvictable(const ApiHealth& h) {
  // Evict keeps min_samples however old they are.
  if (static_cast<int64_t>(h.samples.size()) > config_.min_samples) {
    evictable_from_ = std::min(evictable_from_, h.samples.front().at);
  }
}

void HealthMonitor::Refresh(Instant now) {
  if (!config_.enabled) return;
  // Evict drops only samples at or before now - window: none of any API
  // before the bound (the common case between bursts of traffic).
  if (evictable_from_ > now - config_.window) return;
  evictable_from_ = Instant::Max();  // recomputed below (and by a Record from a listener)
  for (auto& [api, h] : apis_) {
    const size_t before = h.samples.size();
    Evict(h, now);
    NoteEvictable(h);
    // Every change of the samples is followed by a Report, so `reported` is
    // the judgement of the samples as they are: with nothing aged out there
    // is nothing new to judge (and Refresh runs at every probe tick).
    if (h.samples.size() != before) Report(api, h, now);
  }
}

HealthSnapshot HealthMonitor::Snapshot(const std::string& api, Instant now) const {
  if (!config_.enabled) return HealthSnapshot{};
  auto it = apis_.find(api);
  if (it == apis_.end()) return HealthSnapshot{};
  return Judge(it->second, now);
}

HealthState HealthMonitor::state(const std::string& api) const {
  if (!config_.enabled) return HealthState::kHealthy;
  auto it = apis_.find(api);
  return it == apis_.end() ? HealthState::kHealthy : it->second.reported;
}

HealthState HealthMonitor::StateAt(const std::string& api, Instant now) const {
  if (!config_.enabled) return HealthState::kHealthy;
  auto it = apis_.find(api);
  if (it == apis_.end()) return HealthState::kHealthy;
  return StateOf(it->second, now);
}

HealthState HealthMonitor::StateOf(const ApiHealth& h, Instant now) const {
  // Nothing ages out by `now`: the evidence is what was judged last (see
  // Refresh), so its state is the one reported.
  const bool ages = static_cast<int64_t>(h.samples.size()) > config_.min_samples &&
                    h.samples.front().at <= now - config_.window;
  return ages ? Judge(h, now).state : h.reported;
}

bool HealthMonitor::ProbeDue(const std::string& api, Instant now) const {
  if (!config_.enabled || !config_.active_probes) return false;
  auto it = apis_.find(api);
  if (it == apis_.end()) return !config_.probe_only_when_unhealthy;  // unknown: healthy
  return ProbeDueFor(it->second, now);
}

bool HealthMonitor::ProbeDue(const ApiRef& ref, const std::string& api, Instant now) const {
  if (ref.health == nullptr) return ProbeDue(api, now);
  if (!config_.enabled || !config_.active_probes) return false;
  return ProbeDueFor(*static_cast<const ApiHealth*>(ref.health), now);
}

bool HealthMonitor::ProbeDueFor(const ApiHealth& h, Instant now) const {
  if (config_.probe_only_when_unhealthy && StateOf(h, now) == HealthState::kHealthy) return false;
  if (!h.probed) return true;
  return now >= h.last_probe_sent + config_.probe_interval;
}

void HealthMonitor::OnProbeSent(const std::string& api, Instant now) {
  if (!config_.enabled || !config_.active_probes) return;
  ApiHealth& h = apis_[api];
  h.probed = true;
  h.last_probe_sent = now;
  ++h.probes_sent;
}

uint64_t HealthMonitor::probes_sent(const std::string& api) const {
  auto it = apis_.find(api);
  return it == apis_.end() ? 0 : it->second.probes_sent;
}

std::vector<std::string> HealthMonitor::apis() const {
  std::vector<std::string> names;
  names.reserve(apis_.size());
  for (const auto& [api, h] : apis_) names.push_back(api);
  return names;
}

}  // namespace orchsim
