#include "engine/fidelity/backoff_contention.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "engine/world/sim_ports.h"

namespace orchsim::fidelity {

OccServer::OccServer(kernel::Simulator& sim, kernel::Rng network, Duration delay_mean,
                     Duration delay_sd)
    : sim_(sim),
      network_(network),
      delay_mean_us_(static_cast<double>(delay_mean.micros())),
      delay_sd_us_(static_cast<double>(delay_sd.micros())),
      events_(sim),
      calls_(sim) {}

Duration OccServer::NetworkDelay() {
  return Duration::FromMicros(
      std::llround(std::fabs(network_.Normal(delay_mean_us_, delay_sd_us_))));
}

Response OccServer::Decide(const UpstreamCall& call) {
  Response response;
  if (call.endpoint == "read") {
    response.status = 200;
    response.payload_versions = {version_};
    return response;
  }
  if (call.endpoint != "write" || call.keys.size() != 1) {
    response.status = 400;
    return response;
  }
  ++writes_;
  uint64_t expected = 0;
  const std::string& key = call.keys.front();
  const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), expected);
  if (error == std::errc() && end == key.data() + key.size() && expected == version_) {
    ++version_;
    response.status = 200;
    response.payload_versions = {version_};
  } else {
    ++failed_writes_;
    response.status = kStatusConflict;
  }
  return response;
}

Transport::CallHandle OccServer::Send(const UpstreamCall& call, ResponseCallback on_response) {
  const Instant sent = sim_.now();
  const CallHandle handle = calls_.Open(std::move(on_response));
  // The call reaches the server after one delay and is decided then (also
  // when the client cancelled meanwhile: the server does not know).
  events_.ScheduleAt(sent + NetworkDelay(), [this, call, sent, handle] {
    Response response = Decide(call);
    const Instant answered = sim_.now() + NetworkDelay();
    response.latency = answered - sent;
    calls_.Answer(handle, answered, std::move(response));
  });
  return handle;
}

void OccServer::Cancel(CallHandle handle) { calls_.Cancel(handle); }

Status BackoffContentionConfig::validate() const {
  if (clients < 1) return FieldError("backoff_contention.clients", clients, "must be >= 1");
  if (base <= Duration::Zero()) {
    return FieldError("backoff_contention.base", FormatDuration(base), "must be > 0");
  }
  if (cap < base) {
    return FieldError("backoff_contention.cap", FormatDuration(cap), "must be >= base");
  }
  if (network_delay_mean < Duration::Zero()) {
    return FieldError("backoff_contention.network_delay_mean", FormatDuration(network_delay_mean),
                      "must be >= 0");
  }
  if (network_delay_sd < Duration::Zero()) {
    return FieldError("backoff_contention.network_delay_sd", FormatDuration(network_delay_sd),
                      "must be >= 0");
  }
  if (runs < 1) return FieldError("backoff_contention.runs", runs, "must be >= 1");
  return Status::Ok();
}

namespace {

// A client that updates the row once: read, conditional write, back off on
// conflict and start over. It sees the world through the core's ports only.
class OccClient {
 public:
  OccClient(const BackoffContentionConfig& config, RandomSource& random, Clock& clock,
            Timers& timers, Transport& server, uint64_t& next_call_id, Instant& last_success)
      : backoff_(MakeRetryConfig(config), random),
        clock_(clock),
        timers_(timers),
        server_(server),
        next_call_id_(next_call_id),
        last_success_(last_success) {}

  void Read() {
    server_.Send(NewCall("read", "row"),
                 [this](const Response& r) { Write(r.payload_versions.front()); });
  }

 private:
  static RetryConfig MakeRetryConfig(const BackoffContentionConfig& config) {
    RetryConfig retry;
    retry.backoff = config.backoff;
    retry.base = config.base;
    retry.cap = config.cap;
    retry.max_attempts = kMaxRetryAttempts;
    return retry;
  }

  UpstreamCall NewCall(const char* endpoint, std::string key) {
    UpstreamCall call;
    call.call_id = next_call_id_++;
    call.api = "occ";
    call.endpoint = endpoint;
    call.keys = {std::move(key)};
    call.attempt = failures_ + 1;
    call.kind = failures_ == 0 ? CallKind::kFirstAttempt : CallKind::kRetry;
    return call;
  }

  void Write(uint64_t version) {
    server_.Send(NewCall("write", std::to_string(version)),
                 [this](const Response& r) { OnWriteAnswer(r); });
  }

  void OnWriteAnswer(const Response& response) {
    const Instant now = clock_.now();
    if (response.ok()) {
      last_success_ = std::max(last_success_, now);
      return;
    }
    ++failures_;
    // The published simulator's k-th failure sleeps expo(k); Next(r) uses
    // n = r - 1 (see the header).
    const Duration sleep = backoff_.Next(failures_ + 1);
    timers_.ScheduleAt(now + sleep, [this] { Read(); });
  }

  Backoff backoff_;
  Clock& clock_;
  Timers& timers_;
  Transport& server_;
  uint64_t& next_call_id_;
  Instant& last_success_;
  int failures_ = 0;
};

}  // namespace

