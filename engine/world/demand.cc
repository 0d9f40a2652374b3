#include "engine/world/demand.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <set>
#include <type_traits>
#include <utility>

namespace orchsim::world {

// A key template, compiled: literal text and placeholders.
enum class KeyPart : uint8_t { kLiteral, kGame, kHome, kAway, kLeague, kVenue, kDate, kN };

struct KeySegment {
  KeyPart part = KeyPart::kLiteral;
  std::string literal;
};

// What a generator stream hands the source for one request.
struct Emission {
  Instant at;
  const Game* game = nullptr;  // null for requests not about a game
  CivilDate date;
  uint32_t n = 0;
  // A trace generator's request, complete (the template is not used).
  std::optional<Request> request;
};

class GeneratorStream {
 public:
  virtual ~GeneratorStream() = default;
  // The instant of the next request, or nullopt when exhausted. May open
  // cursors (lazily) but never consumes.
  virtual std::optional<Instant> Head() = 0;
  // REQUIRES: Head() has a value. Consumes the next request.
  virtual Emission Pop() = 0;
  virtual size_t buffered() const = 0;

  std::vector<KeySegment> key_template;  // the generator's, compiled
};

namespace {

// ---- Key templates -------------------------------------------------------

const char* kPlaceholderList = "{game}, {home}, {away}, {league}, {venue}, {date}, {n}";

// Splits a key template into segments. Returns "" or what is wrong.
std::string CompileKeyTemplate(const std::string& text, std::vector<KeySegment>* segments) {
  segments->clear();
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find_first_of("{}", i);
    if (open == std::string::npos) {
      segments->push_back({KeyPart::kLiteral, text.substr(i)});
      break;
    }
    if (text[open] == '}') return "unmatched '}': expected placeholders like {game}";
    if (open > i) segments->push_back({KeyPart::kLiteral, text.substr(i, open - i)});
    const size_t close = text.find('}', open);
    if (close == std::string::npos) return "unclosed '{': expected placeholders like {game}";
    const std::string name = text.substr(open + 1, close - open - 1);
    KeyPart part;
    if (name == "game") {
      part = KeyPart::kGame;
    } else if (name == "home") {
      part = KeyPart::kHome;
    } else if (name == "away") {
      part = KeyPart::kAway;
    } else if (name == "league") {
      part = KeyPart::kLeague;
    } else if (name == "venue") {
      part = KeyPart::kVenue;
    } else if (name == "date") {
      part = KeyPart::kDate;
    } else if (name == "n") {
      part = KeyPart::kN;
    } else {
      return "unknown placeholder {" + name + "}; expected " + kPlaceholderList;
    }
    segments->push_back({part, ""});
    i = close + 1;
  }
  return "";
}

bool UsesGame(const std::vector<KeySegment>& segments) {
  for (const KeySegment& s : segments) {
    if (s.part == KeyPart::kGame || s.part == KeyPart::kHome || s.part == KeyPart::kAway ||
        s.part == KeyPart::kLeague || s.part == KeyPart::kVenue) {
      return true;
    }
  }
  return false;
}

std::string ExpandKey(const std::vector<KeySegment>& segments, const Emission& e) {
  std::string key;
  for (const KeySegment& s : segments) {
    switch (s.part) {
      case KeyPart::kLiteral:
        key += s.literal;
        break;
      case KeyPart::kGame:
        key += e.game->id;
        break;
      case KeyPart::kHome:
        key += e.game->home;
        break;
      case KeyPart::kAway:
        key += e.game->away;
        break;
      case KeyPart::kLeague:
        key += e.game->league;
        break;
      case KeyPart::kVenue:
        key += e.game->venue;
        break;
      case KeyPart::kDate:
        key += FormatCivilDate(e.date);
        break;
      case KeyPart::kN:
        key += std::to_string(e.n);
        break;
    }
  }
  return key;
}

CivilDate UtcDateOf(Instant t) {
  const int64_t day = Days(1).micros();
  int64_t days = t.unix_micros() / day;
  if (t.unix_micros() % day < 0) --days;
  return CivilDateFromDays(days);
}

bool LeagueMatches(const std::string& wanted, const Game& game) {
  return wanted.empty() || wanted == game.league;
}

// ---- Validation ------------------------------------------------------------

Status ValidatePattern(const std::string& f, const CronPattern& p) {
  if (p.time_of_day < Duration::Zero() || p.time_of_day >= Hours(24)) {
    return FieldError(f + "time_of_day", FormatDuration(p.time_of_day), "must be in [0s, 24h)");
  }
  if (auto zone = TimeZone::Find(p.time_zone); !zone.ok()) {
    return Status::InvalidArgument(f + "time_zone: " + zone.error());
  }
  if (std::none_of(p.weekdays.begin(), p.weekdays.end(), [](bool b) { return b; })) {
    return Status::InvalidArgument(f + "weekdays: none selected; expected at least one day");
  }
  if (p.first_date && p.last_date && *p.last_date < *p.first_date) {
    return FieldError(f + "last_date", FormatCivilDate(*p.last_date),
                      "must not be before first_date " + FormatCivilDate(*p.first_date));
  }
  return Status::Ok();
}

Status ValidatePattern(const std::string& f, const GameOffsetsPattern& p) {
  if (p.offsets.empty()) {
    return Status::InvalidArgument(f + "offsets: empty; expected at least one offset");
  }
  return Status::Ok();
}

Status ValidatePattern(const std::string& f, const KickoffPoissonPattern& p) {
  if (p.steps.empty()) {
    return Status::InvalidArgument(f + "steps: empty; expected at least one rate step");
  }
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const std::string step = f + "steps[" + std::to_string(i) + "].";
    const double rate = p.steps[i].per_minute;
    if (!std::isfinite(rate) || rate < 0.0) {
      return FieldError(step + "per_minute", rate, "must be finite and >= 0");
    }
    if (i > 0 && p.steps[i].from <= p.steps[i - 1].from) {
      return FieldError(step + "from", FormatDuration(p.steps[i].from),
                        "must be after steps[" + std::to_string(i - 1) + "].from " +
                            FormatDuration(p.steps[i - 1].from));
    }
  }
  if (p.until <= p.steps.back().from) {
    return FieldError(f + "until", FormatDuration(p.until),
                      "must be after the last step's from " + FormatDuration(p.steps.back().from));
  }
  return Status::Ok();
}

