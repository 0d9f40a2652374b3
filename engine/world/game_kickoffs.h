// game_kickoffs.h — which games a request key concerns, for the mocked
// upstreams' data processes (MockUpstream::SetKickoffLookup).
//
// A key names a game by containing its id as a token: keys are split at
// ':', '|', '/', ',', ' ', '=' and '&' ("odds:2023_01_DET_KC:us" has the
// tokens odds, 2023_01_DET_KC and us), and every token that is a game id
// contributes that game's kickoff. The simulation runner and the real-time
// mock upstream (live/) share this rule, so a key's data versions change at
// the same instants in both.
#ifndef ORCHSIM_ENGINE_WORLD_GAME_KICKOFFS_H_
#define ORCHSIM_ENGINE_WORLD_GAME_KICKOFFS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/world/schedule.h"
#include "policies/time.h"

namespace orchsim::world {

// The tokens of `key` (views into it), in order; empty tokens are skipped.
std::vector<std::string_view> KeyTokens(std::string_view key);

// A digest of what GameKickoffs(games).For answers (each game's id and
// kickoff, FNV-1a): runs with equal digests see equal kickoffs, so they may
// share a DataChangeBook family (MockUpstream::ShareDataChanges).
uint64_t KickoffsDigest(const std::vector<Game>& games);

class GameKickoffs {
 public:
  explicit GameKickoffs(const std::vector<Game>& games);
  // The kickoffs of the games `key` names, in the order of its tokens.
  std::vector<Instant> For(std::string_view key) const;

 private:
  std::unordered_map<std::string, Instant> kickoff_by_game_;
};

}  // namespace orchsim::world

#endif  // ORCHSIM_ENGINE_WORLD_GAME_KICKOFFS_H_
