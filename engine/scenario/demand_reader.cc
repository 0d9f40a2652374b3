#include "engine/scenario/demand_reader.h"

#include <array>
#include <cctype>
#include <filesystem>

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

// A trace generator's "trace" object (engine/world/trace_demand.h); the
// file is scanned here, so every problem in it is found at load.
world::TracePattern ReadTrace(ObjectReader& r, const DemandContext& context) {
  world::TracePattern p;
  std::string file;
  r.String("file", &file, true);
  if (file.empty()) r.Fail("file", "expected a trace file path, got \"\"");
  const std::filesystem::path path(file);
  p.file = path.is_absolute() || context.folder.empty()
               ? file
               : (std::filesystem::path(context.folder) / path).lexically_normal().string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(p.file, error)) {
    r.Fail("file", "cannot read the trace file " + p.file +
                       " (missing, not readable or not a regular file); expected a path "
                       "relative to the scenario's folder");
  }
  std::string extension = path.extension().string();
  for (char& ch : extension) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  p.format = extension == ".csv" ? world::TraceFileFormat::kCsv : world::TraceFileFormat::kJsonl;
  r.Enum("format", &p.format,
         {{"jsonl", world::TraceFileFormat::kJsonl}, {"csv", world::TraceFileFormat::kCsv}});
  const bool csv = p.format == world::TraceFileFormat::kCsv;
  for (const char* key : {"columns", "defaults"}) {
    if (!csv && r.Has(key)) {
      r.Fail(key, "applies to CSV files only; a JSONL trace's lines carry every field");
    }
  }
  r.IfObject("columns", [&](ObjectReader& o) {
    o.String("timestamp", &p.columns.timestamp);
    o.String("api", &p.columns.api);
    o.String("endpoint", &p.columns.endpoint);
    o.String("key", &p.columns.key);
    o.String("priority", &p.columns.priority);
    o.String("game", &p.columns.game);
    o.String("deadline", &p.columns.deadline);
  });
  r.IfObject("defaults", [&](ObjectReader& o) {
    ReadPriority(o, "priority", &p.defaults.priority);
    o.Dur("deadline", &p.defaults.deadline, false, Microseconds(1));
    o.Bool("cacheable", &p.defaults.cacheable);
    o.Bool("batchable", &p.defaults.batchable);
  });
  r.Strings("apis", &p.apis);
  for (const std::string& api : p.apis) {
    if (context.api_names.count(api) == 0) {
      std::string known;
      for (const std::string& n : context.api_names) known += (known.empty() ? "" : ", ") + n;
      r.Fail("apis", "expected the scenario's upstreams (" + known + "), got \"" + api + "\"");
    }
  }
  if (r.Has("from")) {
    Instant from;
    r.Inst("from", &from, true);
    p.from = from;
  } else {
    r.Allow("from");
  }
  if (r.Has("until")) {
    Instant until;
    r.Inst("until", &until, true);
    p.until = until;
  } else {
    r.Allow("until");
  }
  if (p.from && p.until && *p.until <= *p.from) {
    r.Fail("until", "expected an instant after \"from\"");
  }
  r.Dur("shift", &p.shift, false, -kAnyOffset);
  if (r.Has("start_at")) {
    if (r.Has("shift")) r.Fail("start_at", "expected either \"shift\" or \"start_at\", not both");
    Instant at;
    r.Inst("start_at", &at, true);
    p.start_at = at;
  } else {
    r.Allow("start_at");
  }
  r.Number("rate", &p.rate, false, 0, world::kMaxTraceRate);
  if (!(p.rate > 0)) r.Fail("rate", "expected a rate > 0 (1 replays the trace as recorded)");
  r.Dur("spread", &p.spread);
  r.Dur("max_lateness", &p.max_lateness);
  const Status status = world::ValidateTracePattern("", p);
  if (!status.ok()) throw ConfigError(r.file(), r.path(), status.message());
  r.Finish();  // unknown keys before the (long) scan of the file
  if (std::optional<world::TraceProblem> problem = world::ScanTrace(
          &p, context.api_names,
          context.games != nullptr ? *context.games : std::vector<world::Game>{})) {
    if (problem->about_options) throw ConfigError(r.file(), r.path(), problem->message);
    throw ConfigError(problem->file,
                      problem->line > 0 ? "line " + std::to_string(problem->line) : "",
                      problem->message);
  }
  return p;
}

world::DemandGeneratorConfig ReadGenerator(ObjectReader& g, const DemandContext& context) {
  const std::set<std::string>& api_names = context.api_names;
  world::DemandGeneratorConfig c;
  g.String("name", &c.name, true);
  g.Bool("enabled", &c.enabled);
  const bool trace = g.Has("trace");
  for (const char* key : {"request", "league"}) {
    if (trace && g.Has(key)) {
      g.Fail(key,
             "does not apply to a trace generator, whose requests come whole from the file "
             "(a CSV file's missing fields come from trace.defaults)");
    }
  }
  g.String("league", &c.league);
  if (trace) {
    g.Allow("request");
  } else {
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
  pattern("trace", [&](ObjectReader& r) { return ReadTrace(r, context); });
  if (pattern_count != 1) {
    throw ConfigError(g.file(), g.path(),
                      "expected exactly one pattern: \"cron\", \"offsets\", "
                      "\"kickoff_poisson\", \"live_polling\", \"burst\" or \"trace\"; got " +
                          (pattern_count == 0 ? std::string("none") : patterns));
  }
  return c;
}

}  // namespace

std::vector<world::DemandGeneratorConfig> ReadDemand(ObjectReader& reader, const std::string& key,
                                                     const DemandContext& context) {
  if (!reader.Has(key)) reader.Fail(key, "required field is missing (an array of generators)");
  std::vector<world::DemandGeneratorConfig> generators;
  reader.ObjectArray(key, &generators, [&](ObjectReader& g, world::DemandGeneratorConfig* c) {
    *c = ReadGenerator(g, context);
    const Status status = c->validate();
    if (!status.ok()) throw FieldErrorAt(g, "demand." + c->name + ".", status);
  });
  const Status status = world::ValidateDemandGenerators(generators);
  if (!status.ok()) throw FieldErrorAt(reader.file(), reader.PathOf(key), key, status);
  return generators;
}

}  // namespace orchsim::scenario
