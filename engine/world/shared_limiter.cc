#include "engine/world/shared_limiter.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "engine/world/mock_upstream.h"

namespace orchsim::world {

SharedLimiter::SharedLimiter(kernel::Simulator& sim, const kernel::SeedTree& seeds,
                             SharedLimiterConfig config)
    : sim_(sim),
      config_(std::move(config)),
      rng_(seeds.Stream("fleet/shared_limiter")),
      empirical_(EmpiricalFor(config_.latency)),
      tokens_(config_.burst),
      refilled_at_(sim.now()) {}

double SharedLimiter::TokensNow() {
  const Instant now = sim_.now();
  if (now > refilled_at_) {
    const double seconds = static_cast<double>((now - refilled_at_).micros()) / 1e6;
    tokens_ = std::min(config_.burst, tokens_ + seconds * config_.rate_per_s);
    refilled_at_ = now;
  }
  return tokens_;
}

SharedLimiter::Verdict SharedLimiter::Ask() {
  ++counters_.asks;
  Verdict v;
  if (config_.failure_rate > 0.0 && rng_.Uniform01() < config_.failure_rate) {
    ++counters_.failures;
    v.failed = true;
    v.delay = config_.failure_latency;
    v.allowed = config_.fail_open;
    ++(v.allowed ? counters_.allowed : counters_.denied);
    v.retry_after = Seconds(1);
    return v;
  }
  v.delay = DrawFromLatency(config_.latency, rng_, empirical_, UpstreamHealth::kHealthy);
  const double tokens = TokensNow();
  if (tokens >= 1.0) {
    tokens_ = tokens - 1.0;
    v.allowed = true;
    ++counters_.allowed;
    return v;
  }
  const double wait_us = std::ceil((1.0 - tokens) / config_.rate_per_s * 1e6);
  const Duration wait = Duration::FromMicros(static_cast<int64_t>(wait_us));
  if (wait <= config_.max_wait) {
    tokens_ = tokens - 1.0;  // the token that comes after `wait` is this call's
    v.allowed = true;
    v.delay = std::max(v.delay, wait);  // leaves at its token, once the verdict is back
    ++counters_.allowed;
    ++counters_.reserved;
    return v;
  }
  ++counters_.denied;
  v.retry_after = wait;
  return v;
}

Transport::CallHandle LimitedTransport::Send(const UpstreamCall& call,
                                             ResponseCallback on_response) {
  const CallHandle handle = next_handle_++;
  Call& c = calls_[handle];
  c.on_response = std::move(on_response);
  c.call = call;
  c.sent = sim_.now();
  if (!limiter_.config().Covers(call.api)) {
    SendOn(handle);
    return handle;
  }
  const SharedLimiter::Verdict verdict = limiter_.Ask();
  c.timer = timers_.ScheduleAt(sim_.now() + verdict.delay,
                               [this, handle, verdict] { OnVerdict(handle, verdict); });
  return handle;
}

void LimitedTransport::OnVerdict(CallHandle handle, const SharedLimiter::Verdict& verdict) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  it->second.timer = 0;
  it->second.asked = sim_.now() - it->second.sent;
  if (verdict.allowed) {
    SendOn(handle);
    return;
  }
  Response denied;
  denied.status = limiter_.config().deny_status;
  denied.latency = it->second.asked;
  const int64_t seconds =
      std::max<int64_t>(1, (verdict.retry_after.micros() + 999'999) / 1'000'000);
  denied.headers.Set("Retry-After", std::to_string(seconds));
  CountStopped(it->second);
  Deliver(handle, std::move(denied));
}

void LimitedTransport::SendOn(CallHandle handle) {
  const UpstreamCall call = calls_.at(handle).call;
  const CallHandle inner = next_.Send(call, [this, handle](const Response& response) {
    auto it = calls_.find(handle);
    if (it == calls_.end()) return;
    Response r = response;
    r.latency += it->second.asked;
    Deliver(handle, std::move(r));
  });
  if (auto it = calls_.find(handle); it != calls_.end()) it->second.inner = inner;
}

void LimitedTransport::Deliver(CallHandle handle, Response response) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  ResponseCallback callback = std::move(it->second.on_response);
  calls_.erase(it);
  callback(response);
}

void LimitedTransport::CountStopped(const Call& call) {
  if (call.sent < count_from_) return;
  std::array<uint64_t, kCallKindCount>& counts = stopped_[call.call.api];
  ++counts[static_cast<size_t>(call.call.kind)];
}

void LimitedTransport::Cancel(CallHandle handle) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  Call& c = it->second;
  if (c.inner != 0) {
    next_.Cancel(c.inner);  // its 499 (or answer) comes back through SendOn's callback
    return;
  }
  if (c.cancelled || c.timer == 0) return;
  c.cancelled = true;
  timers_.Cancel(c.timer);
  c.timer = timers_.ScheduleAt(sim_.now(), [this, handle] {
    auto found = calls_.find(handle);
    if (found == calls_.end()) return;
    Response cancelled;
    cancelled.status = kStatusCancelled;
    cancelled.latency = sim_.now() - found->second.sent;
    CountStopped(found->second);
    Deliver(handle, std::move(cancelled));
  });
}

}  // namespace orchsim::world
