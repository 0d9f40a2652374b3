#include "engine/experiment/run_size.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <type_traits>

#include "engine/experiment/report.h"

namespace orchsim::experiment {
namespace {

constexpr double kMicrosPerHour = 3.6e9;
constexpr double kMicrosPerMinute = 6e7;
constexpr double kMicrosPerSecond = 1e6;

double Micros(Duration d) { return static_cast<double>(d.micros()); }

// Length of [a, b) inside [lo, hi), in microseconds.
double Overlap(Instant a, Instant b, Instant lo, Instant hi) {
  const Instant from = std::max(a, lo);
  const Instant to = std::min(b, hi);
  return to > from ? Micros(to - from) : 0.0;
}

bool Inside(Instant t, Instant lo, Instant hi) { return lo <= t && t < hi; }

bool Contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// A key with a game id: the mock links it to that game's kickoff, so its
// data changes only around the game (mock_upstream.h). Other keys ({venue},
// {home}-{away}, constants) change at the base rate for the whole run.
bool KeyHasGameId(const std::string& key) { return Contains(key, "{game}"); }

bool KeyUsesGame(const std::string& key) {
  for (const char* p : {"{game}", "{home}", "{away}", "{league}", "{venue}"}) {
    if (Contains(key, p)) return true;
  }
  return false;
}

// Requests of one generator in [start, end), and its busiest second.
struct GeneratorSize {
  double requests = 0.0;
  double burst = 0.0;
  double games = 0.0;  // games it makes requests about
  double days = 0.0;   // days it fires on (cron)
};

class Estimator {
 public:
  explicit Estimator(const scenario::Scenario& s) : s_(s) {}

  GeneratorSize Of(const world::DemandGeneratorConfig& g) const {
    GeneratorSize size;
    if (!g.enabled) return size;
    std::vector<const world::Game*> games;
    std::map<int64_t, int> per_kickoff;
    int simultaneous = 0;
    for (const world::Game& game : s_.games) {
      if (!g.league.empty() && game.league != g.league) continue;
      games.push_back(&game);
      simultaneous = std::max(simultaneous, ++per_kickoff[game.kickoff.unix_micros()]);
    }
    std::visit(
        [&](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<P, world::CronPattern>) {
            Cron(p, games, &size);
          } else if constexpr (std::is_same_v<P, world::BurstPattern>) {
            if (p.at) {
              size.requests = BurstIn(p, *p.at);
              size.burst = BurstPeak(p);
              return;
            }
            for (const world::Game* game : games) {
              const double n = BurstIn(p, game->kickoff + p.kickoff_offset);
              size.requests += n;
              if (n > 0) ++size.games;
            }
            size.burst = BurstPeak(p) * simultaneous;
          } else if constexpr (std::is_same_v<P, world::TracePattern>) {
            // Counted by the scan at load: the selected requests, the rate
            // applied, those whose shifted arrival falls in [start, end).
            const Duration shift = p.EffectiveShift();
            const Instant first = p.scan.first_arrival + shift;
            const Instant last = p.scan.last_arrival + shift;
            const double inside =
                last > first ? Overlap(first, last, s_.start, s_.end) / Micros(last - first)
                             : (Inside(first, s_.start, s_.end) ? 1.0 : 0.0);
            size.requests = static_cast<double>(p.scan.requests) * p.rate * inside;
            size.burst = static_cast<double>(p.scan.peak_per_second) * p.rate;
          } else {
            double peak = 0.0;
            for (const world::Game* game : games) {
              const double n = PerGame(p, game->kickoff, &peak);
              size.requests += n;
              if (n > 0) ++size.games;
            }
            size.burst = peak * simultaneous;
          }
        },
        g.pattern);
    return size;
  }

 private:
  double PerGame(const world::GameOffsetsPattern& p, Instant kickoff, double* peak) const {
    double n = 0.0;
    std::map<int64_t, int> same;
    for (Duration offset : p.offsets) {
      if (Inside(kickoff + offset, s_.start, s_.end)) ++n;
      *peak = std::max(*peak, static_cast<double>(++same[offset.micros()]));
    }
    return n;
  }

  double PerGame(const world::KickoffPoissonPattern& p, Instant kickoff, double* peak) const {
    double n = 0.0;
    for (size_t i = 0; i < p.steps.size(); ++i) {
      const Instant from = kickoff + p.steps[i].from;
      const Instant to = kickoff + (i + 1 < p.steps.size() ? p.steps[i + 1].from : p.until);
      n += p.steps[i].per_minute * Overlap(from, to, s_.start, s_.end) / kMicrosPerMinute;
      *peak = std::max(*peak, std::ceil(p.steps[i].per_minute / 60.0));
    }
    return n;
  }

