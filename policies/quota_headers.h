// quota_headers.h — what an upstream's response headers say about its quota.
//
// Pure parsing: no state, no clock of its own (the caller passes the wall
// instant the response arrived), never throws, never crashes or overflows on
// any input (a libFuzzer target, fuzz/quota_headers_fuzzer.cc, holds it to
// that). The QuotaTracker merges what this returns into its state.
//
// Headers understood (names in any case; when several styles are present,
// the first style listed here that gives a field wins for that field):
//   - The Odds API: x-requests-remaining, x-requests-used, x-requests-last.
//     No limit (limit = remaining + used) and no reset.
//   - GitHub: x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-used,
//     x-ratelimit-reset (Unix epoch seconds).
//   - IETF draft-ietf-httpapi-ratelimit-headers: `RateLimit` as a list of
//     policies `"default";r=50;t=30` (r = remaining, t = seconds until more
//     quota; of several policies the one with the least remaining binds) with
//     `RateLimit-Policy` `"default";q=100;w=60` (q = quota of the policy of
//     the same name, w = window seconds, the reset when r comes without t);
//     the -07 dictionary `limit=100, remaining=50, reset=30` (reset in
//     seconds), and the older separate RateLimit-Limit / -Remaining / -Reset.
//   - Retry-After: delay-seconds or IMF-fixdate (retry_after.h).
//
// Credits are fixed point: int64 thousandths of a credit (kMilliPerCredit),
// so 12.5 credits is 12500 and sums are exact. A value with more than three
// decimals is rounded against the caller: limit and remaining down, used and
// last up. Seconds (resets, Retry-After) are whole numbers.
//
// Bad values: a malformed, empty, negative or overflowing value, or one that
// contradicts the others, is dropped and counted in `bad_values`; an absent
// header is not counted. Contradictions: remaining > limit (remaining
// clamped to limit), used > limit (used dropped), an epoch reset before
// wall_now or any reset beyond wall_now + max_reset_horizon (dropped, e.g.
// epoch milliseconds sent as seconds). A Retry-After at or before wall_now
// asks for no wait: retry_after stays empty and nothing is counted.
#ifndef ORCHSIM_POLICIES_QUOTA_HEADERS_H_
#define ORCHSIM_POLICIES_QUOTA_HEADERS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "policies/request.h"
#include "policies/time.h"

namespace orchsim {

// Fixed-point resolution of credits: 1 credit = 1000 millicredits.
inline constexpr int64_t kMilliPerCredit = 1000;
// Largest credit count representable (int64 millicredits).
inline constexpr double kMaxCredits = 9.2e15;

// Credits (double) to millicredits, to the nearest thousandth; clamped to
// [0, kMaxCredits]; NaN is 0.
int64_t ToMilliCredits(double credits);
// Millicredits back to credits.
inline double FromMilliCredits(int64_t milli) {
  return static_cast<double>(milli) / static_cast<double>(kMilliPerCredit);
}

struct QuotaHeaders {
  // Millicredits.
  std::optional<int64_t> limit, remaining, used, last;
  std::optional<Instant> reset_at;     // wall: when remaining is restored
  std::optional<Instant> retry_after;  // wall: no call before this (> wall_now)
  int64_t bad_values = 0;              // values dropped as malformed or contradictory
  bool any() const { return limit || remaining || used || last || reset_at || retry_after; }
};

// Reads `headers` of a response received at `wall_now`.
QuotaHeaders ParseQuotaHeaders(const Headers& headers, Instant wall_now,
                               Duration max_reset_horizon);

// A non-negative decimal number of credits ("12", "12.5") as millicredits,
// rounded down, or up when `round_up`, past the third decimal. nullopt when
// malformed, negative or too large.
std::optional<int64_t> ParseMilliCredits(std::string_view text, bool round_up);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_QUOTA_HEADERS_H_
