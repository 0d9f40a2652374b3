#include "policies/request_key.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>

#include "policies/request.h"

namespace orchsim {
namespace {

TEST(RequestKeyTest, PartsReadBackAndEncodingIsLengthPrefixed) {
  const RequestKey key("odds", "scores", "nfl/2023-09-07");
  EXPECT_EQ(key.api(), "odds");
  EXPECT_EQ(key.endpoint(), "scores");
  EXPECT_EQ(key.key(), "nfl/2023-09-07");
  EXPECT_EQ(key.encoded(), "4:odds6:scoresnfl/2023-09-07");
  EXPECT_EQ(key.ToString(), "odds/scores/nfl/2023-09-07");
}

// The old "api|endpoint|key" string made these one identity.
TEST(RequestKeyTest, SeparatorsInsidePartsCannotCollide) {
  const RequestKey a("a|b", "c", "d");
  const RequestKey b("a", "b|c", "d");
  const RequestKey c("a", "b", "c|d");
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(b == c);
  EXPECT_FALSE(a == c);
  // Digits and colons in the parts cannot forge a prefix either.
  EXPECT_FALSE(RequestKey("1:a", "b", "") == RequestKey("1", "a1:b", ""));
  EXPECT_FALSE(RequestKey("", "", "x") == RequestKey("", "x", ""));
}

TEST(RequestKeyTest, EqualPartsAreEqualWithEqualHashes) {
  const RequestKey a("odds", "odds", "g1");
  const RequestKey b("odds", "odds", "g1");
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(RequestKeyHash{}(a), a.hash());
  Request r;
  r.api = "odds";
  r.endpoint = "odds";
  r.key = "g1";
  EXPECT_TRUE(r.identity() == a);
}

TEST(RequestKeyTest, EmptyAndBinaryPartsAreKeptExactly) {
  const std::string binary("a\0b", 3);
  const RequestKey key("", binary, "");
  EXPECT_EQ(key.api(), "");
  EXPECT_EQ(key.endpoint(), binary);
  EXPECT_EQ(key.key(), "");
  EXPECT_TRUE(RequestKey() == RequestKey());
}

// Over many random triples from a tiny alphabet that includes the
// separators of any naive encoding: equal encodings only for equal parts.
TEST(RequestKeyTest, RandomizedTriplesNeverCollide) {
  const std::string alphabet = "a|:1/";
  uint64_t state = 42;
  auto next = [&]() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  auto part = [&]() {
    std::string s;
    const size_t n = next() % 4;
    for (size_t i = 0; i < n; ++i) s += alphabet[next() % alphabet.size()];
    return s;
  };
  std::set<std::tuple<std::string, std::string, std::string>> triples;
  std::set<std::string> encodings;
  for (int i = 0; i < 20000; ++i) {
    const std::string api = part(), endpoint = part(), key = part();
    const RequestKey k(api, endpoint, key);
    ASSERT_EQ(std::string(k.api()), api);
    ASSERT_EQ(std::string(k.endpoint()), endpoint);
    ASSERT_EQ(std::string(k.key()), key);
    triples.emplace(api, endpoint, key);
    encodings.insert(k.encoded());
  }
  EXPECT_EQ(triples.size(), encodings.size());
  EXPECT_GT(triples.size(), 5000u);
}

TEST(RequestKeyTest, AssignEqualsAFreshKeyAndReusesStorage) {
  RequestKey k("odds", "odds", "a-rather-long-key-that-does-not-fit-inline-0001");
  const char* storage = k.encoded().data();
  k.Assign("scores", "live", "a-rather-long-key-that-does-not-fit-inline-2");
  const RequestKey fresh("scores", "live", "a-rather-long-key-that-does-not-fit-inline-2");
  EXPECT_EQ(k, fresh);
  EXPECT_EQ(k.hash(), fresh.hash());
  EXPECT_EQ(k.api(), "scores");
  EXPECT_EQ(k.endpoint(), "live");
  EXPECT_EQ(k.encoded(), "6:scores4:livea-rather-long-key-that-does-not-fit-inline-2");
  EXPECT_EQ(k.encoded().data(), storage);  // shorter: no new allocation
  k.Assign("", "", "");
  EXPECT_EQ(k, RequestKey("", "", ""));
  EXPECT_EQ(k.encoded(), "0:0:");
}

// Parts of 10 characters and more: their lengths take two digits.
TEST(RequestKeyTest, LongPartsEncodeTheirLengthInFull) {
  const RequestKey k(std::string(12, 'a'), std::string(105, 'b'), "k");
  EXPECT_EQ(k.encoded(), "12:" + std::string(12, 'a') + "105:" + std::string(105, 'b') + "k");
  EXPECT_EQ(k.api().size(), 12u);
  EXPECT_EQ(k.endpoint().size(), 105u);
  EXPECT_EQ(k.key(), "k");
}

}  // namespace
}  // namespace orchsim
