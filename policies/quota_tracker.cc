#include "policies/quota_tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "policies/retry_after.h"

namespace orchsim {
namespace {

// GCC and Clang spell a 128-bit integer this way without a -Wpedantic warning.
__extension__ typedef __int128 Int128;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr double kMinAimdRate = 1e-6;  // one call per ~11.6 days
constexpr double kMaxAimdRate = 1e6;   // one call per microsecond

constexpr std::string_view kModeNames[] = {"off", "pace", "aimd"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-negative decimal integer, optionally with a fraction that is rounded
// down, or up when `round_up`. nullopt when malformed, negative or > int64.
std::optional<int64_t> ParseCredits(std::string_view s, bool round_up) {
  s = Trim(s);
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  if (whole.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (kInt64Max - (c - '0')) / 10) return std::nullopt;  // overflow
    value = value * 10 + (c - '0');
  }
  if (dot == std::string_view::npos) return value;
  const std::string_view fraction = s.substr(dot + 1);
  if (fraction.empty()) return std::nullopt;
  bool nonzero = false;
  for (char c : fraction) {
    if (c < '0' || c > '9') return std::nullopt;
    nonzero = nonzero || c != '0';
  }
  if (nonzero && round_up) {
    if (value == kInt64Max) return std::nullopt;
    ++value;
  }
  return value;
}

// A non-negative decimal integer without fraction (seconds).
std::optional<int64_t> ParseWhole(std::string_view s) {
  s = Trim(s);
  if (s.find('.') != std::string_view::npos) return std::nullopt;
  return ParseCredits(s, false);
}

int64_t SaturatingAdd(int64_t a, int64_t b) { return a > kInt64Max - b ? kInt64Max : a + b; }

// One member of a structured-field list: `"name";k=v;k2=v2` or `name;k=v`.
struct ListMember {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;

