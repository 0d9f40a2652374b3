#include "live/sidecar.h"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <unordered_set>
#include <utility>

#include "policies/trace/trace_recorder.h"
#include "policies/trace/trace_sink.h"

namespace orchsim::live {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

// Games remembered per generation for AddGame (prefetch); beyond this the
// set starts afresh (the prefetcher ignores a game it knows).
constexpr size_t kMaxGamesRemembered = 100000;

std::optional<std::string_view> HeaderOf(const ClientRequest& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view(name.data(), name.size()));
  if (it == request.end()) return std::nullopt;
  const auto value = it->value();
  return std::string_view(value.data(), value.size());
}

// The trace file of core `generation`: the path itself for the first,
// "-gN" before the extension after that.
std::string TracePath(const std::string& path, uint64_t generation) {
  if (generation <= 1) return path;
  const std::filesystem::path p(path);
  return (p.parent_path() /
          (p.stem().string() + "-g" + std::to_string(generation) + p.extension().string()))
      .string();
}

std::string ListenText(const std::string& host, uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

}  // namespace

struct Sidecar::Generation {
  uint64_t id = 0;
  std::shared_ptr<const ServeConfig> config;
  std::vector<std::string> apis;
  std::map<std::string, int, std::less<>> origin_ids;
  TargetBook book;
  std::unordered_set<std::string> games;
  uint64_t in_progress = 0;
  std::unique_ptr<CoreMetrics> metrics;              // observes the core: outlives it
  std::unique_ptr<trace::FileTraceSink> trace_sink;  // with --record
  std::unique_ptr<trace::TraceRecorder> recorder;    // observes the core: outlives it
  // Last: destroyed first (its transport's resolver reads the members above).
  std::unique_ptr<LiveCore> core;

  void Sample() { metrics->Sample(core->orchestrator(), apis, core->clock().now()); }
};

// ---------------------------------------------------------------- set-up

Sidecar::Sidecar(SidecarOptions options) : options_(std::move(options)), finish_timer_(io_) {}

Sidecar::~Sidecar() {
  if (reload_thread_.joinable()) reload_thread_.join();
  // Generations before the observers they report to.
  retiring_.clear();
  current_.reset();
  server_.reset();
}

StatusOr<std::unique_ptr<Sidecar>> Sidecar::Create(SidecarOptions options) {
  StatusOr<ServeConfig> loaded = LoadServeConfig(options.config_path, options.env);
  if (!loaded.ok()) return loaded.status();
  auto config = std::make_shared<ServeConfig>(std::move(loaded.value()));
  if (options.listen) {
    // host:port (tests pass "127.0.0.1:0").
    const size_t colon = options.listen->rfind(':');
    const std::string port_text =
        colon == std::string::npos ? "" : options.listen->substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (colon == std::string::npos || colon == 0 || port_text.empty() || ec != std::errc() ||
        end != port_text.data() + port_text.size() || port > 65535) {
      return Status::InvalidArgument("--listen: expected host:port, got \"" + *options.listen +
                                     "\"");
    }
    config->listen_host = options.listen->substr(0, colon);
    if (config->listen_host.size() >= 2 && config->listen_host.front() == '[') {
      config->listen_host = config->listen_host.substr(1, config->listen_host.size() - 2);
    }
    config->listen_port = static_cast<uint16_t>(port);
  }
  std::unique_ptr<Sidecar> sidecar(new Sidecar(std::move(options)));
  Sidecar& s = *sidecar;
  s.logger_ = MakeJsonLogger(s.options_.log_sink, config->log_level);
  s.clock_ = std::make_unique<AsioClock>();
  s.started_at_ = s.clock_->now();
  s.metrics_ = std::make_unique<LiveMetrics>();
  s.log_observer_ = std::make_unique<LogObserver>(s.logger_, *s.clock_);
  StatusOr<std::unique_ptr<Generation>> generation = s.MakeGeneration(config);
  if (!generation.ok()) return generation.status();
  s.current_ = std::move(generation.value());

  HttpServerOptions server;
  server.host = config->listen_host;
  server.port = config->listen_port;
  server.max_connections = config->server.max_connections;
  server.max_header_bytes = config->server.max_header_bytes;
  server.idle_timeout = config->server.idle_timeout;
  server.write_timeout = config->server.write_timeout;
  StatusOr<std::unique_ptr<HttpServer>> started =
      HttpServer::Start(s.io_, server, [&s](const ClientRequest& request, Responder responder) {
        s.Handle(request, std::move(responder));
      });
  if (!started.ok())
    return Status::InvalidArgument(config->file + ": /listen: " + started.status().message());
  s.server_ = std::move(started.value());
  s.port_ = s.server_->port();
  s.write_timeout_ = config->server.write_timeout;
  s.listen_ = ListenText(config->listen_host, config->listen_port);
  s.metrics_->SetReady(true);
  if (s.options_.handle_signals) {
    s.signals_.emplace(s.io_, SIGINT, SIGTERM, SIGHUP);
    s.WatchSignals();
  }
  std::vector<std::string> upstreams;
  for (const auto& [name, up] : config->upstreams)
    upstreams.push_back(name + " " + up.base_url_text);
  LogEvent(*s.logger_, spdlog::level::info, "listening",
           {{"address", ListenText(config->listen_host, s.port_)},
            {"config", config->file},
            {"preset", config->preset_file},
            {"variant", config->variant},
            {"upstreams", upstreams},
            {"seed", s.current_->core->seed()},
            {"record", s.options_.record_path},
            {"generation", s.current_->id}});
  return sidecar;
}