Status ValidatePattern(const std::string& f, const LivePollingPattern& p) {
  if (p.interval <= Duration::Zero()) {
    return FieldError(f + "interval", FormatDuration(p.interval), "must be > 0s");
  }
  if (p.start_offset >= p.game_length) {
    return FieldError(f + "start_offset", FormatDuration(p.start_offset),
                      "must be before game_length " + FormatDuration(p.game_length));
  }
  return Status::Ok();
}

Status ValidatePattern(const std::string& f, const BurstPattern& p) {
  if (p.count < 1) return FieldError(f + "count", p.count, "must be >= 1");
  if (p.span < Duration::Zero()) {
    return FieldError(f + "span", FormatDuration(p.span), "must be >= 0s");
  }
  return Status::Ok();
}

Status ValidatePattern(const std::string& f, const TracePattern& p) {
  return ValidateTracePattern(f, p);
}

// span * k / count (integer microseconds, rounded down) without forming
// span * k, which overflows int64 for long spans and large counts (issue 19).
Duration BurstOffset(const BurstPattern& burst, uint32_t k) {
  const int64_t span = burst.span.micros();
  const int64_t count = burst.count;
  return Duration::FromMicros(span / count * k + span % count * k / count);
}

bool PatternHasGame(const DemandPattern& pattern) {
  if (const auto* cron = std::get_if<CronPattern>(&pattern)) return cron->one_per_game;
  if (const auto* burst = std::get_if<BurstPattern>(&pattern)) return !burst->at.has_value();
  return true;
}

// ---- Streams ---------------------------------------------------------------

