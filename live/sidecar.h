// sidecar.h — `orchsim serve`: the orchestration core as an HTTP proxy in
// front of real upstream APIs (the tools/ command is a thin shell over it).
//
// The request path, in order (each stage one function in sidecar.cc,
// Envoy's filter chain as the model):
//   1. admin       GET /healthz, /readyz, /metrics are answered here
//   2. intake      while draining: 503 {"error":"draining"}, Connection: close
//   3. route       client URL -> core Request (request_router.h): 400/404/405
//                  with a JSON reason when malformed
//   4. core        Orchestrator::Submit; the TargetBook remembers the
//                  upstream URL while the request is in progress
//   5. answer      Result -> status, body, X-Orchsim-Outcome, Age,
//                  Retry-After (proxy_answer.h)
// Every request read in full gets exactly one answer (the Responder
// guarantees it; the core guarantees one outcome per submitted request).
//
// One io_context thread runs the HTTP server and the core, so a request
// reaches the core without a thread hop and the core stays single-threaded.
//
// Generations. The config and preset in force, with their core (LiveCore:
// orchestrator, timers, HTTP transport) and TargetBook, form a generation.
// Reload (SIGHUP) reads and validates serve.json and the preset off the loop;
// on success a new generation takes every new request and the old one is
// retired (Retire: drains with its drain time, then is destroyed); on error
// the old one stays and the error is logged. Cache and breaker state start
// afresh with the new generation. The listen address cannot change by reload.
//
// Drain (SIGTERM, SIGINT, or BeginDrain()): /readyz answers 503, new
// requests get 503, every generation drains (the config's drain time;
// what is still pending then ends as cancelled and is answered 503), idle
// client connections close, answers still being written finish (at most
// the server's write timeout), then Run() returns 0 after a "stopped"
// summary line. Further signals during the drain change nothing.
//
// Hooks: observers passed in SidecarOptions (e.g. a trace recorder) are
// attached to every generation's orchestrator.
// Thread rules: Run() on one thread; BeginDrain(), Reload(), port() and
// counters() from any thread.
#ifndef ORCHSIM_LIVE_SIDECAR_H_
#define ORCHSIM_LIVE_SIDECAR_H_

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "live/http_server.h"
#include "live/json_log.h"
#include "live/live_core.h"
#include "live/metrics.h"
#include "live/request_router.h"
#include "live/serve_config.h"
#include "policies/events.h"

namespace orchsim::live {

struct SidecarOptions {
  std::string config_path;
  EnvLookup env = ProcessEnv;
  // Attached to every generation's orchestrator; not owned, must outlive Run().
  std::vector<OrchestratorObserver*> observers;
  // Records a trace (policies/trace/) of every request and upstream call to
  // this file (JSON lines, flushed per line); "" for none. The first core
  // writes the file itself; after a reload, core N writes FILE with "-gN"
  // before the extension (trace.jsonl -> trace-g2.jsonl): call ids are
  // unique per core only.
  std::string record_path;
  spdlog::sink_ptr log_sink;    // nullptr: stderr
  bool handle_signals = false;  // SIGTERM/SIGINT drain, SIGHUP reload
  // Replaces the config's listen address (tests: "127.0.0.1:0").
  std::optional<std::string> listen;
};

// Counters for tests and the summary line (any thread).
struct SidecarCounters {
  uint64_t accepted = 0;   // requests read in full
  uint64_t answered = 0;   // answers handed to the server
  uint64_t submitted = 0;  // requests given to a core
  uint64_t completed = 0;  // their outcomes
  uint64_t reloads_ok = 0;
  uint64_t reloads_failed = 0;
  uint64_t generation = 0;
};

class Sidecar {
 public:
  // Loads and validates the config (the Status names file, JSON path and
  // problem; the CLI exits 2), builds the first generation and listens.
  static StatusOr<std::unique_ptr<Sidecar>> Create(SidecarOptions options);
  ~Sidecar();
  Sidecar(const Sidecar&) = delete;
  Sidecar& operator=(const Sidecar&) = delete;

  // Runs the loop until the drain has finished; returns the exit status (0).
  int Run();
  // Thread-safe: what SIGTERM does / what SIGHUP does.
  void BeginDrain();
  void Reload();

  uint16_t port() const { return port_; }
  SidecarCounters counters() const;
  boost::asio::io_context& io() { return io_; }

 private:
  struct Generation;

  explicit Sidecar(SidecarOptions options);
  StatusOr<std::unique_ptr<Generation>> MakeGeneration(std::shared_ptr<const ServeConfig> config);
  void WatchSignals();

  // The request path (see the header comment).
  void Handle(const ClientRequest& request, Responder responder);
  bool HandleAdmin(const ClientRequest& request, Responder& responder);
  void Submit(Generation& generation, RoutedRequest routed, Responder responder);
  void Answer(Responder& responder, ProxyAnswer answer);

  // Lifecycle, on the loop.
  void StartDrain();
  void OnGenerationRetired(Generation* generation);
  void MaybeFinish();
  void FinishWhenWritten(Instant give_up_at);
  void StartReload();
  void ApplyReload(StatusOr<ServeConfig> loaded);
  void Retire(std::unique_ptr<Generation> generation, Duration drain);
  void LogSummary();

  SidecarOptions options_;
  boost::asio::io_context io_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<AsioClock> clock_;  // for the metrics' and logs' wall time
  std::unique_ptr<LiveMetrics> metrics_;
  std::unique_ptr<LogObserver> log_observer_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Generation> current_;
  std::list<std::unique_ptr<Generation>> retiring_;
  std::optional<boost::asio::signal_set> signals_;
  boost::asio::steady_timer finish_timer_;
  uint16_t port_ = 0;
  std::string listen_;      // as bound, for reload checks
  Duration write_timeout_;  // the server's, for the end of a drain
  uint64_t next_request_id_ = 1;
  uint64_t next_generation_ = 1;
  bool draining_ = false;
  bool finished_ = false;
  bool reload_running_ = false;
  bool reload_again_ = false;
  std::thread reload_thread_;
  Instant started_at_;

  struct AtomicCounters {
    std::atomic<uint64_t> accepted{0}, answered{0}, submitted{0}, completed{0};
    std::atomic<uint64_t> reloads_ok{0}, reloads_failed{0}, generation{0};
  };
  AtomicCounters counters_;
  std::array<uint64_t, kOutcomeCount> outcomes_{};  // loop thread: for the summary
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_SIDECAR_H_
