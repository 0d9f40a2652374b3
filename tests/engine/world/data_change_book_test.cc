#include "engine/world/data_change_book.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/kernel/simulator.h"
#include "engine/world/mock_upstream.h"

namespace orchsim::world {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'000'000'000);

// Changes every `gap`, `count` of them, then none; counts its draws.
class EveryGap final : public ChangeProcess {
 public:
  EveryGap(Duration gap, int count, int* draws) : gap_(gap), left_(count), draws_(draws) {}
  Instant Next() override {
    ++*draws_;
    if (left_ == 0) return Instant::Max();
    --left_;
    at_ += gap_;
    return at_;
  }

 private:
  Duration gap_;
  int left_;
  int* draws_;
  Instant at_ = kStart;
};

TEST(DataChangeBookTest, CountsChangesThroughAnInstantDrawingOnlyWhatItNeeds) {
  DataChangeBook book;
  DataChangeBook::Family& family = book.FamilyFor("odds");
  int draws = 0;
  int made = 0;
  auto make = [&] {
    ++made;
    return std::make_unique<EveryGap>(Seconds(10), 100, &draws);
  };
  EXPECT_EQ(book.ChangesThrough(family, "g1", kStart, make), 0u);
  EXPECT_EQ(draws, 1);  // the first change, at +10 s, is after kStart
  EXPECT_EQ(book.ChangesThrough(family, "g1", kStart + Seconds(10), make), 1u);
  EXPECT_EQ(book.ChangesThrough(family, "g1", kStart + Seconds(35), make), 3u);
  EXPECT_EQ(draws, 4);  // 10, 20, 30, 40 s
  // The past is read, not redrawn.
  EXPECT_EQ(book.ChangesThrough(family, "g1", kStart + Seconds(19), make), 1u);
  EXPECT_EQ(draws, 4);
  EXPECT_EQ(made, 1);
  constexpr size_t kKey = DataChangeBook::kBytesPerKey;
  constexpr size_t kChange = DataChangeBook::kBytesPerChange;
  EXPECT_EQ(book.bytes_held(), kKey + 4 * kChange);
  // Exhausted: 100 changes, then none; the end costs no instant.
  EXPECT_EQ(book.ChangesThrough(family, "g1", kStart + Days(1), make), 100u);
  EXPECT_EQ(book.bytes_held(), kKey + 100 * kChange);
  EXPECT_EQ(draws, 101);
  EXPECT_EQ(book.ChangesThrough(family, "g1", kStart + Days(2), make), 100u);
  EXPECT_EQ(draws, 101);
}

TEST(DataChangeBookTest, KeysAndFamiliesAreApart) {
  DataChangeBook book;
  DataChangeBook::Family& odds = book.FamilyFor("odds");
  DataChangeBook::Family& scores = book.FamilyFor("scores");
  EXPECT_EQ(&book.FamilyFor("odds"), &odds);
  EXPECT_EQ(book.families(), 2u);
  int draws = 0;
  auto every = [&draws](Duration gap) {
    return [gap, &draws] { return std::make_unique<EveryGap>(gap, 1000, &draws); };
  };
  EXPECT_EQ(book.ChangesThrough(odds, "g1", kStart + Minutes(1), every(Seconds(10))), 6u);
  EXPECT_EQ(book.ChangesThrough(odds, "g2", kStart + Minutes(1), every(Seconds(30))), 2u);
  EXPECT_EQ(book.ChangesThrough(scores, "g1", kStart + Minutes(1), every(Seconds(20))), 3u);
  // Already made: the maker is not asked again, whatever it would give.
  EXPECT_EQ(book.ChangesThrough(odds, "g1", kStart + Minutes(1), every(Seconds(1))), 6u);
}

TEST(DataChangeBookTest, RefusesPastItsBoundWithoutCountingAnything) {
  constexpr size_t kKey = DataChangeBook::kBytesPerKey;
  constexpr size_t kChange = DataChangeBook::kBytesPerChange;
  DataChangeBook book(kKey + 5 * kChange);
  DataChangeBook::Family& family = book.FamilyFor("f");
  int draws = 0;
  int made = 0;
  auto make = [&] {
    ++made;
    return std::make_unique<EveryGap>(Seconds(1), 1000, &draws);
  };
  EXPECT_EQ(book.ChangesThrough(family, "a", kStart + Seconds(3), make), 3u);  // holds 1..4 s
  EXPECT_EQ(book.bytes_held(), kKey + 4 * kChange);
  // No room for a second key: it is not made.
  EXPECT_EQ(book.ChangesThrough(family, "b", kStart + Seconds(3), make), std::nullopt);
  EXPECT_EQ(made, 1);
  EXPECT_EQ(book.bytes_held(), kKey + 4 * kChange);
  EXPECT_EQ(book.ChangesThrough(family, "a", kStart + Seconds(4), make), 4u);  // the 5th: 5 s
  EXPECT_EQ(book.bytes_held(), kKey + 5 * kChange);
  EXPECT_EQ(book.ChangesThrough(family, "a", kStart + Seconds(2), make), 2u);  // still read
  EXPECT_EQ(book.ChangesThrough(family, "a", kStart + Seconds(10), make), std::nullopt);
  EXPECT_EQ(book.bytes_held(), kKey + 5 * kChange);
}

// ---- through MockUpstream: the same versions with and without a book ----

UpstreamModelConfig Odds() {
  UpstreamModelConfig c;
  c.name = "odds";
  c.data.base_per_hour = 0.5;
  c.data.pregame_per_hour = 12;
  c.data.live_per_hour = 60;
  return c;
}

std::vector<Instant> KickoffOf(const std::string& key) {
  // Every key concerns one game; its kickoff depends on the key.
  return {kStart + Hours(30) + Minutes(static_cast<int64_t>(kernel::Fnv1a64(key) % 600))};
}

// Versions of `keys` at instants drawn (with the past revisited) from `seed`.
std::vector<uint64_t> Versions(MockUpstream& upstream, const std::vector<std::string>& keys,
                               uint64_t seed, int queries) {
  kernel::Rng rng(seed);
  std::vector<uint64_t> out;
  for (int i = 0; i < queries; ++i) {
    const std::string& key = keys[rng.UniformInt(keys.size())];
    const Instant t =
        kStart + Microseconds(static_cast<int64_t>(rng.UniformInt(Hours(48).micros())));
    out.push_back(upstream.PayloadVersionAt(key, t));
  }
  return out;
}

struct World {
  explicit World(std::shared_ptr<DataChangeBook> book, uint64_t seed = 7)
      : sim(kStart), seeds(seed), upstream(sim, seeds, Odds()) {
    upstream.SetKickoffLookup(KickoffOf);
    if (book) upstream.ShareDataChanges(std::move(book), "schedule-1");
  }
  kernel::Simulator sim;
  kernel::SeedTree seeds;
  MockUpstream upstream;
};

const std::vector<std::string> kKeys = {"g1", "g2", "g2:slip-1", "g3", "g4:props"};

TEST(DataChangeBookTest, UpstreamsSharingABookAnswerWhatEachDrawsAlone) {
  World alone(nullptr);
  const std::vector<uint64_t> expected = Versions(alone.upstream, kKeys, 1, 400);
  EXPECT_GT(*std::max_element(expected.begin(), expected.end()), 50u);  // changes happened

  auto book = std::make_shared<DataChangeBook>();
  World first(book);
  EXPECT_EQ(Versions(first.upstream, kKeys, 1, 400), expected);
  EXPECT_GT(book->bytes_held(),
            kKeys.size() * DataChangeBook::kBytesPerKey + 100 * DataChangeBook::kBytesPerChange);
  // A second run asking the same in another order draws nothing new.
  World second(book);
  EXPECT_EQ(Versions(second.upstream, kKeys, 2, 400), Versions(alone.upstream, kKeys, 2, 400));
  EXPECT_EQ(book->families(), 1u);
  // Another seed is another family, with its own versions.
  World other_seed(book, /*seed=*/8);
  World other_alone(nullptr, /*seed=*/8);
  EXPECT_EQ(Versions(other_seed.upstream, kKeys, 1, 400),
            Versions(other_alone.upstream, kKeys, 1, 400));
  EXPECT_EQ(book->families(), 2u);
}

TEST(DataChangeBookTest, AFullBookChangesNoVersion) {
  World alone(nullptr);
  // Room for two keys and a few of their changes: the rest is drawn alone.
  const size_t max = 2 * DataChangeBook::kBytesPerKey + 40 * DataChangeBook::kBytesPerChange;
  auto tiny = std::make_shared<DataChangeBook>(max);
  World shared(tiny);
  EXPECT_EQ(Versions(shared.upstream, kKeys, 3, 400), Versions(alone.upstream, kKeys, 3, 400));
  EXPECT_GT(tiny->bytes_held(), max - DataChangeBook::kBytesPerKey);
  EXPECT_LE(tiny->bytes_held(), max);
}

TEST(DataChangeBookTest, AKickoffAddedByHandLeavesTheBook) {
  auto book = std::make_shared<DataChangeBook>();
  World filler(book);
  Versions(filler.upstream, kKeys, 4, 100);
  World shared(book);
  World alone(nullptr);
  for (World* w : {&shared, &alone}) w->upstream.AddKickoff("g1", kStart + Hours(5));
  EXPECT_EQ(Versions(shared.upstream, kKeys, 4, 400), Versions(alone.upstream, kKeys, 4, 400));
  EXPECT_NE(Versions(filler.upstream, {"g1"}, 4, 50), Versions(alone.upstream, {"g1"}, 4, 50));
}

TEST(DataChangeBookTest, RunsOnTwoThreadsReadWhatOneDrawsAlone) {
  World alone(nullptr);
  std::vector<std::vector<uint64_t>> expected;
  for (uint64_t seed = 1; seed <= 4; ++seed)
    expected.push_back(Versions(alone.upstream, kKeys, seed, 300));
  auto book = std::make_shared<DataChangeBook>();
  std::vector<std::vector<uint64_t>> got(4);
  auto worker = [&](size_t from) {
    for (size_t i = from; i < 4; i += 2) {
      World w(book);
      got[i] = Versions(w.upstream, kKeys, i + 1, 300);
    }
  };
  std::thread a(worker, 0);
  std::thread b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace orchsim::world