StatusOr<std::unique_ptr<Sidecar::Generation>> Sidecar::MakeGeneration(
    std::shared_ptr<const ServeConfig> config) {
  auto generation = std::make_unique<Generation>();
  Generation* g = generation.get();
  g->id = next_generation_++;
  g->config = std::move(config);
  for (const auto& [name, up] : g->config->upstreams) g->apis.push_back(name);
  g->metrics = std::make_unique<CoreMetrics>(*metrics_, g->config->variant, *clock_);
  LiveCoreOptions core_options;
  core_options.seed = g->config->seed;
  core_options.clock = clock_.get();
  core_options.observers = {g->metrics.get(), log_observer_.get()};
  if (!options_.record_path.empty()) {
    const std::string path = TracePath(options_.record_path, g->id);
    StatusOr<std::unique_ptr<trace::FileTraceSink>> sink = trace::FileTraceSink::Open(path);
    if (!sink.ok()) return Status::InvalidArgument("--record: " + sink.status().message());
    g->trace_sink = std::move(sink.value());
    trace::TraceHeader header;
    header.source = trace::TraceSource::kLive;
    header.variant = g->config->variant;
    header.generator = std::string("orchsim ") + ORCHSIM_VERSION;
    g->recorder = std::make_unique<trace::TraceRecorder>(*g->trace_sink, header, clock_.get());
    core_options.observers.push_back(g->recorder.get());
  }
  for (OrchestratorObserver* o : options_.observers) core_options.observers.push_back(o);
  auto make_transport = [g](net::io_context& io,
                            const Clock& clock) -> StatusOr<std::unique_ptr<HttpTransport>> {
    auto transport = std::make_unique<HttpTransport>(io, clock, [g](const UpstreamCall& call) {
      return ResolveCall(*g->config, g->origin_ids, g->book, call);
    });
    for (const auto& [name, up] : g->config->upstreams) {
      StatusOr<int> origin = transport->AddOrigin(up.base_url, up.origin);
      if (!origin.ok()) {
        return Status::InvalidArgument(g->config->file + ": /upstreams/" + name + ": " +
                                       origin.status().message());
      }
      g->origin_ids[name] = *origin;
    }
    return transport;
  };
  StatusOr<std::unique_ptr<LiveCore>> core =
      LiveCore::Create(io_, g->config->policy, make_transport, core_options);
  if (!core.ok()) return core.status();
  g->core = std::move(core.value());
  counters_.generation = g->id;
  return generation;
}

void Sidecar::WatchSignals() {
  signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec || finished_) return;
    if (signal == SIGHUP) {
      StartReload();
    } else {
      LogEvent(*logger_, spdlog::level::info, "signal",
               {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
      StartDrain();
    }
    WatchSignals();
  });
}

int Sidecar::Run() {
  io_.run();
  if (reload_thread_.joinable()) reload_thread_.join();
  return 0;
}

void Sidecar::BeginDrain() {
  net::post(io_, [this] { StartDrain(); });
}

void Sidecar::Reload() {
  net::post(io_, [this] { StartReload(); });
}

SidecarCounters Sidecar::counters() const {
  SidecarCounters c;
  c.accepted = counters_.accepted.load();
  c.answered = counters_.answered.load();
  c.submitted = counters_.submitted.load();
  c.completed = counters_.completed.load();
  c.reloads_ok = counters_.reloads_ok.load();
  c.reloads_failed = counters_.reloads_failed.load();
  c.generation = counters_.generation.load();
  return c;
}

// ---------------------------------------------------------------- the request path