  double PerGame(const world::LivePollingPattern& p, Instant kickoff, double* peak) const {
    const Instant first = kickoff + p.start_offset;
    const Instant lo = std::max(first, s_.start);
    const Instant hi = std::min(kickoff + p.game_length, s_.end);
    *peak = std::max(*peak, std::max(1.0, std::floor(kMicrosPerSecond / Micros(p.interval))));
    if (hi <= lo) return 0.0;
    // k >= 0 with lo <= first + k * interval < hi.
    const double interval = Micros(p.interval);
    const double k_lo = std::ceil(Micros(lo - first) / interval);
    const double k_hi = std::ceil(Micros(hi - first) / interval);
    return std::max(0.0, k_hi - k_lo);
  }

  double BurstIn(const world::BurstPattern& p, Instant at) const {
    if (p.span <= Duration::Zero()) return Inside(at, s_.start, s_.end) ? p.count : 0.0;
    return p.count * Overlap(at, at + p.span, s_.start, s_.end) / Micros(p.span);
  }

  static double BurstPeak(const world::BurstPattern& p) {
    const double seconds = Micros(p.span) / kMicrosPerSecond;
    return seconds <= 1.0 ? p.count : std::ceil(p.count / seconds);
  }

  void Cron(const world::CronPattern& p, const std::vector<const world::Game*>& games,
            GeneratorSize* size) const {
    std::map<int64_t, int> games_on;  // games per local date (the schedule's date)
    for (const world::Game* game : games) ++games_on[world::DaysSinceEpoch(game->date)];
    if (games_on.empty() && (!p.first_date || !p.last_date)) return;
    int64_t first = p.first_date ? world::DaysSinceEpoch(*p.first_date) : games_on.begin()->first;
    int64_t last = p.last_date ? world::DaysSinceEpoch(*p.last_date) : games_on.rbegin()->first;
    // Only the days of the run (a day of margin for time zones).
    const int64_t day_us = Days(1).micros();
    first = std::max(first, s_.start.unix_micros() / day_us - 1);
    last = std::min(last, s_.end.unix_micros() / day_us + 1);
    const bool needs_games = p.game_days_only || p.one_per_game;
    for (int64_t day = first; day <= last; ++day) {
      if (!p.weekdays[world::Weekday(world::CivilDateFromDays(day))]) continue;
      const auto it = games_on.find(day);
      const int n = it == games_on.end() ? 0 : it->second;
      if (needs_games && n == 0) continue;
      const double requests = p.one_per_game ? n : 1;
      size->requests += requests;
      size->burst = std::max(size->burst, requests);
      size->games += p.one_per_game ? n : 0;
      ++size->days;
    }
  }

  const scenario::Scenario& s_;
};

std::string Count(double value) {
  if (value >= 9.2e18) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.3g", value);
    return buffer;
  }
  return WithCommas(std::llround(value));
}

// A value for the flag: twice the size, two significant digits ("4300000").
std::string Suggest(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.2g", value * 2);
  const double rounded = std::strtod(buffer, nullptr);
  if (rounded < 1e15) std::snprintf(buffer, sizeof(buffer), "%.0f", rounded);
  return buffer;
}

[[noreturn]] void Refuse(const std::string& what, const std::string& quantity, double value,
                         const std::string& source, const char* name, double limit) {
  throw LimitError(what + ": too large to run: about " + Count(value) + " " + quantity +
                   (source.empty() ? "" : " (" + source + ")") + ", beyond the limit of " +
                   Count(limit) + " (README \"Limits\"); to run it anyway: --limit " + name + "=" +
                   Suggest(value));
}

}  // namespace

