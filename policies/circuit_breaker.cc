#include "policies/circuit_breaker.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace orchsim {

Status CircuitBreakerConfig::validate() const {
  const std::string p = "breaker.";
  if (failure_threshold < 1) {
    return FieldError(p + "failure_threshold", failure_threshold, "must be >= 1");
  }
  if (!(failure_rate_threshold > 0.0 && failure_rate_threshold <= 1.0)) {
    return FieldError(p + "failure_rate_threshold", failure_rate_threshold, "must be in (0, 1]");
  }
  if (window <= Duration::Zero()) {
    return FieldError(p + "window", FormatDuration(window), "must be > 0");
  }
  if (minimum_calls < 1) {
    return FieldError(p + "minimum_calls", minimum_calls, "must be >= 1");
  }
  if (slow_call_threshold <= Duration::Zero()) {
    return FieldError(p + "slow_call_threshold", FormatDuration(slow_call_threshold),
                      "must be > 0");
  }
  if (open_wait <= Duration::Zero()) {
    return FieldError(p + "open_wait", FormatDuration(open_wait), "must be > 0");
  }
  if (!(open_wait_multiplier >= 1.0) || std::isinf(open_wait_multiplier)) {
    return FieldError(p + "open_wait_multiplier", open_wait_multiplier, "must be >= 1 and finite");
  }
  if (max_open_wait < open_wait) {
    return FieldError(p + "max_open_wait", FormatDuration(max_open_wait),
                      "must be >= open_wait (" + FormatDuration(open_wait) + ")");
  }
  if (half_open_permitted_calls < 1) {
    return FieldError(p + "half_open_permitted_calls", half_open_permitted_calls, "must be >= 1");
  }
  if (half_open_success_threshold < 1) {
    return FieldError(p + "half_open_success_threshold", half_open_success_threshold,
                      "must be >= 1");
  }
  for (size_t i = 0; i < failure_statuses.size(); ++i) {
    if (failure_statuses[i] < 100 || failure_statuses[i] > 599) {
      return FieldError(p + "failure_statuses[" + std::to_string(i) + "]", failure_statuses[i],
                        "must be an HTTP status in 100..599");
    }
  }
  return Status::Ok();
}

CircuitBreaker::CircuitBreaker(std::string name, const CircuitBreakerConfig& config)
    : name_(std::move(name)), config_(config), current_open_wait_(config.open_wait) {}

bool CircuitBreaker::IsFailure(int status, Duration latency) const {
  if (std::find(config_.failure_statuses.begin(), config_.failure_statuses.end(), status) !=
      config_.failure_statuses.end()) {
    return true;
  }
  return config_.slow_calls_are_failures && !config_.slow_call_threshold.is_infinite() &&
         latency > config_.slow_call_threshold;
}

bool CircuitBreaker::AllowRequest(Instant now) {
  if (!config_.enabled) return true;
  switch (state_) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      if (now < open_until_) return false;
      completed_open_time_ += open_until_ - opened_at_;
      half_open_since_ = now;
      half_open_in_flight_ = 0;
      half_open_successes_ = 0;
      MoveTo(BreakerState::kHalfOpen, now);
      [[fallthrough]];
    case BreakerState::kHalfOpen:
      if (half_open_in_flight_ >= config_.half_open_permitted_calls) return false;
      ++half_open_in_flight_;
      return true;
  }
  return false;
}

bool CircuitBreaker::WouldAllow(Instant now) const {
  if (!config_.enabled) return true;
  switch (state_) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      return now >= open_until_;  // a fresh half-open period has >= 1 permit
    case BreakerState::kHalfOpen:
      return half_open_in_flight_ < config_.half_open_permitted_calls;
  }
  return false;
}

void CircuitBreaker::RecordResult(int status, Duration latency, Instant now) {
  if (!config_.enabled) return;
  const bool failure = IsFailure(status, latency);
  switch (state_) {
    case BreakerState::kClosed:
      OnClosedResult(failure, now);
      return;
    case BreakerState::kOpen:
      return;  // a late answer to a call sent before the trip
    case BreakerState::kHalfOpen:
      OnHalfOpenResult(failure, latency, now);
      return;
  }
}

void CircuitBreaker::RecordCancelled(Instant /*now*/) {
  if (!config_.enabled) return;
  if (state_ == BreakerState::kHalfOpen && half_open_in_flight_ > 0) --half_open_in_flight_;
}

