// upstream_model.h — configuration of one mocked upstream API (MockUpstream).
//
// Plain structs with documented units and defaults; validate() returns the
// first error naming the field as the scenario would spell it, e.g.
//   "upstreams.odds.latency.p99: \"50ms\" must be >= latency.median (\"80ms\")".
// Every behaviour can be switched off (`enabled`, or a zero rate), so a plain
// "always answers 200 after 50ms" upstream is the default.
//
// Units: durations are Duration (int64 us); probabilities in [0, 1]; rates of
// data change are events per hour; credits are the upstream's quota units.
#ifndef ORCHSIM_ENGINE_WORLD_UPSTREAM_MODEL_H_
#define ORCHSIM_ENGINE_WORLD_UPSTREAM_MODEL_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::world {

// ---- latency -------------------------------------------------------------

enum class LatencyKind : uint8_t { kConstant, kUniform, kExponential, kLognormal, kEmpirical };
std::string_view LatencyKindName(LatencyKind k);  // "constant", "uniform", ...
std::optional<LatencyKind> ParseLatencyKind(std::string_view name);

// One row of an empirical latency table: a latency and its weight (or, with
// `empirical_interpolate`, its cumulative probability).
struct LatencyRow {
  Duration latency;
  double weight = 1.0;
};

struct LatencyConfig {
  LatencyKind kind = LatencyKind::kConstant;
  Duration constant = Milliseconds(50);  // kConstant
  Duration min = Milliseconds(20);       // kUniform: [min, max)
  Duration max = Milliseconds(200);
  Duration mean = Milliseconds(100);   // kExponential
  Duration median = Milliseconds(80);  // kLognormal, by median and 99th percentile
  Duration p99 = Milliseconds(800);
  std::vector<LatencyRow> table;  // kEmpirical (kernel::Empirical semantics)
  bool empirical_interpolate = false;
  // Every latency drawn while the health state is degraded is multiplied by
  // this (>= 1).
  double degraded_factor = 3.0;
};

// ---- failures ------------------------------------------------------------

// Per-call error probabilities while healthy; their sum must be <= 1.
struct ErrorRates {
  double status_500 = 0.0;
  double status_502 = 0.0;
  double status_503 = 0.0;
  // No answer within the call: the transport reports 599 after
  // FailureConfig::timeout_latency.
  double timeout = 0.0;
  double Sum() const { return status_500 + status_502 + status_503 + timeout; }
};

struct FailureConfig {
  bool enabled = false;
  ErrorRates rates;
  Duration timeout_latency = Seconds(30);  // when a timeout (599) is answered
  // While degraded every rate is multiplied by this (>= 1); when the scaled
  // rates sum above 1 they are scaled down proportionally to sum to 1.
  double degraded_error_factor = 5.0;
};

// ---- Markov-modulated health ---------------------------------------------

enum class UpstreamHealth : uint8_t { kHealthy = 0, kDegraded = 1, kDown = 2 };
inline constexpr int kUpstreamHealthCount = 3;
std::string_view UpstreamHealthName(UpstreamHealth h);  // "healthy", "degraded", "down"

// A semi-Markov health process: the upstream stays in a state for an
// exponential sojourn with the state's mean, then jumps by this table (the
// embedded chain; rows sum to 1, no self-loops):
//
//   from \ to   healthy               degraded            down
//   healthy     -                     1 - healthy_to_down healthy_to_down
//   degraded    1 - degraded_to_down  -                   degraded_to_down
//   down        1 - down_to_degraded  down_to_degraded    -
//
// The process starts healthy at the upstream's origin. Degraded scales
// latency (LatencyConfig::degraded_factor) and error rates
// (FailureConfig::degraded_error_factor); down answers `down_status` always.
struct HealthModelConfig {
  bool enabled = false;
  Duration mean_healthy = Hours(24);
  Duration mean_degraded = Minutes(30);
  Duration mean_down = Minutes(10);
  double healthy_to_down = 0.0;
  double degraded_to_down = 0.3;
  double down_to_degraded = 0.0;
  // 503 (fast refusal, normal latency) or 599 (no answer: after
  // FailureConfig::timeout_latency).
  int down_status = 503;

  // Long-run fraction of time in each state (index = UpstreamHealth), from
  // the embedded chain's stationary law weighted by the mean sojourns.
  std::array<double, kUpstreamHealthCount> StationaryTimeFractions() const;
};

// A scheduled outage: every call sent in [start, end) answers `status`.
struct OutageWindow {
  Instant start;
  Instant end;
  int status = 503;
};

// A scheduled health state: calls sent in [start, end) see `state` (degraded:
// latency and error rates scaled; down: down_status), whatever the Markov
// chain says; outside every window the chain (healthy when disabled) decides.
// What `orchsim calibrate` writes for the spells of elevated error rate it
// finds, so a replay meets them at the instants the trace did.
struct HealthWindow {
  Instant start;
  Instant end;
  UpstreamHealth state = UpstreamHealth::kDegraded;
};

// ---- server-side rate limit -----------------------------------------------

enum class RateLimitWindow : uint8_t {
  kFixed,    // windows [k*window, (k+1)*window) since the Unix epoch
  kSliding,  // the last `window` before each call
};

// At most `max_calls` admitted calls per window; others answer 429 with
// `Retry-After` = whole seconds (rounded up, >= 1) until one would be admitted.
// Only admitted calls count toward the limit.
struct RateLimitConfig {
  bool enabled = false;
  int64_t max_calls = 30;
  Duration window = Seconds(1);
  RateLimitWindow kind = RateLimitWindow::kFixed;
};

