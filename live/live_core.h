// live_core.h — the orchestration core on a real clock: the orchestrator,
// its Asio ports and its HTTP transport, wired on one io_context.
//
// LiveCore runs on an io_context the host drives (the sidecar runs its HTTP
// server on the same loop, so a request reaches the core without changing
// threads). ThreadedCore owns the io_context and the one thread that runs it,
// for services with many threads of their own: Submit may be called from any
// thread and posts to the core's loop (the loop is the strand: everything
// the core does runs on that one thread, in order).
//
// Retire(drain, done): Orchestrator::Shutdown(drain) (every pending request
// ends once: answered, or kCancelled when the drain ends), then waits until
// the transport has confirmed every outstanding call (at most `grace`), stops
// the transport and calls `done`. The core may be destroyed after `done`.
//
// Example (a multi-threaded service):
//   auto core = ThreadedCore::Create(config, MakeMyTransport, {});
//   (*core)->Submit(request, [](const Result& r) { /* on the core's thread */ });
//   (*core)->Shutdown(Seconds(30));  // blocks until drained
#ifndef ORCHSIM_LIVE_LIVE_CORE_H_
#define ORCHSIM_LIVE_LIVE_CORE_H_

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "live/asio_ports.h"
#include "live/http_transport.h"
#include "policies/events.h"
#include "policies/orchestrator.h"
#include "policies/orchestrator_config.h"
#include "policies/status.h"

namespace orchsim::live {

struct LiveCoreOptions {
  std::optional<uint64_t> seed;  // the jitter's seed; absent: drawn from the OS
  // Observers attached to the orchestrator (not owned; must outlive it).
  std::vector<OrchestratorObserver*> observers;
  // How long Retire waits for cancellation confirmations after the drain.
  Duration grace = Seconds(5);
  // A clock shared with the host (one monotonic timeline for several cores
  // and their observers); nullptr: the core has its own. Must outlive it.
  AsioClock* clock = nullptr;
};

class LiveCore {
 public:
  // Makes the transport, given the loop and the core's clock; it may
  // register origins. An error Status aborts Create.
  using TransportFactory = std::function<StatusOr<std::unique_ptr<HttpTransport>>(
      boost::asio::io_context&, const Clock&)>;

  static StatusOr<std::unique_ptr<LiveCore>> Create(boost::asio::io_context& io,
                                                    const OrchestratorConfig& config,
                                                    const TransportFactory& make_transport,
                                                    const LiveCoreOptions& options);
  ~LiveCore();
  LiveCore(const LiveCore&) = delete;
  LiveCore& operator=(const LiveCore&) = delete;

  // REQUIRES (all below): called on the loop's thread.
  Orchestrator& orchestrator() { return *orchestrator_; }
  const AsioClock& clock() const { return clock_; }
  HttpTransport& transport() { return *transport_; }
  uint64_t seed() const { return random_.seed(); }
  // See the header comment. Once only.
  void Retire(Duration drain, std::function<void()> done);
  bool retired() const { return retired_; }

 private:
  LiveCore(boost::asio::io_context& io, const LiveCoreOptions& options);
  void AwaitQuiet(Instant give_up_at);

  LiveCoreOptions options_;
  AsioClock own_clock_;
  AsioClock& clock_;  // own_clock_ or options.clock
  AsioTimers timers_;
  OsRandomSource random_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<Orchestrator> orchestrator_;
  boost::asio::steady_timer poll_;
  std::function<void()> on_retired_;
  bool retiring_ = false;
  bool retired_ = false;
};

class ThreadedCore {
 public:
  static StatusOr<std::unique_ptr<ThreadedCore>> Create(
      const OrchestratorConfig& config, const LiveCore::TransportFactory& make_transport,
      const LiveCoreOptions& options);
  // Shuts down with no drain if Shutdown was not called.
  ~ThreadedCore();
  ThreadedCore(const ThreadedCore&) = delete;
  ThreadedCore& operator=(const ThreadedCore&) = delete;

  // Thread-safe. Gives the request a fresh id and submits it on the core's
  // thread; `done` runs there, exactly once. Once Shutdown has drained the
  // core, `done` runs at once on the caller's thread with kCancelled.
  void Submit(Request request, Orchestrator::DoneFn done);
  // Thread-safe. Runs `fn` on the core's thread (e.g. to read stats).
  void Post(std::function<void(LiveCore&)> fn);
  // Blocks until the core has drained (at most `drain` plus the grace) and
  // its thread has ended. Idempotent. REQUIRES: not on the core's thread.
  void Shutdown(Duration drain);

 private:
  ThreadedCore();
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<LiveCore> core_;
  std::thread thread_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<bool> shut_down_{false};
  std::mutex mutex_;
  bool closed_ = false;  // guarded by mutex_: nothing more reaches the loop
};

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_LIVE_CORE_H_
