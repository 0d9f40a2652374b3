#include "engine/world/mock_upstream.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "policies/exact_round.h"

namespace orchsim::world {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr double kMicrosPerHour = 3.6e9;

// Whole seconds, rounded up; a positive delay is at least 1 second.
int64_t CeilSeconds(Duration d) {
  if (d <= Duration::Zero()) return 0;
  return (d.micros() + kMicrosPerSecond - 1) / kMicrosPerSecond;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Integral credits print as integers ("500"), others with up to 6 decimals.
std::string FormatCredits(double credits) {
  if (std::floor(credits) == credits && std::fabs(credits) < 1e15) {
    return std::to_string(static_cast<int64_t>(credits));
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6f", credits);
  std::string s(buffer);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string FloorCredits(double credits) {
  return std::to_string(static_cast<int64_t>(std::floor(std::max(0.0, credits))));
}

Duration RoundMicros(double us) {
  if (!(us > 0.0)) return Duration::Zero();
  if (us >= 9.0e18) return Duration::Infinite();
  return Duration::FromMicros(std::llround(us));
}

}  // namespace

// ---- HealthTimeline --------------------------------------------------------

HealthTimeline::HealthTimeline(const HealthModelConfig& config, kernel::Rng rng, Instant origin)
    : config_(config), rng_(rng) {
  if (!config_.enabled) {
    spans_.push_back({UpstreamHealth::kHealthy, origin, Instant::Max()});
    return;
  }
  spans_.push_back(
      {UpstreamHealth::kHealthy, origin, origin + DrawSojourn(UpstreamHealth::kHealthy)});
}

Duration HealthTimeline::DrawSojourn(UpstreamHealth state) {
  Duration mean = config_.mean_healthy;
  if (state == UpstreamHealth::kDegraded) mean = config_.mean_degraded;
  if (state == UpstreamHealth::kDown) mean = config_.mean_down;
  const double us = rng_.Exponential(static_cast<double>(mean.micros()));
  return Duration::FromMicros(std::max<int64_t>(1, std::llround(us)));
}

UpstreamHealth HealthTimeline::NextState(UpstreamHealth from, double u) const {
  switch (from) {
    case UpstreamHealth::kHealthy:
      return u < config_.healthy_to_down ? UpstreamHealth::kDown : UpstreamHealth::kDegraded;
    case UpstreamHealth::kDegraded:
      return u < config_.degraded_to_down ? UpstreamHealth::kDown : UpstreamHealth::kHealthy;
    case UpstreamHealth::kDown:
      return u < config_.down_to_degraded ? UpstreamHealth::kDegraded : UpstreamHealth::kHealthy;
  }
  return UpstreamHealth::kHealthy;
}

void HealthTimeline::ExtendPast(Instant t) {
  // Disabled timelines end at Instant::Max(), so this never loops for them.
  while (spans_.back().end <= t) {
    const UpstreamHealth next = NextState(spans_.back().state, rng_.Uniform01());
    const Instant start = spans_.back().end;
    spans_.push_back({next, start, start + DrawSojourn(next)});
  }
}

UpstreamHealth HealthTimeline::StateAt(Instant t) {
  if (t < spans_.front().start) return UpstreamHealth::kHealthy;
  ExtendPast(t);
  // The last span whose start is <= t.
  auto it = std::upper_bound(spans_.begin(), spans_.end(), t,
                             [](Instant x, const HealthSpan& s) { return x < s.start; });
  return std::prev(it)->state;
}

const std::vector<HealthSpan>& HealthTimeline::SpansUntil(Instant t) {
  ExtendPast(t);
  return spans_;
}

Duration HealthTimeline::TimeIn(UpstreamHealth state, Instant from, Instant to) {
  if (to <= from) return Duration::Zero();
  ExtendPast(to);
  Duration total;
  for (const HealthSpan& s : spans_) {
    if (s.state != state) continue;
    const Instant a = std::max(s.start, from);
    const Instant b = std::min(s.end, to);
    if (a < b) total += b - a;
  }
  return total;
}

// ---- counters --------------------------------------------------------------

CapacityListener::~CapacityListener() = default;

uint64_t UpstreamCounters::StatusCount(int status) const {
  auto it = status_counts.find(status);
  return it == status_counts.end() ? 0 : it->second;
}

// ---- MockUpstream ----------------------------------------------------------

namespace {
const UpstreamModelConfig& Validated(const UpstreamModelConfig& config) {
  if (Status s = config.validate(); !s.ok()) throw std::invalid_argument(s.ToString());
  return config;
}
}  // namespace

Duration DrawFromLatency(const LatencyConfig& c, kernel::Rng& rng,
                         const std::optional<kernel::Empirical>& empirical, UpstreamHealth health) {
  double us = 0.0;
  switch (c.kind) {
    case LatencyKind::kConstant:
      us = static_cast<double>(c.constant.micros());
      break;
    case LatencyKind::kUniform:
      us = rng.Uniform(static_cast<double>(c.min.micros()), static_cast<double>(c.max.micros()));
      break;
    case LatencyKind::kExponential:
      us = rng.Exponential(static_cast<double>(c.mean.micros()));
      break;
    case LatencyKind::kLognormal:
      us = rng.LognormalMedianP99(static_cast<double>(c.median.micros()),
                                  static_cast<double>(c.p99.micros()));
      break;
    case LatencyKind::kEmpirical:
      us = empirical->Sample(rng);
      break;
  }
  if (health == UpstreamHealth::kDegraded) us *= c.degraded_factor;
  return RoundMicros(us);
}

std::optional<kernel::Empirical> EmpiricalFor(const LatencyConfig& c) {
  if (c.kind != LatencyKind::kEmpirical) return std::nullopt;
  std::vector<kernel::Empirical::Row> rows;
  for (const LatencyRow& r : c.table) {
    rows.push_back({static_cast<double>(r.latency.micros()), r.weight});
  }
  return kernel::Empirical(std::move(rows), c.empirical_interpolate);
}

MockUpstream::MockUpstream(kernel::Simulator& sim, const kernel::SeedTree& seeds,
                           UpstreamModelConfig config)
    : sim_(sim),
      config_(Validated(config)),
      origin_(sim.now()),
      call_rng_(seeds.Stream("upstream/" + config_.name + "/calls")),
      data_seed_(seeds.SeedFor("upstream/" + config_.name + "/data")),
      empirical_(EmpiricalFor(config_.latency)),
      service_rng_(seeds.Stream("upstream/" + config_.name + "/service")),
      health_(config_.health, seeds.Stream("upstream/" + config_.name + "/health"), origin_),
      deliveries_(sim) {
  RollQuotaPeriod(origin_);
  if (config_.capacity.enabled) {
    const CapacityConfig& c = config_.capacity;
    service_empirical_ = EmpiricalFor(c.service);
    servers_ = std::make_unique<ServerQueue>(sim_, c.servers, c.queue_limit, c.discipline,
                                             c.drop_expired, c.changes);
    servers_->SetLoadListener([this](Instant at, const ServerQueue::Load& load) {
      if (capacity_listener_ != nullptr) capacity_listener_->OnLoad(config_.name, at, load);
    });
  }
}

void MockUpstream::Send(const UpstreamCall& call, Transport::ResponseCallback on_response) {
  if (has_capacity()) {
    auto callback = std::make_shared<Transport::ResponseCallback>(std::move(on_response));
    Submit(
        call,
        [this, callback](Instant at, Response response) {
          deliveries_.ScheduleAt(
              std::max(at, sim_.now()),
              [callback, response = std::move(response)] { (*callback)(response); });
        },
        [] { return true; });
    return;
  }
  Response response = Process(call);
  const Instant at = sim_.now() + response.latency;
  deliveries_.ScheduleAt(at, [callback = std::move(on_response), response = std::move(response)] {
    callback(response);
  });
}

Duration MockUpstream::DrawLatency(UpstreamHealth health) {
  return DrawFromLatency(config_.latency, call_rng_, empirical_, health);
}

Duration MockUpstream::DrawService(UpstreamHealth health) {
  return DrawFromLatency(config_.capacity.service, service_rng_, service_empirical_, health);
}

UpstreamHealth MockUpstream::HealthAt(Instant t) {
  for (const HealthWindow& w : config_.health_windows) {
    if (w.start <= t && t < w.end) return w.state;
  }
  return health_.StateAt(t);
}

const OutageWindow* MockUpstream::OutageAt(Instant t) const {
  for (const OutageWindow& w : config_.outages) {
    if (w.start <= t && t < w.end) return &w;
  }
  return nullptr;
}

std::optional<Duration> MockUpstream::RateLimitDelay(Instant now) {
  const RateLimitConfig& c = config_.rate_limit;
  if (!c.enabled) return std::nullopt;
  const int64_t window_us = c.window.micros();
  if (c.kind == RateLimitWindow::kFixed) {
    const int64_t index = FloorDiv(now.unix_micros(), window_us);
    if (index != fixed_window_index_) {
      fixed_window_index_ = index;
      fixed_window_count_ = 0;
    }
    if (fixed_window_count_ >= c.max_calls) {
      return Instant::FromUnixMicros((index + 1) * window_us) - now;
    }
    ++fixed_window_count_;
    return std::nullopt;
  }
  while (!sliding_admitted_.empty() && sliding_admitted_.front() + c.window <= now) {
    sliding_admitted_.pop_front();
  }
  if (static_cast<int64_t>(sliding_admitted_.size()) >= c.max_calls) {
    return sliding_admitted_.front() + c.window - now;
  }
  sliding_admitted_.push_back(now);
  return std::nullopt;
}

void MockUpstream::RollQuotaPeriod(Instant now) {
  const QuotaConfig& q = config_.quota;
  if (q.period == QuotaPeriod::kRollingWindow) {
    while (!rolling_charges_.empty() && rolling_charges_.front().at + q.rolling_window <= now) {
      rolling_used_ -= rolling_charges_.front().credits;
      rolling_charges_.pop_front();
    }
    if (rolling_charges_.empty()) rolling_used_ = 0.0;  // no drift from subtraction
    return;
  }
  if (period_start_ <= now && now < period_end_) return;
  std::tie(period_start_, period_end_) = q.PeriodAt(now);
  period_used_ = 0.0;
}

double MockUpstream::QuotaUsed(Instant now) {
  RollQuotaPeriod(now);
  return config_.quota.period == QuotaPeriod::kRollingWindow ? rolling_used_ : period_used_;
}

double MockUpstream::QuotaRemaining(Instant now) {
  return std::max(0.0, config_.quota.limit - QuotaUsed(now));
}

Instant MockUpstream::QuotaResetAt(Instant now) {
  RollQuotaPeriod(now);
  if (config_.quota.period != QuotaPeriod::kRollingWindow) return period_end_;
  if (rolling_charges_.empty()) return now + config_.quota.rolling_window;
  return rolling_charges_.front().at + config_.quota.rolling_window;
}

double MockUpstream::CheapestCall() const {
  double cheapest = config_.quota.default_credits;
  for (const auto& [endpoint, credits] : config_.quota.credits_per_endpoint) {
    cheapest = std::min(cheapest, credits);
  }
  return cheapest;
}

void MockUpstream::NoteExhaustion(Instant now, double needed) {
  const QuotaConfig& q = config_.quota;
  const double remaining = q.limit - QuotaUsed(now);
  auto exhausted = [&](double left) { return left <= 0.0 || left < needed; };
  if (!exhausted(remaining)) return;
  if (exhausted_from_ && now < exhausted_until_) return;  // inside a known interval
  // No call is admitted while exhausted, so the interval's end is known now.
  Instant until = period_end_;
  if (q.period == QuotaPeriod::kRollingWindow) {
    double freed = 0.0;
    until = now + q.rolling_window;
    for (const Charge& c : rolling_charges_) {
      freed += c.credits;
      if (!exhausted(remaining + freed)) {
        until = c.at + q.rolling_window;
        break;
      }
    }
  }
  if (exhausted_from_) exhausted_closed_total_ += exhausted_until_ - *exhausted_from_;
  exhausted_from_ = now;
  exhausted_until_ = until;
}

void MockUpstream::ChargeQuota(Instant now, double credits) {
  const QuotaConfig& q = config_.quota;
  RollQuotaPeriod(now);
  if (q.period == QuotaPeriod::kRollingWindow) {
    rolling_charges_.push_back({now, credits});
    rolling_used_ += credits;
  } else {
    period_used_ += credits;
  }
  NoteExhaustion(now, CheapestCall());
  if (quota_observer_) quota_observer_(now, QuotaUsed(now), false);
}

Duration MockUpstream::QuotaExhaustedTime(Instant now) const {
  Duration total = exhausted_closed_total_;
  if (exhausted_from_ && now > *exhausted_from_) {
    total += std::min(now, exhausted_until_) - *exhausted_from_;
  }
  return total;
}

void MockUpstream::AddQuotaHeaders(Instant now, double charged, bool exhausted,
                                   Response* response) {
  const QuotaConfig& q = config_.quota;
  if (!q.enabled || q.header_style == QuotaHeaderStyle::kNone) return;
  const double used = QuotaUsed(now);
  const double remaining = exhausted ? 0.0 : QuotaRemaining(now);
  const Instant reset = QuotaResetAt(now);
  Headers& h = response->headers;
  switch (q.header_style) {
    case QuotaHeaderStyle::kNone:
      break;
    case QuotaHeaderStyle::kOddsApi:
      h.Set("x-requests-remaining", FormatCredits(remaining));
      h.Set("x-requests-used", FormatCredits(used));
      h.Set("x-requests-last", FormatCredits(charged));
      break;
    case QuotaHeaderStyle::kGithub:
      h.Set("x-ratelimit-limit", FloorCredits(q.limit));
      h.Set("x-ratelimit-remaining", FloorCredits(remaining));
      h.Set("x-ratelimit-used", FloorCredits(used));
      // Epoch seconds, rounded up so a client waiting until then is not early.
      h.Set("x-ratelimit-reset", std::to_string(CeilSeconds(reset - Instant::Epoch())));
      break;
    case QuotaHeaderStyle::kIetf: {
      Duration window = q.rolling_window;
      if (q.period != QuotaPeriod::kRollingWindow) window = period_end_ - period_start_;
      const int64_t seconds_to_reset = CeilSeconds(reset - now);
      h.Set("RateLimit",
            "\"default\";r=" + FloorCredits(remaining) + ";t=" + std::to_string(seconds_to_reset));
      h.Set("RateLimit-Policy",
            "\"default\";q=" + FloorCredits(q.limit) + ";w=" + std::to_string(CeilSeconds(window)));
      if (exhausted) h.Set("Retry-After", std::to_string(seconds_to_reset));
      break;
    }
  }
}

void MockUpstream::CountCall(const UpstreamCall& call) {
  ++counters_.calls;
  ++counters_.calls_by_kind[static_cast<int>(call.kind)];
  ++counters_.calls_by_endpoint[call.endpoint];
  counters_.keys_requested += call.keys.size();
}

bool MockUpstream::Gateway(const UpstreamCall& call, Instant now, UpstreamHealth health,
                           Response* r) {
  auto finish = [&](int status) {
    r->status = status;
    ++counters_.status_counts[status];
    return true;
  };
  // 1. scheduled outage.
  if (const OutageWindow* outage = OutageAt(now)) {
    ++counters_.outage_answers;
    r->latency = DrawLatency(health);
    return finish(outage->status);
  }
  // 2. health state down.
  if (health == UpstreamHealth::kDown) {
    ++counters_.down_answers;
    r->latency = config_.health.down_status == kStatusTransportError
                     ? config_.failures.timeout_latency
                     : DrawLatency(health);
    return finish(config_.health.down_status);
  }
  // 3. server-side rate limit.
  if (std::optional<Duration> wait = RateLimitDelay(now)) {
    ++counters_.rate_limited;
    r->latency = DrawLatency(health);
    r->headers.Set("Retry-After", std::to_string(std::max<int64_t>(1, CeilSeconds(*wait))));
    AddQuotaHeaders(now, 0.0, false, r);
    return finish(429);
  }
  // 4. batch capacity.
  const bool too_many_keys =
      config_.batch.enabled && static_cast<int64_t>(call.keys.size()) > config_.batch.max_keys;
  if (call.keys.empty() || too_many_keys) {
    ++counters_.batch_rejected;
    r->latency = DrawLatency(health);
    AddQuotaHeaders(now, 0.0, false, r);
    return finish(400);
  }
  return false;
}

std::optional<Duration> MockUpstream::Serve(const UpstreamCall& call, Instant now,
                                            UpstreamHealth health, bool queued, Response* r) {
  auto finish = [&](int status) {
    r->status = status;
    ++counters_.status_counts[status];
  };
  auto latency = [&] { return queued ? DrawService(health) : DrawLatency(health); };
  // 5. quota.
  const QuotaConfig& q = config_.quota;
  const double cost = q.enabled ? q.CreditsFor(call.endpoint, call.keys.size()) : 0.0;
  if (q.enabled && cost > QuotaRemaining(now)) {
    ++counters_.quota_rejected;
    NoteExhaustion(now, cost);
    if (quota_observer_) quota_observer_(now, QuotaUsed(now), true);
    r->latency = queued ? Duration::Zero() : DrawLatency(health);
    AddQuotaHeaders(now, 0.0, true, r);
    finish(q.exhausted_status != 0 ? q.exhausted_status
                                   : DefaultQuotaExhaustedStatus(q.header_style));
    if (queued) return std::nullopt;  // refused without work
    return r->latency;
  }
  // 6. injected errors.
  if (config_.failures.enabled && config_.failures.rates.Sum() > 0.0) {
    const ErrorRates& rates = config_.failures.rates;
    double scale =
        health == UpstreamHealth::kDegraded ? config_.failures.degraded_error_factor : 1.0;
    if (rates.Sum() * scale > 1.0) scale = 1.0 / rates.Sum();
    const double u = call_rng_.Uniform01();
    double edge = rates.timeout * scale;
    int status = 0;
    if (u < edge) {
      status = kStatusTransportError;
    } else if (u < (edge += rates.status_500 * scale)) {
      status = 500;
    } else if (u < (edge += rates.status_502 * scale)) {
      status = 502;
    } else if (u < (edge += rates.status_503 * scale)) {
      status = 503;
    }
    if (status == kStatusTransportError) {
      ++counters_.injected_errors;
      ++counters_.timeouts;
      r->latency = config_.failures.timeout_latency;
      if (q.enabled && q.charge == QuotaCharge::kAll && cost > 0.0) {
        ChargeQuota(now, cost);  // the server did the work; the client never heard
        r->credits_charged = cost;
        counters_.credits_charged += cost;
      }
      finish(status);
      // With capacity the server works on it (the answer is lost).
      return queued ? DrawService(health) : r->latency;
    }
    if (status != 0) {
      ++counters_.injected_errors;
      r->latency = latency();
      // With charge "all" an admitted call costs whatever its answer.
      const double charged = q.enabled && q.charge == QuotaCharge::kAll ? cost : 0.0;
      if (charged > 0.0) ChargeQuota(now, charged);
      r->credits_charged = charged;
      counters_.credits_charged += charged;
      AddQuotaHeaders(now, charged, false, r);
      finish(status);
      return r->latency;
    }
  }
  // 7. success.
  r->latency = latency();
  if (q.enabled && cost > 0.0) ChargeQuota(now, cost);
  r->credits_charged = cost;
  counters_.credits_charged += cost;
  r->payload_versions.reserve(call.keys.size());
  r->bodies.reserve(call.keys.size());
  for (const std::string& key : call.keys) {
    const uint64_t version = PayloadVersionAt(key, now);
    r->payload_versions.push_back(version);
    r->bodies.push_back(BodyFor(call.endpoint, key, version));
  }
  AddQuotaHeaders(now, cost, false, r);
  finish(200);
  return r->latency;
}

Response MockUpstream::Process(const UpstreamCall& call) {
  const Instant now = sim_.now();
  CountCall(call);
  Response r;
  const UpstreamHealth health = HealthAt(now);
  if (Gateway(call, now, health, &r)) return r;
  Serve(call, now, health, /*queued=*/false, &r);
  return r;
}

// A call with capacity between its arrival and its answer.
struct MockUpstream::PendingCall {
  UpstreamCall call;
  Deliver deliver;
  Awaited awaited;
  Instant arrived;
  Response response;
};

void MockUpstream::Submit(const UpstreamCall& call, Deliver deliver, Awaited awaited) {
  const Instant now = sim_.now();
  if (!has_capacity()) {
    Response response = Process(call);
    const Instant at = now + response.latency;
    deliver(at, std::move(response));
    return;
  }
  CountCall(call);
  Response r;
  if (Gateway(call, now, HealthAt(now), &r)) {
    const Instant at = now + r.latency;
    deliver(at, std::move(r));
    return;
  }
  auto pending = std::make_shared<PendingCall>();
  pending->call = call;
  pending->deliver = std::move(deliver);
  pending->awaited = std::move(awaited);
  pending->arrived = now;
  ServerQueue::Job job;
  job.deadline = call.deadline;
  job.start = [this, pending](Instant start) -> std::optional<Duration> {
    const std::optional<Duration> work =
        Serve(pending->call, start, HealthAt(start), /*queued=*/true, &pending->response);
    if (!work) {
      pending->response.latency = start - pending->arrived;
      pending->deliver(start, std::move(pending->response));
    }
    return work;
  };
  job.finish = [this, pending](Instant end, Duration service) {
    FinishService(*pending, end, service);
  };
  job.drop = [this, pending](Instant at) {
    ++counters_.expired_dropped;
    ++counters_.status_counts[503];
    Response dropped;
    dropped.status = 503;
    dropped.latency = at - pending->arrived;
    pending->deliver(at, std::move(dropped));
  };
  if (servers_->Offer(std::move(job))) return;
  const CapacityConfig& c = config_.capacity;
  ++counters_.capacity_refused;
  ++counters_.status_counts[c.full_status];
  r.status = c.full_status;
  r.latency = c.full_latency;
  if (c.full_retry_after > Duration::Zero()) {
    r.headers.Set("Retry-After", std::to_string(CeilSeconds(c.full_retry_after)));
  }
  if (capacity_listener_ != nullptr) capacity_listener_->OnRefused(config_.name, now);
  pending->deliver(now + r.latency, std::move(r));
}

void MockUpstream::FinishService(PendingCall& pending, Instant end, Duration service) {
  const bool wasted = !pending.awaited() || end > pending.call.deadline;
  const bool good = !wasted && pending.response.ok();
  ++counters_.served;
  counters_.busy_time += service;
  if (wasted) {
    ++counters_.wasted;
    counters_.wasted_time += service;
  }
  if (good) ++counters_.goodput;
  if (capacity_listener_ != nullptr) {
    capacity_listener_->OnServed(config_.name, end, service, wasted, good);
  }
  Instant at = end;
  if (pending.response.status == kStatusTransportError) {
    at = std::max(end, pending.arrived + config_.failures.timeout_latency);
  }
  pending.response.latency = at - pending.arrived;
  pending.deliver(at, std::move(pending.response));
}

// ---- data versions -----------------------------------------------------------

BodyPtr MockUpstream::BodyFor(const std::string& endpoint, const std::string& key,
                              uint64_t version) const {
  // JSON-escaping is not needed for the mock's own data: keys and endpoints
  // come from the scenario and are echoed only as far as they are safe.
  // One reservation and bulk appends (a body is made for every key answered).
  static constexpr std::string_view kApi = "{\"api\":\"";
  static constexpr std::string_view kEndpoint = "\",\"endpoint\":\"";
  static constexpr std::string_view kKey = "\",\"key\":\"";
  static constexpr std::string_view kVersion = "\",\"version\":";
  char digits[24];
  const auto [digits_end, error] = std::to_chars(digits, digits + sizeof(digits), version);
  (void)error;  // 24 chars hold any uint64_t
  std::string bytes;
  bytes.reserve(kApi.size() + config_.name.size() + kEndpoint.size() + endpoint.size() +
                kKey.size() + key.size() + kVersion.size() +
                static_cast<size_t>(digits_end - digits) + 1);
  auto append_safe = [&bytes](const std::string& text) {
    const size_t from = bytes.size();
    bytes += text;
    for (size_t i = from; i < bytes.size(); ++i) {
      const char c = bytes[i];
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) bytes[i] = '_';
    }
  };
  bytes += kApi;
  append_safe(config_.name);
  bytes += kEndpoint;
  append_safe(endpoint);
  bytes += kKey;
  append_safe(key);
  bytes += kVersion;
  bytes.append(digits, digits_end);
  bytes += '}';
  return MakeBody("application/json", std::move(bytes));
}

void MockUpstream::AddKickoff(const std::string& key, Instant kickoff) {
  book_.reset();
  book_family_ = nullptr;
  kickoffs_[key].push_back(kickoff);
  ForgetData(key);  // recomputed from the origin with the new schedule
}

void MockUpstream::ForgetData(const std::string& key) {
  auto it = data_.find(key);
  if (it == data_.end()) return;
  recency_.erase(it->second.recency);
  data_.erase(it);
}

Instant MockUpstream::DataProcessStart(const std::vector<Instant>& sorted_kickoffs) const {
  if (sorted_kickoffs.empty()) return origin_;
  const Instant lead = sorted_kickoffs.front() - config_.data.pregame_window - kDataProcessLead;
  return std::max(origin_, lead);
}

MockUpstream::KeyData& MockUpstream::DataFor(const std::string& key) {
  auto it = data_.find(key);
  if (it != data_.end()) {
    recency_.splice(recency_.begin(), recency_, it->second.recency);  // most recent
    return it->second.data;
  }
  KeyData data = NewKeyData(key);
  // Make room: drop the least recently asked key (recomputed if asked again).
  while (data_.size() >= max_keys_with_data_ && !recency_.empty()) {
    data_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(key);
  return data_.emplace(key, KeyEntry{std::move(data), recency_.begin()}).first->second.data;
}

MockUpstream::KeyData MockUpstream::NewKeyData(const std::string& key) const {
  KeyData data{kernel::Rng(kernel::SplitMix64(data_seed_ ^ kernel::Fnv1a64(key))),
               {},
               1,
               origin_,
               origin_,
               Instant::Max(),
               0.0,
               {},
               0};
  if (auto k = kickoffs_.find(key); k != kickoffs_.end()) data.kickoffs = k->second;
  if (kickoff_lookup_) {
    std::vector<Instant> more = kickoff_lookup_(key);
    data.kickoffs.insert(data.kickoffs.end(), more.begin(), more.end());
  }
  std::sort(data.kickoffs.begin(), data.kickoffs.end());
  data.start = DataProcessStart(data.kickoffs);
  data.at = data.start;
  if (config_.data.enabled) BuildRateSegments(data);
  data.next_change = config_.data.enabled ? NextDataChange(data, data.start) : Instant::Max();
  return data;
}

double MockUpstream::DataRatePerHour(const KeyData& data, Instant t) const {
  const DataChangeConfig& c = config_.data;
  bool pregame = false;
  for (Instant k : data.kickoffs) {
    if (k <= t && t < k + c.game_duration) return c.live_per_hour;
    if (k - c.pregame_window <= t && t < k) pregame = true;
  }
  return pregame ? c.pregame_per_hour : c.base_per_hour;
}

Instant MockUpstream::NextRateBoundary(const KeyData& data, Instant t) const {
  const DataChangeConfig& c = config_.data;
  Instant next = Instant::Max();
  for (Instant k : data.kickoffs) {
    for (Instant b : {k - c.pregame_window, k, k + c.game_duration}) {
      if (b > t && b < next) next = b;
    }
  }
  return next;
}

void MockUpstream::BuildRateSegments(KeyData& data) const {
  // The rate changes only at these instants, so it is constant from each to
  // the next: its value there is the value on the whole piece.
  std::vector<Instant> boundaries;
  boundaries.reserve(data.kickoffs.size() * 3);
  const DataChangeConfig& c = config_.data;
  for (Instant k : data.kickoffs) {
    for (Instant b : {k - c.pregame_window, k, k + c.game_duration}) boundaries.push_back(b);
  }
  std::sort(boundaries.begin(), boundaries.end());
  boundaries.erase(std::unique(boundaries.begin(), boundaries.end()), boundaries.end());
  data.segments.clear();
  data.segments.reserve(boundaries.size());
  for (Instant b : boundaries) data.segments.push_back({b, DataRatePerHour(data, b)});
  // Before the first boundary (without kickoffs: always) the base rate holds.
  data.rate_before = config_.data.base_per_hour;
  data.segment = 0;
}

Instant MockUpstream::NextDataChange(KeyData& data, Instant from) {
  // Time rescaling of a piecewise-constant-rate Poisson process: one Exp(1)
  // budget spent across the rate segments after `from`. The rate and the
  // next boundary come from data.segments: the same values DataRatePerHour
  // and NextRateBoundary give at `cursor`.
  double budget = data.rng.Exponential(1.0);
  Instant cursor = from;
  const std::vector<RateSegment>& segments = data.segments;
  size_t next = data.segment;  // the first segment starting after `cursor`
  if (next > 0 && segments[next - 1].from > cursor) next = 0;  // moved back: search anew
  while (next < segments.size() && segments[next].from <= cursor) ++next;
  data.segment = next;
  while (true) {
    const double rate = next == 0 ? data.rate_before : segments[next - 1].rate_per_hour;
    const Instant boundary = next < segments.size() ? segments[next].from : Instant::Max();
    const double segment_us = boundary == Instant::Max()
                                  ? std::numeric_limits<double>::infinity()
                                  : static_cast<double>((boundary - cursor).micros());
    if (rate > 0.0) {
      const double need_us = budget / rate * kMicrosPerHour;
      if (need_us < segment_us) {
        const int64_t step = std::max<int64_t>(1, RoundToInt64(need_us));
        const Instant at = cursor + Duration::FromMicros(step);
        return at <= from ? from + Microseconds(1) : at;
      }
      budget -= rate * segment_us / kMicrosPerHour;
    }
    if (boundary == Instant::Max()) return Instant::Max();
    cursor = boundary;
    ++next;
  }
}

// A key's process for the book: the changes NewKeyData and NextDataChange
// give, one by one.
class MockUpstream::BookProcess final : public ChangeProcess {
 public:
  explicit BookProcess(KeyData data) : data_(std::move(data)) {}
  Instant Next() override {
    const Instant change = data_.next_change;
    if (change != Instant::Max()) data_.next_change = NextDataChange(data_, change);
    return change;
  }

 private:
  KeyData data_;
};

void MockUpstream::ShareDataChanges(std::shared_ptr<DataChangeBook> book,
                                    const std::string& schedule_tag) {
  book_ = std::move(book);
  book_family_ = nullptr;
  if (!book_) return;
  // Everything a key's versions depend on besides the key and the kickoffs.
  const DataChangeConfig& d = config_.data;
  auto exact = [](double x) { return std::to_string(std::bit_cast<uint64_t>(x)); };
  std::string fingerprint = config_.name;
  for (const std::string& part :
       {std::to_string(data_seed_), std::to_string(origin_.unix_micros()), exact(d.base_per_hour),
        exact(d.pregame_per_hour), std::to_string(d.pregame_window.micros()),
        exact(d.live_per_hour), std::to_string(d.game_duration.micros()), schedule_tag}) {
    fingerprint += '\n';
    fingerprint += part;
  }
  book_family_ = &book_->FamilyFor(fingerprint);
}

uint64_t MockUpstream::PayloadVersionAt(const std::string& key, Instant t) {
  // Without data changes every version is 1: nothing to keep per key.
  if (t < origin_ || !config_.data.enabled) return 1;
  if (book_family_ != nullptr) {
    const std::optional<uint64_t> changes = book_->ChangesThrough(
        *book_family_, key, t, [&] { return std::make_unique<BookProcess>(NewKeyData(key)); });
    if (changes) return 1 + *changes;
    // The book is full: drawn here, as without one (the same versions).
  }
  KeyData* data = &DataFor(key);
  if (t < data->start) return 1;
  if (t < data->at) {
    ForgetData(key);  // asked about the past: recompute from the origin
    data = &DataFor(key);
  }
  while (data->next_change <= t) {
    ++data->version;
    data->next_change = NextDataChange(*data, data->next_change);
  }
  if (t > data->at) data->at = t;
  return data->version;
}

}  // namespace orchsim::world
