#include "policies/quota_headers.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "policies/exact_round.h"
#include "policies/retry_after.h"

namespace orchsim {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kMicrosPerSecond = 1'000'000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-negative decimal integer without fraction (seconds).
std::optional<int64_t> ParseWhole(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (kInt64Max - (c - '0')) / 10) return std::nullopt;  // overflow
    value = value * 10 + (c - '0');
  }
  return value;
}

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
  parts.push_back(s.substr(std::min(start, s.size())));
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

// The header names the Reader looks at, and their index in Reader::found_.
enum class Name : uint8_t {
  kRequestsRemaining,
  kRequestsUsed,
  kRequestsLast,
  kRatelimitLimit,
  kRatelimitRemaining,
  kRatelimitUsed,
  kRatelimitReset,
  kRateLimit,
  kRateLimitLimit,
  kRateLimitRemaining,
  kRateLimitReset,
  kRateLimitPolicy,
  kRetryAfter,
};
constexpr std::string_view kNames[] = {"x-requests-remaining",
                                       "x-requests-used",
                                       "x-requests-last",
                                       "x-ratelimit-limit",
                                       "x-ratelimit-remaining",
                                       "x-ratelimit-used",
                                       "x-ratelimit-reset",
                                       "ratelimit",
                                       "ratelimit-limit",
                                       "ratelimit-remaining",
                                       "ratelimit-reset",
                                       "ratelimit-policy",
                                       "retry-after"};
constexpr size_t kNameCount = sizeof(kNames) / sizeof(kNames[0]);

