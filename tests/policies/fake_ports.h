// fake_ports.h — hand-driven implementations of the core's ports for tests:
// a clock that moves only when told, timers fired in (time, sequence) order,
// a transport whose answers the test controls, and a seeded random source.
#ifndef ORCHSIM_TESTS_POLICIES_FAKE_PORTS_H_
#define ORCHSIM_TESTS_POLICIES_FAKE_PORTS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policies/ports.h"

namespace orchsim::testing {

// Monotonic time moves only when told; wall time is monotonic time plus an
// offset the test may step (an NTP correction, an operator's clock change).
class FakeClock : public Clock {
 public:
  explicit FakeClock(Instant start) : now_(start) {}
  Instant now() const override { return now_; }
  Instant wall_now() const override { return now_ + wall_offset_; }
  void Set(Instant t) { now_ = t; }
  void StepWall(Duration by) { wall_offset_ += by; }

 private:
  Instant now_;
  Duration wall_offset_;
};

// Timers over a FakeClock. AdvanceTo(t) fires every due timer in (time,
// sequence) order, moving the clock to each timer's instant, then to t.
// Past instants run at the current time. With keep_cancelled, Cancel reports
// success but the callback still runs, like a host that cannot retract a
// callback already queued.
class FakeTimers : public Timers {
 public:
  explicit FakeTimers(FakeClock& clock) : clock_(clock) {}
  TimerId ScheduleAt(Instant at, std::function<void()> callback) override {
    scheduled_at_.push_back(at);
    if (at < clock_.now()) at = clock_.now();
    const TimerId id = next_id_++;
    pending_.emplace(std::make_pair(at.unix_micros(), id), std::move(callback));
    time_of_.emplace(id, at.unix_micros());
    return id;
  }
  bool Cancel(TimerId id) override {
    auto it = time_of_.find(id);
    if (it == time_of_.end()) return false;
    ++cancelled_;
    if (keep_cancelled_) return true;
    pending_.erase(std::make_pair(it->second, id));
    time_of_.erase(it);
    return true;
  }
  void AdvanceTo(Instant t) {
    while (!pending_.empty() && pending_.begin()->first.first <= t.unix_micros()) {
      auto it = pending_.begin();
      clock_.Set(Instant::FromUnixMicros(it->first.first));
      auto callback = std::move(it->second);
      time_of_.erase(it->first.second);
      pending_.erase(it);
      callback();
    }
    if (clock_.now() < t) clock_.Set(t);
  }
  void AdvanceBy(Duration d) { AdvanceTo(clock_.now() + d); }
  // Fires everything, however far ahead.
  void RunAll() {
    while (!pending_.empty()) AdvanceTo(Instant::FromUnixMicros(pending_.begin()->first.first));
  }
  size_t pending() const { return pending_.size(); }
  std::optional<Instant> next() const {
    if (pending_.empty()) return std::nullopt;
    return Instant::FromUnixMicros(pending_.begin()->first.first);
  }
  // Every instant asked for, in order (before moving past ones to now).
  const std::vector<Instant>& scheduled_at() const { return scheduled_at_; }
  // Successful Cancel calls.
  int cancelled() const { return cancelled_; }
  void set_keep_cancelled(bool keep) { keep_cancelled_ = keep; }

 private:
  FakeClock& clock_;
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> pending_;
  std::unordered_map<TimerId, int64_t> time_of_;
  TimerId next_id_ = 1;
  std::vector<Instant> scheduled_at_;
  int cancelled_ = 0;
  bool keep_cancelled_ = false;
};

// Records every call; the test answers them with AnswerOldest() (or
// Answer(handle)), or sets an auto-responder that picks the response and its
// latency. Cancel follows the port's contract: the answer is withdrawn and
// kStatusCancelled is delivered through the timers, unless the test makes
// the transport ignore cancels (set_ignore_cancel), like a broken one.
class FakeTransport : public Transport {
 public:
  struct Sent {
    UpstreamCall call;
    ResponseCallback on_response;
    Instant at;
    CallHandle handle = 0;
  };
  using AutoResponder = std::function<std::pair<Response, Duration>(const UpstreamCall&)>;

