// server_queue.h — `c` servers and a bounded waiting room (a G/G/c/K queue in
// Kendall's notation, K = c + queue_limit), the finite capacity of a mocked
// upstream (CapacityConfig in upstream_model.h).
//
// A job is offered when a call arrives. It is refused (Offer returns false,
// nothing is called) when every server is busy and the waiting room holds
// queue_limit jobs. Otherwise a free server takes it at once, or it waits;
// when a server frees up it takes the oldest waiting job (FIFO) or the newest
// (LIFO). Taking a job calls job.start(now), which returns the service time
// (the server is busy until now + service, then job.finish(now, service) runs
// through the simulator), or nullopt when the job needs no server after all
// (it was answered at once; the server stays free). With drop_expired, a job
// whose deadline is at or before now when a server would take it is dropped
// instead: job.drop(now), no server time.
//
// Servers change at the instants of `changes` (scheduled on the simulator
// when the queue is built): jobs in service finish, and no job starts while
// as many are busy as there are servers.
//
// Contract: Offer may call job.start synchronously (the job's own answer must
// then go through the simulator); finish, drop and the start of a waiting job
// run from simulator events. Jobs finishing at one instant finish in the
// order they started. The load listener (may be empty) is called after every
// change of (waiting, busy, servers), with the instant. Integrals are exact
// sums of (jobs x microseconds) as doubles. REQUIRES: the simulator outlives
// the queue (pending finishes are cancelled with it). Not thread-safe.
#ifndef ORCHSIM_ENGINE_WORLD_SERVER_QUEUE_H_
#define ORCHSIM_ENGINE_WORLD_SERVER_QUEUE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/kernel/simulator.h"
#include "engine/world/sim_ports.h"
#include "engine/world/upstream_model.h"

namespace orchsim::world {

class ServerQueue {
 public:
  struct Load {
    int64_t waiting = 0;  // jobs in the waiting room
    int64_t busy = 0;     // servers working on a job
    int64_t servers = 0;  // servers there are now
  };
  // Since the queue was built: the time integrals of waiting, busy and
  // servers (jobs x us), and the most jobs ever waiting at once.
  struct Integrals {
    double waiting_us = 0.0;
    double busy_us = 0.0;
    double servers_us = 0.0;
    int64_t max_waiting = 0;
  };
  struct Job {
    Instant deadline = Instant::Max();  // for drop_expired
    std::function<std::optional<Duration>(Instant now)> start;
    std::function<void(Instant now, Duration service)> finish;
    std::function<void(Instant now)> drop;  // may be empty without drop_expired
  };
  using LoadListener = std::function<void(Instant at, const Load& load)>;

  // REQUIRES: servers >= 1, queue_limit >= 0, changes in strictly increasing
  // time (CapacityConfig::validate's rules); changes before now are applied now.
  ServerQueue(kernel::Simulator& sim, int64_t servers, int64_t queue_limit,
              QueueDiscipline discipline, bool drop_expired, std::vector<ServerChange> changes);
  ServerQueue(const ServerQueue&) = delete;
  ServerQueue& operator=(const ServerQueue&) = delete;

  // Takes the job (true) or refuses it because the queue is full (false).
  bool Offer(Job job);

  Load load() const { return {static_cast<int64_t>(waiting_.size()), busy_, servers_}; }
  Integrals IntegralsAt(Instant now) const;
  uint64_t refused() const { return refused_; }
  uint64_t dropped() const { return dropped_; }
  void SetLoadListener(LoadListener listener) { listener_ = std::move(listener); }

 private:
  void Advance(Instant now);  // adds the integrals up to now
  void Changed();
  void StartWaiting();
  void Finish(uint64_t serial);
  void ChangeServers(int64_t servers);

  kernel::Simulator& sim_;
  SimTimers timers_;
  int64_t servers_;
  int64_t queue_limit_;
  QueueDiscipline discipline_;
  bool drop_expired_;
  std::deque<Job> waiting_;
  struct InService {
    Job job;
    Duration service;
  };
  std::unordered_map<uint64_t, InService> in_service_;
  uint64_t next_serial_ = 1;
  int64_t busy_ = 0;
  uint64_t refused_ = 0;
  uint64_t dropped_ = 0;
  Instant integrated_to_;
  Integrals integrals_;
  LoadListener listener_;
  bool starting_ = false;  // inside StartWaiting
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_SERVER_QUEUE_H_
