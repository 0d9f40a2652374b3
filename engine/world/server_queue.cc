#include "engine/world/server_queue.h"

#include <algorithm>
#include <utility>

namespace orchsim::world {

ServerQueue::ServerQueue(kernel::Simulator& sim, int64_t servers, int64_t queue_limit,
                         QueueDiscipline discipline, bool drop_expired,
                         std::vector<ServerChange> changes)
    : sim_(sim),
      timers_(sim),
      servers_(servers),
      queue_limit_(queue_limit),
      discipline_(discipline),
      drop_expired_(drop_expired),
      integrated_to_(sim.now()) {
  for (const ServerChange& change : changes) {
    if (change.at <= sim_.now()) {
      servers_ = change.servers;
      continue;
    }
    const int64_t n = change.servers;
    timers_.ScheduleAt(change.at, [this, n] { ChangeServers(n); });
  }
}

void ServerQueue::Advance(Instant now) {
  if (now <= integrated_to_) return;
  const double dt = static_cast<double>((now - integrated_to_).micros());
  integrals_.waiting_us += static_cast<double>(waiting_.size()) * dt;
  integrals_.busy_us += static_cast<double>(busy_) * dt;
  integrals_.servers_us += static_cast<double>(servers_) * dt;
  integrated_to_ = now;
}

ServerQueue::Integrals ServerQueue::IntegralsAt(Instant now) const {
  Integrals out = integrals_;
  if (now > integrated_to_) {
    const double dt = static_cast<double>((now - integrated_to_).micros());
    out.waiting_us += static_cast<double>(waiting_.size()) * dt;
    out.busy_us += static_cast<double>(busy_) * dt;
    out.servers_us += static_cast<double>(servers_) * dt;
  }
  return out;
}

void ServerQueue::Changed() {
  integrals_.max_waiting = std::max(integrals_.max_waiting, static_cast<int64_t>(waiting_.size()));
  if (listener_) listener_(sim_.now(), load());
}

bool ServerQueue::Offer(Job job) {
  if (busy_ >= servers_ && static_cast<int64_t>(waiting_.size()) >= queue_limit_) {
    ++refused_;
    return false;
  }
  Advance(sim_.now());
  waiting_.push_back(std::move(job));
  StartWaiting();
  Changed();
  return true;
}

void ServerQueue::StartWaiting() {
  if (starting_) return;
  starting_ = true;
  const Instant now = sim_.now();
  while (busy_ < servers_ && !waiting_.empty()) {
    Job job;
    if (discipline_ == QueueDiscipline::kFifo) {
      job = std::move(waiting_.front());
      waiting_.pop_front();
    } else {
      job = std::move(waiting_.back());
      waiting_.pop_back();
    }
    if (drop_expired_ && job.deadline <= now) {
      ++dropped_;
      if (job.drop) job.drop(now);
      continue;
    }
    const std::optional<Duration> service = job.start(now);
    if (!service) continue;  // answered without a server
    ++busy_;
    const uint64_t serial = next_serial_++;
    in_service_.emplace(serial, InService{std::move(job), *service});
    timers_.ScheduleAt(now + *service, [this, serial] { Finish(serial); });
  }
  starting_ = false;
}

void ServerQueue::Finish(uint64_t serial) {
  auto it = in_service_.find(serial);
  if (it == in_service_.end()) return;
  InService done = std::move(it->second);
  in_service_.erase(it);
  const Instant now = sim_.now();
  Advance(now);
  --busy_;
  if (done.job.finish) done.job.finish(now, done.service);
  StartWaiting();
  Changed();
}

void ServerQueue::ChangeServers(int64_t servers) {
  Advance(sim_.now());
  servers_ = servers;
  StartWaiting();
  Changed();
}

}  // namespace orchsim::world
