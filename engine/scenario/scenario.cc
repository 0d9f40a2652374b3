#include "engine/scenario/scenario.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "engine/scenario/demand_reader.h"
#include "engine/scenario/field_error.h"
#include "engine/scenario/upstream_reader.h"
#include "policies/config/input_file.h"
#include "policies/config/policy_reader.h"
#include "policies/config/preset_loader.h"

namespace orchsim::scenario {
namespace {

std::string Join(const std::string& folder, const std::string& relative) {
  const std::filesystem::path p(relative);
  if (p.is_absolute() || folder.empty()) return relative;
  return (std::filesystem::path(folder) / p).lexically_normal().string();
}

// Warnings of one schedule file, at most this many listed one by one.
constexpr size_t kMaxListedWarnings = 5;

std::vector<world::Game> ReadSchedule(ObjectReader& r, const std::string& folder,
                                      const kernel::SeedTree& seeds,
                                      std::vector<std::string>* warnings) {
  if (r.Has("csv") == r.Has("synthetic")) {
    throw ConfigError(r.file(), r.path(),
                      "expected exactly one of \"csv\" (a schedule file) or \"synthetic\" "
                      "(generated leagues)");
  }
  if (r.Has("csv")) {
    std::string csv;
    std::string league = "league";
    world::ScheduleColumns columns;
    r.String("csv", &csv, true);
    r.String("league", &league);
    r.IfObject("columns", [&](ObjectReader& c) {
      c.String("game_id", &columns.game_id);
      c.String("date", &columns.date);
      c.String("time", &columns.time);
      c.String("time_zone", &columns.time_zone_name);
      c.String("time_zone_column", &columns.time_zone_column);
      c.String("utc_timestamp", &columns.utc_timestamp);
      c.String("home", &columns.home);
      c.String("away", &columns.away);
      c.String("venue", &columns.venue);
      c.String("league_column", &columns.league_column);
      const Status status = columns.validate();
      if (!status.ok()) throw FieldErrorAt(c, "columns.", status);
    });
    world::ScheduleRowFilter filter;
    r.ObjectArray("skip_rows", &filter.skip, [](ObjectReader& rule, world::ScheduleRowRule* out) {
      rule.String("column", &out->column, true);
      if (rule.Has("equals") && rule.Raw("equals").is_string()) {
        out->equals = {rule.Raw("equals").get<std::string>()};
      } else {
        rule.Strings("equals", &out->equals);
      }
      rule.String("matches", &out->matches);
      if (out->equals.empty() && out->matches.empty()) {
        throw ConfigError(rule.file(), rule.path(),
                          "expected \"equals\" (a value or a list of values) and/or \"matches\" "
                          "(a regular expression the whole value must match)");
      }
    });
    r.Finish();
    const std::string csv_path = Join(folder, csv);
    // Without opening it for reading: a FIFO would block (issue 19).
    const config::InputFile probe = config::CheckInputFile(csv_path);
    if (probe.problem == config::InputFile::Problem::kUnreadable) {
      // Named from the scenario's side: the CSV file itself does not exist.
      r.Fail("csv", "cannot read the schedule file " + csv_path + " (" + probe.reason +
                        "); expected a CSV file path relative to the scenario's folder");
    }
    const world::ScheduleLoadResult loaded =
        world::LoadScheduleCsv(csv_path, columns, league, filter);
    if (!loaded.ok()) {
      throw ConfigError(loaded.error->file,
                        loaded.error->line > 0 ? "line " + std::to_string(loaded.error->line) : "",
                        loaded.error->message);
    }
    for (size_t i = 0; i < loaded.warnings.size() && i < kMaxListedWarnings; ++i) {
      warnings->push_back(csv_path + ": line " + std::to_string(loaded.warnings[i].line) + ": " +
                          loaded.warnings[i].message);
    }
    if (loaded.warnings.size() > kMaxListedWarnings) {
      warnings->push_back(csv_path + ": " +
                          std::to_string(loaded.warnings.size() - kMaxListedWarnings) +
                          " more rows with placeholder teams (" +
                          std::to_string(loaded.warnings.size()) + " in all)");
    }
    return loaded.games;
  }
  std::vector<world::SyntheticLeague> leagues;
  r.ObjectArray("synthetic", &leagues, [](ObjectReader& l, world::SyntheticLeague* league) {
    l.String("name", &league->name, true);
    l.Int("teams", &league->teams, false, 2);
    l.Int("games_per_day", &league->games_per_day, false, 1);
    l.Durs("kickoff_times", &league->kickoff_times_of_day);
    l.Int("season_days", &league->season_days, false, 1);
    l.Inst("season_start", &league->season_start, true);
    l.String("time_zone", &league->time_zone);
    const Status status = league->validate();
    if (!status.ok()) throw FieldErrorAt(l, "synthetic_league." + league->name + ".", status);
  });
  r.Finish();
  std::vector<world::Game> games;
  const Status status = world::GenerateSyntheticSchedules(leagues, seeds, &games);
  if (!status.ok()) throw ConfigError(r.file(), r.PathOf("synthetic"), status.message());
  return games;
}

}  // namespace

std::string KnownApis(const std::set<std::string>& api_names) {
  std::string known;
  for (const std::string& n : api_names) known += (known.empty() ? "" : ", ") + n;
  return known;
}

const Variant* Scenario::FindVariant(const std::string& variant_name) const {
  for (const Variant& v : variants) {
    if (v.name == variant_name) return &v;
  }
  return nullptr;
}

Scenario LoadScenario(const std::string& path) {
  const std::string folder = std::filesystem::path(path).parent_path().string();
  Scenario scenario = ParseScenario(config::ReadFileOrThrow(path), path, folder);
  return scenario;
}

Scenario ParseScenario(const std::string& text, const std::string& file,
                       const std::string& folder) {
  const Json json = config::ParseJsonOrThrow(text, file);
  ObjectReader r(json, "", file);
  Scenario s;
  s.file = file;
  std::string schema;
  r.String("$schema", &schema);  // for editors (scenarios/schema/scenario.schema.json)
  r.String("name", &s.name, true);
  r.String("description", &s.description);
  int64_t seed = 1;
  r.Int("seed", &seed, false, 0);
  s.seed = static_cast<uint64_t>(seed);
  r.Dur("drain", &s.drain);

  const kernel::SeedTree seeds(s.seed);
  // A scenario that replays a trace may leave the schedule out: its requests
  // carry their game starts themselves.
  bool replays_trace = false;
  if (json.contains("demand") && json["demand"].is_array()) {
    for (const Json& generator : json["demand"]) {
      if (generator.is_object() && generator.contains("trace")) replays_trace = true;
    }
  }
  if (r.Has("schedule") || !replays_trace) {
    ObjectReader schedule = r.Object("schedule");
    s.games = ReadSchedule(schedule, folder, seeds, &s.warnings);
    if (s.games.empty()) throw ConfigError(file, "/schedule", "the schedule has no games");
  } else {
    r.Allow("schedule");
  }

  if (r.Has("upstreams") && r.Raw("upstreams").is_string()) {
    // The block in a file of its own (what `orchsim calibrate --out` writes).
    const std::string path = Join(folder, r.Raw("upstreams").get<std::string>());
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
      r.Fail("upstreams", "cannot read the upstreams file " + path +
                              " (missing, not readable or not a regular file); expected an "
                              "object of upstreams or a path relative to the scenario's folder");
    }
    const Json block = config::ParseJsonOrThrow(config::ReadFileOrThrow(path), path);
    ObjectReader upstreams(block, "", path);
    std::vector<std::string> names;
    for (const auto& item : block.items()) names.push_back(item.key());
    for (const std::string& name : names) {
      ObjectReader upstream = upstreams.Object(name);
      s.upstreams.push_back(ReadUpstream(upstream, name));
      upstream.Finish();
    }
    upstreams.Finish();
    if (s.upstreams.empty()) throw ConfigError(path, "", "expected at least one upstream");
  } else {
    ObjectReader upstreams = r.Object("upstreams");
    for (const std::string& name : r.Keys("upstreams")) {
      ObjectReader upstream = upstreams.Object(name);
      s.upstreams.push_back(ReadUpstream(upstream, name));
      upstream.Finish();
    }
    upstreams.Finish();
    if (s.upstreams.empty()) r.Fail("upstreams", "expected at least one upstream");
  }
  std::set<std::string> api_names;
  for (const auto& u : s.upstreams) api_names.insert(u.name);

