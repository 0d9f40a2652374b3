// fleet.h — a variant run as a fleet: N replicas of the core, each with its
// own state, random stream, timers and transport, sharing the mocked
// upstreams (their capacity, rate limit and quota), with client traffic
// split between them; optionally a shared limiter they all consult
// (shared_limiter.h) instead of, or besides, each replica's own bucket.
//
// The runner (engine/experiment/runner.h) builds the replicas. Replica 0
// draws its jitter from "policy/jitter" and replica i >= 1 from
// "policy/jitter/replica/<i>", so a fleet of one is today's single core,
// number for number.
//
// Traffic split, per client request in arrival order:
//   round_robin  request k (0-based, over the whole run) goes to replica k mod N;
//   key_hash     FNV-1a 64 of "<api>\n<endpoint>\n<key>" mod N: every request
//                for one key reaches one replica (its cache and coalescing
//                then see them all; no two replicas ask for one key at once).
// Games are announced to every replica (each prefetches on its own).
#ifndef ORCHSIM_ENGINE_WORLD_FLEET_H_
#define ORCHSIM_ENGINE_WORLD_FLEET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/world/upstream_model.h"
#include "policies/request.h"
#include "policies/status.h"
#include "policies/time.h"

namespace orchsim::world {

inline constexpr int kMaxReplicas = 256;

enum class TrafficSplit : uint8_t { kRoundRobin, kKeyHash };
std::string_view TrafficSplitName(TrafficSplit s);  // "round_robin", "key_hash"

// A central rate-limit service (a Redis token bucket, Envoy's global rate
// limit service) that every replica asks before each call to the APIs it
// covers. What it models (shared_limiter.h has the details):
//   - one token bucket for the whole fleet: `rate_per_s` tokens a second up
//     to `burst`, one token per call, decided when the replica asks;
//   - the round trip of asking: `latency` (any latency kind) before the call
//     may leave (or is refused), on every call it covers;
//   - failures: with probability `failure_rate` an ask fails after
//     `failure_latency` (a timeout); then the call goes ahead (`fail_open`,
//     the usual choice) or is refused;
//   - an empty bucket: with `max_wait` > 0 the call reserves the next token
//     when it comes within max_wait and waits for it (a lease or a GCRA
//     reservation, as a client-side pacer over a central bucket does);
//     otherwise it is refused;
//   - a refusal reaches the replica's core as `deny_status` (429) with
//     Retry-After in whole seconds until the next token, like a 429 from
//     the upstream, without reaching the upstream.
struct SharedLimiterConfig {
  bool enabled = false;
  std::vector<std::string> apis;  // APIs it covers; empty: every API
  double rate_per_s = 10.0;       // > 0
  double burst = 10.0;            // >= 1
  LatencyConfig latency = [] {    // round trip of one ask; default constant 1ms
    LatencyConfig c;
    c.constant = Milliseconds(1);
    return c;
  }();
  double failure_rate = 0.0;                     // [0, 1]
  Duration failure_latency = Milliseconds(100);  // >= 0
  bool fail_open = true;
  int deny_status = 429;                 // 4xx or 5xx
  Duration max_wait = Duration::Zero();  // 0..1h; 0: refuse at once when empty

  bool Covers(std::string_view api) const;
  // Errors name the field under `prefix` ("fleet.shared_limiter.rate_per_s: ...").
  Status validate(const std::string& prefix) const;
};

struct FleetConfig {
  int replicas = 1;  // 1..kMaxReplicas
  TrafficSplit split = TrafficSplit::kRoundRobin;
  SharedLimiterConfig shared_limiter;

  // The replica that serves `request`, the `index`-th request (0-based) of the run.
  int ReplicaFor(const Request& request, uint64_t index) const;
  // Errors name the field under `prefix` ("fleet.replicas: ...").
  Status validate(const std::string& prefix = "fleet.") const;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_FLEET_H_
