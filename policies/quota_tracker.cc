#include "policies/quota_tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace orchsim {
namespace {

// GCC and Clang spell a 128-bit integer this way without a -Wpedantic warning.
__extension__ typedef __int128 Int128;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr double kMinAimdRate = 1e-6;  // one call per ~11.6 days
constexpr double kMaxAimdRate = 1e6;   // one call per microsecond

constexpr std::string_view kModeNames[] = {"off", "pace", "aimd"};

int64_t SaturatingAdd(int64_t a, int64_t b) { return a > kInt64Max - b ? kInt64Max : a + b; }

// Floor division for a positive divisor.
int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

std::string_view QuotaModeName(QuotaMode mode) {
  const int index = static_cast<int>(mode);
  return index >= 0 && index < 3 ? kModeNames[index] : std::string_view("unknown");
}

std::optional<QuotaMode> ParseQuotaMode(std::string_view name) {
  for (int i = 0; i < 3; ++i) {
    if (kModeNames[i] == name) return static_cast<QuotaMode>(i);
  }
  return std::nullopt;
}

Status QuotaConfig::validate() const {
  const int mode_index = static_cast<int>(mode);
  if (mode_index < 0 || mode_index > 2) {
    return FieldError("quota.mode", mode_index, "is not one of off (0), pace (1), aimd (2)");
  }
  if (!(critical_floor >= 0 && critical_floor <= kMaxCredits)) {
    return FieldError("quota.critical_floor", critical_floor, "must be >= 0 and <= 9.2e15 credits");
  }
  if (max_retry_after <= Duration::Zero()) {
    return FieldError("quota.max_retry_after", FormatDuration(max_retry_after), "must be > 0");
  }
  if (assumed_period < Duration::Zero()) {
    return FieldError("quota.assumed_period", FormatDuration(assumed_period),
                      "must be >= 0 (0: no assumed reset)");
  }
  if (unknown_reset_recheck <= Duration::Zero()) {
    return FieldError("quota.unknown_reset_recheck", FormatDuration(unknown_reset_recheck),
                      "must be > 0");
  }
  if (max_reset_horizon <= Duration::Zero()) {
    return FieldError("quota.max_reset_horizon", FormatDuration(max_reset_horizon), "must be > 0");
  }
  if (!std::isfinite(aimd_min_rate_per_s) || aimd_min_rate_per_s < kMinAimdRate) {
    return FieldError("quota.aimd_min_rate_per_s", aimd_min_rate_per_s,
                      "must be >= 1e-6 calls per second");
  }
  if (!std::isfinite(aimd_max_rate_per_s) || aimd_max_rate_per_s < aimd_min_rate_per_s ||
      aimd_max_rate_per_s > kMaxAimdRate) {
    return FieldError("quota.aimd_max_rate_per_s", aimd_max_rate_per_s,
                      "must be >= aimd_min_rate_per_s (" + ShortestText(aimd_min_rate_per_s) +
                          ") and <= 1e6 calls per second");
  }
  if (!std::isfinite(aimd_initial_rate_per_s) || aimd_initial_rate_per_s < aimd_min_rate_per_s ||
      aimd_initial_rate_per_s > aimd_max_rate_per_s) {
    return FieldError("quota.aimd_initial_rate_per_s", aimd_initial_rate_per_s,
                      "must be in [aimd_min_rate_per_s, aimd_max_rate_per_s]");
  }
  if (!std::isfinite(aimd_additive_increase_per_s) || aimd_additive_increase_per_s < 0) {
    return FieldError("quota.aimd_additive_increase_per_s", aimd_additive_increase_per_s,
                      "must be >= 0 calls per second");
  }
  if (!std::isfinite(aimd_multiplicative_decrease) || aimd_multiplicative_decrease <= 0 ||
      aimd_multiplicative_decrease >= 1) {
    return FieldError("quota.aimd_multiplicative_decrease", aimd_multiplicative_decrease,
                      "must be in (0, 1)");
  }
  if (aimd_window <= Duration::Zero()) {
    return FieldError("quota.aimd_window", FormatDuration(aimd_window), "must be > 0");
  }
  return Status::Ok();
}

QuotaTracker::QuotaTracker(const QuotaConfig& config)
    : config_(config),
      critical_floor_milli_(ToMilliCredits(config.critical_floor)),
      aimd_rate_per_s_(
          std::clamp(config.aimd_initial_rate_per_s, config.aimd_min_rate_per_s,
                     std::max(config.aimd_min_rate_per_s, config.aimd_max_rate_per_s))) {}

std::optional<Instant> QuotaTracker::NextAssumedReset(Instant now) const {
  if (config_.assumed_period <= Duration::Zero() || !period_anchor_) return std::nullopt;
  const int64_t period = config_.assumed_period.micros();
  const int64_t k = FloorDiv((now - *period_anchor_).micros(), period) + 1;
  const Int128 boundary =
      static_cast<Int128>(period_anchor_->unix_micros()) + static_cast<Int128>(k) * period;
  if (boundary >= static_cast<Int128>(kInt64Max)) return Instant::Max();
  return Instant::FromUnixMicros(static_cast<int64_t>(boundary));
}

void QuotaTracker::ApplyResets(State& state, Instant now) const {
  if (!state.reset_at || now < *state.reset_at) return;
  // A reset that restores nothing (a reported limit of 0) must not refuse
  // forever: with no call sent, no answer would ever correct it. The next
  // answer's headers say what the quota really is.
  state.remaining = state.limit && *state.limit > 0 ? state.limit : std::nullopt;
  if (state.used) state.used = 0;
  state.reset_at = state.reset_assumed ? NextAssumedReset(now) : std::nullopt;
  if (!state.reset_at) state.reset_assumed = false;
}

bool QuotaTracker::QuotaRunsLow(Instant now) const {
  if (!state_.remaining || !state_.reset_at || *state_.reset_at <= now) return false;
  const int64_t spendable = *state_.remaining - critical_floor_milli_;
  if (spendable <= 0) return true;
  const double cost = state_.last && *state_.last > 0 ? static_cast<double>(*state_.last)
                                                      : static_cast<double>(kMilliPerCredit);
  const double seconds_to_reset = static_cast<double>((*state_.reset_at - now).micros()) /
                                  static_cast<double>(kMicrosPerSecond);
  return aimd_rate_per_s_ * seconds_to_reset * cost > static_cast<double>(spendable);
}

void QuotaTracker::AdjustAimdRate(const Response& response, Instant now) {
  const Duration window = config_.aimd_window;
  if (response.status == 429 || QuotaRunsLow(now)) {
    if (aimd_decreased_at_ && now - *aimd_decreased_at_ < window) return;
    aimd_rate_per_s_ = std::max(config_.aimd_min_rate_per_s,
                                aimd_rate_per_s_ * config_.aimd_multiplicative_decrease);
    aimd_decreased_at_ = now;
    aimd_changed_at_ = now;
    return;
  }
  if (!response.ok()) return;
  if (!aimd_changed_at_) {
    aimd_changed_at_ = now;  // the first success opens the first window
    return;
  }
  if (now - *aimd_changed_at_ < window) return;
  aimd_rate_per_s_ = std::min(config_.aimd_max_rate_per_s,
                              aimd_rate_per_s_ + config_.aimd_additive_increase_per_s);
  aimd_changed_at_ = now;
}

Duration QuotaTracker::AimdInterval() const {
  return Duration::FromMicros(
      static_cast<int64_t>(std::ceil(static_cast<double>(kMicrosPerSecond) / aimd_rate_per_s_)));
}

void QuotaTracker::Observe(const Response& response, Instant now, Instant wall_now) {
  if (!config_.enabled) return;
  // Wall instants from the outside world, on the monotonic timeline.
  const Duration wall_to_mono = now - wall_now;
  if (!period_anchor_ && config_.assumed_period_start) {
    period_anchor_ = *config_.assumed_period_start + wall_to_mono;
  }
  ApplyResets(state_, now);

  QuotaHeaders obs = ParseQuotaHeaders(response.headers, wall_now, config_.max_reset_horizon);
  bad_header_values_ += obs.bad_values;
  if (obs.limit) {
    state_.limit = obs.limit;
  } else if (obs.remaining && state_.limit && *obs.remaining > *state_.limit) {
    state_.limit.reset();  // the limit from an earlier response no longer holds
  }
  if (obs.remaining) {
    state_.remaining = obs.remaining;
    state_.remaining_seen_at = now;
  }
  if (obs.used) state_.used = obs.used;
  if (obs.last) state_.last = obs.last;

  if (obs.reset_at) {
    state_.reset_at = *obs.reset_at + wall_to_mono;
    state_.reset_assumed = false;
  } else if (obs.remaining) {
    const bool header_reset_pending =
        state_.reset_at && !state_.reset_assumed && *state_.reset_at > now;
    if (!header_reset_pending) {
      if (!period_anchor_) period_anchor_ = now;
      state_.reset_at = NextAssumedReset(now);
      state_.reset_assumed = state_.reset_at.has_value();
    }
  }

  if (obs.retry_after) {
    const Duration delay = std::min(*obs.retry_after - wall_now, config_.max_retry_after);
    const Instant retry_at = now + delay;
    blocked_until_ = blocked_until_ ? std::max(*blocked_until_, retry_at) : retry_at;
    // Retry-After takes precedence over the quota headers' reset.
    if (obs.remaining && *obs.remaining == 0) {
      state_.reset_at = retry_at;
      state_.reset_assumed = false;
    }
  }

  if (config_.mode == QuotaMode::kAimd) AdjustAimdRate(response, now);
}

QuotaAdmission QuotaTracker::Check(Priority p, double credits_requested, Instant now) const {
  QuotaAdmission admission{true, now, false};
  if (!config_.enabled || config_.mode == QuotaMode::kOff) return admission;
  const int64_t credits = ToMilliCredits(credits_requested);
  State state = state_;
  ApplyResets(state, now);

  Instant retry_at = now;
  auto refuse = [&](Instant until) {
    admission.allowed = false;
    retry_at = std::max(retry_at, until);
  };
  if (blocked_until_ && now < *blocked_until_) refuse(*blocked_until_);
  if (state.remaining) {
    const int64_t floor = p == Priority::kCritical ? 0 : critical_floor_milli_;
    if (*state.remaining <= 0 || *state.remaining - credits < floor) {
      admission.exhausted = true;
      // With no reset known, look again a while after the last headers
      // rather than never (a lockout no response could lift).
      const Instant recheck =
          state.remaining_seen_at ? *state.remaining_seen_at + config_.unknown_reset_recheck : now;
      if (state.reset_at) {
        refuse(*state.reset_at);
      } else if (now < recheck) {
        refuse(recheck);
      }
    }
  }
  if (p != Priority::kCritical) {
    if (config_.mode == QuotaMode::kPace && paced_send_at_ && now < *paced_send_at_) {
      refuse(*paced_send_at_);
    }
    if (config_.mode == QuotaMode::kAimd && last_send_at_) {
      const Instant next = *last_send_at_ + AimdInterval();
      if (now < next) refuse(next);
    }
  }
  admission.retry_at = retry_at;
  return admission;
}

void QuotaTracker::OnSent(Priority p, double credits_sent, Instant now) {
  if (!config_.enabled) return;
  const int64_t credits = ToMilliCredits(credits_sent);
  ApplyResets(state_, now);
  if (p != Priority::kCritical) {
    last_send_at_ = now;
    if (config_.mode == QuotaMode::kPace && state_.remaining && state_.reset_at &&
        *state_.reset_at > now) {
      const int64_t spendable = *state_.remaining - critical_floor_milli_;
      if (spendable > 0) {
        const Int128 until_reset = (*state_.reset_at - now).micros();
        const Int128 interval =
            (static_cast<Int128>(credits) * until_reset + spendable - 1) / spendable;  // ceil
        const Instant base = paced_send_at_ ? std::max(now, *paced_send_at_) : now;
        // The schedule never runs past the reset: a new period starts afresh.
        const Int128 next = static_cast<Int128>(base.unix_micros()) + interval;
        paced_send_at_ = next >= static_cast<Int128>(state_.reset_at->unix_micros())
                             ? *state_.reset_at
                             : Instant::FromUnixMicros(static_cast<int64_t>(next));
      }
    }
  }
  if (state_.remaining) state_.remaining = std::max<int64_t>(0, *state_.remaining - credits);
  if (state_.used) state_.used = SaturatingAdd(*state_.used, credits);
}

namespace {

std::optional<double> Credits(const std::optional<int64_t>& milli) {
  if (!milli) return std::nullopt;
  return FromMilliCredits(*milli);
}

}  // namespace

QuotaSnapshot QuotaTracker::snapshot() const {
  QuotaSnapshot s;
  s.limit = Credits(state_.limit);
  s.remaining = Credits(state_.remaining);
  s.used = Credits(state_.used);
  s.last = Credits(state_.last);
  s.reset_at = state_.reset_at;
  s.blocked_until = blocked_until_;
  if (config_.mode == QuotaMode::kPace) s.next_send_at = paced_send_at_;
  if (config_.mode == QuotaMode::kAimd && last_send_at_) {
    s.next_send_at = *last_send_at_ + AimdInterval();
  }
  s.aimd_rate_per_s = aimd_rate_per_s_;
  return s;
}

QuotaSnapshot QuotaTracker::SnapshotAt(Instant now) const {
  QuotaSnapshot s = snapshot();
  State state = state_;
  ApplyResets(state, now);
  s.limit = Credits(state.limit);
  s.remaining = Credits(state.remaining);
  s.used = Credits(state.used);
  s.reset_at = state.reset_at;
  return s;
}

bool QuotaTracker::exhausted(Instant now) const {
  if (!config_.enabled) return false;
  State state = state_;
  ApplyResets(state, now);
  return state.remaining && *state.remaining <= 0;
}

}  // namespace orchsim
