// GameKickoffs: a key names the games whose ids are among its tokens.
#include "engine/world/game_kickoffs.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace orchsim::world {
namespace {

TEST(GameKickoffsTest, KeysSplitAtTheSeparators) {
  EXPECT_EQ(KeyTokens("odds:2023_01_DET_KC:us"),
            (std::vector<std::string_view>{"odds", "2023_01_DET_KC", "us"}));
  EXPECT_EQ(KeyTokens("a|b/c,d e=f&g"),
            (std::vector<std::string_view>{"a", "b", "c", "d", "e", "f", "g"}));
  EXPECT_EQ(KeyTokens("::x::"), (std::vector<std::string_view>{"x"}));
  EXPECT_TRUE(KeyTokens("").empty());
}

TEST(GameKickoffsTest, EveryTokenThatIsAGameIdGivesItsKickoff) {
  Game a;
  a.id = "G1";
  a.kickoff = *ParseInstant("2023-10-15T17:00:00Z");
  Game b;
  b.id = "G2";
  b.kickoff = *ParseInstant("2023-10-15T20:25:00Z");
  const GameKickoffs kickoffs({a, b});
  EXPECT_EQ(kickoffs.For("odds:G2:us"), (std::vector<Instant>{b.kickoff}));
  EXPECT_EQ(kickoffs.For("G1,G2"), (std::vector<Instant>{a.kickoff, b.kickoff}));
  EXPECT_TRUE(kickoffs.For("G12").empty());  // whole tokens only
  EXPECT_TRUE(kickoffs.For("weather:KC").empty());
}

}  // namespace
}  // namespace orchsim::world