// `name` equals `lower` (lower case) in ASCII case-insensitive comparison.
bool EqualsLower(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  // Names usually come in lower case already (HTTP/2 requires it): one
  // compare of the bytes before the folding loop.
  if (name == lower) return true;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const unsigned char folded = c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c;
    if (folded != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

// Parses the headers of one response; `out` collects fields and bad values.
class Reader {
 public:
  // One pass over the headers finds every name the styles below read (what
  // Headers::Find would return for each: the first entry of that name in
  // any case), instead of one case-insensitive scan per name.
  Reader(const Headers& headers, Instant wall_now, Duration max_reset_horizon, QuotaHeaders& out)
      : now_(wall_now), horizon_(max_reset_horizon), out_(out) {
    for (const auto& [name, value] : headers.entries()) {
      for (size_t i = 0; i < kNameCount; ++i) {
        if (found_[i] == nullptr && EqualsLower(name, kNames[i])) {
          found_[i] = &value;
          break;
        }
      }
    }
  }

  void OddsApi() {
    Credits(Name::kRequestsRemaining, false, out_.remaining);
    Credits(Name::kRequestsUsed, true, out_.used);
    Credits(Name::kRequestsLast, true, out_.last);
  }

  void GitHub() {
    Credits(Name::kRatelimitLimit, false, out_.limit);
    Credits(Name::kRatelimitRemaining, false, out_.remaining);
    Credits(Name::kRatelimitUsed, true, out_.used);
    const std::string* reset = Find(Name::kRatelimitReset);
    if (reset == nullptr || out_.reset_at) return;
    const std::optional<int64_t> epoch_seconds = ParseWhole(*reset);
    if (!epoch_seconds || *epoch_seconds > kInt64Max / kMicrosPerSecond) {
      ++out_.bad_values;
      return;
    }
    const Instant at = Instant::Epoch() + Seconds(*epoch_seconds);
    if (at < now_ || at - now_ > horizon_) {
      ++out_.bad_values;  // stale, or not epoch seconds (e.g. milliseconds)
      return;
    }
    out_.reset_at = at;
  }

  void Ietf() {
    const std::string* ratelimit = Find(Name::kRateLimit);
    if (ratelimit != nullptr && ratelimit->find("r=") == std::string::npos &&
        ratelimit->find("remaining=") != std::string::npos) {
      IetfDictionary(*ratelimit);  // the -07 draft's form
    } else if (ratelimit != nullptr) {
      IetfStructured(*ratelimit);
    }
    Credits(Name::kRateLimitLimit, false, out_.limit);
    Credits(Name::kRateLimitRemaining, false, out_.remaining);
    if (const std::string* reset = Find(Name::kRateLimitReset); reset && !out_.reset_at) {
      const std::optional<int64_t> seconds = ParseWhole(*reset);
      if (seconds) {
        out_.reset_at = ResetIn(*seconds);
      } else {
        ++out_.bad_values;
      }
    }
  }

  void RetryAfter() {
    const std::string* value = Find(Name::kRetryAfter);
    if (value == nullptr) return;
    const std::optional<Instant> at = ParseRetryAfter(*value, now_);
    if (!at) {
      ++out_.bad_values;
      return;
    }
    if (*at > now_) out_.retry_after = at;  // at or before now: no wait asked
  }

  // Merges the fields with each other: the limit implied by remaining +
  // used, and contradictions against the limit.
  void Reconcile() {
    if (!out_.limit && out_.remaining && out_.used && *out_.used <= kInt64Max - *out_.remaining) {
      out_.limit = *out_.remaining + *out_.used;
    }
    if (!out_.limit) return;
    if (out_.remaining && *out_.remaining > *out_.limit) {
      ++out_.bad_values;
      out_.remaining = out_.limit;
    }
    if (out_.used && *out_.used > *out_.limit) {
      ++out_.bad_values;
      out_.used.reset();
    }
  }

 private:
  // Parses `name` as credits into `field` unless the field is already set.
  const std::string* Find(Name name) const { return found_[static_cast<size_t>(name)]; }
  void Credits(Name name, bool round_up, std::optional<int64_t>& field) {
    const std::string* value = Find(name);
    if (value == nullptr || field) return;
    const std::optional<int64_t> milli = ParseMilliCredits(*value, round_up);
    if (milli) {
      field = milli;
    } else {
      ++out_.bad_values;
    }
  }
  // Whole credits given as a plain integer (IETF r/q/remaining): millicredits.
  std::optional<int64_t> WholeCredits(std::string_view text) {
    const std::optional<int64_t> whole = ParseWhole(text);
    if (!whole || *whole > kInt64Max / kMilliPerCredit) return std::nullopt;
    return *whole * kMilliPerCredit;
  }
  std::optional<Instant> ResetIn(int64_t seconds) {
    if (seconds > horizon_.micros() / kMicrosPerSecond) {
      ++out_.bad_values;
      return std::nullopt;
    }
    return now_ + Seconds(seconds);
  }

  void IetfStructured(std::string_view value) {
    // The binding policy: the one with the least remaining.
    const std::vector<ListMember> members = ParseList(value);
    const ListMember* binding = nullptr;
    int64_t binding_remaining = 0;
    std::optional<int64_t> binding_t;
    for (const ListMember& m : members) {
      const std::string* r = m.Param("r");
      const std::optional<int64_t> remaining = r ? WholeCredits(*r) : std::nullopt;
      if (!remaining) {
        ++out_.bad_values;  // r missing or malformed: the member says nothing usable
        continue;
      }
      std::optional<int64_t> t;
      if (const std::string* t_text = m.Param("t")) {
        t = ParseWhole(*t_text);
        if (!t) ++out_.bad_values;
      }
      if (binding == nullptr || *remaining < binding_remaining) {
        binding = &m;
        binding_remaining = *remaining;
        binding_t = t;
      }
    }
    if (binding == nullptr) return;
    if (!out_.remaining) out_.remaining = binding_remaining;
    std::optional<int64_t> window_seconds;
    if (const std::string* policy = Find(Name::kRateLimitPolicy)) {
      for (const ListMember& m : ParseList(*policy)) {
        if (m.name != binding->name) continue;
        if (const std::string* q = m.Param("q"); q && !out_.limit) {
          out_.limit = WholeCredits(*q);
          if (!out_.limit) ++out_.bad_values;
        }
        if (const std::string* w = m.Param("w")) {
          window_seconds = ParseWhole(*w);
          if (!window_seconds) ++out_.bad_values;
        }
        break;
      }
    }
    if (!out_.reset_at) {
      if (binding_t) {
        out_.reset_at = ResetIn(*binding_t);
      } else if (window_seconds) {
        out_.reset_at = ResetIn(*window_seconds);
      }
    }
  }

  void IetfDictionary(std::string_view value) {
    for (const ListMember& m : ParseList(value)) {
      const size_t eq = m.name.find('=');
      if (eq == std::string::npos) continue;
      const std::string_view key = Trim(std::string_view(m.name).substr(0, eq));
      const std::string_view text = std::string_view(m.name).substr(eq + 1);
      if (key != "limit" && key != "remaining" && key != "reset") continue;
      if (key == "reset") {
        const std::optional<int64_t> seconds = ParseWhole(text);
        if (!seconds) {
          ++out_.bad_values;
        } else if (!out_.reset_at) {
          out_.reset_at = ResetIn(*seconds);
        }
        continue;
      }
      const std::optional<int64_t> credits = WholeCredits(text);
      if (!credits) {
        ++out_.bad_values;
      } else if (key == "limit" && !out_.limit) {
        out_.limit = credits;
      } else if (key == "remaining" && !out_.remaining) {
        out_.remaining = credits;
      }
    }
  }

  const std::string* found_[kNameCount] = {};
  Instant now_;
  Duration horizon_;
  QuotaHeaders& out_;
};

}  // namespace

int64_t ToMilliCredits(double credits) {
  if (!(credits > 0)) return 0;  // NaN, zero and negatives
  if (credits >= kMaxCredits) return static_cast<int64_t>(kMaxCredits) * kMilliPerCredit;
  // Runs for every admission check: no library call (exact_round.h).
  return RoundToInt64(credits * static_cast<double>(kMilliPerCredit));
}

std::optional<int64_t> ParseMilliCredits(std::string_view s, bool round_up) {
  s = Trim(s);
  // The whole part: digits only (no sign, no inner blank), at least one, up
  // to the end or a '.'; one pass, as this runs for every answer that
  // carries quota headers.
  constexpr int64_t kMaxWhole = kInt64Max / kMilliPerCredit - 1;
  // Up to 15 digits stay below kMaxWhole (about 9.2e15): no check per digit.
  constexpr size_t kSafeDigits = 15;
  size_t i = 0;
  int64_t whole = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    whole = whole * 10 + (s[i] - '0');
    if (i >= kSafeDigits - 1 && whole > kMaxWhole) {
      return std::nullopt;  // also keeps the next step from overflowing
    }
  }
  if (i == 0) return std::nullopt;
  int64_t milli = whole * kMilliPerCredit;
  if (i == s.size()) return milli;
  if (s[i] != '.') return std::nullopt;
  const std::string_view fraction = s.substr(i + 1);
  if (fraction.empty()) return std::nullopt;
  int64_t thousandths = 0;
  bool rest_nonzero = false;
  for (size_t i = 0; i < fraction.size(); ++i) {
    const char c = fraction[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (i < 3) {
      thousandths = thousandths * 10 + (c - '0');
    } else {
      rest_nonzero = rest_nonzero || c != '0';
    }
  }
  for (size_t i = fraction.size(); i < 3; ++i) thousandths *= 10;
  milli += thousandths;
  if (rest_nonzero && round_up) ++milli;
  return milli;
}

QuotaHeaders ParseQuotaHeaders(const Headers& headers, Instant wall_now,
                               Duration max_reset_horizon) {
  QuotaHeaders out;
  Reader reader(headers, wall_now, max_reset_horizon, out);
  reader.OddsApi();
  reader.GitHub();
  reader.Ietf();
  reader.Reconcile();
  reader.RetryAfter();
  return out;
}

}  // namespace orchsim
