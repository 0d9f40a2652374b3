// quota_tracker.h — upstream quota tracking and adaptive limiting from
// response headers.
//
// The tracker reads the quota an upstream reports in its responses and
// decides whether the next call may go now, and if not, when to ask again.
//
// The headers are read by ParseQuotaHeaders (quota_headers.h: The Odds API,
// GitHub, IETF RateLimit, Retry-After; what counts as a bad value). Of what
// they say, the tracker keeps:
//   - limit, remaining, used, last: replace the estimate. A limit that no
//     longer holds (remaining above it, no new limit) is forgotten.
//   - the reset: a header reset wins; without one, The Odds API style
//     (remaining without a reset) resets at assumed_period_start + k *
//     assumed_period, or, without assumed_period_start, at the first such
//     response + k * assumed_period (k = 1, 2, ...). assumed_period Zero:
//     reset unknown.
//   - Retry-After: nothing, not even CRITICAL, is admitted before
//     now + min(delay, max_retry_after). Of several, the later instant holds.
//     It takes precedence over the quota headers' reset: when the same
//     response reports remaining 0, the quota is taken to return at the
//     Retry-After instant (GitHub's documented rule).
// A response without quota headers (e.g. a transport error) changes nothing
// but the AIMD rate. Wall instants from headers (epoch resets, HTTP-dates)
// are converted to the monotonic timeline with the (now, wall_now) pair
// Observe receives; so is assumed_period_start.
//
// Admission (Check), after any reset that has passed by `now` was applied
// (at reset_at, remaining becomes the limit, or unknown without a limit or
// when the limit is 0 — a zero limit must not refuse forever, since no call,
// hence no answer, would ever correct it):
//   - mode kOff or !enabled: always allowed (headers are still tracked).
//   - Retry-After: refused until blocked_until.
//   - Exhaustion (once remaining is known): refused until the reset
//     (Instant::Max() when unknown) when remaining - credits < 0, and for
//     every class but CRITICAL when remaining - credits < critical_floor.
//     So remaining == 0 stops everyone. QuotaAdmission::exhausted says so.
//   - Pace, CRITICAL exempt: a virtual send schedule. A non-CRITICAL send of c
//     credits at `now` moves next_send_at to max(now, next_send_at) +
//     ceil(c * (reset - now) / (remaining - critical_floor)) microseconds,
//     with remaining as known just before the send. Sends made on that
//     schedule are evenly spaced and spend what non-CRITICAL classes may spend
//     by the reset. (With a floor of 0 this is (reset - now) / remaining per
//     credit.) No schedule while remaining or the reset is unknown.
//   - AIMD, CRITICAL exempt: non-CRITICAL sends at least ceil(1e6 / rate)
//     microseconds apart. The rate (calls/s) starts at aimd_initial_rate_per_s,
//     is multiplied by aimd_multiplicative_decrease on a 429 or when the quota
//     runs low (at the current rate, calls costing `last` credits — or 1 —
//     would spend more than remaining - critical_floor before the reset), at
//     most once per aimd_window; and grows by aimd_additive_increase_per_s on
//     a 2xx response when the rate has not changed for a whole aimd_window
//     (so at most once per window of successes). Always within [min, max].
// CRITICAL sends neither wait for nor move the pace/AIMD schedule.
// When several refusals apply, retry_at is the latest of their instants.
//
// Local estimate: OnSent subtracts the credits from remaining (not below 0)
// and adds them to used; the next response's headers replace the estimate.
// Negative credits passed to Check/OnSent count as 0.
//
// Units: credits are the upstream's quota units, fractional (double at the
// interface, int64 thousandths inside: fixed point with a resolution of
// 0.001 credit, so 1.9 credits against 1 remaining is refused and sums are
// exact); rates are calls per second (double, parameters only); time state is
// Instant/Duration (int64 microseconds, monotonic). Instants passed in should
// not decrease.
// REQUIRES: config.validate().ok(). Not thread-safe.
//
// Example:
//   QuotaTracker quota({.mode = QuotaMode::kPace, .critical_floor = 20});
//   QuotaAdmission a = quota.Check(Priority::kNormal, 1.5, now);
//   if (a.allowed) { quota.OnSent(Priority::kNormal, 1.5, now); send(...); }
//   else if (!a.exhausted) timers.At(a.retry_at, ...);
//   ... on the response: quota.Observe(response, clock.now(), clock.wall_now());
#ifndef ORCHSIM_POLICIES_QUOTA_TRACKER_H_
#define ORCHSIM_POLICIES_QUOTA_TRACKER_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "policies/quota_headers.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

enum class QuotaMode : uint8_t { kOff, kPace, kAimd };
// "off", "pace", "aimd".
std::string_view QuotaModeName(QuotaMode mode);
// Inverse of QuotaModeName (exact, lower case); nullopt when unknown.
std::optional<QuotaMode> ParseQuotaMode(std::string_view name);