// Per-game patterns: one cursor per game whose window is open, merged by
// (next instant, game index).
class PerGameStream : public GeneratorStream {
 public:
  PerGameStream(const std::vector<Game>& games, const DemandGeneratorConfig& config,
                const kernel::SeedTree& seeds)
      : games_(games),
        league_(config.league),
        pattern_(config.pattern),
        seeds_(seeds.Child("demand/" + config.name)) {
    if (auto* offsets = std::get_if<GameOffsetsPattern>(&pattern_)) {
      std::stable_sort(offsets->offsets.begin(), offsets->offsets.end());
      earliest_offset_ = offsets->offsets.front();
    } else if (const auto* poisson = std::get_if<KickoffPoissonPattern>(&pattern_)) {
      earliest_offset_ = poisson->steps.front().from;
    } else if (const auto* polling = std::get_if<LivePollingPattern>(&pattern_)) {
      earliest_offset_ = polling->start_offset;
    } else if (const auto* burst = std::get_if<BurstPattern>(&pattern_)) {
      earliest_offset_ = burst->kickoff_offset;
    }
  }

  std::optional<Instant> Head() override {
    // Open every game that could produce a request before the current head.
    // An unopened game has a larger index than every open one, so at an equal
    // instant the open cursor goes first and the game may wait.
    while (next_game_ < games_.size()) {
      const Game& game = games_[next_game_];
      if (!heap_.empty() && game.kickoff + earliest_offset_ >= heap_.front().next) break;
      const uint32_t index = static_cast<uint32_t>(next_game_++);
      if (!LeagueMatches(league_, game)) continue;
      Cursor cursor{game.kickoff, index, 0, 0, kernel::Rng(0)};
      if (std::holds_alternative<KickoffPoissonPattern>(pattern_)) {
        cursor.rng = seeds_.Stream(game.id);
      }
      if (First(cursor)) {
        heap_.push_back(cursor);
        std::push_heap(heap_.begin(), heap_.end(), Later);
      }
    }
    if (heap_.empty()) return std::nullopt;
    return heap_.front().next;
  }

  Emission Pop() override {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    Cursor& cursor = heap_.back();
    const Game& game = games_[cursor.game];
    Emission e{cursor.next, &game, game.date, cursor.k, std::nullopt};
    ++cursor.k;
    if (Advance(cursor)) {
      std::push_heap(heap_.begin(), heap_.end(), Later);
    } else {
      heap_.pop_back();
    }
    return e;
  }

  size_t buffered() const override { return heap_.size(); }

 private:
  struct Cursor {
    Instant next;      // the cursor's next request
    uint32_t game;     // index into games_
    uint32_t k;        // requests emitted so far for this game
    uint32_t segment;  // Poisson: current rate step
    kernel::Rng rng;   // Poisson only
  };
  // Heap order: the top is the smallest (next, game).
  static bool Later(const Cursor& a, const Cursor& b) {
    if (a.next != b.next) return a.next > b.next;
    return a.game > b.game;
  }

  // Sets the first request; false when the game has none.
  bool First(Cursor& c) {
    const Instant kickoff = games_[c.game].kickoff;
    if (const auto* poisson = std::get_if<KickoffPoissonPattern>(&pattern_)) {
      c.segment = 0;
      c.next = kickoff + poisson->steps.front().from;
      return NextArrival(*poisson, kickoff, c);
    }
    return Place(c, kickoff);
  }

  // Moves to the request after the one just emitted (c.k already counts it).
  bool Advance(Cursor& c) {
    const Instant kickoff = games_[c.game].kickoff;
    if (const auto* poisson = std::get_if<KickoffPoissonPattern>(&pattern_)) {
      return NextArrival(*poisson, kickoff, c);
    }
    return Place(c, kickoff);
  }

