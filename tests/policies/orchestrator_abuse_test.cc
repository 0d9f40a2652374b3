// The core under abuse: the real Orchestrator, every component on, driven by
// a deliberately hostile upstream with fixed seeds. The transport answers
// after the attempt timeout and after shutdown, answers twice (DUPLICATE
// callbacks, sometimes contradicting each other), sometimes never answers;
// it sends malformed and contradictory quota headers in every style the
// quota tracker reads (The Odds API, GitHub x-ratelimit-*, IETF RateLimit /
// RateLimit-Policy in list, dictionary and split forms), Retry-After in the
// past, absurdly far ahead and as HTTP-dates (valid, impossible, year 9999),
// zero / negative / NaN / infinite / huge credits_charged, payload_versions
// shorter and longer than the call's keys, and status codes 0, 1xx, 3xx,
// 999, negative and INT_MAX.
//
// Invariants checked: every submitted request ends exactly once; outcomes
// sum to submissions; nothing completes after shutdown's callback; nothing is
// left pending or scheduled; served results carry a 2xx status; the cost
// tracker's totals stay finite and non-negative; a request never sees more
// attempts than max_attempts; the same seed gives the same history. Run under
// AddressSanitizer + UndefinedBehaviorSanitizer by tools/run_tests.sh.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "policies/orchestrator.h"
#include "tests/policies/fake_ports.h"
#include "tests/policies/random_requests.h"

