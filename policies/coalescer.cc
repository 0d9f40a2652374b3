#include "policies/coalescer.h"

#include <algorithm>

namespace orchsim {

Status CoalescerConfig::validate() const { return Status::Ok(); }

Coalescer::Coalescer(const CoalescerConfig& config) : config_(config) {}

JoinResult Coalescer::Join(const std::string& key, uint64_t id, Priority p) {
  if (!config_.enabled) return JoinResult{true, id, false, p};
  auto [it, started] = flights_.try_emplace(key);
  Flight& flight = it->second;
  if (started) {
    flight.leader_id = id;
    flight.priority = p;
    return JoinResult{true, id, false, p};
  }
  const bool raised = !AtLeast(flight.priority, p);
  if (raised) flight.priority = p;
  const bool is_leader = id == flight.leader_id;
  if (!is_leader &&
      std::find(flight.followers.begin(), flight.followers.end(), id) == flight.followers.end()) {
    flight.followers.push_back(id);
  }
  return JoinResult{is_leader, flight.leader_id, raised, flight.priority};
}

std::vector<uint64_t> Coalescer::Complete(const std::string& key) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return {};
  std::vector<uint64_t> waiting = std::move(it->second.followers);
  flights_.erase(it);
  return waiting;
}

bool Coalescer::Leave(const std::string& key, uint64_t id) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return false;
  Flight& flight = it->second;
  auto member = std::find(flight.followers.begin(), flight.followers.end(), id);
  if (member == flight.followers.end()) return false;
  flight.followers.erase(member);
  return true;
}

bool Coalescer::InFlight(const std::string& key) const { return flights_.contains(key); }

size_t Coalescer::followers(const std::string& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? 0 : it->second.followers.size();
}

Priority Coalescer::flight_priority(const std::string& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? Priority::kPrefetch : it->second.priority;
}

}  // namespace orchsim