  s.demand = ReadDemand(r, "demand", DemandContext{api_names, folder, &s.games});

  // start/end default to a day around the schedule's games, else to the
  // span of the replayed traces (the last arrival included).
  if (!s.games.empty()) {
    s.start = s.games.front().kickoff - Days(1);
    s.end = s.games.back().kickoff + Days(1);
  } else {
    bool first = true;
    for (const world::DemandGeneratorConfig& g : s.demand) {
      const auto* trace = std::get_if<world::TracePattern>(&g.pattern);
      if (trace == nullptr || !g.enabled) continue;
      const Duration shift = trace->EffectiveShift();
      const Instant from = trace->scan.first_arrival + shift;
      const Instant to = trace->scan.last_arrival + shift + trace->spread + Microseconds(1);
      s.start = first ? from : std::min(s.start, from);
      s.end = first ? to : std::max(s.end, to);
      first = false;
    }
    if (first && !(r.Has("start") && r.Has("end"))) {
      r.Fail(r.Has("start") ? "end" : "start",
             "required when the scenario has no schedule and no enabled trace generator");
    }
  }
  r.Inst("start", &s.start);
  r.Inst("end", &s.end);
  if (s.end <= s.start) r.Fail("end", "expected an instant after \"start\"");
  if (s.end - s.start > kMaxDuration) {
    // Hourly metrics and quota rows over millennia would fill a disk; every
    // time quantity is bounded so that instant arithmetic stays far from
    // int64 overflow (policies/time.h).
    const std::string why = "the run would span " + FormatDuration(s.end - s.start) +
                            ", longer than the longest time span allowed, " +
                            FormatDuration(kMaxDuration) + " (100 years)";
    if (r.Has("end"))
      r.Fail("end", "expected an instant at most 100 years after the start; " + why);
    if (r.Has("start")) {
      r.Fail("start", "expected an instant at most 100 years before the end; " + why);
    }
    if (s.games.empty()) {
      throw ConfigError(file, "/demand",
                        why +
                            " (the replayed traces' arrivals); set \"start\" and \"end\" to "
                            "run a part of it");
    }
    throw ConfigError(file, "/schedule",
                      why +
                          " (from a day before the first game to a day after the last); set "
                          "\"start\" and \"end\" to run a part of it");
  }
  r.Dur("warmup", &s.warmup);
  if (s.start + s.warmup >= s.end) {
    r.Fail("warmup", "expected a warm-up shorter than the run (" + FormatDuration(s.end - s.start) +
                         " from \"start\" to \"end\"), got " + JsonPreview(r.Raw("warmup")));
  }