namespace orchsim {
namespace {

using testing::FakeClock;
using testing::FakeTimers;
using testing::SeededRandom;

const Instant kT0 = *ParseInstant("2023-09-10T12:00:00Z");
constexpr int kMaxAttempts = 3;

OrchestratorConfig EverythingOnHostileSettings() {
  OrchestratorConfig c;
  // "scores" and "injuries" use the default: pace, default max_retry_after
  // (1 h) so a far Retry-After really blocks for a while.
  c.defaults.bucket.rate_per_s = 50;
  c.defaults.bucket.burst = 20;
  c.defaults.quota.mode = QuotaMode::kPace;
  c.defaults.quota.assumed_period = Minutes(1);
  c.defaults.quota.max_reset_horizon = Minutes(10);
  c.queue.capacity = 300;
  c.defaults.batcher.enabled = true;
  c.defaults.batcher.window = Milliseconds(100);
  c.defaults.batcher.max_batch_size = 5;
  c.defaults.cache.default_ttl = Seconds(20);
  c.cache_store.max_entries = 100;
  c.prefetch.enabled = true;
  c.prefetch.offsets = {Minutes(30), Minutes(5)};
  c.prefetch.targets = {PrefetchTarget{"odds", "odds", "{game}"}};
  c.defaults.breaker.per_endpoint = true;
  c.defaults.breaker.trigger = BreakerTrigger::kFailureRate;
  c.defaults.breaker.failure_rate_threshold = 0.6;
  c.defaults.breaker.window = Seconds(20);
  c.defaults.breaker.minimum_calls = 10;
  c.defaults.breaker.slow_calls_are_failures = true;
  c.defaults.breaker.slow_call_threshold = Seconds(1);
  c.defaults.breaker.open_wait = Seconds(2);
  c.defaults.breaker.open_wait_multiplier = 2.0;
  c.defaults.breaker.max_open_wait = Seconds(30);
  c.defaults.breaker.half_open_permitted_calls = 2;
  c.defaults.retry.max_attempts = kMaxAttempts;
  c.defaults.retry.backoff = BackoffKind::kDecorrelatedJitter;
  c.defaults.retry.base = Milliseconds(50);
  c.defaults.retry.cap = Seconds(2);
  c.defaults.retry.honour_retry_after = true;
  c.defaults.retry.max_retry_after = Seconds(4);
  c.defaults.retry_budget.ratio = 0.5;
  c.defaults.concurrency.max_in_flight = 6;
  c.defaults.timeouts.per_attempt = Seconds(2);
  c.defaults.timeouts.overall = Seconds(20);
  ApiPolicy odds = c.defaults;  // The Odds API style: pace with a CRITICAL floor
  odds.bucket.rate_per_s = 20;
  odds.bucket.burst = 10;
  odds.bucket.reserves = {TokenReserve{Priority::kCritical, 2}, TokenReserve{Priority::kHigh, 4}};
  odds.quota.mode = QuotaMode::kPace;
  odds.quota.critical_floor = 5;
  odds.quota.assumed_period = Minutes(2);  // so an exhausted quota comes back
  odds.quota.max_retry_after = Seconds(3);
  odds.quota.max_reset_horizon = Minutes(10);
  odds.expected_credits_per_call = 2;
  c.apis["odds"] = odds;
  ApiPolicy weather = c.defaults;  // AIMD
  weather.bucket.rate_per_s = 5;
  weather.bucket.burst = 5;
  weather.quota.mode = QuotaMode::kAimd;
  weather.quota.assumed_period = Minutes(1);
  weather.quota.max_retry_after = Seconds(10);
  weather.quota.max_reset_horizon = Minutes(10);
  weather.quota.aimd_initial_rate_per_s = 20;
  weather.quota.aimd_min_rate_per_s = 0.5;
  c.apis["weather"] = weather;
  // The overload policies ride along: hedges for every API, adaptive
  // throttling on odds, retry throttling and adaptive concurrency on weather.
  for (ApiPolicy* api : {&c.defaults, &c.apis["odds"], &c.apis["weather"]}) {
    api->hedging.enabled = true;
    api->hedging.delay = Milliseconds(300);
    api->hedging.max_hedges = 2;
    api->hedging.budget_ratio = 0.3;
  }
  c.apis["odds"].adaptive_throttling.enabled = true;
  c.apis["odds"].adaptive_throttling.window = Seconds(30);
  c.apis["weather"].retry_throttling.enabled = true;
  c.apis["weather"].adaptive_concurrency.enabled = true;
  c.apis["weather"].adaptive_concurrency.initial_limit = 6;
  c.apis["weather"].adaptive_concurrency.max_limit = 12;
  c.defaults.timeouts.min_attempt = Milliseconds(200);
  c.health.active_probes = true;
  c.health.probe_interval = Seconds(30);
  c.health.latency_percentile = 90;
  c.cost.price_by_api["odds"] = CostPrice{0.001, 0.01};
  c.cost.price_by_api["weather"] = CostPrice{0.0, 0.5};
  return c;
}

template <typename T, size_t N>
const T& Pick(SeededRandom& rng, const std::array<T, N>& values) {
  return values[rng.NextU64() % N];
}

// "Sun, 06 Nov 1994 08:49:37 GMT" for `t` (the weekday is not checked by
// the parser, so it is always "Sun").
std::string HttpDate(Instant t) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t seconds = t.unix_micros() / 1000000;
  const int64_t days = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
  const int64_t in_day = seconds - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "Sun, %02u %s %04lld %02lld:%02lld:%02lld GMT", day,
                kMonths[month - 1], static_cast<long long>(year),
                static_cast<long long>(in_day / 3600), static_cast<long long>(in_day / 60 % 60),
                static_cast<long long>(in_day % 60));
  return buffer;
}

// Numbers as a hostile upstream writes them.
std::string HostileNumber(SeededRandom& rng) {
  static const std::array<std::string, 26> kOdd = {"0",
                                                   "-7",
                                                   "",
                                                   " ",
                                                   "12.5",
                                                   "1.",
                                                   ".5",
                                                   "1e3",
                                                   "nan",
                                                   "NaN",
                                                   "inf",
                                                   "-inf",
                                                   "99999999999999999999999",
                                                   "9223372036854775807",
                                                   "9223372036854775808",
                                                   "-9223372036854775808",
                                                   "+5",
                                                   " 42 ",
                                                   "0x10",
                                                   "4,2",
                                                   "\xd9\xa3",  // ARABIC-INDIC DIGIT THREE
                                                   "\t7\t",
                                                   std::string("5\0", 2),
                                                   std::string(200, '9'),
                                                   "0.0000000000000000001",
                                                   "1.9999999999999999999"};
  if (rng.Uniform01() < 0.8) return std::to_string(20 + rng.NextU64() % 100000);
  return Pick(rng, kOdd);
}

