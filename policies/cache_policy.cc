#include "policies/cache_policy.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace orchsim {
namespace {

// Instant + Duration, saturating at Instant::Max() so that a huge TTL means
// "never expires" instead of wrapping into the past.
Instant SaturatingAdd(Instant at, Duration d) {
  if (d.micros() > 0 && at.unix_micros() > std::numeric_limits<int64_t>::max() - d.micros()) {
    return Instant::Max();
  }
  return at + d;
}

std::string Indexed(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

Status PositiveDuration(const std::string& field, Duration d) {
  if (d <= Duration::Zero()) return FieldError(field, FormatDuration(d), "must be > 0");
  return Status::Ok();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Greedy matching with one backtrack point (the last '*'): linear in
  // practice, O(|pattern| * |text|) in the worst case.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Status CacheConfig::validate() const {
  for (size_t i = 0; i < rules.size(); ++i) {
    const TtlRule& rule = rules[i];
    const std::string field = Indexed("cache.rules", i);
    if (rule.endpoint_pattern.empty()) {
      return FieldError(field + ".endpoint_pattern", rule.endpoint_pattern, "must not be empty");
    }
    if (Status s = PositiveDuration(field + ".ttl", rule.ttl); !s.ok()) return s;
    for (size_t j = 0; j < rule.near_game.size(); ++j) {
      const std::string step = Indexed(field + ".near_game", j);
      if (Status s = PositiveDuration(step + ".before_start", rule.near_game[j].before_start);
          !s.ok()) {
        return s;
      }
      if (Status s = PositiveDuration(step + ".ttl", rule.near_game[j].ttl); !s.ok()) return s;
      for (size_t k = 0; k < j; ++k) {
        if (rule.near_game[k].before_start == rule.near_game[j].before_start) {
          return FieldError(
              step + ".before_start", FormatDuration(rule.near_game[j].before_start),
              "must differ from " + Indexed(field + ".near_game", k) + ".before_start");
        }
      }
    }
    if (rule.live_ttl.has_value()) {
      if (Status s = PositiveDuration(field + ".live_ttl", *rule.live_ttl); !s.ok()) return s;
    }
  }
  if (Status s = PositiveDuration("cache.default_ttl", default_ttl); !s.ok()) return s;
  if (Status s = PositiveDuration("cache.game_length", game_length); !s.ok()) return s;
  if (stale_max_age < Duration::Zero()) {
    return FieldError("cache.stale_max_age", FormatDuration(stale_max_age), "must be >= 0");
  }
  return Status::Ok();
}

CachePolicy::CachePolicy(const CacheConfig& config) : config_(config) {
  assert(config_.validate().ok());
  for (size_t i = 0; i < config_.rules.size(); ++i) {
    const std::string& pattern = config_.rules[i].endpoint_pattern;
    if (pattern.find('*') == std::string::npos) {
      exact_rules_.emplace(pattern, i);  // the first of duplicate exact rules wins
    } else {
      glob_rules_.push_back(i);
    }
  }
}

const TtlRule* CachePolicy::RuleFor(std::string_view endpoint) const {
  if (!exact_rules_.empty()) {
    if (auto it = exact_rules_.find(std::string(endpoint)); it != exact_rules_.end()) {
      return &config_.rules[it->second];
    }
  }
  for (size_t i : glob_rules_) {
    if (GlobMatch(config_.rules[i].endpoint_pattern, endpoint)) return &config_.rules[i];
  }
  return nullptr;
}

Duration CachePolicy::TtlForRule(const TtlRule* rule, std::optional<Instant> game_start,
                                 Instant now) const {
  if (rule == nullptr) return config_.default_ttl;
  if (!game_start.has_value()) return rule->ttl;
  const Instant kickoff = *game_start;
  if (now >= SaturatingAdd(kickoff, config_.game_length)) return rule->ttl;  // game over
  if (now >= kickoff && rule->live_ttl.has_value()) return *rule->live_ttl;
  // Before kickoff, or live without a live_ttl: the innermost matching step.
  // During the game time-to-kickoff is <= 0, so every step matches.
  const Duration to_kickoff = kickoff - now;
  const TtlStep* best = nullptr;
  for (const TtlStep& step : rule->near_game) {
    if (to_kickoff < step.before_start &&
        (best == nullptr || step.before_start < best->before_start)) {
      best = &step;
    }
  }
  return best != nullptr ? best->ttl : rule->ttl;
}

Duration CachePolicy::TtlFor(std::string_view endpoint, std::optional<Instant> game_start,
                             Instant now) const {
  return TtlForRule(RuleFor(endpoint), game_start, now);
}

Instant CachePolicy::ExpiryFor(std::string_view endpoint, std::optional<Instant> game_start,
                               Instant fetched_at) const {
  const TtlRule* rule = RuleFor(endpoint);
  // The instants after fetched_at where the TTL in force may change. Between
  // two of them TtlForRule is constant.
  std::vector<Instant> boundaries;
  if (rule != nullptr && game_start.has_value()) {
    const Instant kickoff = *game_start;
    for (const TtlStep& step : rule->near_game) {
      // The step applies once to_kickoff < before_start, i.e. from 1us after
      // kickoff - before_start.
      boundaries.push_back(kickoff - step.before_start + Microseconds(1));
    }
    boundaries.push_back(kickoff);
    boundaries.push_back(SaturatingAdd(kickoff, config_.game_length));
  }
  std::sort(boundaries.begin(), boundaries.end());
  boundaries.erase(std::unique(boundaries.begin(), boundaries.end()), boundaries.end());

  // Regimes are visited in time order, so the first regime in which the age
  // reaches its TTL gives the earliest expiry.
  Instant regime_start = fetched_at;
  auto next = std::upper_bound(boundaries.begin(), boundaries.end(), fetched_at);
  while (true) {
    const Instant regime_end = next == boundaries.end() ? Instant::Max() : *next;
    const Duration ttl = TtlForRule(rule, game_start, regime_start);
    const Instant expiry = std::max(regime_start, SaturatingAdd(fetched_at, ttl));
    if (expiry < regime_end || next == boundaries.end()) return expiry;
    regime_start = regime_end;
    ++next;
  }
}

bool CachePolicy::ServableStale(Instant fetched_at, Instant now) const {
  return config_.stale_if_error && fetched_at >= now - config_.stale_max_age;
}

}  // namespace orchsim