  std::string presets = "policies";
  r.String("presets", &presets);
  const std::string preset_folder = Join(folder, presets);
  const Json& variants = r.Array("variants");
  if (variants.empty()) r.Fail("variants", "expected at least one variant");
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string where = "/variants/" + std::to_string(i);
    ObjectReader v(variants[i], where, file);
    Variant variant;
    v.String("name", &variant.name, true);
    if (variant.name.empty()) v.Fail("name", "expected a non-empty name");
    if (s.FindVariant(variant.name) != nullptr) {
      v.Fail("name", "duplicate variant name \"" + variant.name + "\"");
    }
    v.String("preset", &variant.preset);
    if (!variant.preset.empty()) {
      variant.policy_document =
          config::ReadPresetFromFolder(preset_folder, variant.preset, file, where + "/preset");
    }
    if (v.Has("overrides")) {
      const Json& overrides = v.Raw("overrides");
      config::CheckPolicyLayer(overrides, file, where + "/overrides");
      variant.policy_document =
          config::MergePolicyLayers(std::move(variant.policy_document), overrides);
    }
    v.Allow("overrides");
    v.Finish();
    // An override for an API the scenario does not have would change nothing.
    if (v.Has("overrides") && v.Raw("overrides").contains("apis")) {
      for (const auto& [api, value] : v.Raw("overrides")["apis"].items()) {
        if (api_names.count(api) == 0) {
          throw ConfigError(
              file, where + "/overrides/apis/" + api,
              "unknown API \"" + api +
                  "\"; expected one of the scenario's upstreams: " + KnownApis(api_names));
        }
      }
    }
    variant.policy = config::ResolvePolicy(variant.policy_document, file, where);
    const Status status = variant.policy.validate();
    if (!status.ok()) {
      // Say where the bad value may come from: the preset, the overrides or both.
      std::string origin;
      if (!variant.preset.empty()) origin = "preset \"" + variant.preset + "\"";
      if (v.Has("overrides")) origin += origin.empty() ? "overrides" : " + overrides";
      if (origin.empty()) origin = "defaults";
      throw ConfigError(
          file, where,
          "variant \"" + variant.name + "\" (" + origin + ") is invalid: " + status.message());
    }
    s.variants.push_back(std::move(variant));
  }
  r.String("baseline", &s.baseline);
  if (!s.baseline.empty() && s.FindVariant(s.baseline) == nullptr) {
    r.Fail("baseline", "expected the name of a variant, got \"" + s.baseline + "\"");
  }
  if (r.Has("expect")) s.expect = r.Raw("expect");
  r.Allow("expect");
  if (r.Has("tolerances")) s.tolerances = r.Raw("tolerances");
  r.Allow("tolerances");
  if (r.Has("sweep")) s.sweep = r.Raw("sweep");
  r.Allow("sweep");
  if (r.Has("slo")) s.slo = r.Raw("slo");
  r.Allow("slo");
  r.Finish();
  return s;
}

}  // namespace orchsim::scenario
