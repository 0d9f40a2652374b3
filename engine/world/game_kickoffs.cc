#include "engine/world/game_kickoffs.h"

#include "engine/kernel/random.h"

namespace orchsim::world {

std::vector<std::string_view> KeyTokens(std::string_view key) {
  std::vector<std::string_view> tokens;
  size_t begin = 0;
  for (size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == ':' || key[i] == '|' || key[i] == '/' || key[i] == ',' ||
        key[i] == ' ' || key[i] == '=' || key[i] == '&') {
      if (i > begin) tokens.push_back(key.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  return tokens;
}

uint64_t KickoffsDigest(const std::vector<Game>& games) {
  std::string text;
  for (const Game& game : games) {
    text += game.id;
    text += '\n';
    text += std::to_string(game.kickoff.unix_micros());
    text += '\n';
  }
  return kernel::Fnv1a64(text);
}

GameKickoffs::GameKickoffs(const std::vector<Game>& games) {
  for (const Game& game : games) kickoff_by_game_[game.id] = game.kickoff;
}

std::vector<Instant> GameKickoffs::For(std::string_view key) const {
  std::vector<Instant> kickoffs;
  for (std::string_view token : KeyTokens(key)) {
    auto it = kickoff_by_game_.find(std::string(token));
    if (it != kickoff_by_game_.end()) kickoffs.push_back(it->second);
  }
  return kickoffs;
}

}  // namespace orchsim::world
