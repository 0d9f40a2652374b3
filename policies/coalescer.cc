#include "policies/coalescer.h"

namespace orchsim {

Status CoalescerConfig::validate() const { return Status::Ok(); }

Coalescer::Coalescer(const CoalescerConfig& config) : config_(config) {}

JoinResult Coalescer::Join(const RequestKey& key, uint64_t id, Priority p) {
  if (!config_.enabled) return JoinResult{true, id, false, p, 0};
  auto it = flights_.find(key);
  if (it == flights_.end()) {
    // A new flight, in an ended flight's node when there is one: its key
    // and vectors keep their storage.
    Map::node_type node;
    if (spare_.empty()) {
      it = flights_.try_emplace(key).first;
    } else {
      node = std::move(spare_.back());
      spare_.pop_back();
      node.key() = key;
      Flight& reused = node.mapped();
      reused.flight = 0;
      reused.join_order.clear();
      reused.present.clear();
      reused.slot_of.clear();
      it = flights_.insert(std::move(node)).position;
    }
    Flight& flight = it->second;
    flight.leader_id = id;
    flight.priority = p;
    return JoinResult{true, id, false, p, 0};
  }
  Flight& flight = it->second;
  const bool raised = !AtLeast(flight.priority, p);
  if (raised) flight.priority = p;
  const bool is_leader = id == flight.leader_id;
  if (!is_leader && flight.slot_of.try_emplace(id, flight.join_order.size()).second) {
    flight.join_order.push_back(id);
    flight.present.push_back(true);
  }
  return JoinResult{is_leader, flight.leader_id, raised, flight.priority, flight.flight};
}

void Coalescer::Attach(const RequestKey& key, uint64_t flight) {
  auto it = flights_.find(key);
  if (it != flights_.end()) it->second.flight = flight;
}

uint64_t Coalescer::leader(const RequestKey& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? 0 : it->second.leader_id;
}

uint64_t Coalescer::flight(const RequestKey& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? 0 : it->second.flight;
}

std::vector<uint64_t> Coalescer::Complete(const RequestKey& key) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return {};
  const Flight& flight = it->second;
  std::vector<uint64_t> waiting;
  waiting.reserve(flight.slot_of.size());
  for (size_t i = 0; i < flight.join_order.size(); ++i) {
    if (flight.present[i]) waiting.push_back(flight.join_order[i]);
  }
  spare_.push_back(flights_.extract(it));
  return waiting;
}

bool Coalescer::Leave(const RequestKey& key, uint64_t id) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return false;
  Flight& flight = it->second;
  auto member = flight.slot_of.find(id);
  if (member == flight.slot_of.end()) return false;
  flight.present[member->second] = false;
  flight.slot_of.erase(member);
  return true;
}

bool Coalescer::InFlight(const RequestKey& key) const { return flights_.contains(key); }

size_t Coalescer::followers(const RequestKey& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? 0 : it->second.slot_of.size();
}

Priority Coalescer::flight_priority(const RequestKey& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? Priority::kPrefetch : it->second.priority;
}

}  // namespace orchsim
