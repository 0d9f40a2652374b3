// Heap allocations per client request through the whole pipeline (issue 20):
// this program replaces the global operator new/delete with counting ones
// (in this test binary only) and runs cold requests (every key distinct,
// not cacheable, every request goes upstream) through an orchestrator with
// every per-request mechanism on, over ports that themselves allocate
// nothing once warmed up. What is counted is the core's own allocations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"

namespace {
uint64_t g_allocations = 0;
bool g_counting = false;
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace orchsim {
namespace {

using testing::FakeClock;
using testing::SeededRandom;

// Timers in a binary heap of (instant, sequence) over a reserved vector, and
// callbacks in a reserved slot table (the core's callbacks fit
// std::function's inline buffer): scheduling allocates nothing while the
// reserve lasts. Cancelled timers are dropped when they come due.
class LeanTimers : public Timers {
 public:
  LeanTimers(FakeClock& clock, size_t capacity) : clock_(clock) {
    heap_.reserve(capacity);
    callbacks_.reserve(capacity);
  }
  TimerId ScheduleAt(Instant at, Callback callback) override {
    if (at < clock_.now()) at = clock_.now();
    const TimerId id = callbacks_.size() + 1;
    callbacks_.push_back(std::move(callback));
    heap_.push_back(Entry{at.unix_micros(), id});
    std::push_heap(heap_.begin(), heap_.end(), Later);
    return id;
  }
  bool Cancel(TimerId id) override {
    if (id == 0 || id > callbacks_.size() || !callbacks_[id - 1]) return false;
    callbacks_[id - 1] = nullptr;
    return true;
  }
  // Fires what is due up to `t` in (instant, sequence) order, then sets the clock to t.
  void RunUntil(Instant t) {
    while (!heap_.empty() && heap_.front().at <= t.unix_micros()) {
      std::pop_heap(heap_.begin(), heap_.end(), Later);
      const Entry due = heap_.back();
      heap_.pop_back();
      Callback callback = std::move(callbacks_[due.id - 1]);
      callbacks_[due.id - 1] = nullptr;
      if (!callback) continue;
      clock_.Set(Instant::FromUnixMicros(due.at));
      callback();
    }
    clock_.Set(t);
  }

 private:
  struct Entry {
    int64_t at;
    TimerId id;  // ids grow with scheduling order: the FIFO tie-break
  };
  static bool Later(const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at > b.at : a.id > b.id;
  }
  FakeClock& clock_;
  std::vector<Entry> heap_;
  std::vector<Callback> callbacks_;
};

// Keeps the callbacks of calls sent; AnswerAll answers them with one
// response made once by the test. Cancel is not expected here.
class LeanTransport : public Transport {
 public:
  explicit LeanTransport(size_t capacity) {
    pending_.reserve(capacity);
    answering_.reserve(capacity);
  }
  CallHandle Send(const UpstreamCall& /*call*/, ResponseCallback on_response) override {
    pending_.push_back(std::move(on_response));
    return ++handles_;
  }
  void Cancel(CallHandle /*handle*/) override { std::abort(); }
  void AnswerAll(const Response& response) {
    answering_.swap(pending_);
    for (ResponseCallback& callback : answering_) callback(response);
    answering_.clear();
  }

 private:
  std::vector<ResponseCallback> pending_;
  std::vector<ResponseCallback> answering_;
  CallHandle handles_ = 0;
};

// The bench's pipeline (tests/bench/orchestrator_bench.cc) without batching:
// cache, coalescer, queue with escalation, token bucket, quota pacing,
// breaker, bulkhead, timeouts (a deadline and an attempt timer per request),
// retry, health, cost.
OrchestratorConfig EverythingOn() {
  OrchestratorConfig c;
  c.defaults.bucket.rate_per_s = 1e6;
  c.defaults.bucket.burst = 1e6;
  c.defaults.quota.mode = QuotaMode::kPace;
  c.defaults.concurrency.max_in_flight = 1000;
  c.health.active_probes = false;
  return c;
}

TEST(OrchestratorAllocTest, TheCountingAllocatorCounts) {
  g_allocations = 0;
  g_counting = true;
  auto* one = new std::vector<int>(3);
  std::string long_text(100, 'x');
  g_counting = false;
  delete one;
  EXPECT_EQ(g_allocations, 3u);  // the vector, its elements, the string
}

TEST(OrchestratorAllocTest, ColdRequestsAllocateAtMostThreeTimesEach) {
  constexpr int kWarmup = 3000;
  constexpr int kMeasured = 3000;
  const Instant start = Instant::FromUnixMicros(1'700'000'000'000'000);
  FakeClock clock(start);
  LeanTimers timers(clock, 4 * (kWarmup + kMeasured));
  LeanTransport transport(16);
  SeededRandom jitter(1);
  std::unique_ptr<Orchestrator> core =
      Orchestrator::Create(EverythingOn(), clock, timers, transport, jitter).value();
  Response ok;
  ok.status = 200;
  ok.payload_versions = {1};
  ok.credits_charged = 1;
  ok.headers.Set("x-requests-remaining", "1000000000000");
  const char* apis[] = {"odds", "scores", "weather"};
  int served = 0;
  Instant t = start;
  auto one_request = [&](uint64_t id) {
    t += Microseconds(200);
    timers.RunUntil(t);
    Request r;
    r.id = id;
    r.api = apis[id % 3];
    r.endpoint = r.api;
    r.key = std::to_string(id);  // short: the caller's strings do not allocate
    r.cacheable = false;
    r.priority = kAllPriorities[id % 4];
    core->Submit(std::move(r), [&served](const Result& result) {
      if (result.outcome == Outcome::kServed) ++served;
    });
    transport.AnswerAll(ok);
  };
  uint64_t id = 0;
  for (int i = 0; i < kWarmup; ++i) one_request(++id);
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < kMeasured; ++i) one_request(++id);
  g_counting = false;
  EXPECT_EQ(served, kWarmup + kMeasured);
  EXPECT_EQ(core->pending_requests(), 0u);
  const double per_request = static_cast<double>(g_allocations) / kMeasured;
  RecordProperty("allocations_per_cold_request", std::to_string(per_request));
  std::printf("allocations per cold request: %.3f\n", per_request);
  EXPECT_LE(g_allocations, 3u * kMeasured);
}

}  // namespace
}  // namespace orchsim
