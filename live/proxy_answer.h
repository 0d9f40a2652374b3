// proxy_answer.h — what the sidecar answers a client for a core Result (and
// for requests it refuses itself): status, headers and body.
//
//   outcome                 status                      body
//   served, coalesced,      the upstream's 2xx (200     the upstream's bytes and
//   cache_hit               for a cache hit)            Content-Type
//   served_stale            200, Warning: 110           the cached bytes
//   failed                  the upstream's 4xx/5xx;     JSON {"error": "upstream_failed", ...}
//                           502 when none came
//   shed                    503, Retry-After            JSON {"error": "shed", ...}
//   rejected_circuit_open   503, Retry-After until the  JSON {"error": "circuit_open", ...}
//                           breaker's open period ends
//   rejected_quota          429, Retry-After until the  JSON {"error": "quota", ...}
//                           quota returns (or 60 s)
//   rejected_throttled      503, Retry-After: 1         JSON {"error": "throttled", ...}
//   timed_out               504                         JSON {"error": "timed_out", ...}
//   cancelled               503, Retry-After: 1         JSON {"error": "shutting_down", ...}
// Every answer carries X-Orchsim-Outcome (the outcome's name); answers with
// data carry Age (whole seconds since the data left the upstream).
// The sidecar's own refusals (bad request, unknown api, draining) are JSON
// {"error": code, "message": text}.
#ifndef ORCHSIM_LIVE_PROXY_ANSWER_H_
#define ORCHSIM_LIVE_PROXY_ANSWER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policies/orchestrator.h"
#include "policies/request.h"

namespace orchsim::live {

struct ProxyAnswer {
  int status = 200;
  std::string content_type;
  BodyPtr body;  // shared with the cache: never copied per client
  std::vector<std::pair<std::string, std::string>> headers;
};

// A JSON error answer {"error": code, "message": message, ...extra}.
ProxyAnswer JsonError(int status, const std::string& code, const std::string& message,
                      std::optional<int64_t> retry_after_s = std::nullopt);

// The answer for `result` of a request to `api`/`endpoint`, read at `now`
// from `core` (for the breaker's and the quota's Retry-After).
ProxyAnswer AnswerFor(const std::string& api, const std::string& endpoint, const Result& result,
                      const Orchestrator& core, Instant now);

// Whole seconds until `at` (rounded up, at least 1); `fallback` when `at`
// is absent or Max.
int64_t SecondsUntil(std::optional<Instant> at, Instant now, int64_t fallback);

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_PROXY_ANSWER_H_
