#include "engine/scenario/demand_reader.h"

#include <array>

#include "engine/scenario/field_error.h"
#include "engine/world/time_zone.h"
#include "policies/config/policy_reader.h"

namespace orchsim::scenario {
namespace {

constexpr Duration kAnyOffset = Duration::Infinite();

void ReadDate(ObjectReader& r, const std::string& key, std::optional<world::CivilDate>* out) {
  std::string text;
  r.String(key, &text);
  if (text.empty()) return;
  const ParseResult<world::CivilDate> date = world::ParseCivilDate(text);
  if (!date.ok()) r.Fail(key, "expected a date YYYY-MM-DD, got \"" + text + "\"");
  *out = *date;
}

world::CronPattern ReadCron(ObjectReader& r) {
  world::CronPattern p;
  r.Dur("time_of_day", &p.time_of_day);
  if (p.time_of_day >= Hours(24)) {
    r.Fail("time_of_day",
           "expected a time of day in [0s, 24h), got " + JsonPreview(r.Raw("time_of_day")));
  }
  r.String("time_zone", &p.time_zone);
  std::vector<std::string> days;
  r.Strings("weekdays", &days);
  if (r.Has("weekdays")) {
    static const std::array<const char*, 7> kNames = {"SUN", "MON", "TUE", "WED",
                                                      "THU", "FRI", "SAT"};
    p.weekdays.fill(false);
    for (const std::string& day : days) {
      bool found = false;
      for (size_t i = 0; i < kNames.size(); ++i) {
        if (day == kNames[i]) p.weekdays[i] = found = true;
      }
      if (!found) {
        r.Fail("weekdays",
               "expected day names SUN, MON, TUE, WED, THU, FRI, SAT, got \"" + day + "\"");
      }
    }
  }
  r.Bool("game_days_only", &p.game_days_only);
  r.Bool("one_per_game", &p.one_per_game);
  ReadDate(r, "first_date", &p.first_date);
  ReadDate(r, "last_date", &p.last_date);
  return p;
}

world::KickoffPoissonPattern ReadKickoffPoisson(ObjectReader& r) {
  world::KickoffPoissonPattern p;
  r.ObjectArray("steps", &p.steps, [](ObjectReader& s, world::KickoffPoissonPattern::Step* step) {
    s.Dur("from", &step->from, true, -kAnyOffset);
    s.Number("per_minute", &step->per_minute, true, 0);
  });
  r.Dur("until", &p.until, false, -kAnyOffset);
  return p;
}

world::LivePollingPattern ReadLivePolling(ObjectReader& r) {
  world::LivePollingPattern p;
  r.Dur("interval", &p.interval, false, Microseconds(1));
  r.Dur("start_offset", &p.start_offset, false, -kAnyOffset);
  r.Dur("game_length", &p.game_length, false, Microseconds(1));
  return p;
}

world::BurstPattern ReadBurst(ObjectReader& r) {
  world::BurstPattern p;
  r.Int("count", &p.count, true, 1);
  r.Dur("span", &p.span);
  if (r.Has("at")) {
    Instant at;
    r.Inst("at", &at, true);
    p.at = at;
  } else {
    r.Allow("at");
  }
  r.Dur("kickoff_offset", &p.kickoff_offset, false, -kAnyOffset);
  return p;
}

world::DemandGeneratorConfig ReadGenerator(ObjectReader& g,
                                           const std::set<std::string>& api_names) {
  world::DemandGeneratorConfig c;
  g.String("name", &c.name, true);
  g.Bool("enabled", &c.enabled);
  g.String("league", &c.league);
  {
    ObjectReader r = g.Object("request");
    r.String("api", &c.request.api, true);
    if (api_names.count(c.request.api) == 0) {
      std::string known;
      for (const std::string& n : api_names) known += (known.empty() ? "" : ", ") + n;
      r.Fail("api", "expected one of the scenario's upstreams (" + known + "), got \"" +
                        c.request.api + "\"");
    }
    r.String("endpoint", &c.request.endpoint, true);
    r.String("key", &c.request.key_template);
    ReadPriority(r, "priority", &c.request.priority);
    r.Bool("cacheable", &c.request.cacheable);
    r.Bool("batchable", &c.request.batchable);
    r.Dur("deadline", &c.request.deadline, false, Microseconds(1));
    r.Finish();
  }
  std::string patterns;  // the pattern keys present, for the error message
  int pattern_count = 0;
  auto pattern = [&](const char* key, auto read) {
    if (!g.Has(key)) {
      g.Allow(key);
      return;
    }
    patterns += std::string(pattern_count++ == 0 ? "" : " and ") + "\"" + key + "\"";
    ObjectReader p = g.Object(key);
    c.pattern = read(p);
    p.Finish();
  };
  pattern("cron", ReadCron);
  pattern("offsets", [](ObjectReader& r) {
    world::GameOffsetsPattern p;
    r.Durs("offsets", &p.offsets, true);
    return p;
  });
  pattern("kickoff_poisson", ReadKickoffPoisson);
  pattern("live_polling", ReadLivePolling);
  pattern("burst", ReadBurst);
  if (pattern_count != 1) {
    throw ConfigError(g.file(), g.path(),
                      "expected exactly one pattern: \"cron\", \"offsets\", "
                      "\"kickoff_poisson\", \"live_polling\" or \"burst\"; got " +
                          (pattern_count == 0 ? std::string("none") : patterns));
  }
  return c;
}

}  // namespace

std::vector<world::DemandGeneratorConfig> ReadDemand(ObjectReader& reader, const std::string& key,
                                                     const std::set<std::string>& api_names) {
  if (!reader.Has(key)) reader.Fail(key, "required field is missing (an array of generators)");
  std::vector<world::DemandGeneratorConfig> generators;
  reader.ObjectArray(key, &generators, [&](ObjectReader& g, world::DemandGeneratorConfig* c) {
    *c = ReadGenerator(g, api_names);
    const Status status = c->validate();
    if (!status.ok()) throw FieldErrorAt(g, "demand." + c->name + ".", status);
  });
  const Status status = world::ValidateDemandGenerators(generators);
  if (!status.ok()) throw FieldErrorAt(reader.file(), reader.PathOf(key), key, status);
  return generators;
}

}  // namespace orchsim::scenario
