// cache_policy.h — how long an upstream's answers stay fresh: TTL rules per
// endpoint that tighten as kickoff nears, and the stale-if-error fallback.
//
// One CacheConfig is in force per API endpoint (defaults, then the API's
// "cache" block, then the endpoint's; see orchestrator_config.h); the
// ResponseCache (response_cache.h) stores the entries of every API in one
// bounded store and asks the entry's CachePolicy what is fresh or stale.
//
// TTL rules (CacheConfig::rules), chosen by the endpoint string:
//   - a rule whose pattern equals the endpoint wins; otherwise the first rule,
//     in config order, whose glob pattern ('*' = any run of characters,
//     possibly empty; no other wildcards) matches; otherwise default_ttl.
//   - with a game start k and time-to-kickoff d = k - t at instant t:
//       t <  k                    : the near_game step with the smallest
//                                   before_start such that d < before_start;
//                                   rule.ttl when none matches;
//       k <= t < k + game_length  : live_ttl; when unset, the step with the
//                                   smallest before_start; when no steps,
//                                   rule.ttl;
//       t >= k + game_length      : rule.ttl (the game is over).
//   - without a game start: rule.ttl.
//
// Expiry (regime-aware): an entry fetched at f expires at the first instant
// t >= f at which its age t - f reaches the TTL in force at t. Within one TTL
// regime that is exactly f + TtlFor(f); when a tighter regime begins before
// f + TtlFor(f), the entry expires when its age reaches that regime's TTL
// (never before the regime begins). So data fetched 61 minutes before
// kickoff under a 6h rule with a "<1h: 5m" step expires 56 minutes before
// kickoff, not 5 hours into the game.
//
// Instants (game starts included) are on the core's monotonic timeline.
#ifndef ORCHSIM_POLICIES_CACHE_POLICY_H_
#define ORCHSIM_POLICIES_CACHE_POLICY_H_

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/status.h"
#include "policies/time.h"

namespace orchsim {

// When time-to-kickoff < before_start, use ttl (the step with the smallest
// matching before_start wins). Both > 0.
struct TtlStep {
  Duration before_start;
  Duration ttl;
  bool operator==(const TtlStep&) const = default;
};

struct TtlRule {
  std::string endpoint_pattern;    // exact endpoint, or a glob with '*'
  Duration ttl;                    // far from any game, or without a game; > 0
  std::vector<TtlStep> near_game;  // before_start values distinct
  // From kickoff until kickoff + game_length; > 0 when set.
  std::optional<Duration> live_ttl;
  bool operator==(const TtlRule&) const = default;
};

struct CacheConfig {
  bool enabled = true;
  std::vector<TtlRule> rules;
  Duration default_ttl = Minutes(5);              // no rule matches; > 0
  Duration game_length = Hours(3) + Minutes(30);  // live window after kickoff; > 0
  bool stale_if_error = true;                     // allow serving stale on failure
  Duration stale_max_age = Hours(1);              // stale: fetched_at >= now - this; >= 0
  // Errors name the field, e.g. "cache.rules[1].near_game[0].ttl: "0s" must be > 0".
  Status validate() const;
  bool operator==(const CacheConfig&) const = default;
};

// A CacheConfig compiled for lookups. REQUIRES: config.validate().ok().
class CachePolicy {
 public:
  explicit CachePolicy(const CacheConfig& config);

  bool enabled() const { return config_.enabled; }
  // The TTL in force at `now` for data of `endpoint` (see the header rules).
  Duration TtlFor(std::string_view endpoint, std::optional<Instant> game_start, Instant now) const;
  // The instant data fetched at `fetched_at` stops being fresh (regime-aware
  // expiry, see the header).
  Instant ExpiryFor(std::string_view endpoint, std::optional<Instant> game_start,
                    Instant fetched_at) const;
  // True when an expired entry fetched at `fetched_at` may still be served
  // after an upstream failure at `now`: stale_if_error and fetched_at >=
  // now - stale_max_age.
  bool ServableStale(Instant fetched_at, Instant now) const;
  const CacheConfig& config() const { return config_; }

 private:
  const TtlRule* RuleFor(std::string_view endpoint) const;
  Duration TtlForRule(const TtlRule* rule, std::optional<Instant> game_start, Instant now) const;

  CacheConfig config_;
  std::unordered_map<std::string, size_t> exact_rules_;  // pattern -> index in config_.rules
  std::vector<size_t> glob_rules_;                       // indices, config order
};

// True when `text` matches `pattern`, where '*' matches any run of characters.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_CACHE_POLICY_H_