  FakeTransport(FakeClock& clock, FakeTimers& timers) : clock_(clock), timers_(timers) {}
  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override {
    const CallHandle handle = next_handle_++;
    calls_.push_back(call);
    send_times_.push_back(clock_.now());
    if (auto_) {
      std::pair<Response, Duration> answer = auto_(call);
      Response response = std::move(answer.first);
      response.latency = answer.second;
      Scheduled& scheduled = scheduled_[handle];
      scheduled.on_response = std::move(on_response);
      scheduled.response = std::move(response);
      scheduled.sent_at = clock_.now();
      scheduled.timer =
          timers_.ScheduleAt(clock_.now() + answer.second, [this, handle] { Deliver(handle); });
      return handle;
    }
    outstanding_.push_back(Sent{call, std::move(on_response), clock_.now(), handle});
    return handle;
  }
  void Cancel(CallHandle handle) override {
    cancelled_.push_back(handle);
    if (ignore_cancel_) return;
    Response confirmation;
    confirmation.status = kStatusCancelled;
    if (auto it = scheduled_.find(handle); it != scheduled_.end()) {
      if (!timers_.Cancel(it->second.timer)) return;
      confirmation.latency = clock_.now() - it->second.sent_at;
      it->second.response = confirmation;
      it->second.timer =
          timers_.ScheduleAt(clock_.now() + cancel_delay_, [this, handle] { Deliver(handle); });
      return;
    }
    for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
      if (it->handle != handle) continue;
      confirmation.latency = clock_.now() + cancel_delay_ - it->at;
      timers_.ScheduleAt(clock_.now() + cancel_delay_,
                         [cb = std::move(it->on_response), confirmation] { cb(confirmation); });
      outstanding_.erase(it);
      return;
    }
  }
  void set_auto_responder(AutoResponder responder) { auto_ = std::move(responder); }
  // Cancel does nothing: no confirmation comes (a transport breaking its
  // contract; the core keeps the call's bulkhead slot).
  void set_ignore_cancel(bool ignore) { ignore_cancel_ = ignore; }
  // The confirmation of a cancel comes this long after it (closing a
  // connection takes time); zero by default.
  void set_cancel_delay(Duration delay) { cancel_delay_ = delay; }
  // Answers the oldest outstanding call.
  void AnswerOldest(const Response& response) {
    Sent sent = std::move(outstanding_.front());
    outstanding_.pop_front();
    sent.on_response(response);
  }
  // Calls sent by hand-answered mode and neither answered nor cancelled.
  size_t outstanding() const { return outstanding_.size(); }
  const std::vector<UpstreamCall>& calls() const { return calls_; }
  const std::vector<Instant>& send_times() const { return send_times_; }
  // Handles passed to Cancel, in order.
  const std::vector<CallHandle>& cancelled() const { return cancelled_; }

 private:
  struct Scheduled {
    ResponseCallback on_response;
    Response response;
    Instant sent_at;
    Timers::TimerId timer = 0;
  };
  void Deliver(CallHandle handle) {
    auto it = scheduled_.find(handle);
    if (it == scheduled_.end()) return;
    Scheduled scheduled = std::move(it->second);
    scheduled_.erase(it);
    scheduled.on_response(scheduled.response);
  }

  FakeClock& clock_;
  FakeTimers& timers_;
  AutoResponder auto_;
  std::deque<Sent> outstanding_;
  std::map<CallHandle, Scheduled> scheduled_;
  std::vector<UpstreamCall> calls_;
  std::vector<Instant> send_times_;
  std::vector<CallHandle> cancelled_;
  CallHandle next_handle_ = 1;
  Duration cancel_delay_;
  bool ignore_cancel_ = false;
};

// SplitMix64-based uniform source; deterministic from its seed. Also the
// tests' own generator for randomized workloads (NextU64, Below).
class SeededRandom : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  double Uniform01() override { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }
  uint64_t NextU64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) up to modulo bias, which tests' workloads can ignore.
  uint64_t Below(uint64_t n) { return NextU64() % n; }

 private:
  uint64_t state_;
};

// Returns scripted values in turn (then repeats the last one).
class ScriptedRandom : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<double> values) : values_(std::move(values)) {}
  double Uniform01() override {
    const double v = values_[std::min(next_, values_.size() - 1)];
    ++next_;
    return v;
  }

 private:
  std::vector<double> values_;
  size_t next_ = 0;
};

inline Response OkResponse(std::vector<uint64_t> versions = {1}, double credits = 1.0) {
  Response r;
  r.status = 200;
  r.payload_versions = std::move(versions);
  r.credits_charged = credits;
  return r;
}
inline Response ErrorResponse(int status) {
  Response r;
  r.status = status;
  return r;
}

}  // namespace orchsim::testing

#endif  // ORCHSIM_TESTS_POLICIES_FAKE_PORTS_H_
