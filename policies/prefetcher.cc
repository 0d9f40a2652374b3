#include "policies/prefetcher.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace orchsim {
namespace {

std::string Indexed(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

}  // namespace

std::string ExpandKeyTemplate(const std::string& key_template, const std::string& game_id) {
  static const std::string kPlaceholder = "{game}";
  std::string key;
  size_t from = 0;
  for (size_t at; (at = key_template.find(kPlaceholder, from)) != std::string::npos;
       from = at + kPlaceholder.size()) {
    key.append(key_template, from, at - from);
    key += game_id;
  }
  key.append(key_template, from, std::string::npos);
  return key;
}

Status PrefetchConfig::validate() const {
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (offsets[i] <= Duration::Zero()) {
      return FieldError(Indexed("prefetch.offsets", i), FormatDuration(offsets[i]), "must be > 0");
    }
    for (size_t j = 0; j < i; ++j) {
      if (offsets[j] == offsets[i]) {
        return FieldError(Indexed("prefetch.offsets", i), FormatDuration(offsets[i]),
                          "must differ from " + Indexed("prefetch.offsets", j));
      }
    }
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string field = Indexed("prefetch.targets", i);
    if (targets[i].api.empty()) return FieldError(field + ".api", "", "must not be empty");
    if (targets[i].endpoint.empty()) {
      return FieldError(field + ".endpoint", "", "must not be empty");
    }
  }
  if (enabled && offsets.empty()) {
    return Status::InvalidArgument("prefetch.offsets: [] must not be empty when enabled");
  }
  if (enabled && targets.empty()) {
    return Status::InvalidArgument("prefetch.targets: [] must not be empty when enabled");
  }
  return Status::Ok();
}

Prefetcher::Prefetcher(const PrefetchConfig& config, Timers& timers, IssueFn issue)
    : config_(config), timers_(timers), issue_(std::move(issue)) {
  assert(config_.validate().ok());
}

Prefetcher::~Prefetcher() { Stop(); }

void Prefetcher::AddGame(const std::string& game_id, Instant kickoff, Instant now) {
  if (!config_.enabled || stopped_) return;
  RemoveGame(game_id);
  std::vector<uint64_t> tokens;
  for (Duration offset : config_.offsets) {
    const Instant at = kickoff - offset;
    if (at < now) continue;  // already past
    const uint64_t token = next_token_++;
    // Safe to capture `this`: the destructor cancels every pending timer.
    const Timers::TimerId timer = timers_.ScheduleAt(at, [this, token] { Fire(token); });
    pending_.emplace(token, Pending{timer, game_id, kickoff});
    tokens.push_back(token);
  }
  if (!tokens.empty()) tokens_by_game_[game_id] = std::move(tokens);
}

size_t Prefetcher::RemoveGame(const std::string& game_id) {
  auto it = tokens_by_game_.find(game_id);
  if (it == tokens_by_game_.end()) return 0;
  const size_t cancelled = it->second.size();
  for (uint64_t token : it->second) {
    auto p = pending_.find(token);
    assert(p != pending_.end());
    timers_.Cancel(p->second.timer);
    pending_.erase(p);
  }
  tokens_by_game_.erase(it);
  return cancelled;
}

void Prefetcher::Stop() {
  stopped_ = true;
  for (const auto& [token, pending] : pending_) timers_.Cancel(pending.timer);
  pending_.clear();
  tokens_by_game_.clear();
}

void Prefetcher::Fire(uint64_t token) {
  auto p = pending_.find(token);
  if (p == pending_.end()) return;  // cancelled (a host may still run it)
  const std::string game_id = std::move(p->second.game_id);
  const Instant kickoff = p->second.kickoff;
  pending_.erase(p);
  auto game = tokens_by_game_.find(game_id);
  assert(game != tokens_by_game_.end());
  std::vector<uint64_t>& tokens = game->second;
  tokens.erase(std::find(tokens.begin(), tokens.end(), token));
  if (tokens.empty()) tokens_by_game_.erase(game);

  for (const PrefetchTarget& target : config_.targets) {
    if (stopped_) return;  // the IssueFn may shut us down mid-way
    ++issued_;
    issue_(MakeRequest(target, game_id, kickoff));
  }
}

Request Prefetcher::MakeRequest(const PrefetchTarget& target, const std::string& game_id,
                                Instant kickoff) const {
  Request request;
  request.api = target.api;
  request.endpoint = target.endpoint;
  request.key = ExpandKeyTemplate(target.key_template, game_id);
  request.priority = Priority::kPrefetch;
  request.game_start = kickoff;
  request.cacheable = true;
  request.batchable = target.batchable;
  request.deadline = config_.deadline_at_kickoff ? kickoff : Instant::Max();
  return request;
}

}  // namespace orchsim
