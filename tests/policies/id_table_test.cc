#include "policies/id_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/policies/fake_ports.h"

namespace orchsim {
namespace {

TEST(IdTableTest, InsertFindErase) {
  IdTable<std::string> table;
  EXPECT_EQ(table.Find(7), nullptr);
  std::string* seven = table.Insert(7);
  ASSERT_NE(seven, nullptr);
  *seven = "seven";
  EXPECT_EQ(table.Insert(7), nullptr);  // present already: nothing changes
  EXPECT_EQ(*table.Find(7), "seven");
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(table.Erase(7));
  EXPECT_FALSE(table.Erase(7));
  EXPECT_EQ(table.Find(7), nullptr);
  EXPECT_TRUE(table.empty());
}

TEST(IdTableTest, ObjectsDoNotMoveWhileTheTableGrows) {
  IdTable<int> table;
  int* first = table.Insert(1);
  *first = 41;
  for (uint64_t id = 2; id < 5000; ++id) *table.Insert(id) = static_cast<int>(id);
  EXPECT_EQ(table.Find(1), first);
  EXPECT_EQ(*first, 41);
  EXPECT_EQ(table.size(), 4999u);
}

TEST(IdTableTest, ReleasedObjectsAreRecycledWithWhatTheyHold) {
  IdTable<std::vector<int>> table;
  std::vector<int>* v = table.Insert(1);
  v->assign(100, 1);
  const int* storage = v->data();
  table.Erase(1);
  std::vector<int>* again = table.Insert(2);
  EXPECT_EQ(again, v);  // the same object, as the last Release left it
  EXPECT_EQ(again->data(), storage);
  again->clear();
  EXPECT_GE(again->capacity(), 100u);
}

TEST(IdTableTest, DetachedObjectStaysUnusedUntilReleased) {
  IdTable<int> table;
  *table.Insert(1) = 10;
  IdTable<int>::Detached detached = table.Detach(1);
  ASSERT_NE(detached.value, nullptr);
  EXPECT_EQ(table.Find(1), nullptr);
  // While detached, inserts (even of the same id) get other objects.
  int* other = table.Insert(1);
  EXPECT_NE(other, detached.value);
  *other = 20;
  EXPECT_EQ(*detached.value, 10);
  table.Release(detached);
  EXPECT_EQ(table.Insert(3), detached.value);
  EXPECT_EQ(table.Detach(99).value, nullptr);
}

TEST(IdTableTest, ForEachVisitsEveryPresentIdOnce) {
  IdTable<int> table;
  for (uint64_t id = 1; id <= 10; ++id) *table.Insert(id * 1000) = static_cast<int>(id);
  table.Erase(3000);
  table.Erase(7000);
  std::map<uint64_t, int> seen;
  table.ForEach([&](uint64_t id, int& value) { seen[id] += value; });
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen.count(3000), 0u);
  EXPECT_EQ(seen[10000], 10);
}

// Random inserts and erases (clustered ids, so probe runs wrap and shift)
// against std::map.
TEST(IdTableTest, AgreesWithAMapUnderRandomChurn) {
  IdTable<uint64_t> table;
  std::map<uint64_t, uint64_t> reference;
  testing::SeededRandom random(20);
  for (int step = 0; step < 200000; ++step) {
    const uint64_t id = random.Below(3000) * (random.Below(2) == 0 ? 1 : 1ULL << 40);
    if (random.Below(3) != 0) {
      uint64_t* value = table.Insert(id);
      const bool inserted = reference.emplace(id, id * 3).second;
      ASSERT_EQ(value != nullptr, inserted) << "step " << step;
      if (value != nullptr) *value = id * 3;
    } else {
      ASSERT_EQ(table.Erase(id), reference.erase(id) == 1) << "step " << step;
    }
    ASSERT_EQ(table.size(), reference.size());
  }
  for (const auto& [id, value] : reference) {
    const uint64_t* found = table.Find(id);
    ASSERT_NE(found, nullptr) << id;
    EXPECT_EQ(*found, value);
  }
  for (uint64_t id = 0; id < 3000; ++id) {
    EXPECT_EQ(table.contains(id), reference.count(id) == 1) << id;
  }
}

}  // namespace
}  // namespace orchsim