// ---- quota ---------------------------------------------------------------

enum class QuotaPeriod : uint8_t {
  kCalendarMonthUtc,  // resets at 00:00Z on the 1st of each month
  kCalendarDayUtc,    // resets at 00:00Z each day
  kRollingWindow,     // credits spent in the last `rolling_window`
  kFixedWindow,       // resets every `window`, at multiples of it since
                      // 1970-01-01T00:00Z (an hourly quota resets on the
                      // hour, as GitHub's x-ratelimit-reset says)
};
// "calendar_month", "calendar_day", "rolling", "fixed"
std::string_view QuotaPeriodName(QuotaPeriod p);
std::optional<QuotaPeriod> ParseQuotaPeriod(std::string_view name);

// Which answers use up credits.
enum class QuotaCharge : uint8_t {
  k2xx,  // successful answers only (The Odds API)
  kAll,  // every call the quota admitted, whatever its answer: errors and
         // timeouts too (GitHub counts every request)
};
std::string_view QuotaChargeName(QuotaCharge c);  // "2xx", "all"

enum class QuotaHeaderStyle : uint8_t {
  kNone,     // no quota headers; exhaustion answers 429
  kOddsApi,  // x-requests-remaining/used/last; exhaustion answers 401, as The
             // Odds API does (error_code OUT_OF_USAGE_CREDITS); its 429 means
             // its per-second frequency limit, not the quota
  kGithub,   // x-ratelimit-limit/remaining/used/reset (epoch s); exhaustion 403
  kIetf,     // RateLimit "default";r=..;t=.. + RateLimit-Policy "default";q=..;w=..;
             // exhaustion 429 with Retry-After
};
std::string_view QuotaHeaderStyleName(QuotaHeaderStyle s);  // "none", "odds-api", "github", "ietf"
std::optional<QuotaHeaderStyle> ParseQuotaHeaderStyle(std::string_view name);
// The status a style answers when the quota is exhausted (none 429, odds-api
// 401, github 403, ietf 429).
int DefaultQuotaExhaustedStatus(QuotaHeaderStyle s);

// Credits per period. A call costs credits_per_endpoint[endpoint] (or
// default_credits), times the number of keys when `charge_per_key`. By
// default credits are charged only for successful (2xx) calls, as The Odds
// API charges per successful request; with `charge` kAll every admitted call
// costs. A call whose cost exceeds what remains is refused with the style's
// exhaustion status and costs nothing.
struct QuotaConfig {
  bool enabled = false;
  double limit = 500.0;
  QuotaPeriod period = QuotaPeriod::kCalendarMonthUtc;
  Duration rolling_window = Days(30);  // kRollingWindow only
  Duration window = Hours(1);          // kFixedWindow only
  QuotaCharge charge = QuotaCharge::k2xx;
  double default_credits = 1.0;
  std::map<std::string, double, std::less<>> credits_per_endpoint;  // e.g. {"odds", 6}
  bool charge_per_key = false;
  QuotaHeaderStyle header_style = QuotaHeaderStyle::kOddsApi;
  int exhausted_status = 0;  // 0: DefaultQuotaExhaustedStatus(header_style)

  // Credits one call to `endpoint` with `keys` keys costs.
  double CreditsFor(std::string_view endpoint, size_t keys) const;
  // The period [start, end) holding `t`: calendar and fixed periods; for a
  // rolling window, [t - rolling_window, t).
  std::pair<Instant, Instant> PeriodAt(Instant t) const;
  // The period's length when every period has one (fixed, calendar day,
  // rolling); Duration::Zero() for calendar months.
  Duration PeriodLength() const;
};

// ---- batching ------------------------------------------------------------

// A call carrying more than `max_keys` keys (or none) answers 400. Disabled:
// any number of keys >= 1 is accepted.
struct BatchConfig {
  bool enabled = false;
  int64_t max_keys = 1;
};

// ---- data that changes ---------------------------------------------------

// Each key's payload version starts at 1 (at the upstream's origin, or for a
// key with games one day before its first pregame window) and grows
// by 1 at the events of a Poisson process whose rate is `base_per_hour`,
// `pregame_per_hour` within `pregame_window` before a kickoff of the key's
// game, and `live_per_hour` during [kickoff, kickoff + game_duration). A zero
// rate means no change in that phase. Disabled: the version stays 1.
struct DataChangeConfig {
  bool enabled = true;
  double base_per_hour = 0.5;
  double pregame_per_hour = 6.0;
  Duration pregame_window = Hours(2);
  double live_per_hour = 60.0;
  Duration game_duration = Hours(3);
};

// ---- the whole upstream ---------------------------------------------------

struct UpstreamModelConfig {
  std::string name;  // the api name calls use (UpstreamCall::api), e.g. "odds"
  LatencyConfig latency;
  FailureConfig failures;
  HealthModelConfig health;
  std::vector<OutageWindow> outages;
  std::vector<HealthWindow> health_windows;  // may not overlap one another
  RateLimitConfig rate_limit;
  QuotaConfig quota;
  BatchConfig batch;
  DataChangeConfig data;

  // OK, or the first error as "upstreams.<name>.<field>: <value> <constraint>".
  Status validate() const;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_UPSTREAM_MODEL_H_