void CircuitBreaker::OnClosedResult(bool failure, Instant now) {
  if (config_.trigger == BreakerTrigger::kConsecutiveFailures) {
    consecutive_failures_ = failure ? consecutive_failures_ + 1 : 0;
    if (consecutive_failures_ >= config_.failure_threshold) Trip(now);
    return;
  }
  window_.push_back({now, failure});
  if (failure) ++window_failures_;
  const Instant oldest_kept_after = now - config_.window;
  while (!window_.empty() && window_.front().at <= oldest_kept_after) {
    if (window_.front().failure) --window_failures_;
    window_.pop_front();
  }
  const auto calls = static_cast<int64_t>(window_.size());
  if (calls >= config_.minimum_calls &&
      static_cast<double>(window_failures_) >=
          config_.failure_rate_threshold * static_cast<double>(calls)) {
    Trip(now);
  }
}

void CircuitBreaker::OnHalfOpenResult(bool failure, Duration latency, Instant now) {
  if (half_open_in_flight_ == 0) return;  // no probe out: not an answer to one
  // A call sent before the half-open period began is not a probe.
  if (!latency.is_infinite() && now - latency < half_open_since_) {
    return;
  }
  --half_open_in_flight_;
  if (failure) {
    Trip(now);
    return;
  }
  if (++half_open_successes_ >= config_.half_open_success_threshold) {
    current_open_wait_ = config_.open_wait;  // a close resets the backoff
    MoveTo(BreakerState::kClosed, now);
  }
}

Duration CircuitBreaker::GrownOpenWait() const {
  const double grown =
      static_cast<double>(current_open_wait_.micros()) * config_.open_wait_multiplier;
  if (grown >= static_cast<double>(config_.max_open_wait.micros())) return config_.max_open_wait;
  return Duration::FromMicros(std::llround(grown));
}

void CircuitBreaker::Trip(Instant now) {
  // Only a re-trip from HALF_OPEN backs off: reaching CLOSED reset the wait.
  current_open_wait_ = state_ == BreakerState::kHalfOpen ? GrownOpenWait() : config_.open_wait;
  opened_at_ = now;
  open_until_ = now + current_open_wait_;
  ++trips_;
  consecutive_failures_ = 0;
  window_.clear();
  window_failures_ = 0;
  half_open_in_flight_ = 0;
  half_open_successes_ = 0;
  MoveTo(BreakerState::kOpen, now);
}

void CircuitBreaker::MoveTo(BreakerState to, Instant now) {
  const BreakerState from = state_;
  state_ = to;
  if (to == BreakerState::kClosed) {
    consecutive_failures_ = 0;
    window_.clear();
    window_failures_ = 0;
  }
  if (listener_) listener_(BreakerTransition{name_, from, to, now});
}

Duration CircuitBreaker::time_open(Instant now) const {
  Duration total = completed_open_time_;
  if (state_ == BreakerState::kOpen && now > opened_at_) {
    total += std::min(now, open_until_) - opened_at_;
  }
  return total;
}

std::string BreakerName(std::string_view api) {
  std::string name;
  name.reserve(api.size());
  for (char c : api) {
    if (c == '%') {
      name += "%25";
    } else if (c == '/') {
      name += "%2F";
    } else {
      name += c;
    }
  }
  return name;
}

std::string BreakerName(std::string_view api, std::string_view endpoint) {
  std::string name = BreakerName(api);
  name += '/';
  name += endpoint;
  return name;
}

CircuitBreaker& BreakerRegistry::For(const std::string& key, const CircuitBreakerConfig& config) {
  auto it = breakers_.find(key);
  if (it == breakers_.end()) {
    it = breakers_.try_emplace(key, key, config).first;
    it->second.set_transition_listener(listener_);
  }
  return it->second;
}

const CircuitBreaker* BreakerRegistry::Find(const std::string& key) const {
  auto it = breakers_.find(key);
  return it == breakers_.end() ? nullptr : &it->second;
}

void BreakerRegistry::set_transition_listener(
    std::function<void(const BreakerTransition&)> listener) {
  listener_ = std::move(listener);
  for (auto& [key, breaker] : breakers_) breaker.set_transition_listener(listener_);
}

}  // namespace orchsim