std::string HostileSeconds(SeededRandom& rng, Instant now) {
  const int64_t now_s = now.unix_micros() / 1000000;
  switch (rng.NextU64() % 8) {
    case 0:
      return std::to_string(rng.NextU64() % 120);  // a delta
    case 1:
      return std::to_string(now_s + static_cast<int64_t>(rng.NextU64() % 120));  // epoch
    case 2:
      return std::to_string(now_s - 3600);  // epoch in the past
    case 3:
      return std::to_string(now_s * 1000);  // epoch milliseconds
    case 4:
      return std::to_string(std::numeric_limits<int64_t>::max());
    case 5:
      return std::to_string(now_s + 86400LL * 365 * 1000);  // a thousand years
    default:
      return HostileNumber(rng);
  }
}

std::string HostileRetryAfter(SeededRandom& rng, Instant now) {
  switch (rng.NextU64() % 14) {
    case 0:
      return "0";
    case 1:
      return "-5";
    case 2:
      return "999999999999";  // 12 digits: ~31,700 years
    case 3:
      return "9999999999999";  // 13 digits
    case 4:
      return "Sun, 06 Nov 1994 08:49:37 GMT";  // long past
    case 5:
      return "Fri, 31 Dec 9999 23:59:59 GMT";  // absurdly far
    case 6:
      return "Mon, 31 Feb 2023 10:00:00 GMT";  // no such day
    case 7:
      return "Sun, 00 Jan 0000 00:00:00 GMT";
    case 8:
      return HttpDate(now + Seconds(static_cast<int64_t>(rng.NextU64() % 5)));
    case 9:
      return HttpDate(now - Seconds(30));
    case 10:
      return "1.5";
    case 11:
      return "garbage";
    default:
      return std::to_string(rng.NextU64() % 4);
  }
}

std::string HostileRateLimitList(SeededRandom& rng) {
  static const std::array<std::string, 16> kForms = {"\"default\";r=50;t=30",
                                                     "\"a\";r=5, \"b\";r=0;t=1",
                                                     "\"default\";r=",
                                                     ";;;",
                                                     "\"unterminated;r=5",
                                                     "\"x\";r=-1;t=-1",
                                                     "\\",
                                                     ",,,",
                                                     "\"a\";r=5;t=99999999999999999999",
                                                     "limit=100, remaining=50, reset=30",
                                                     "limit=5, remaining=500, reset=-1",
                                                     "remaining=, limit=",
                                                     "",
                                                     "\"default\";r=7;t=nan",
                                                     "\"q\\\"uoted\";r=3;t=2",
                                                     "\"default\";t=5"};
  if (rng.Uniform01() < 0.4) {
    return "\"default\";r=" + std::to_string(rng.NextU64() % 1000) +
           ";t=" + std::to_string(rng.NextU64() % 90);
  }
  return Pick(rng, kForms);
}

std::string HostileRateLimitPolicy(SeededRandom& rng) {
  static const std::array<std::string, 7> kForms = {
      "\"default\";q=100;w=60", "\"default\";q=abc",
      "\"other\";q=5",          "\"default\";w=999999999999999999999",
      "\"default\";q=0;w=0",    "\"a\";q=1, \"b\";q=2",
      "\"default\";q=-3;w=-1"};
  return Pick(rng, kForms);
}

