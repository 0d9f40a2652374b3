// A minimal service around the orchestration core, built against the
// installed package (find_package(orchsim)): it loads a preset, implements
// the four ports with the simplest possible event loop, and passes requests
// through the core. Usage: consumer PRESET.json
//
// Exit status: 0 when every request ended exactly once and the preset's
// cache and coalescing did their work; 1 otherwise; 2 when the preset does
// not load.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "policies/config/preset_loader.h"
#include "policies/orchestrator.h"

namespace {

using namespace orchsim;  // NOLINT: a small program

// A clock that moves only when the loop says; wall time = monotonic time.
class LoopClock : public Clock {
 public:
  Instant now() const override { return now_; }
  Instant wall_now() const override { return now_; }
  void Set(Instant t) { now_ = t; }

 private:
  Instant now_ = *ParseInstant("2024-09-08T17:00:00Z");
};

// Timers in (time, id) order; the loop runs them.
class LoopTimers : public Timers {
 public:
  explicit LoopTimers(LoopClock& clock) : clock_(clock) {}
  TimerId ScheduleAt(Instant at, Callback callback) override {
    const TimerId id = next_++;
    if (at < clock_.now()) at = clock_.now();
    pending_.emplace(std::make_pair(at, id), std::move(callback));
    return id;
  }
  bool Cancel(TimerId id) override {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first.second == id) {
        pending_.erase(it);
        return true;
      }
    }
    return false;
  }
  // Runs every timer due by `until`, in order.
  void RunUntil(Instant until) {
    while (!pending_.empty() && pending_.begin()->first.first <= until) {
      auto it = pending_.begin();
      clock_.Set(it->first.first);
      Callback callback = std::move(it->second);
      pending_.erase(it);
      callback();
    }
    clock_.Set(until);
  }

 private:
  LoopClock& clock_;
  std::map<std::pair<Instant, TimerId>, Callback> pending_;
  TimerId next_ = 1;
};

// An "upstream" answering 200 with a small JSON body after 20 ms, and
// confirming cancels at once.
class EchoTransport : public Transport {
 public:
  EchoTransport(LoopClock& clock, LoopTimers& timers) : clock_(clock), timers_(timers) {}
  CallHandle Send(const UpstreamCall& call, ResponseCallback done) override {
    ++calls_;
    const CallHandle handle = next_++;
    Response response;
    response.status = 200;
    for (const std::string& key : call.keys) {
      response.payload_versions.push_back(1);
      response.bodies.push_back(MakeBody("application/json", "{\"key\":\"" + key + "\"}"));
    }
    response.credits_charged = 1;
    response.latency = Milliseconds(20);
    pending_[handle] =
        timers_.ScheduleAt(clock_.now() + Milliseconds(20), [this, handle, done, response] {
          pending_.erase(handle);
          done(response);
        });
    callbacks_[handle] = done;
    return handle;
  }
  void Cancel(CallHandle handle) override {
    auto it = pending_.find(handle);
    if (it == pending_.end() || !timers_.Cancel(it->second)) return;
    pending_.erase(it);
    Response cancelled;
    cancelled.status = kStatusCancelled;
    timers_.ScheduleAt(clock_.now(), [done = callbacks_[handle], cancelled] { done(cancelled); });
  }
  int calls() const { return calls_; }

 private:
  LoopClock& clock_;
  LoopTimers& timers_;
  std::map<CallHandle, Timers::TimerId> pending_;
  std::map<CallHandle, ResponseCallback> callbacks_;
  CallHandle next_ = 1;
  int calls_ = 0;
};

class FixedRandom : public RandomSource {
 public:
  double Uniform01() override { return 0.5; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer PRESET.json\n");
    return 2;
  }
  StatusOr<OrchestratorConfig> config = config::LoadPolicyFile(argv[1]);
  if (!config.ok()) {
    std::fprintf(stderr, "consumer: %s\n", config.status().message().c_str());
    return 2;
  }
  LoopClock clock;
  LoopTimers timers(clock);
  EchoTransport transport(clock, timers);
  FixedRandom random;
  StatusOr<std::unique_ptr<Orchestrator>> core =
      Orchestrator::Create(*config, clock, timers, transport, random);
  if (!core.ok()) {
    std::fprintf(stderr, "consumer: %s\n", core.status().message().c_str());
    return 2;
  }
  // 40 requests for 4 games' odds, 10 ms apart: identical ones share a call
  // or a cache entry.
  std::map<Outcome, int> outcomes;
  int ended = 0;
  std::string body_seen;
  const Instant start = clock.now();
  for (uint64_t id = 1; id <= 40; ++id) {
    timers.RunUntil(start + Milliseconds(10 * static_cast<int64_t>(id)));
    Request request;
    request.id = id;
    request.api = "odds";
    request.endpoint = "odds";
    request.key = "game-" + std::to_string(id % 4);
    request.priority = id % 5 == 0 ? Priority::kHigh : Priority::kNormal;
    (*core)->Submit(request, [&](const Result& result) {
      ++outcomes[result.outcome];
      ++ended;
      if (result.body) body_seen = result.body->bytes;
    });
  }
  timers.RunUntil(start + Minutes(1));
  bool stopped = false;
  (*core)->Shutdown(Seconds(5), [&] { stopped = true; });
  timers.RunUntil(start + Minutes(2));

  for (const auto& [outcome, n] : outcomes) {
    std::printf("%s %d\n", std::string(OutcomeName(outcome)).c_str(), n);
  }
  std::printf("upstream_calls %d\n", transport.calls());
  std::printf("body %s\n", body_seen.c_str());
  const bool ok = stopped && ended == 40 && outcomes[Outcome::kCacheHit] > 0 &&
                  transport.calls() < 40 && body_seen.rfind("{\"key\":\"game-", 0) == 0;
  std::printf("%s\n", ok ? "consumer: ok" : "consumer: FAILED");
  return ok ? 0 : 1;
}
