#include "live/load_replayer.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "live/asio_ports.h"
#include "live/http_transport.h"

namespace orchsim::live {
namespace {

// The replay on one io_context: a timer for the next due request, the
// transport for the exchanges.
class Replay {
 public:
  Replay(const LoadSource& source, const LoadOptions& options,
         const std::function<void(const LoadSummary&)>& progress)
      : source_(source),
        options_(options),
        progress_(progress),
        timers_(io_, clock_),
        transport_(io_, clock_, [this](const UpstreamCall& call) { return Resolve(call); }) {}

  Status Start() {
    OriginOptions origin;
    origin.max_connections = options_.max_connections;
    origin.max_waiting = size_t{1} << 24;  // waiting requests are counted as lag, never refused
    origin.limits.connect_timeout = options_.timeout;
    origin.limits.read_timeout = options_.timeout;
    origin.user_agent = "orchsim-load";
    StatusOr<int> id = transport_.AddOrigin(options_.to, origin);
    if (!id.ok()) return id.status();
    origin_ = *id;
    // The wall-clock begin on this clock's monotonic line, read once.
    begin_ = clock_.now() + (options_.begin - clock_.wall_now());
    next_ = source_();
    ScheduleNext();
    return Status::Ok();
  }

  void Run() { io_.run(); }
  LoadSummary Finish() {
    std::sort(latencies_.begin(), latencies_.end());
    auto rank = [this](double q) {
      if (latencies_.empty()) return Duration::Zero();
      const size_t n = latencies_.size();
      size_t index = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
      index = std::clamp<size_t>(index, 1, n) - 1;
      return Duration::FromMicros(latencies_[index]);
    };
    summary_.latency_p50 = rank(0.50);
    summary_.latency_p99 = rank(0.99);
    summary_.latency_max = rank(1.0);
    summary_.wall_time = last_answer_ - begin_;
    return summary_;
  }

 private:
  Instant Due(Duration offset) const {
    return begin_ + Duration::FromMicros(static_cast<int64_t>(
                        std::llround(static_cast<double>(offset.micros()) / options_.speed)));
  }

  void ScheduleNext() {
    if (!next_) {
      MaybeDone();
      return;
    }
    timers_.ScheduleAt(Due(next_->offset), [this] { SendDue(); });
  }

  // Sends every request due by now, in source order, then waits for the next.
  void SendDue() {
    const Instant now = clock_.now();
    while (next_ && Due(next_->offset) <= now) {
      const Instant due = Due(next_->offset);
      summary_.max_send_lag = std::max(summary_.max_send_lag, now - due);
      const Duration scaled = due - begin_;
      if (summary_.sent == 0) summary_.first_offset = scaled;
      summary_.last_offset = scaled;
      ++summary_.sent;
      UpstreamCall call;
      call.call_id = summary_.sent;
      call.api = "load";
      call.endpoint = "load";
      call.keys = {next_->target};
      pending_[call.call_id] = Pending{std::move(*next_), due};
      next_ = source_();
      transport_.Send(call, [this, id = call.call_id](Response response) {
        OnAnswer(id, std::move(response));
      });
    }
    ScheduleNext();
  }

  StatusOr<HttpTarget> Resolve(const UpstreamCall& call) {
    HttpTarget target;
    target.origin = origin_;
    auto it = pending_.find(call.call_id);
    if (it == pending_.end()) return Status::InvalidArgument("unknown request");
    target.target = it->second.request.target;
    target.headers = it->second.request.headers;
    return target;
  }

  void OnAnswer(uint64_t id, Response response) {
    auto it = pending_.find(id);
    const Instant due = it == pending_.end() ? clock_.now() : it->second.due;
    if (it != pending_.end()) pending_.erase(it);
    last_answer_ = clock_.now();
    if (response.status == kStatusTransportError) {
      ++summary_.transport_errors;
      const std::string* reason = response.headers.Find("x-orchsim-transport-error");
      ++summary_.error_reasons[reason == nullptr ? "unknown" : *reason];
    } else {
      ++summary_.answered;
      ++summary_.statuses[response.status];
      const std::string* outcome = response.headers.Find("X-Orchsim-Outcome");
      ++summary_.outcomes[outcome == nullptr ? "none" : *outcome];
      latencies_.push_back((last_answer_ - due).micros());
    }
    if (progress_) progress_(summary_);
    MaybeDone();
  }

  void MaybeDone() {
    if (!next_ && pending_.empty()) transport_.Stop();
  }

  struct Pending {
    LoadRequest request;
    Instant due;
  };

  const LoadSource& source_;
  const LoadOptions& options_;
  const std::function<void(const LoadSummary&)>& progress_;
  boost::asio::io_context io_;
  AsioClock clock_;
  AsioTimers timers_;
  HttpTransport transport_;
  int origin_ = -1;
  Instant begin_;
  Instant last_answer_;
  std::optional<LoadRequest> next_;
  std::unordered_map<uint64_t, Pending> pending_;
  std::vector<int64_t> latencies_;
  LoadSummary summary_;
};

}  // namespace

StatusOr<LoadSummary> RunLoad(const LoadSource& source, const LoadOptions& options,
                              const std::function<void(const LoadSummary&)>& progress) {
  if (!(options.speed > 0.0) || !std::isfinite(options.speed)) {
    return Status::InvalidArgument("--speed: expected a positive number");
  }
  if (options.to.tls) return Status::InvalidArgument("--to: https is not supported");
  if (options.max_connections == 0) {
    return Status::InvalidArgument("--connections: expected at least 1");
  }
  if (options.timeout <= Duration::Zero()) {
    return Status::InvalidArgument("--timeout: expected a positive duration");
  }
  Replay replay(source, options, progress);
  if (Status s = replay.Start(); !s.ok()) return s;
  replay.Run();
  return replay.Finish();
}

std::string LoadSummaryJson(const LoadSummary& summary) {
  nlohmann::ordered_json j;
  j["sent"] = summary.sent;
  j["answered"] = summary.answered;
  j["transport_errors"] = summary.transport_errors;
  j["outcomes"] = nlohmann::ordered_json::object();
  for (const auto& [name, n] : summary.outcomes) j["outcomes"][name] = n;
  j["statuses"] = nlohmann::ordered_json::object();
  for (const auto& [status, n] : summary.statuses) j["statuses"][std::to_string(status)] = n;
  j["error_reasons"] = nlohmann::ordered_json::object();
  for (const auto& [reason, n] : summary.error_reasons) j["error_reasons"][reason] = n;
  j["first_offset_us"] = summary.first_offset.micros();
  j["last_offset_us"] = summary.last_offset.micros();
  j["max_send_lag_us"] = summary.max_send_lag.micros();
  j["latency_p50_us"] = summary.latency_p50.micros();
  j["latency_p99_us"] = summary.latency_p99.micros();
  j["latency_max_us"] = summary.latency_max.micros();
  j["wall_time_us"] = summary.wall_time.micros();
  return j.dump();
}

}  // namespace orchsim::live
