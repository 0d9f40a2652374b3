#include "live/live_core.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <utility>

namespace orchsim::live {

namespace net = boost::asio;

// ---------------------------------------------------------------- LiveCore

LiveCore::LiveCore(net::io_context& io, const LiveCoreOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? *options.clock : own_clock_),
      timers_(io, clock_),
      random_(options.seed ? OsRandomSource(*options.seed) : OsRandomSource()),
      poll_(io) {}

LiveCore::~LiveCore() {
  // The orchestrator goes first (it may cancel calls on the way out), then
  // the transport, which drops whatever it still holds.
  if (transport_) transport_->Stop();
  orchestrator_.reset();
  transport_.reset();
}

StatusOr<std::unique_ptr<LiveCore>> LiveCore::Create(net::io_context& io,
                                                     const OrchestratorConfig& config,
                                                     const TransportFactory& make_transport,
                                                     const LiveCoreOptions& options) {
  std::unique_ptr<LiveCore> core(new LiveCore(io, options));
  StatusOr<std::unique_ptr<HttpTransport>> transport = make_transport(io, core->clock_);
  if (!transport.ok()) return transport.status();
  core->transport_ = std::move(transport.value());
  StatusOr<std::unique_ptr<Orchestrator>> orchestrator =
      Orchestrator::Create(config, core->clock_, core->timers_, *core->transport_, core->random_);
  if (!orchestrator.ok()) return orchestrator.status();
  core->orchestrator_ = std::move(orchestrator.value());
  for (OrchestratorObserver* observer : options.observers) {
    core->orchestrator_->AddObserver(observer);
  }
  return core;
}

void LiveCore::Retire(Duration drain, std::function<void()> done) {
  if (retiring_) return;
  retiring_ = true;
  on_retired_ = std::move(done);
  orchestrator_->Shutdown(drain, [this] {
    // Every request has ended; the calls the shutdown cancelled confirm on
    // the next turns of the loop.
    AwaitQuiet(clock_.now() + options_.grace);
  });
}

void LiveCore::AwaitQuiet(Instant give_up_at) {
  if (orchestrator_->calls_in_flight() > 0 && clock_.now() < give_up_at) {
    poll_.expires_after(std::chrono::milliseconds(5));
    poll_.async_wait([this, give_up_at](const boost::system::error_code& ec) {
      if (!ec) AwaitQuiet(give_up_at);
    });
    return;
  }
  transport_->Stop();
  retired_ = true;
  auto done = std::move(on_retired_);
  on_retired_ = nullptr;
  if (done) done();
}

// ---------------------------------------------------------------- ThreadedCore

ThreadedCore::ThreadedCore() : work_(net::make_work_guard(io_)) {}

StatusOr<std::unique_ptr<ThreadedCore>> ThreadedCore::Create(
    const OrchestratorConfig& config, const LiveCore::TransportFactory& make_transport,
    const LiveCoreOptions& options) {
  std::unique_ptr<ThreadedCore> threaded(new ThreadedCore());
  // Built before the thread starts: nothing runs on the loop yet.
  StatusOr<std::unique_ptr<LiveCore>> core =
      LiveCore::Create(threaded->io_, config, make_transport, options);
  if (!core.ok()) return core.status();
  threaded->core_ = std::move(core.value());
  threaded->thread_ = std::thread([io = &threaded->io_] { io->run(); });
  return threaded;
}

ThreadedCore::~ThreadedCore() { Shutdown(Duration::Zero()); }

void ThreadedCore::Submit(Request request, Orchestrator::DoneFn done) {
  request.id = next_id_.fetch_add(1);
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    Result result;
    result.outcome = Outcome::kCancelled;
    done(result);
    return;
  }
  net::post(io_, [this, request = std::move(request), done = std::move(done)]() mutable {
    core_->orchestrator().Submit(std::move(request), std::move(done));
  });
}

void ThreadedCore::Post(std::function<void(LiveCore&)> fn) {
  net::post(io_, [this, fn = std::move(fn)] { fn(*core_); });
}

void ThreadedCore::Shutdown(Duration drain) {
  if (shut_down_.exchange(true)) return;
  std::promise<void> retired;
  net::post(io_,
            [this, drain, &retired] { core_->Retire(drain, [&retired] { retired.set_value(); }); });
  retired.get_future().wait();
  // Requests submitted meanwhile were posted before the loop stops; the
  // retired orchestrator ends each of them as kCancelled on this last turn.
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    net::post(io_, [this] {
      core_.reset();
      work_.reset();
    });
  }
  thread_.join();
}

}  // namespace orchsim::live