  // Deterministic patterns: the k-th request's instant, or false past the end.
  bool Place(Cursor& c, Instant kickoff) const {
    if (const auto* offsets = std::get_if<GameOffsetsPattern>(&pattern_)) {
      if (c.k >= offsets->offsets.size()) return false;
      c.next = kickoff + offsets->offsets[c.k];
      return true;
    }
    if (const auto* polling = std::get_if<LivePollingPattern>(&pattern_)) {
      const Duration offset = polling->start_offset + polling->interval * c.k;
      if (offset >= polling->game_length) return false;
      c.next = kickoff + offset;
      return true;
    }
    const auto& burst = std::get<BurstPattern>(pattern_);
    if (c.k >= static_cast<uint32_t>(burst.count)) return false;
    c.next = kickoff + burst.kickoff_offset + BurstOffset(burst, c.k);
    return true;
  }

  // Piecewise-constant Poisson: draw exponential gaps at the current step's
  // rate; a gap that crosses the step's end is discarded and drawing restarts
  // at the next step's start (exact, as the process is memoryless).
  static bool NextArrival(const KickoffPoissonPattern& p, Instant kickoff, Cursor& c) {
    while (c.segment < p.steps.size()) {
      const bool last = c.segment + 1 == p.steps.size();
      const Instant segment_end = kickoff + (last ? p.until : p.steps[c.segment + 1].from);
      const double rate = p.steps[c.segment].per_minute;
      if (rate > 0.0) {
        const double gap = c.rng.Exponential(60e6 / rate);
        // Whole microseconds, at least 1 so arrivals stay strictly ordered
        // (as kernel::PoissonArrivals does).
        const int64_t gap_us = std::max<int64_t>(1, std::llround(std::min(gap, 9.0e18)));
        if (gap_us < (segment_end - c.next).micros()) {
          c.next += Duration::FromMicros(gap_us);
          return true;
        }
      }
      ++c.segment;
      if (c.segment < p.steps.size()) c.next = kickoff + p.steps[c.segment].from;
    }
    return false;
  }

  const std::vector<Game>& games_;
  std::string league_;
  DemandPattern pattern_;
  kernel::SeedTree seeds_;
  Duration earliest_offset_;
  size_t next_game_ = 0;
  std::vector<Cursor> heap_;
};

// Cron: walks local dates one by one.
class CronStream : public GeneratorStream {
 public:
  CronStream(const std::vector<Game>& games, const DemandGeneratorConfig& config)
      : games_(games),
        league_(config.league),
        pattern_(std::get<CronPattern>(config.pattern)),
        zone_(*TimeZone::Find(pattern_.time_zone)) {
    const Game* first = nullptr;
    const Game* last = nullptr;
    for (const Game& g : games_) {
      if (!LeagueMatches(league_, g)) continue;
      if (!first) first = &g;
      last = &g;
    }
    if (pattern_.first_date) {
      day_ = DaysSinceEpoch(*pattern_.first_date);
    } else if (first) {
      day_ = DaysSinceEpoch(LocalDate(*first));
    } else {
      day_ = 1;  // empty
    }
    if (pattern_.last_date) {
      last_day_ = DaysSinceEpoch(*pattern_.last_date);
    } else if (last) {
      last_day_ = DaysSinceEpoch(LocalDate(*last));
    } else {
      last_day_ = 0;
    }
  }

  std::optional<Instant> Head() override {
    if (has_head_) return head_;
    const bool needs_games = pattern_.game_days_only || pattern_.one_per_game;
    for (; day_ <= last_day_; ++day_) {
      const CivilDate date = CivilDateFromDays(day_);
      if (!pattern_.weekdays[Weekday(date)]) continue;
      if (needs_games) {
        // Skip games before this date, then find the first game on it.
        while (game_ < games_.size() &&
               (!LeagueMatches(league_, games_[game_]) || LocalDate(games_[game_]) < date)) {
          ++game_;
        }
        if (game_ == games_.size() || LocalDate(games_[game_]) != date) continue;
      }
      head_ = zone_.ToUtc(date, pattern_.time_of_day);
      head_date_ = date;
      has_head_ = true;
      return head_;
    }
    return std::nullopt;
  }

