#include "policies/coalescer.h"

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
  if (!is_leader && !flight.seq_by_id.contains(id)) {
    const uint64_t seq = flight.next_seq++;
    flight.followers_by_seq.emplace(seq, id);
    flight.seq_by_id.emplace(id, seq);
  }
  return JoinResult{is_leader, flight.leader_id, raised, flight.priority};
}

std::vector<uint64_t> Coalescer::Complete(const std::string& key) {
  std::vector<uint64_t> waiting;
  auto it = flights_.find(key);
  if (it == flights_.end()) return waiting;
  waiting.reserve(it->second.followers_by_seq.size());
  for (const auto& [seq, id] : it->second.followers_by_seq) waiting.push_back(id);
  flights_.erase(it);
  return waiting;
}

bool Coalescer::Leave(const std::string& key, uint64_t id) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return false;
  Flight& flight = it->second;
  auto member = flight.seq_by_id.find(id);
  if (member == flight.seq_by_id.end()) return false;
  flight.followers_by_seq.erase(member->second);
  flight.seq_by_id.erase(member);
  return true;
}

bool Coalescer::InFlight(const std::string& key) const { return flights_.contains(key); }

size_t Coalescer::followers(const std::string& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? 0 : it->second.followers_by_seq.size();
}

Priority Coalescer::flight_priority(const std::string& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? Priority::kPrefetch : it->second.priority;
}

}  // namespace orchsim
