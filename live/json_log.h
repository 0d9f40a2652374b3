// json_log.h — one JSON object per line for every significant event, on
// spdlog, and the observer that writes the core's events that way.
//
// A line: {"ts":"2024-01-07T18:02:03.123456Z","level":"info","event":"reload",...}
// (UTC, microseconds; levels trace, debug, info, warning, error). Events:
//   listening, request_completed (debug), breaker_transition (warning into
//   open, info otherwise), retry (info), retry_budget_denied (warning),
//   upstream_failure (warning: 429, 5xx or no answer, with the transport's
//   reason), quota_exhausted (warning) / quota_restored (info) as the quota
//   headers say, health_changed, reload / reload_failed, drain_started,
//   stopped (the summary). Secrets never appear: keys and targets are logged
//   without the auth parameter.
//
// The logger is an object (no spdlog registry, no globals); MakeJsonLogger
// writes to the given sink (stderr by default).
#ifndef ORCHSIM_LIVE_JSON_LOG_H_
#define ORCHSIM_LIVE_JSON_LOG_H_

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "policies/events.h"
#include "policies/ports.h"

namespace orchsim::live {

// A logger named "orchsim" writing JSON lines to `sink` (nullptr: stderr).
std::shared_ptr<spdlog::logger> MakeJsonLogger(spdlog::sink_ptr sink, const std::string& level);
// Parses "trace", "debug", "info", "warn", "error" (spdlog's names too).
spdlog::level::level_enum ParseLogLevel(const std::string& level);

// Writes {"event": event, ...fields} at `level`, fields in the order given.
// `fields` must be an object.
void LogEvent(spdlog::logger& logger, spdlog::level::level_enum level, const std::string& event,
              nlohmann::ordered_json fields = nlohmann::ordered_json::object());

// What the quota headers of `response` say about exhaustion: true when they
// report 0 credits remaining, false when more, nullopt when they say nothing.
std::optional<bool> QuotaExhaustedPerHeaders(const Response& response, Instant wall_now);

class LogObserver : public OrchestratorObserver {
 public:
  // REQUIRES: `logger` and `clock` outlive the observer.
  LogObserver(std::shared_ptr<spdlog::logger> logger, const Clock& clock);
  void OnCompleted(const Request& request, const Result& result, Instant now) override;
  void OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                      Instant now) override;
  void OnBreakerTransition(const BreakerTransition& transition) override;
  void OnRetryScheduled(const Request& request, int attempt, Duration delay, Instant now) override;
  void OnRetryBudgetDenied(const Request& request, Instant now) override;
  void OnHealthChanged(const std::string& api, HealthState from, HealthState to,
                       Instant now) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
  const Clock& clock_;
  std::map<std::string, bool, std::less<>> quota_exhausted_;  // by api
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_JSON_LOG_H_
