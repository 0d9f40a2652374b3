#include "engine/world/upstream_model.h"

#include <cmath>

#include "engine/kernel/random.h"

namespace orchsim::world {
namespace {

constexpr std::string_view kLatencyKindNames[] = {"constant", "uniform", "exponential", "lognormal",
                                                  "empirical"};
constexpr std::string_view kHealthNames[] = {"healthy", "degraded", "down"};
constexpr std::string_view kQuotaPeriodNames[] = {"calendar_month", "calendar_day", "rolling",
                                                  "fixed"};
constexpr std::string_view kQuotaChargeNames[] = {"2xx", "all"};
constexpr std::string_view kHeaderStyleNames[] = {"none", "odds-api", "github", "ietf"};

template <typename Enum, size_t N>
std::optional<Enum> ParseByName(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

bool IsProbability(double p) { return std::isfinite(p) && p >= 0.0 && p <= 1.0; }

Status DurationError(const std::string& field, Duration d, const std::string& constraint) {
  return FieldError(field, FormatDuration(d), constraint);
}

Status ValidateLatency(const std::string& f, const LatencyConfig& c) {
  switch (c.kind) {
    case LatencyKind::kConstant:
      if (c.constant < Duration::Zero())
        return DurationError(f + "constant", c.constant, "must be >= 0s");
      break;
    case LatencyKind::kUniform:
      if (c.min < Duration::Zero()) return DurationError(f + "min", c.min, "must be >= 0s");
      if (c.max < c.min) {
        return DurationError(f + "max", c.max,
                             "must be >= latency.min (\"" + FormatDuration(c.min) + "\")");
      }
      break;
    case LatencyKind::kExponential:
      if (c.mean <= Duration::Zero()) return DurationError(f + "mean", c.mean, "must be > 0s");
      break;
    case LatencyKind::kLognormal:
      if (c.median <= Duration::Zero())
        return DurationError(f + "median", c.median, "must be > 0s");
      if (c.p99 < c.median) {
        return DurationError(f + "p99", c.p99,
                             "must be >= latency.median (\"" + FormatDuration(c.median) + "\")");
      }
      break;
    case LatencyKind::kEmpirical: {
      std::vector<kernel::Empirical::Row> rows;
      for (size_t i = 0; i < c.table.size(); ++i) {
        if (c.table[i].latency < Duration::Zero()) {
          return DurationError(f + "table[" + std::to_string(i) + "].latency", c.table[i].latency,
                               "must be >= 0s");
        }
        rows.push_back({static_cast<double>(c.table[i].latency.micros()), c.table[i].weight});
      }
      const std::string problem = kernel::Empirical::Validate(rows, c.empirical_interpolate);
      if (!problem.empty()) {
        return FieldError(f + "table", std::to_string(c.table.size()) + " rows",
                          "is not a usable table: " + problem);
      }
      break;
    }
  }
  if (!std::isfinite(c.degraded_factor) || c.degraded_factor < 1.0) {
    return FieldError(f + "degraded_factor", c.degraded_factor, "must be >= 1");
  }
  return Status::Ok();
}

// `f` is "<prefix>failures."; field names are the file's keys.
Status ValidateFailures(const std::string& f, const FailureConfig& c) {
  const std::pair<const char*, double> rates[] = {{"status_500", c.rates.status_500},
                                                  {"status_502", c.rates.status_502},
                                                  {"status_503", c.rates.status_503},
                                                  {"timeout", c.rates.timeout}};
  for (const auto& [name, p] : rates) {
    if (!IsProbability(p)) return FieldError(f + name, p, "must be within [0, 1]");
  }
  if (c.rates.Sum() > 1.0) {
    return FieldError(f.substr(0, f.size() - 1), c.rates.Sum(),
                      "is status_500 + status_502 + status_503 + timeout; their sum must be <= 1");
  }
  if (c.timeout_latency <= Duration::Zero()) {
    return DurationError(f + "timeout_latency", c.timeout_latency, "must be > 0s");
  }
  if (!std::isfinite(c.degraded_error_factor) || c.degraded_error_factor < 1.0) {
    return FieldError(f + "degraded_error_factor", c.degraded_error_factor, "must be >= 1");
  }
  return Status::Ok();
}

Status ValidateHealth(const std::string& f, const HealthModelConfig& c) {
  const std::pair<const char*, Duration> means[] = {{"mean_healthy", c.mean_healthy},
                                                    {"mean_degraded", c.mean_degraded},
                                                    {"mean_down", c.mean_down}};
  for (const auto& [name, d] : means) {
    if (d <= Duration::Zero()) return DurationError(f + name, d, "must be > 0s");
  }
  const std::pair<const char*, double> probabilities[] = {{"healthy_to_down", c.healthy_to_down},
                                                          {"degraded_to_down", c.degraded_to_down},
                                                          {"down_to_degraded", c.down_to_degraded}};
  for (const auto& [name, p] : probabilities) {
    if (!IsProbability(p)) return FieldError(f + name, p, "must be within [0, 1]");
  }
  if (c.down_status != 503 && c.down_status != 599) {
    return FieldError(f + "down_status", c.down_status, "must be 503 or 599");
  }
  return Status::Ok();
}

}  // namespace

std::string_view LatencyKindName(LatencyKind k) { return kLatencyKindNames[static_cast<int>(k)]; }
std::optional<LatencyKind> ParseLatencyKind(std::string_view name) {
  return ParseByName<LatencyKind>(kLatencyKindNames, name);
}
std::string_view UpstreamHealthName(UpstreamHealth h) { return kHealthNames[static_cast<int>(h)]; }
std::string_view QuotaPeriodName(QuotaPeriod p) { return kQuotaPeriodNames[static_cast<int>(p)]; }
std::optional<QuotaPeriod> ParseQuotaPeriod(std::string_view name) {
  return ParseByName<QuotaPeriod>(kQuotaPeriodNames, name);
}
std::string_view QuotaChargeName(QuotaCharge c) { return kQuotaChargeNames[static_cast<int>(c)]; }

std::string_view QuotaHeaderStyleName(QuotaHeaderStyle s) {
  return kHeaderStyleNames[static_cast<int>(s)];
}
std::optional<QuotaHeaderStyle> ParseQuotaHeaderStyle(std::string_view name) {
  return ParseByName<QuotaHeaderStyle>(kHeaderStyleNames, name);
}

int DefaultQuotaExhaustedStatus(QuotaHeaderStyle s) {
  switch (s) {
    case QuotaHeaderStyle::kOddsApi:
      return 401;
    case QuotaHeaderStyle::kGithub:
      return 403;
    case QuotaHeaderStyle::kNone:
    case QuotaHeaderStyle::kIetf:
      break;
  }
  return 429;
}

std::array<double, kUpstreamHealthCount> HealthModelConfig::StationaryTimeFractions() const {
  // Embedded chain P[from][to], states healthy (0), degraded (1), down (2).
  const double p[3][3] = {{0.0, 1.0 - healthy_to_down, healthy_to_down},
                          {1.0 - degraded_to_down, 0.0, degraded_to_down},
                          {1.0 - down_to_degraded, down_to_degraded, 0.0}};
  // Markov chain tree theorem for 3 states: the stationary weight of i sums,
  // over the spanning trees directed into i, the product of their edges.
  std::array<double, 3> nu{};
  for (int i = 0; i < 3; ++i) {
    const int j = (i + 1) % 3;
    const int k = (i + 2) % 3;
    nu[i] = p[j][i] * p[k][i] + p[j][k] * p[k][i] + p[k][j] * p[j][i];
  }
  const double means[3] = {static_cast<double>(mean_healthy.micros()),
                           static_cast<double>(mean_degraded.micros()),
                           static_cast<double>(mean_down.micros())};
  double total = 0.0;
  std::array<double, kUpstreamHealthCount> fractions{};
  for (int i = 0; i < 3; ++i) {
    fractions[i] = nu[i] * means[i];
    total += fractions[i];
  }
  for (double& x : fractions) x /= total;
  return fractions;
}

std::pair<Instant, Instant> QuotaConfig::PeriodAt(Instant t) const {
  const int64_t day_us = Days(1).micros();
  auto floor_div = [](int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
  };
  auto midnight = [&](int64_t days) { return Instant::FromUnixMicros(days * day_us); };
  switch (period) {
    case QuotaPeriod::kRollingWindow:
      return {t - rolling_window, t};
    case QuotaPeriod::kFixedWindow: {
      const int64_t w = window.micros();
      const int64_t index = floor_div(t.unix_micros(), w);
      return {Instant::FromUnixMicros(index * w), Instant::FromUnixMicros((index + 1) * w)};
    }
    case QuotaPeriod::kCalendarDayUtc: {
      const int64_t days = floor_div(t.unix_micros(), day_us);
      return {midnight(days), midnight(days + 1)};
    }
    case QuotaPeriod::kCalendarMonthUtc:
      break;
  }
  const int64_t days = floor_div(t.unix_micros(), day_us);
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  const Instant start = midnight(DaysFromCivil(year, month, 1));
  const Instant end = month == 12 ? midnight(DaysFromCivil(year + 1, 1, 1))
                                  : midnight(DaysFromCivil(year, month + 1, 1));
  return {start, end};
}

Duration QuotaConfig::PeriodLength() const {
  switch (period) {
    case QuotaPeriod::kRollingWindow:
      return rolling_window;
    case QuotaPeriod::kFixedWindow:
      return window;
    case QuotaPeriod::kCalendarDayUtc:
      return Days(1);
    case QuotaPeriod::kCalendarMonthUtc:
      break;
  }
  return Duration::Zero();
}

double QuotaConfig::CreditsFor(std::string_view endpoint, size_t keys) const {
  auto it = credits_per_endpoint.find(endpoint);
  const double per_call = it == credits_per_endpoint.end() ? default_credits : it->second;
  return charge_per_key ? per_call * static_cast<double>(keys) : per_call;
}

Status UpstreamModelConfig::validate() const {
  if (name.empty()) return FieldError("upstreams[].name", name, "must not be empty");
  const std::string f = "upstreams." + name + ".";
  if (Status s = ValidateLatency(f + "latency.", latency); !s.ok()) return s;
  if (Status s = ValidateFailures(f + "failures.", failures); !s.ok()) return s;
  if (Status s = ValidateHealth(f + "health.", health); !s.ok()) return s;
  for (size_t i = 0; i < outages.size(); ++i) {
    const std::string o = f + "outages[" + std::to_string(i) + "].";
    if (outages[i].end <= outages[i].start) {
      return FieldError(o + "end", FormatInstant(outages[i].end),
                        "must be after start (\"" + FormatInstant(outages[i].start) + "\")");
    }
    if (outages[i].status < 100 || outages[i].status > 599) {
      return FieldError(o + "status", outages[i].status, "must be an HTTP status in [100, 599]");
    }
  }
  for (size_t i = 0; i < health_windows.size(); ++i) {
    const std::string o = f + "health_windows[" + std::to_string(i) + "].";
    const HealthWindow& w = health_windows[i];
    if (w.end <= w.start) {
      return FieldError(o + "end", FormatInstant(w.end),
                        "must be after start (\"" + FormatInstant(w.start) + "\")");
    }
    if (w.state == UpstreamHealth::kHealthy) {
      return FieldError(o + "state", std::string(UpstreamHealthName(w.state)),
                        "must be degraded or down");
    }
    for (size_t j = 0; j < i; ++j) {
      if (w.start < health_windows[j].end && health_windows[j].start < w.end) {
        return FieldError(o + "start", FormatInstant(w.start),
                          "must not overlap health_windows[" + std::to_string(j) + "]");
      }
    }
  }
  if (rate_limit.enabled) {
    if (rate_limit.max_calls < 1) {
      return FieldError(f + "rate_limit.max_calls", rate_limit.max_calls, "must be >= 1");
    }
    if (rate_limit.window <= Duration::Zero()) {
      return DurationError(f + "rate_limit.window", rate_limit.window, "must be > 0s");
    }
  }
  if (quota.enabled) {
    const std::string q = f + "quota.";
    if (!std::isfinite(quota.limit) || quota.limit <= 0.0) {
      return FieldError(q + "limit", quota.limit, "must be > 0");
    }
    if (quota.period == QuotaPeriod::kRollingWindow && quota.rolling_window <= Duration::Zero()) {
      return DurationError(q + "rolling_window", quota.rolling_window, "must be > 0s");
    }
    if (quota.period == QuotaPeriod::kFixedWindow &&
        (quota.window < Seconds(1) || quota.window.micros() % Seconds(1).micros() != 0)) {
      return DurationError(q + "window", quota.window, "must be a whole number of seconds >= 1s");
    }
    if (!std::isfinite(quota.default_credits) || quota.default_credits < 0.0) {
      return FieldError(q + "default_credits", quota.default_credits, "must be >= 0");
    }
    for (const auto& [endpoint, credits] : quota.credits_per_endpoint) {
      if (!std::isfinite(credits) || credits < 0.0) {
        return FieldError(q + "credits_per_endpoint." + endpoint, credits, "must be >= 0");
      }
    }
    if (quota.exhausted_status != 0 &&
        (quota.exhausted_status < 400 || quota.exhausted_status > 499)) {
      return FieldError(q + "exhausted_status", quota.exhausted_status,
                        "must be 0 (the style's default) or a 4xx status");
    }
  }
  if (batch.enabled && batch.max_keys < 1) {
    return FieldError(f + "batch.max_keys", batch.max_keys, "must be >= 1");
  }
  if (data.enabled) {
    const std::pair<const char*, double> rates[] = {{"base_per_hour", data.base_per_hour},
                                                    {"pregame_per_hour", data.pregame_per_hour},
                                                    {"live_per_hour", data.live_per_hour}};
    for (const auto& [field, rate] : rates) {
      if (!std::isfinite(rate) || rate < 0.0) {
        return FieldError(f + "data." + field, rate, "must be >= 0");
      }
    }
    if (data.pregame_window < Duration::Zero()) {
      return DurationError(f + "data.pregame_window", data.pregame_window, "must be >= 0s");
    }
    if (data.game_duration < Duration::Zero()) {
      return DurationError(f + "data.game_duration", data.game_duration, "must be >= 0s");
    }
  }
  return Status::Ok();
}

}  // namespace orchsim::world