void Sidecar::Handle(const ClientRequest& request, Responder responder) {
  counters_.accepted.fetch_add(1, std::memory_order_relaxed);
  if (HandleAdmin(request, responder)) return;
  if (draining_ || !current_) {
    Answer(responder, JsonError(503, "draining", "the sidecar is shutting down", 1));
    return;
  }
  Generation& generation = *current_;
  ClientHeaders headers;
  headers.priority = HeaderOf(request, "X-Orchsim-Priority");
  headers.deadline = HeaderOf(request, "X-Orchsim-Deadline");
  headers.game = HeaderOf(request, "X-Orchsim-Game");
  headers.kickoff = HeaderOf(request, "X-Orchsim-Kickoff");
  headers.cache_control = HeaderOf(request, "Cache-Control");
  const auto method = request.method_string();
  const auto target = request.target();
  RouteResult routed = Route(*generation.config, std::string_view(method.data(), method.size()),
                             std::string_view(target.data(), target.size()), headers,
                             generation.core->clock().now());
  if (auto* error = std::get_if<RouteError>(&routed)) {
    Answer(responder, JsonError(error->status, error->code, error->message));
    return;
  }
  Submit(generation, std::move(std::get<RoutedRequest>(routed)), std::move(responder));
}

bool Sidecar::HandleAdmin(const ClientRequest& request, Responder& responder) {
  const auto full = request.target();
  std::string_view target(full.data(), full.size());
  target = target.substr(0, target.find('?'));
  if (target != "/healthz" && target != "/readyz" && target != "/metrics") return false;
  if (request.method() != http::verb::get) {
    Answer(responder, JsonError(405, "method_not_allowed", "only GET"));
    return true;
  }
  ProxyAnswer answer;
  answer.content_type = "application/json";
  if (target == "/healthz") {
    answer.body = MakeBody("application/json", R"({"status":"ok"})");
  } else if (target == "/readyz") {
    const bool ready = !draining_ && current_ != nullptr;
    answer.status = ready ? 200 : 503;
    answer.body = MakeBody("application/json", ready ? R"({"status":"ready","generation":)" +
                                                           std::to_string(current_->id) + "}"
                                                     : R"({"status":"draining"})");
  } else {
    if (current_) current_->Sample();
    for (const auto& g : retiring_) g->Sample();
    answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
    answer.body = MakeBody(answer.content_type, metrics_->Serialize());
  }
  Answer(responder, std::move(answer));
  return true;
}

void Sidecar::Submit(Generation& generation, RoutedRequest routed, Responder responder) {
  Request request = std::move(routed.request);
  request.id = next_request_id_++;
  std::string identity = request.identity().encoded();
  generation.book.Acquire(identity, routed.target);
  Orchestrator& core = generation.core->orchestrator();
  if (!routed.game.empty() && request.game_start) {
    if (generation.games.size() >= kMaxGamesRemembered) generation.games.clear();
    if (generation.games.insert(routed.game).second) core.AddGame(routed.game, *request.game_start);
  }
  ++generation.in_progress;
  counters_.submitted.fetch_add(1, std::memory_order_relaxed);
  std::string api = request.api;
  std::string endpoint = request.endpoint;
  // std::function needs a copyable callable: the Responder rides in a shared_ptr.
  auto shared_responder = std::make_shared<Responder>(std::move(responder));
  core.Submit(std::move(request), [this, g = &generation, identity = std::move(identity),
                                   api = std::move(api), endpoint = std::move(endpoint),
                                   responder = std::move(shared_responder)](const Result& result) {
    g->book.Release(identity);
    --g->in_progress;
    counters_.completed.fetch_add(1, std::memory_order_relaxed);
    ++outcomes_[static_cast<int>(result.outcome)];
    Answer(*responder,
           AnswerFor(api, endpoint, result, g->core->orchestrator(), g->core->clock().now()));
  });
}

void Sidecar::Answer(Responder& responder, ProxyAnswer answer) {
  if (responder.answered()) return;
  counters_.answered.fetch_add(1, std::memory_order_relaxed);
  metrics_->CountHttpResponse(answer.status);
  responder.Send(std::move(answer));
}

// ---------------------------------------------------------------- drain

void Sidecar::StartDrain() {
  if (draining_) return;
  draining_ = true;
  metrics_->SetReady(false);
  server_->SetClosing(true);
  const Duration drain = current_ ? current_->config->drain : Duration::Zero();
  LogEvent(*logger_, spdlog::level::info, "drain_started",
           {{"drain_s", static_cast<double>(drain.micros()) / 1e6},
            {"pending", current_ ? current_->in_progress : 0}});
  // A generation already retiring after a reload keeps its own drain.
  if (current_) Retire(std::move(current_), drain);
  MaybeFinish();
}

void Sidecar::Retire(std::unique_ptr<Generation> generation, Duration drain) {
  Generation* g = generation.get();
  retiring_.push_back(std::move(generation));
  g->core->Retire(drain, [this, g] {
    // Not from inside the core's own call stack: destroy it on a later turn.
    net::post(io_, [this, g] { OnGenerationRetired(g); });
  });
}