  Emission Pop() override {
    Emission e{head_, nullptr, head_date_, 0, std::nullopt};
    if (!pattern_.one_per_game) {
      has_head_ = false;
      ++day_;
      return e;
    }
    const Game& game = games_[game_];
    e.game = &game;
    // Next game of the same local date and league, if any.
    ++game_;
    while (game_ < games_.size() && !LeagueMatches(league_, games_[game_])) ++game_;
    if (game_ == games_.size() || LocalDate(games_[game_]) != head_date_) {
      has_head_ = false;
      ++day_;
    }
    return e;
  }

  size_t buffered() const override { return has_head_ ? 1 : 0; }

 private:
  CivilDate LocalDate(const Game& g) const { return zone_.ToLocal(g.kickoff).date; }

  const std::vector<Game>& games_;
  std::string league_;
  CronPattern pattern_;
  TimeZone zone_;
  int64_t day_ = 0;
  int64_t last_day_ = 0;
  size_t game_ = 0;  // first game not yet passed
  bool has_head_ = false;
  Instant head_;
  CivilDate head_date_;
};

// The requests of a trace file (trace_demand.h).
class TraceStream : public GeneratorStream {
 public:
  TraceStream(const std::vector<Game>& games, const DemandGeneratorConfig& config,
              const kernel::SeedTree& seeds)
      : stream_(std::get<TracePattern>(config.pattern), seeds.SeedFor("demand/" + config.name),
                games) {}

  std::optional<Instant> Head() override { return stream_.Head(); }
  Emission Pop() override {
    TraceArrival arrival = stream_.Pop();
    Emission e{arrival.at, nullptr, UtcDateOf(arrival.at), 0, std::move(arrival.request)};
    return e;
  }
  size_t buffered() const override { return stream_.buffered(); }

 private:
  TraceDemandStream stream_;
};

// A single burst at an absolute instant.
class AbsoluteBurstStream : public GeneratorStream {
 public:
  explicit AbsoluteBurstStream(const BurstPattern& burst) : burst_(burst) {}

  std::optional<Instant> Head() override {
    if (k_ >= burst_.count) return std::nullopt;
    return *burst_.at + BurstOffset(burst_, static_cast<uint32_t>(k_));
  }
  Emission Pop() override {
    const Instant at = *Head();
    return Emission{at, nullptr, UtcDateOf(at), static_cast<uint32_t>(k_++), std::nullopt};
  }
  size_t buffered() const override { return k_ < burst_.count ? 1 : 0; }

 private:
  BurstPattern burst_;
  int k_ = 0;
};

}  // namespace

Status DemandGeneratorConfig::validate() const {
  if (name.empty()) return FieldError("demand.name", name, "must not be empty");
  const std::string f = "demand." + name + ".";
  if (const auto* trace = std::get_if<TracePattern>(&pattern)) {
    return ValidatePattern(f + "trace.", *trace);
  }
  if (request.api.empty()) return FieldError(f + "request.api", request.api, "must not be empty");
  if (request.endpoint.empty()) {
    return FieldError(f + "request.endpoint", request.endpoint, "must not be empty");
  }
  std::vector<KeySegment> segments;
  if (std::string e = CompileKeyTemplate(request.key_template, &segments); !e.empty()) {
    return FieldError(f + "request.key", request.key_template, e);
  }
  if (!PatternHasGame(pattern) && UsesGame(segments)) {
    return FieldError(f + "request.key", request.key_template,
                      "uses a game placeholder, but this pattern's requests are not about one "
                      "game; expected only {date} and {n} (or cron one_per_game)");
  }
  if (request.deadline <= Duration::Zero()) {
    return FieldError(f + "request.deadline", FormatDuration(request.deadline), "must be > 0s");
  }
  return std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        const char* kind = std::is_same_v<P, CronPattern>             ? "cron."
                           : std::is_same_v<P, GameOffsetsPattern>    ? "offsets."
                           : std::is_same_v<P, KickoffPoissonPattern> ? "kickoff_poisson."
                           : std::is_same_v<P, LivePollingPattern>    ? "live_polling."
                           : std::is_same_v<P, BurstPattern>          ? "burst."
                                                                      : "trace.";
        return ValidatePattern(f + kind, p);
      },
      pattern);
}