  const std::string* Param(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

// Splits at `separator` outside double-quoted strings.
std::vector<std::string_view> SplitOutsideQuotes(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && s[i] == separator) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::vector<ListMember> ParseList(std::string_view value) {
  std::vector<ListMember> members;
  for (std::string_view raw : SplitOutsideQuotes(value, ',')) {
    std::vector<std::string_view> pieces = SplitOutsideQuotes(Trim(raw), ';');
    ListMember m;
    std::string_view name = Trim(pieces[0]);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    m.name = std::string(name);
    for (size_t i = 1; i < pieces.size(); ++i) {
      const std::string_view piece = Trim(pieces[i]);
      const size_t eq = piece.find('=');
      if (eq == std::string_view::npos) {
        m.params.emplace_back(std::string(piece), "");  // boolean parameter
      } else {
        m.params.emplace_back(std::string(Trim(piece.substr(0, eq))),
                              std::string(Trim(piece.substr(eq + 1))));
      }
    }
    members.push_back(std::move(m));
  }
  return members;
}

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
  if (critical_floor < 0) {
    return FieldError("quota.critical_floor", critical_floor, "must be >= 0 credits");
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

// What one response's headers said, before it is merged into the state.
struct QuotaTracker::Observation {
  std::optional<int64_t> limit, remaining, used, last;
  std::optional<Instant> reset_at;
};

QuotaTracker::QuotaTracker(const QuotaConfig& config)
    : config_(config),
      period_anchor_(config.assumed_period_start),
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

void QuotaTracker::ReadCredits(const Headers& headers, std::string_view name, bool round_up,
                               std::optional<int64_t>& field) {
  const std::string* value = headers.Find(name);
  if (value == nullptr || field) return;
  const std::optional<int64_t> credits = ParseCredits(*value, round_up);
  if (credits) {
    field = credits;
  } else {
    ++bad_header_values_;
  }
}

std::optional<Instant> QuotaTracker::ResetIn(int64_t seconds, Instant now) {
  if (seconds > config_.max_reset_horizon.micros() / kMicrosPerSecond) {
    ++bad_header_values_;
    return std::nullopt;
  }
  return now + Seconds(seconds);
}

void QuotaTracker::ParseOddsApi(const Headers& headers, Observation& obs) {
  ReadCredits(headers, "x-requests-remaining", false, obs.remaining);
  ReadCredits(headers, "x-requests-used", true, obs.used);
  ReadCredits(headers, "x-requests-last", true, obs.last);
}

void QuotaTracker::ParseGitHub(const Headers& headers, Instant now, Observation& obs) {
  ReadCredits(headers, "x-ratelimit-limit", false, obs.limit);
  ReadCredits(headers, "x-ratelimit-remaining", false, obs.remaining);
  ReadCredits(headers, "x-ratelimit-used", true, obs.used);
  const std::string* reset = headers.Find("x-ratelimit-reset");
  if (reset == nullptr || obs.reset_at) return;
  const std::optional<int64_t> epoch_seconds = ParseWhole(*reset);
  if (!epoch_seconds || *epoch_seconds > kInt64Max / kMicrosPerSecond) {
    ++bad_header_values_;
    return;
  }
  const Instant at = Instant::Epoch() + Seconds(*epoch_seconds);
  if (at < now || at - now > config_.max_reset_horizon) {
    ++bad_header_values_;  // stale, or not epoch seconds (e.g. milliseconds)
    return;
  }
  obs.reset_at = at;
}

void QuotaTracker::ParseIetf(const Headers& headers, Instant now, Observation& obs) {
  const std::string* ratelimit = headers.Find("RateLimit");
  if (ratelimit != nullptr && ratelimit->find("r=") == std::string::npos &&
      ratelimit->find("remaining=") != std::string::npos) {
    ParseIetfDictionary(*ratelimit, now, obs);  // the -07 draft's form
  } else if (ratelimit != nullptr) {
    // The binding policy: the one with the least remaining.
    const std::vector<ListMember> members = ParseList(*ratelimit);
    const ListMember* binding = nullptr;
    int64_t binding_remaining = 0;
    std::optional<int64_t> binding_t;
    for (const ListMember& m : members) {
      const std::string* r = m.Param("r");
      const std::optional<int64_t> remaining = r ? ParseWhole(*r) : std::nullopt;
      if (!remaining) {
        ++bad_header_values_;  // r missing or malformed: the member says nothing usable
        continue;
      }
      std::optional<int64_t> t;
      if (const std::string* t_text = m.Param("t")) {
        t = ParseWhole(*t_text);
        if (!t) ++bad_header_values_;
      }
      if (binding == nullptr || *remaining < binding_remaining) {
        binding = &m;
        binding_remaining = *remaining;
        binding_t = t;
      }
    }
    if (binding != nullptr) {
      if (!obs.remaining) obs.remaining = binding_remaining;
      std::optional<int64_t> window_seconds;
      if (const std::string* policy = headers.Find("RateLimit-Policy")) {
        for (const ListMember& m : ParseList(*policy)) {
          if (m.name != binding->name) continue;
          if (const std::string* q = m.Param("q"); q && !obs.limit) {
            obs.limit = ParseWhole(*q);
            if (!obs.limit) ++bad_header_values_;
          }
          if (const std::string* w = m.Param("w")) {
            window_seconds = ParseWhole(*w);
            if (!window_seconds) ++bad_header_values_;
          }
          break;
        }
      }
      if (!obs.reset_at) {
        if (binding_t) {
          obs.reset_at = ResetIn(*binding_t, now);
        } else if (window_seconds) {
          obs.reset_at = ResetIn(*window_seconds, now);
        }
      }
    }
  }
  ReadCredits(headers, "RateLimit-Limit", false, obs.limit);
  ReadCredits(headers, "RateLimit-Remaining", false, obs.remaining);
  if (const std::string* reset = headers.Find("RateLimit-Reset"); reset && !obs.reset_at) {
    const std::optional<int64_t> seconds = ParseWhole(*reset);
    if (seconds) {
      obs.reset_at = ResetIn(*seconds, now);
    } else {
      ++bad_header_values_;
    }
  }
}

void QuotaTracker::ParseIetfDictionary(std::string_view value, Instant now, Observation& obs) {
  for (const ListMember& m : ParseList(value)) {
    const size_t eq = m.name.find('=');
    if (eq == std::string::npos) continue;
    const std::string_view key = Trim(std::string_view(m.name).substr(0, eq));
    const std::optional<int64_t> number = ParseWhole(std::string_view(m.name).substr(eq + 1));
    if (key != "limit" && key != "remaining" && key != "reset") continue;
    if (!number) {
      ++bad_header_values_;
    } else if (key == "limit" && !obs.limit) {
      obs.limit = number;
    } else if (key == "remaining" && !obs.remaining) {
      obs.remaining = number;
    } else if (key == "reset" && !obs.reset_at) {
      obs.reset_at = ResetIn(*number, now);
    }
  }
}

std::optional<Instant> QuotaTracker::ParseRetryAfterHeader(const Headers& headers, Instant now) {
  const std::string* value = headers.Find("Retry-After");
  if (value == nullptr) return std::nullopt;
  const std::optional<Instant> at = ParseRetryAfter(*value, now);
  if (!at) {
    ++bad_header_values_;
    return std::nullopt;
  }
  if (*at <= now) return std::nullopt;  // no wait asked
  if (*at - now > config_.max_retry_after) return now + config_.max_retry_after;
  return at;
}

bool QuotaTracker::QuotaRunsLow(Instant now) const {
  if (!state_.remaining || !state_.reset_at || *state_.reset_at <= now) return false;
  const int64_t spendable = *state_.remaining - config_.critical_floor;
  if (spendable <= 0) return true;
  const double cost = state_.last && *state_.last > 0 ? static_cast<double>(*state_.last) : 1.0;
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

void QuotaTracker::Observe(const Response& response, Instant now) {
  if (!config_.enabled) return;
  ApplyResets(state_, now);

  Observation obs;
  ParseOddsApi(response.headers, obs);
  ParseGitHub(response.headers, now, obs);
  ParseIetf(response.headers, now, obs);

  // Limit: reported, else remaining + used (The Odds API), else as before.
  if (!obs.limit && obs.remaining && obs.used) {
    if (*obs.used <= kInt64Max - *obs.remaining) {
      obs.limit = *obs.remaining + *obs.used;
    }
  }
  if (obs.limit) {
    if (obs.remaining && *obs.remaining > *obs.limit) {
      ++bad_header_values_;
      obs.remaining = obs.limit;
    }
    if (obs.used && *obs.used > *obs.limit) {
      ++bad_header_values_;
      obs.used.reset();
    }
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
    state_.reset_at = obs.reset_at;
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

  if (const std::optional<Instant> retry_at = ParseRetryAfterHeader(response.headers, now)) {
    blocked_until_ = blocked_until_ ? std::max(*blocked_until_, *retry_at) : *retry_at;
    // Retry-After takes precedence over the quota headers' reset.
    if (obs.remaining && *obs.remaining == 0) {
      state_.reset_at = *retry_at;
      state_.reset_assumed = false;
    }
  }

  if (config_.mode == QuotaMode::kAimd) AdjustAimdRate(response, now);
}

QuotaAdmission QuotaTracker::Check(Priority p, int64_t credits, Instant now) const {
  QuotaAdmission admission{true, now, false};
  if (!config_.enabled || config_.mode == QuotaMode::kOff) return admission;
  credits = std::max<int64_t>(0, credits);
  State state = state_;
  ApplyResets(state, now);

  Instant retry_at = now;
  auto refuse = [&](Instant until) {
    admission.allowed = false;
    retry_at = std::max(retry_at, until);
  };
  if (blocked_until_ && now < *blocked_until_) refuse(*blocked_until_);
  if (state.remaining) {
    const int64_t floor = p == Priority::kCritical ? 0 : config_.critical_floor;
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

void QuotaTracker::OnSent(Priority p, int64_t credits, Instant now) {
  if (!config_.enabled) return;
  credits = std::max<int64_t>(0, credits);
  ApplyResets(state_, now);
  if (p != Priority::kCritical) {
    last_send_at_ = now;
    if (config_.mode == QuotaMode::kPace && state_.remaining && state_.reset_at &&
        *state_.reset_at > now) {
      const int64_t spendable = *state_.remaining - config_.critical_floor;
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

QuotaSnapshot QuotaTracker::snapshot() const {
  QuotaSnapshot s;
  s.limit = state_.limit;
  s.remaining = state_.remaining;
  s.used = state_.used;
  s.last = state_.last;
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
  s.limit = state.limit;
  s.remaining = state.remaining;
  s.used = state.used;
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