// Quota headers in one or several styles; contradictions on purpose.
void AddHostileHeaders(Headers& h, SeededRandom& rng, Instant now) {
  if (rng.Uniform01() < 0.4) return;  // no quota headers at all
  uint64_t styles = 0;
  for (int bit = 0; bit < 6; ++bit) styles |= rng.Uniform01() < 0.3 ? 1u << bit : 0u;
  if (styles & 1) {
    h.Set("x-requests-remaining", HostileNumber(rng));
    if (rng.Uniform01() < 0.7) h.Set("X-Requests-Used", HostileNumber(rng));
    if (rng.Uniform01() < 0.5) h.Set("x-requests-last", HostileNumber(rng));
  }
  if (styles & 2) {
    h.Set("X-RateLimit-Limit", HostileNumber(rng));
    h.Set("x-ratelimit-remaining", HostileNumber(rng));
    if (rng.Uniform01() < 0.5) h.Set("x-ratelimit-used", HostileNumber(rng));
    h.Set("x-ratelimit-reset", HostileSeconds(rng, now));
  }
  if (styles & 4) {
    h.Set("RateLimit", HostileRateLimitList(rng));
    if (rng.Uniform01() < 0.7) h.Set("RateLimit-Policy", HostileRateLimitPolicy(rng));
  }
  if (styles & 8) {
    h.Set("RateLimit-Limit", HostileNumber(rng));
    h.Set("ratelimit-remaining", HostileNumber(rng));
    h.Set("RateLimit-Reset", HostileSeconds(rng, now));
  }
  if ((styles & 16) && rng.Uniform01() < 0.2) h.Set("Retry-After", HostileRetryAfter(rng, now));
  if ((styles & 32) && rng.Uniform01() < 0.05) {
    h.Set("x-requests-remaining", "0");  // exhausted, for a while
  }
}

double HostileCredits(SeededRandom& rng, size_t keys) {
  static const std::array<double, 13> kOdd = {0.0,
                                              -0.0,
                                              -1.0,
                                              -1e308,
                                              std::numeric_limits<double>::quiet_NaN(),
                                              std::numeric_limits<double>::infinity(),
                                              -std::numeric_limits<double>::infinity(),
                                              1e308,
                                              std::numeric_limits<double>::max(),
                                              std::numeric_limits<double>::denorm_min(),
                                              0.5,
                                              1e18,
                                              -std::numeric_limits<double>::denorm_min()};
  if (rng.Uniform01() < 0.7) return static_cast<double>(keys);
  return Pick(rng, kOdd);
}

int HostileStatus(SeededRandom& rng) {
  static const std::array<int, 22> kOdd = {0,
                                           100,
                                           101,
                                           199,
                                           204,
                                           299,
                                           300,
                                           301,
                                           304,
                                           399,
                                           404,
                                           429,
                                           500,
                                           502,
                                           503,
                                           599,
                                           600,
                                           999,
                                           -1,
                                           std::numeric_limits<int>::min(),
                                           std::numeric_limits<int>::max(),
                                           1};
  return rng.Uniform01() < 0.6 ? 200 : Pick(rng, kOdd);
}

std::vector<uint64_t> HostileVersions(SeededRandom& rng, size_t keys) {
  std::vector<uint64_t> v;
  size_t n = keys;
  const double u = rng.Uniform01();
  if (u < 0.15) {
    n = 0;
  } else if (u < 0.25) {
    n = keys - 1;
  } else if (u < 0.35) {
    n = keys + 1 + rng.NextU64() % 4;
  }
  for (size_t i = 0; i < n; ++i) {
    v.push_back(rng.Uniform01() < 0.05 ? std::numeric_limits<uint64_t>::max() : rng.NextU64() % 50);
  }
  return v;
}

// A transport that lies. Answers come through FakeTimers (never from inside
// Send, as the port's contract requires), but possibly twice, late, after
// shutdown, or (from the upstream) never. Cancel is confirmed, as the
// contract requires, but late and sometimes twice, and a cancelled call's
// real answer may still arrive after its confirmation.
class HostileTransport : public Transport {
 public:
  HostileTransport(FakeClock& clock, FakeTimers& timers, uint64_t seed)
      : clock_(clock), timers_(timers), rng_(seed) {}