Status ValidateDemandGenerators(const std::vector<DemandGeneratorConfig>& generators) {
  std::map<std::string, size_t> first_index;
  for (size_t i = 0; i < generators.size(); ++i) {
    const DemandGeneratorConfig& g = generators[i];
    if (Status s = g.validate(); !s.ok()) return s;
    auto [it, inserted] = first_index.emplace(g.name, i);
    if (!inserted) {
      return FieldError(
          "demand[" + std::to_string(i) + "].name", g.name,
          "is also the name of demand[" + std::to_string(it->second) + "]; expected unique names");
    }
  }
  return Status::Ok();
}

DemandSource::DemandSource(const std::vector<Game>& games,
                           std::vector<DemandGeneratorConfig> generators,
                           const kernel::SeedTree& seeds)
    : configs_(std::move(generators)) {
  assert(ValidateDemandGenerators(configs_).ok());
  streams_.resize(configs_.size());
  sequence_.assign(configs_.size(), 0);
  for (size_t i = 0; i < configs_.size(); ++i) {
    const DemandGeneratorConfig& config = configs_[i];
    if (!config.enabled) continue;
    if (std::holds_alternative<CronPattern>(config.pattern)) {
      streams_[i] = std::make_unique<CronStream>(games, config);
    } else if (std::holds_alternative<TracePattern>(config.pattern)) {
      streams_[i] = std::make_unique<TraceStream>(games, config, seeds);
    } else if (const auto* burst = std::get_if<BurstPattern>(&config.pattern); burst && burst->at) {
      streams_[i] = std::make_unique<AbsoluteBurstStream>(*burst);
    } else {
      streams_[i] = std::make_unique<PerGameStream>(games, config, seeds);
    }
    CompileKeyTemplate(config.request.key_template, &streams_[i]->key_template);
    Refill(static_cast<int>(i));
  }
}

DemandSource::~DemandSource() = default;

bool DemandSource::HeadLater(const Head& a, const Head& b) {
  if (a.at != b.at) return a.at > b.at;
  return a.generator > b.generator;
}

void DemandSource::Refill(int generator) {
  if (std::optional<Instant> at = streams_[generator]->Head()) {
    heads_.push_back(Head{*at, generator});
    std::push_heap(heads_.begin(), heads_.end(), HeadLater);
  }
}

std::optional<TimedRequest> DemandSource::Next() {
  if (heads_.empty()) return std::nullopt;
  std::pop_heap(heads_.begin(), heads_.end(), HeadLater);
  const int g = heads_.back().generator;
  heads_.pop_back();
  const Emission e = streams_[g]->Pop();
  const RequestTemplate& t = configs_[g].request;

  TimedRequest out;
  out.at = e.at;
  out.generator = g;
  out.sequence = sequence_[g]++;
  Request& r = out.request;
  if (e.request) {
    r = std::move(*e.request);
    r.id = ++emitted_;
    Refill(g);
    return out;
  }
  r.id = ++emitted_;
  r.api = t.api;
  r.endpoint = t.endpoint;
  r.key = ExpandKey(streams_[g]->key_template, e);
  r.priority = t.priority;
  if (e.game) r.game_start = e.game->kickoff;
  r.cacheable = t.cacheable;
  r.batchable = t.batchable;
  r.deadline = t.deadline.is_infinite() ? Instant::Max() : e.at + t.deadline;
  Refill(g);
  return out;
}

std::optional<Instant> DemandSource::PeekTime() const {
  if (heads_.empty()) return std::nullopt;
  return heads_.front().at;
}

size_t DemandSource::buffered() const {
  size_t n = heads_.size();
  for (const auto& stream : streams_) {
    if (stream) n += stream->buffered();
  }
  return n;
}

}  // namespace orchsim::world
