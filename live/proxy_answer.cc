#include "live/proxy_answer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace orchsim::live {

namespace {

constexpr int64_t kUnknownQuotaRetryS = 60;

// Client text (a path segment) may be invalid UTF-8: replaced, never thrown.
BodyPtr JsonBody(const nlohmann::ordered_json& json) {
  return MakeBody("application/json",
                  json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace

int64_t SecondsUntil(std::optional<Instant> at, Instant now, int64_t fallback) {
  if (!at || *at == Instant::Max()) return fallback;
  const int64_t us = (*at - now).micros();
  return std::max<int64_t>(1, (us + 999999) / 1000000);
}

ProxyAnswer JsonError(int status, const std::string& code, const std::string& message,
                      std::optional<int64_t> retry_after_s) {
  ProxyAnswer answer;
  answer.status = status;
  nlohmann::ordered_json json = {{"error", code}, {"message", message}};
  if (retry_after_s) {
    json["retry_after_s"] = *retry_after_s;
    answer.headers.emplace_back("Retry-After", std::to_string(*retry_after_s));
  }
  answer.content_type = "application/json";
  answer.body = JsonBody(json);
  return answer;
}

ProxyAnswer AnswerFor(const std::string& api, const std::string& endpoint, const Result& result,
                      const Orchestrator& core, Instant now) {
  ProxyAnswer answer;
  const std::string outcome(OutcomeName(result.outcome));
  switch (result.outcome) {
    case Outcome::kServed:
    case Outcome::kCoalesced:
    case Outcome::kCacheHit:
    case Outcome::kServedStale: {
      const bool success_status = result.status >= 200 && result.status < 300;
      answer.status =
          result.outcome != Outcome::kServedStale && success_status ? result.status : 200;
      if (result.body) {
        answer.body = result.body;
        answer.content_type = result.body->content_type;
      } else {
        answer.body = MakeBody("", "");
      }
      const int64_t age_s = std::max<int64_t>(0, (now - result.fetched_at).micros() / 1000000);
      answer.headers.emplace_back("Age", std::to_string(age_s));
      if (result.outcome == Outcome::kServedStale) {
        answer.headers.emplace_back("Warning", "110 - \"Response is Stale\"");
      }
      break;
    }
    case Outcome::kFailed: {
      const bool upstream_status = result.status >= 400 && result.status < 600 &&
                                   result.status != kStatusCancelled &&
                                   result.status != kStatusTransportError;
      answer = JsonError(upstream_status ? result.status : 502, "upstream_failed",
                         result.status == kStatusTransportError || result.status == 0
                             ? "no answer from the upstream"
                             : "the upstream answered " + std::to_string(result.status));
      break;
    }
    case Outcome::kShed:
      answer = JsonError(503, "shed", "the queue is full; lower-priority requests are shed", 1);
      break;
    case Outcome::kRejectedCircuitOpen: {
      const CircuitBreaker* breaker = core.breakers().Find(api + "/" + endpoint);
      if (breaker == nullptr) breaker = core.breakers().Find(api);
      std::optional<Instant> until;
      if (breaker != nullptr) until = breaker->open_until();
      answer = JsonError(503, "circuit_open", "the circuit breaker of " + api + " is open",
                         SecondsUntil(until, now, 1));
      break;
    }
    case Outcome::kRejectedQuota: {
      std::optional<Instant> until;
      if (const QuotaTracker* quota = core.quota(api)) {
        const QuotaSnapshot snapshot = quota->SnapshotAt(now);
        if (snapshot.blocked_until && *snapshot.blocked_until > now) {
          until = snapshot.blocked_until;
        } else if (quota->exhausted(now)) {
          until = snapshot.reset_at;
        } else {
          until = snapshot.next_send_at;
        }
      }
      answer = JsonError(429, "quota", "the quota of " + api + " cannot admit this request in time",
                         SecondsUntil(until, now, kUnknownQuotaRetryS));
      break;
    }
    case Outcome::kRejectedThrottled:
      answer = JsonError(503, "throttled",
                         "client-side throttling: " + api + " is refusing too many calls", 1);
      break;
    case Outcome::kTimedOut:
      answer = JsonError(504, "timed_out", "the request's deadline passed");
      break;
    case Outcome::kCancelled:
      answer = JsonError(503, "shutting_down", "the sidecar is shutting down", 1);
      break;
  }
  answer.headers.emplace_back("X-Orchsim-Outcome", outcome);
  return answer;
}

}  // namespace orchsim::live