struct QuotaConfig {
  bool enabled = true;
  QuotaMode mode = QuotaMode::kPace;
  // Credits only CRITICAL may spend; in [0, kMaxCredits].
  double critical_floor = 0;
  // A longer Retry-After is clamped to this; > 0.
  Duration max_retry_after = Hours(1);
  // Reset horizon for headers that give none (The Odds API: a month); >= 0,
  // Zero: no assumption (the reset stays unknown).
  Duration assumed_period = Days(30);
  // Start of an assumed period (wall, e.g. the 1st of the month); default:
  // the first response that needed the assumption.
  std::optional<Instant> assumed_period_start;
  // A header reset further ahead than this is bad (e.g. epoch milliseconds
  // sent as seconds); > 0.
  Duration max_reset_horizon = Days(400);
  // Exhausted with no reset known (none sent, none assumed, or it passed
  // without a new one): one call may go out this long after the last quota
  // headers to learn the state afresh, instead of refusing for ever; > 0.
  Duration unknown_reset_recheck = Hours(1);
  // AIMD: permitted rate of non-CRITICAL calls, calls per second.
  double aimd_initial_rate_per_s = 1.0;       // in [min, max]
  double aimd_min_rate_per_s = 0.01;          // >= 1e-6
  double aimd_max_rate_per_s = 100.0;         // >= min, <= 1e6
  double aimd_additive_increase_per_s = 0.1;  // per success window; >= 0
  double aimd_multiplicative_decrease = 0.5;  // on 429 / quota low; in (0, 1)
  Duration aimd_window = Seconds(1);          // one rate change per window; > 0

  // Errors name the field, e.g.
  // "quota.aimd_multiplicative_decrease: 1.500000 must be in (0, 1)".
  Status validate() const;
};

// What the tracker believes about the upstream's quota. Absent: not known.
struct QuotaSnapshot {
  std::optional<double> limit, remaining, used, last;  // credits
  std::optional<Instant> reset_at;                     // when remaining is restored
  std::optional<Instant> blocked_until;                // latest Retry-After seen
  std::optional<Instant> next_send_at;                 // pace/AIMD: next non-CRITICAL send
  double aimd_rate_per_s = 0.0;                        // current AIMD rate
};

struct QuotaAdmission {
  bool allowed = true;
  // When to ask again if !allowed (`now` when allowed); Instant::Max() when
  // the quota is exhausted and the reset is unknown.
  Instant retry_at;
  // Refused because the quota (for this class) is used up until the reset.
  bool exhausted = false;
};

class QuotaTracker {
 public:
  explicit QuotaTracker(const QuotaConfig& config);

  // Reads the quota headers and Retry-After of `response`, received at
  // `now` (monotonic) = `wall_now` (wall); in AIMD mode adjusts the rate.
  // Does nothing when disabled.
  void Observe(const Response& response, Instant now, Instant wall_now);
  // Whether a call of `credits` at priority `p` may be sent at `now`.
  // Consumes nothing.
  QuotaAdmission Check(Priority p, double credits, Instant now) const;
  // Bookkeeping for a call actually sent: the local remaining/used estimate
  // and (non-CRITICAL) the pace/AIMD schedule.
  void OnSent(Priority p, double credits, Instant now);

  // As of the last Observe/OnSent.
  QuotaSnapshot snapshot() const;
  // As seen at `now`: resets that have passed by then are applied.
  QuotaSnapshot SnapshotAt(Instant now) const;
  // True when enabled and the remaining quota is known to be 0 at `now`.
  bool exhausted(Instant now) const;
  // Header values ignored as malformed or contradictory, since construction.
  int64_t bad_header_values() const { return bad_header_values_; }
  const QuotaConfig& config() const { return config_; }

 private:
  struct State {  // credits in millicredits (quota_headers.h)
    std::optional<int64_t> limit, remaining, used, last;
    std::optional<Instant> reset_at;
    bool reset_assumed = false;                // reset_at came from assumed_period
    std::optional<Instant> remaining_seen_at;  // the last response that gave `remaining`
  };
  // Applies every reset that has passed by `now` to `state`.
  void ApplyResets(State& state, Instant now) const;
  // The first assumed period boundary strictly after `now`, if any.
  std::optional<Instant> NextAssumedReset(Instant now) const;
  bool QuotaRunsLow(Instant now) const;
  void AdjustAimdRate(const Response& response, Instant now);
  Duration AimdInterval() const;

  QuotaConfig config_;
  int64_t critical_floor_milli_;
  State state_;
  std::optional<Instant> blocked_until_;
  std::optional<Instant> period_anchor_;  // assumed_period_start (monotonic), or first need
  std::optional<Instant> paced_send_at_;  // pace: next non-CRITICAL send
  std::optional<Instant> last_send_at_;   // AIMD: last non-CRITICAL send
  double aimd_rate_per_s_;
  std::optional<Instant> aimd_changed_at_;    // last increase or decrease
  std::optional<Instant> aimd_decreased_at_;  // last decrease
  int64_t bad_header_values_ = 0;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_QUOTA_TRACKER_H_