  CallHandle Send(const UpstreamCall& call, ResponseCallback on_response) override {
    ++calls_;
    const Instant now = clock_.now();
    const CallHandle handle = next_handle_++;
    auto callback = std::make_shared<ResponseCallback>(std::move(on_response));
    callbacks_.emplace(handle, callback);
    if (rng_.Uniform01() < 0.02) {
      ++never_answered_;
      return handle;
    }
    const Duration latency = HostileLatency();
    Deliver(callback, MakeResponse(call, now), now + latency);
    if (rng_.Uniform01() < 0.15) {
      ++duplicates_;
      // The same answer again, or a contradicting one, at the same instant
      // or later.
      const Response second = rng_.Uniform01() < 0.5 ? MakeResponse(call, now) : last_;
      Deliver(callback, second,
              now + latency + Microseconds(static_cast<int64_t>(rng_.NextU64() % 5000000)));
    }
    return handle;
  }

  void Cancel(CallHandle handle) override {
    auto it = callbacks_.find(handle);
    if (it == callbacks_.end()) return;
    ++cancels_;
    Response confirmation;
    confirmation.status = kStatusCancelled;
    const Instant now = clock_.now();
    Deliver(it->second, confirmation,
            now + Microseconds(static_cast<int64_t>(rng_.NextU64() % 1000000)));
    if (rng_.Uniform01() < 0.1) Deliver(it->second, confirmation, now + Seconds(2));
  }

  uint64_t calls() const { return calls_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t never_answered() const { return never_answered_; }
  uint64_t cancels() const { return cancels_; }
  uint64_t delivered_after_stop() const { return delivered_after_stop_; }
  void set_stopped_flag(const bool* stopped) { stopped_ = stopped; }

 private:
  Duration HostileLatency() {
    const double u = rng_.Uniform01();
    if (u < 0.75) return Microseconds(static_cast<int64_t>(rng_.NextU64() % 400000));
    if (u < 0.92) return Seconds(2) + Microseconds(static_cast<int64_t>(rng_.NextU64() % 3000000));
    return Minutes(1 + static_cast<int64_t>(rng_.NextU64() % 30));  // past the deadline
  }

  Response MakeResponse(const UpstreamCall& call, Instant now) {
    Response r;
    r.status = HostileStatus(rng_);
    AddHostileHeaders(r.headers, rng_, now);
    if (r.status == 429 && rng_.Uniform01() < 0.7) {
      r.headers.Set("Retry-After", HostileRetryAfter(rng_, now));
    }
    r.payload_versions = HostileVersions(rng_, call.keys.size());
    r.credits_charged = HostileCredits(rng_, call.keys.size());
    // The host's latency field is not the core's business; make it absurd.
    r.latency = Duration::FromMicros(static_cast<int64_t>(rng_.NextU64()));
    last_ = r;
    return r;
  }

  void Deliver(const std::shared_ptr<ResponseCallback>& callback, const Response& response,
               Instant at) {
    timers_.ScheduleAt(at, [this, callback, response] {
      if (stopped_ != nullptr && *stopped_) ++delivered_after_stop_;
      (*callback)(response);
    });
  }

  FakeClock& clock_;
  FakeTimers& timers_;
  SeededRandom rng_;
  Response last_;
  std::map<CallHandle, std::shared_ptr<ResponseCallback>> callbacks_;
  CallHandle next_handle_ = 1;
  uint64_t cancels_ = 0;
  const bool* stopped_ = nullptr;
  uint64_t calls_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t never_answered_ = 0;
  uint64_t delivered_after_stop_ = 0;
};

// Checks what observers see: completions once each, none after the stop.
class CompletionWatcher : public OrchestratorObserver {
 public:
  explicit CompletionWatcher(const bool& stopped) : stopped_(stopped) {}
  void OnCompleted(const Request& /*request*/, const Result& /*result*/, Instant now) override {
    ++completed_;
    if (stopped_) ++after_stop_;
    if (now < last_) ++time_went_back_;
    last_ = now;
  }
  void OnCallAnswered(const UpstreamCall& /*call*/, const Response& /*response*/, bool late,
                      Instant /*now*/) override {
    ++(late ? late_ : on_time_);
  }
  uint64_t completed_ = 0, after_stop_ = 0, time_went_back_ = 0, late_ = 0, on_time_ = 0;