void Sidecar::OnGenerationRetired(Generation* g) {
  g->Sample();  // what it did since the last scrape
  if (g->trace_sink) {
    const Status closed = g->trace_sink->Close();
    if (!closed.ok()) {
      LogEvent(*logger_, spdlog::level::err, "trace_write_failed", {{"error", closed.message()}});
    }
  }
  LogEvent(*logger_, spdlog::level::info, "generation_retired",
           {{"generation", g->id},
            {"requests", g->core->orchestrator().stats().submitted},
            {"calls", g->core->orchestrator().stats().calls_sent}});
  retiring_.remove_if([g](const std::unique_ptr<Generation>& p) { return p.get() == g; });
  MaybeFinish();
}

void Sidecar::MaybeFinish() {
  if (!draining_ || current_ || !retiring_.empty() || finished_) return;
  server_->StopAccepting();
  server_->CloseIdle();
  FinishWhenWritten(clock_->now() + write_timeout_);
}

void Sidecar::FinishWhenWritten(Instant give_up_at) {
  if (server_->busy_sessions() > 0 && clock_->now() < give_up_at) {
    finish_timer_.expires_after(std::chrono::milliseconds(5));
    finish_timer_.async_wait([this, give_up_at](const boost::system::error_code& ec) {
      if (!ec) FinishWhenWritten(give_up_at);
    });
    return;
  }
  finished_ = true;
  LogSummary();
  server_.reset();  // closes what is left
  if (signals_) signals_->cancel();
  io_.stop();
}

void Sidecar::LogSummary() {
  nlohmann::ordered_json outcomes = nlohmann::ordered_json::object();
  for (int i = 0; i < kOutcomeCount; ++i) {
    outcomes[std::string(OutcomeName(static_cast<Outcome>(i)))] = outcomes_[i];
  }
  const SidecarCounters c = counters();
  LogEvent(*logger_, spdlog::level::info, "stopped",
           {{"uptime_s", static_cast<double>((clock_->now() - started_at_).micros()) / 1e6},
            {"accepted", c.accepted},
            {"answered", c.answered},
            {"submitted", c.submitted},
            {"completed", c.completed},
            {"outcomes", outcomes},
            {"generations", next_generation_ - 1},
            {"reloads_ok", c.reloads_ok},
            {"reloads_failed", c.reloads_failed}});
}

// ---------------------------------------------------------------- reload

void Sidecar::StartReload() {
  if (draining_) {
    LogEvent(*logger_, spdlog::level::warn, "reload_ignored", {{"reason", "draining"}});
    return;
  }
  if (reload_running_) {
    reload_again_ = true;  // once the running one is applied
    return;
  }
  reload_running_ = true;
  if (reload_thread_.joinable()) reload_thread_.join();
  // Reading and validating files is not done on the loop.
  reload_thread_ = std::thread([this, path = options_.config_path, env = options_.env] {
    auto loaded = std::make_shared<StatusOr<ServeConfig>>(LoadServeConfig(path, env));
    net::post(io_, [this, loaded] { ApplyReload(std::move(*loaded)); });
  });
}

void Sidecar::ApplyReload(StatusOr<ServeConfig> loaded) {
  reload_running_ = false;
  if (draining_) return;
  // Log first, count last: whoever sees the counter move (a test, /metrics)
  // finds the log line already written.
  auto fail = [this](const std::string& error) {
    LogEvent(*logger_, spdlog::level::err, "reload_failed",
             {{"error", error}, {"kept_generation", current_ ? current_->id : 0}});
    metrics_->CountReload(false);
    counters_.reloads_failed.fetch_add(1);
  };
  if (!loaded.ok()) {
    fail(loaded.status().message());
  } else {
    auto config = std::make_shared<ServeConfig>(std::move(loaded.value()));
    if (!options_.listen && ListenText(config->listen_host, config->listen_port) != listen_) {
      LogEvent(*logger_, spdlog::level::warn, "listen_unchanged",
               {{"listening", listen_},
                {"configured", ListenText(config->listen_host, config->listen_port)},
                {"reason", "the listen address changes only with a restart"}});
    }
    StatusOr<std::unique_ptr<Generation>> generation = MakeGeneration(config);
    if (!generation.ok()) {
      fail(generation.status().message());
    } else {
      std::unique_ptr<Generation> old = std::move(current_);
      current_ = std::move(generation.value());
      logger_->set_level(ParseLogLevel(current_->config->log_level));
      LogEvent(*logger_, spdlog::level::info, "reload",
               {{"generation", current_->id},
                {"preset", current_->config->preset_file},
                {"variant", current_->config->variant},
                {"retiring_generation", old ? old->id : 0}});
      metrics_->CountReload(true);
      counters_.reloads_ok.fetch_add(1);
      if (old) {
        const Duration drain = old->config->drain;
        Retire(std::move(old), drain);
      }
    }
  }
  if (reload_again_) {
    reload_again_ = false;
    StartReload();
  }
}

}  // namespace orchsim::live
