#include "policies/adaptive_concurrency.h"

#include <algorithm>
#include <cmath>

namespace orchsim {
namespace {

constexpr int64_t kWarmupSamples = 10;  // Netflix ExpAvgMeasurement's warm-up

}  // namespace

std::string_view ConcurrencyAlgorithmName(ConcurrencyAlgorithm a) {
  return a == ConcurrencyAlgorithm::kAimd ? "aimd" : "gradient2";
}

Status AdaptiveConcurrencyConfig::validate() const {
  const std::string p = "adaptive_concurrency.";
  if (min_limit < 1) return FieldError(p + "min_limit", min_limit, "must be >= 1");
  if (max_limit < min_limit || max_limit > 1000000) {
    return FieldError(p + "max_limit", max_limit, "must be in min_limit..1000000");
  }
  if (initial_limit < min_limit || initial_limit > max_limit) {
    return FieldError(p + "initial_limit", initial_limit, "must be in min_limit..max_limit");
  }
  if (latency_threshold <= Duration::Zero()) {
    return FieldError(p + "latency_threshold", FormatDuration(latency_threshold), "must be > 0");
  }
  if (!(backoff_ratio >= 0.5 && backoff_ratio < 1.0)) {
    return FieldError(p + "backoff_ratio", backoff_ratio, "must be in [0.5, 1)");
  }
  if (!(smoothing > 0.0 && smoothing <= 1.0)) {
    return FieldError(p + "smoothing", smoothing, "must be in (0, 1]");
  }
  if (!(rtt_tolerance >= 1.0 && std::isfinite(rtt_tolerance))) {
    return FieldError(p + "rtt_tolerance", rtt_tolerance, "must be >= 1");
  }
  if (long_window < 1) return FieldError(p + "long_window", long_window, "must be >= 1");
  if (queue_size < 0) return FieldError(p + "queue_size", queue_size, "must be >= 0");
  return Status::Ok();
}

AdaptiveConcurrency::AdaptiveConcurrency(const AdaptiveConcurrencyConfig& config)
    : config_(config), limit_(config.initial_limit) {}

void AdaptiveConcurrency::OnSample(Duration latency, bool dropped, int in_flight) {
  if (!config_.enabled) return;
  if (config_.algorithm == ConcurrencyAlgorithm::kAimd) {
    Aimd(latency, dropped, in_flight);
  } else {
    Gradient2(latency, in_flight);
  }
  limit_ = std::clamp(limit_, static_cast<double>(config_.min_limit),
                      static_cast<double>(config_.max_limit));
}

void AdaptiveConcurrency::Aimd(Duration latency, bool dropped, int in_flight) {
  if (dropped || latency > config_.latency_threshold) {
    limit_ *= config_.backoff_ratio;
  } else if (static_cast<double>(in_flight) * 2.0 >= limit_) {
    limit_ += 1.0;
  }
}

void AdaptiveConcurrency::Gradient2(Duration latency, int in_flight) {
  const double short_rtt = std::max(1.0, static_cast<double>(latency.micros()));
  ++samples_;
  if (samples_ <= kWarmupSamples) {
    long_rtt_us_ += (short_rtt - long_rtt_us_) / static_cast<double>(samples_);
  } else {
    const double factor = 2.0 / (static_cast<double>(config_.long_window) + 1.0);
    long_rtt_us_ = long_rtt_us_ * (1.0 - factor) + short_rtt * factor;
  }
  if (long_rtt_us_ / short_rtt > 2.0) long_rtt_us_ *= 0.95;
  if (static_cast<double>(in_flight) < limit_ / 2.0) return;  // app-limited
  const double gradient = std::clamp(config_.rtt_tolerance * long_rtt_us_ / short_rtt, 0.5, 1.0);
  const double target = limit_ * gradient + static_cast<double>(config_.queue_size);
  limit_ = limit_ * (1.0 - config_.smoothing) + target * config_.smoothing;
}

}  // namespace orchsim
