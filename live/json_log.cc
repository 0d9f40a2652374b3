#include "live/json_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "policies/quota_headers.h"

namespace orchsim::live {

namespace {

double Millis(Duration d) { return static_cast<double>(d.micros()) / 1000.0; }

}  // namespace

spdlog::level::level_enum ParseLogLevel(const std::string& level) {
  if (level == "warn") return spdlog::level::warn;
  return spdlog::level::from_str(level);  // unknown names are "off"; the config checks them
}

std::shared_ptr<spdlog::logger> MakeJsonLogger(spdlog::sink_ptr sink, const std::string& level) {
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("orchsim", std::move(sink));
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc));
  logger->set_level(ParseLogLevel(level));
  logger->flush_on(spdlog::level::trace);  // a line is out before the next event
  return logger;
}

void LogEvent(spdlog::logger& logger, spdlog::level::level_enum level, const std::string& event,
              nlohmann::ordered_json fields) {
  if (!logger.should_log(level)) return;
  nlohmann::ordered_json line = {{"event", event}};
  for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  // Invalid UTF-8 (a key from a client) is replaced, never a thrown exception.
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  logger.log(level, "{}", std::string_view(text).substr(1, text.size() - 2));
}

std::optional<bool> QuotaExhaustedPerHeaders(const Response& response, Instant wall_now) {
  const QuotaHeaders quota = ParseQuotaHeaders(response.headers, wall_now, Days(400));
  if (!quota.remaining) return std::nullopt;
  return *quota.remaining == 0;
}

LogObserver::LogObserver(std::shared_ptr<spdlog::logger> logger, const Clock& clock)
    : logger_(std::move(logger)), clock_(clock) {}

void LogObserver::OnCompleted(const Request& request, const Result& result, Instant now) {
  if (!logger_->should_log(spdlog::level::debug)) return;
  LogEvent(*logger_, spdlog::level::debug, "request_completed",
           {{"id", request.id},
            {"api", request.api},
            {"endpoint", request.endpoint},
            {"key", request.key},
            {"priority", PriorityName(request.priority)},
            {"outcome", OutcomeName(result.outcome)},
            {"status", result.status},
            {"attempts", result.attempts},
            {"queue_wait_ms", Millis(result.queue_wait)},
            {"latency_ms", Millis(now - request.submitted_at)}});
}

void LogObserver::OnCallAnswered(const UpstreamCall& call, const Response& response, bool late,
                                 Instant /*now*/) {
  if (response.status == 429 || response.status >= 500) {  // 599: no answer came
    nlohmann::ordered_json fields = {{"api", call.api},
                                     {"endpoint", call.endpoint},
                                     {"kind", CallKindName(call.kind)},
                                     {"attempt", call.attempt},
                                     {"status", response.status},
                                     {"latency_ms", Millis(response.latency)},
                                     {"late", late}};
    if (const std::string* reason = response.headers.Find("x-orchsim-transport-error")) {
      fields["reason"] = *reason;
    }
    LogEvent(*logger_, spdlog::level::warn, "upstream_failure", std::move(fields));
  }
  const std::optional<bool> exhausted = QuotaExhaustedPerHeaders(response, clock_.wall_now());
  if (!exhausted) return;
  bool& was = quota_exhausted_[call.api];
  if (*exhausted != was) {
    was = *exhausted;
    LogEvent(*logger_, *exhausted ? spdlog::level::warn : spdlog::level::info,
             *exhausted ? "quota_exhausted" : "quota_restored", {{"api", call.api}});
  }
}

void LogObserver::OnBreakerTransition(const BreakerTransition& transition) {
  LogEvent(*logger_,
           transition.to == BreakerState::kOpen ? spdlog::level::warn : spdlog::level::info,
           "breaker_transition",
           {{"breaker", transition.breaker},
            {"from", BreakerStateName(transition.from)},
            {"to", BreakerStateName(transition.to)}});
}

void LogObserver::OnRetryScheduled(const Request& request, int attempt, Duration delay,
                                   Instant /*now*/) {
  LogEvent(*logger_, spdlog::level::info, "retry",
           {{"id", request.id},
            {"api", request.api},
            {"endpoint", request.endpoint},
            {"attempt", attempt},
            {"delay_ms", Millis(delay)}});
}

void LogObserver::OnRetryBudgetDenied(const Request& request, Instant /*now*/) {
  LogEvent(*logger_, spdlog::level::warn, "retry_budget_denied",
           {{"id", request.id}, {"api", request.api}, {"endpoint", request.endpoint}});
}

void LogObserver::OnHealthChanged(const std::string& api, HealthState from, HealthState to,
                                  Instant /*now*/) {
  LogEvent(*logger_, to == HealthState::kHealthy ? spdlog::level::info : spdlog::level::warn,
           "health_changed",
           {{"api", api}, {"from", HealthStateName(from)}, {"to", HealthStateName(to)}});
}

}  // namespace orchsim::live