 private:
  const bool& stopped_;
  Instant last_ = Instant::Epoch();
};

struct RunSummary {
  std::array<uint64_t, kOutcomeCount> outcomes{};
  uint64_t digest = 1469598103934665603ULL;  // FNV-1a over (id, outcome, status, version, time)
};

void Mix(uint64_t& digest, uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    digest ^= (value >> (8 * i)) & 0xff;
    digest *= 1099511628211ULL;
  }
}

RunSummary RunAbuse(uint64_t seed, uint64_t requests) {
  FakeClock clock(kT0);
  FakeTimers timers(clock);
  HostileTransport transport(clock, timers, seed * 31 + 1);
  SeededRandom jitter(seed);
  SeededRandom demand(seed * 17 + 3);
  const OrchestratorConfig config = EverythingOnHostileSettings();
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  std::unique_ptr<Orchestrator> core =
      Orchestrator::Create(config, clock, timers, transport, jitter).value();
  Orchestrator& orchestrator = *core;
  bool stopped = false;
  transport.set_stopped_flag(&stopped);
  CompletionWatcher watcher(stopped);
  orchestrator.AddObserver(&watcher);

  RunSummary summary;
  std::vector<int> completions(requests + 1, 0);
  uint64_t completed_after_stop = 0;
  uint64_t bad_results = 0;
  const testing::RandomRequestMix workload{{"odds", "weather", "scores", "injuries"},
                                           {"weather", "injuries"},
                                           30000,
                                           Duration::Zero(),
                                           Milliseconds(1),
                                           10000};
  testing::AddTwentyGames(orchestrator, kT0);
  Instant t = kT0;
  for (uint64_t id = 1; id <= requests; ++id) {
    const Request r = testing::NextRandomRequest(demand, workload, id, kT0, t);
    timers.AdvanceTo(t);
    orchestrator.Submit(r, [&, id](const Result& result) {
      ++completions[id];
      ++summary.outcomes[static_cast<int>(result.outcome)];
      if (stopped) ++completed_after_stop;
      const bool served =
          result.outcome == Outcome::kServed || result.outcome == Outcome::kCoalesced;
      if ((served && (result.status < 200 || result.status >= 300)) ||
          result.queue_wait < Duration::Zero() || result.attempts < 0 ||
          result.attempts > kMaxAttempts) {
        ++bad_results;
      }
      Mix(summary.digest, id);
      Mix(summary.digest, static_cast<uint64_t>(result.outcome));
      Mix(summary.digest, static_cast<uint64_t>(result.status));
      Mix(summary.digest, result.payload_version);
      Mix(summary.digest, static_cast<uint64_t>(clock.now().unix_micros()));
    });
  }
  orchestrator.Shutdown(Seconds(1), [&] { stopped = true; });
  timers.RunAll();

  EXPECT_TRUE(stopped);
  EXPECT_EQ(completed_after_stop, 0u);
  EXPECT_EQ(watcher.after_stop_, 0u);
  EXPECT_EQ(watcher.time_went_back_, 0u);
  EXPECT_EQ(bad_results, 0u);
  uint64_t wrong = 0;
  for (uint64_t id = 1; id <= requests; ++id) wrong += completions[id] != 1 ? 1 : 0;
  EXPECT_EQ(wrong, 0u) << "requests not ended exactly once";
  uint64_t total = 0;
  for (uint64_t n : summary.outcomes) total += n;
  EXPECT_EQ(total, requests);
  EXPECT_EQ(watcher.completed_, requests);
  EXPECT_EQ(orchestrator.stats().submitted, requests);
  EXPECT_EQ(orchestrator.stats().completed, requests);
  EXPECT_EQ(orchestrator.pending_requests(), 0u);
  EXPECT_EQ(timers.pending(), 0u);
  // Every call ended (answered or its cancellation confirmed), so every
  // bulkhead slot is free again.
  EXPECT_EQ(orchestrator.calls_in_flight(), 0u);
  for (const char* api : {"odds", "weather", "scores"}) {
    if (const ConcurrencyLimiter* bulkhead = orchestrator.bulkhead(api)) {
      EXPECT_EQ(bulkhead->in_flight(), 0) << api;
    }
  }

  const CostLine cost = orchestrator.cost().Total();
  EXPECT_TRUE(std::isfinite(cost.credits) && cost.credits >= 0) << cost.credits;
  EXPECT_TRUE(std::isfinite(cost.money) && cost.money >= 0) << cost.money;

  // The abuse must actually happen, or the test proves little.
  EXPECT_GT(transport.duplicates(), 0u);
  EXPECT_GT(transport.never_answered(), 0u);
  EXPECT_GT(transport.cancels(), 0u);
  EXPECT_GT(orchestrator.stats().hedges, 0u);
  EXPECT_GT(orchestrator.stats().by_outcome[static_cast<int>(Outcome::kRejectedThrottled)], 0u);
  EXPECT_GT(transport.delivered_after_stop(), 0u);
  EXPECT_GT(orchestrator.stats().late_answers_discarded, 0u);
  EXPECT_GT(orchestrator.stats().bad_credit_reports, 0u);
  EXPECT_GT(orchestrator.stats().retries, 0u);
  EXPECT_GT(orchestrator.stats().batched_requests, 0u);
  EXPECT_GT(watcher.late_, 0u);
  int64_t bad_headers = 0;
  for (const std::string& api : workload.apis) {
    if (const QuotaTracker* quota = orchestrator.quota(api)) {
      bad_headers += quota->bad_header_values();
    }
  }
  EXPECT_GT(bad_headers, 100);
  for (Outcome o : {Outcome::kServed, Outcome::kCacheHit, Outcome::kCoalesced, Outcome::kFailed,
                    Outcome::kTimedOut, Outcome::kRejectedQuota}) {
    EXPECT_GT(summary.outcomes[static_cast<int>(o)], 0u) << OutcomeName(o);
  }
  // Set ORCHSIM_ABUSE_VERBOSE=1 to see the mix and the quota state.
  if (::testing::Test::HasFailure() || std::getenv("ORCHSIM_ABUSE_VERBOSE") != nullptr) {
    std::string mix;
    for (int o = 0; o < kOutcomeCount; ++o) {
      mix += std::string(OutcomeName(static_cast<Outcome>(o))) + "=" +
             std::to_string(summary.outcomes[o]) + " ";
    }
    std::cout << "seed " << seed << ": " << mix << "calls=" << transport.calls()
              << " duplicates=" << transport.duplicates()
              << " never_answered=" << transport.never_answered() << "\n";
    for (const std::string& api : workload.apis) {
      if (const QuotaTracker* q = orchestrator.quota(api)) {
        const QuotaSnapshot snap = q->snapshot();
        std::cout << api << " limit=" << snap.limit.value_or(-1)
                  << " remaining=" << snap.remaining.value_or(-1)
                  << " reset=" << (snap.reset_at ? FormatInstant(*snap.reset_at) : "-")
                  << " blocked=" << (snap.blocked_until ? FormatInstant(*snap.blocked_until) : "-")
                  << " next=" << (snap.next_send_at ? FormatInstant(*snap.next_send_at) : "-")
                  << " rate=" << snap.aimd_rate_per_s << " now=" << FormatInstant(clock.now())
                  << " tokens=" << orchestrator.bucket(api)->available(clock.now()) << "\n";
      }
    }
  }
  return summary;
}

class AbuseTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(AbuseTest, EveryRequestEndsExactlyOnceUnderHostileUpstream) { RunAbuse(GetParam(), 30000); }

INSTANTIATE_TEST_SUITE_P(Seeds, AbuseTest, ::testing::Values(1u, 7u, 42u, 1234567u));

TEST(AbuseDeterminismTest, SameSeedSameHistory) {
  const RunSummary a = RunAbuse(99, 5000);
  const RunSummary b = RunAbuse(99, 5000);
  EXPECT_EQ(a.outcomes, b.outcomes);
  EXPECT_EQ(a.digest, b.digest);
}

}  // namespace
}  // namespace orchsim
