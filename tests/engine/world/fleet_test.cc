// FleetConfig: the traffic split (round-robin by arrival, key hash by
// api/endpoint/key) and validation messages that name the field.
#include "engine/world/fleet.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "engine/kernel/random.h"

namespace orchsim::world {
namespace {

TEST(FleetConfigTest, SplitsRoundRobinOrByKey) {
  FleetConfig fleet;
  fleet.replicas = 3;
  Request r;
  r.api = std::string("api");
  r.endpoint = std::string("e");
  r.key = std::string("k1");
  EXPECT_EQ(fleet.ReplicaFor(r, 0), 0);
  EXPECT_EQ(fleet.ReplicaFor(r, 1), 1);
  EXPECT_EQ(fleet.ReplicaFor(r, 5), 2);
  fleet.split = TrafficSplit::kKeyHash;
  const int replica = fleet.ReplicaFor(r, 0);
  for (uint64_t i = 1; i < 10; ++i) EXPECT_EQ(fleet.ReplicaFor(r, i), replica);
  EXPECT_EQ(replica, static_cast<int>(kernel::Fnv1a64("api\ne\nk1") % 3));
  fleet.replicas = 1;
  EXPECT_EQ(fleet.ReplicaFor(r, 7), 0);
}

TEST(FleetConfigTest, ValidateNamesTheField) {
  FleetConfig fleet;
  fleet.replicas = 0;
  EXPECT_EQ(fleet.validate().message(), "fleet.replicas: 0 must be in [1, 256]");
  fleet.replicas = 2;
  fleet.shared_limiter.enabled = true;
  fleet.shared_limiter.rate_per_s = 0;
  EXPECT_EQ(fleet.validate().message(),
            "fleet.shared_limiter.rate_per_s: 0 must be > 0 and <= 1e9");
  fleet.shared_limiter.rate_per_s = 1;
  fleet.shared_limiter.max_wait = Hours(2);
  EXPECT_EQ(fleet.validate().message(),
            "fleet.shared_limiter.max_wait: \"2h\" must be within [0s, 1h]");
}

}  // namespace
}  // namespace orchsim::world