RunSize EstimateRunSize(const scenario::Scenario& scenario,
                        const std::vector<std::string>& variants) {
  RunSize size;
  const Estimator estimate(scenario);
  const double span_us = Micros(scenario.end - scenario.start);
  const double hours = std::ceil(span_us / kMicrosPerHour);
  const double days = std::ceil(span_us / Micros(Days(1))) + 1;

  // Keys per (api, key template): data changes are drawn per key.
  struct Keys {
    double count = 0.0;
    bool games = false;
  };
  std::map<std::string, std::map<std::string, Keys>> keys;
  double busiest = 0.0;
  for (const world::DemandGeneratorConfig& g : scenario.demand) {
    const GeneratorSize gen = estimate.Of(g);
    size.requests += gen.requests;
    size.burst += gen.burst;
    if (gen.requests > size.requests_source_count) {
      size.requests_source_count = gen.requests;
      size.requests_source = g.name;
    }
    if (gen.burst > busiest) {
      busiest = gen.burst;
      size.burst_source = g.name;
    }
    const std::string& key = g.request.key_template;
    Keys k;
    k.games = KeyHasGameId(key);
    if (Contains(key, "{n}")) {
      k.count = gen.requests;
    } else if (KeyUsesGame(key)) {
      k.count = gen.games;
    } else if (Contains(key, "{date}")) {
      k.count = std::max(gen.days, std::min(gen.requests, days));
    } else {
      k.count = gen.requests > 0 ? 1 : 0;
    }
    Keys& slot = keys[g.request.api][key];
    slot.count = std::max(slot.count, k.count);
    slot.games = k.games;
  }

  double busiest_api = 0.0;
  size_t quota_apis = 0;
  for (const world::UpstreamModelConfig& u : scenario.upstreams) {
    if (u.quota.enabled) ++quota_apis;
    if (u.health.enabled) {
      const Duration shortest =
          std::min({u.health.mean_healthy, u.health.mean_degraded, u.health.mean_down});
      size.other_events += span_us / std::max(1.0, Micros(shortest));
    }
    if (!u.data.enabled) continue;
    double changes = 0.0;
    for (const auto& [key, k] : keys[u.name]) {
      // A game's key is asked about from (about) a day before its pregame
      // window to a day after the game; other keys for the whole run.
      double per_key = u.data.base_per_hour * span_us / kMicrosPerHour;
      if (k.games) {
        const double active_us =
            std::min(span_us, Micros(Days(2) + u.data.pregame_window + u.data.game_duration));
        per_key = u.data.base_per_hour * active_us / kMicrosPerHour +
                  u.data.pregame_per_hour * Micros(u.data.pregame_window) / kMicrosPerHour +
                  u.data.live_per_hour * Micros(u.data.game_duration) / kMicrosPerHour;
      }
      changes += k.count * per_key;
    }
    size.data_changes += changes;
    if (changes > busiest_api) {
      busiest_api = changes;
      size.data_source = u.name;
    }
  }

  std::vector<const scenario::Variant*> chosen;
  for (const scenario::Variant& v : scenario.variants) {
    if (variants.empty() || std::find(variants.begin(), variants.end(), v.name) != variants.end()) {
      chosen.push_back(&v);
    }
  }
  double probes = 0.0;
  for (const scenario::Variant* v : chosen) {
    if (!v->policy.health.active_probes) continue;
    probes = std::max(probes, static_cast<double>(scenario.upstreams.size()) * span_us /
                                  std::max(1.0, Micros(v->policy.health.probe_interval)));
  }
  size.other_events += probes;

  // timeseries.csv: up to 17 + apis rows per hour and per day; quota.csv one
  // row per hour and API with a quota; the other files are small.
  const double apis = static_cast<double>(scenario.upstreams.size());
  size.rows = static_cast<double>(chosen.size()) *
              ((hours + days) * (17.0 + apis) + hours * static_cast<double>(quota_apis));
  return size;
}

void RunLimits::Set(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  const std::string name = assignment.substr(0, eq);
  double* slot = name == "requests" ? &requests
                 : name == "burst"  ? &burst
                 : name == "events" ? &events
                 : name == "rows"   ? &rows
                 : name == "runs"   ? &runs
                                    : nullptr;
  if (slot == nullptr || eq == std::string::npos) {
    throw LimitError("--limit " + assignment +
                     ": expected NAME=VALUE with NAME one of requests, burst, events, rows, runs");
  }
  const std::string text = assignment.substr(eq + 1);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(value) || value <= 0) {
    throw LimitError("--limit " + assignment + ": expected a positive number, e.g. " + name +
                     "=2e8");
  }
  *slot = value;
}

void CheckRunSize(const RunSize& size, const RunLimits& limits, const std::string& what) {
  if (size.requests > limits.requests) {
    Refuse(what, "requests per variant run", size.requests,
           size.requests_source.empty()
               ? ""
               : "demand \"" + size.requests_source + "\": " + Count(size.requests_source_count),
           "requests", limits.requests);
  }
  if (size.burst > limits.burst) {
    Refuse(what, "requests arriving within one second", size.burst,
           size.burst_source.empty() ? "" : "most from demand \"" + size.burst_source + "\"",
           "burst", limits.burst);
  }
  if (size.events() > limits.events) {
    std::string source;
    if (size.data_changes >= size.requests && size.data_changes >= size.other_events) {
      source = "mostly data changes of upstream \"" + size.data_source + "\"";
    } else if (size.other_events > size.requests) {
      source = "mostly health-state changes and health probes";
    }
    Refuse(what, "simulation events per variant run", size.events(), source, "events",
           limits.events);
  }
  if (size.rows > limits.rows) {
    Refuse(what, "CSV rows in the result folder", size.rows,
           "an hourly time series over the whole time span", "rows", limits.rows);
  }
}

void CheckSweepRuns(double runs, const RunLimits& limits, const std::string& what) {
  if (runs > limits.runs) Refuse(what, "runs (points x seeds)", runs, "", "runs", limits.runs);
}

}  // namespace orchsim::experiment