ContentionRun RunContentionOnce(const BackoffContentionConfig& config,
                                const kernel::SeedTree& seeds) {
  kernel::Simulator sim(Instant::Epoch());
  world::SimClock clock(sim);
  world::SimTimers timers(sim);
  OccServer server(sim, seeds.Stream("network"), config.network_delay_mean,
                   config.network_delay_sd);
  uint64_t next_call_id = 1;
  Instant last_success = Instant::Epoch();
  std::vector<std::unique_ptr<world::RngRandomSource>> randoms;
  std::vector<std::unique_ptr<OccClient>> clients;
  for (int c = 0; c < config.clients; ++c) {
    randoms.push_back(
        std::make_unique<world::RngRandomSource>(seeds, "client/" + std::to_string(c)));
    clients.push_back(std::make_unique<OccClient>(config, *randoms.back(), clock, timers, server,
                                                  next_call_id, last_success));
  }
  for (auto& client : clients) client->Read();
  sim.RunUntilEmpty();
  ContentionRun run;
  run.writes = server.writes();
  run.completion = last_success - Instant::Epoch();
  return run;
}

BackoffContentionResult RunBackoffContention(const BackoffContentionConfig& config) {
  BackoffContentionResult result;
  const kernel::SeedTree root(config.seed);
  std::vector<double> writes, completion_ms;
  for (int i = 0; i < config.runs; ++i) {
    const ContentionRun run = RunContentionOnce(config, root.Child("run/" + std::to_string(i)));
    result.runs.push_back(run);
    writes.push_back(static_cast<double>(run.writes));
    completion_ms.push_back(static_cast<double>(run.completion.micros()) / 1e3);
  }
  result.writes = MeanConfidence95(writes);
  result.completion_ms = MeanConfidence95(completion_ms);
  return result;
}

const BackoffContentionResult& BackoffSweep::At(BackoffKind kind, int n) const {
  size_t k = 0;
  while (kPublishedBackoffKinds[k] != kind) ++k;
  const size_t i =
      static_cast<size_t>(std::find(clients.begin(), clients.end(), n) - clients.begin());
  return results.at(k).at(i);
}

BackoffSweep RunBackoffSweep(const std::vector<int>& clients, int runs, uint64_t seed) {
  BackoffSweep sweep;
  sweep.clients = clients;
  for (BackoffKind kind : kPublishedBackoffKinds) {
    std::vector<BackoffContentionResult>& row = sweep.results.emplace_back();
    for (int n : clients) {
      BackoffContentionConfig config;
      config.clients = n;
      config.backoff = kind;
      config.runs = runs;
      config.seed = seed;
      row.push_back(RunBackoffContention(config));
    }
  }
  return sweep;
}

double LogLogSlope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double lx = std::log(x[i]);
    const double ly = std::log(y[i]);
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

std::vector<CheckLine> BackoffShapeChecks(const BackoffSweep& sweep) {
  std::vector<CheckLine> lines;
  const int n = sweep.clients.back();
  const std::string at = "backoff/N=" + std::to_string(n);
  auto writes = [&](BackoffKind k) { return sweep.At(k, n).writes.mean; };
  auto completion = [&](BackoffKind k) { return sweep.At(k, n).completion_ms.mean; };
  auto name = [](BackoffKind k) { return std::string(BackoffKindName(k)); };

  for (BackoffKind kind : {BackoffKind::kNone, BackoffKind::kExponential}) {
    std::vector<double> x, y;
    for (int c : sweep.clients) {
      x.push_back(c);
      y.push_back(sweep.At(kind, c).writes.mean);
    }
    lines.push_back(BoundCheck("backoff/growth", "writes ~ N^k, k for " + name(kind),
                               LogLogSlope(x, y), 2.0, 1.5, 2.5, "roughly N^2"));
  }
  const BackoffKind expo = BackoffKind::kExponential;
  for (BackoffKind kind :
       {BackoffKind::kEqualJitter, BackoffKind::kFullJitter, BackoffKind::kDecorrelatedJitter}) {
    lines.push_back(BoundCheck(at, "writes " + name(kind) + " / exponential",
                               writes(kind) / writes(expo), 0.5, 0.0, 1.0,
                               "exponential does the most work"));
  }
  for (BackoffKind kind : kPublishedBackoffKinds) {
    if (kind == expo) continue;
    lines.push_back(BoundCheck(at, "completion exponential / " + name(kind),
                               completion(expo) / completion(kind), 10.0, 5.0, 1e300,
                               "exponential takes by far the longest (>= 5x)"));
  }
  const double full = writes(BackoffKind::kFullJitter);
  const double equal = writes(BackoffKind::kEqualJitter);
  lines.push_back(BoundCheck(at, "writes equal_jitter / full_jitter", equal / full, 1.0, 1.0 / 1.15,
                             1.15, "about the same work (15%)"));
  lines.push_back(BoundCheck(at, "writes full_jitter / exponential", full / writes(expo), 0.4, 0.0,
                             0.5, "less than half of exponential"));
  lines.push_back(BoundCheck(at, "writes equal_jitter / exponential", equal / writes(expo), 0.4,
                             0.0, 0.5, "less than half of exponential"));
  lines.push_back(BoundCheck(at, "writes decorrelated / full_jitter",
                             writes(BackoffKind::kDecorrelatedJitter) / full, 1.25, 1.0 + 1e-9, 1.6,
                             "somewhat more work than full"));
  lines.push_back(
      BoundCheck(at, "completion equal_jitter / full_jitter",
                 completion(BackoffKind::kEqualJitter) / completion(BackoffKind::kFullJitter), 1.3,
                 1.0 + 1e-9, 1e300, "equal jitter takes longer than full"));
  return lines;
}

}  // namespace orchsim::fidelity
