// The JSON Schemas (scenarios/schema/*.schema.json) agree with the readers.
//
// For every object the schemas describe (every node with "properties"), a
// probe key is added at the matching place of a valid scenario that contains
// every kind of object; the reader must reject it with its unknown-key message,
// whose list of accepted keys must equal the schema's property names (so
// neither side knows a key the other does not). Every enum property is probed
// with an unknown value (the reader's list of choices must equal the schema's
// enum) and every duration or instant property with a number (the reader must
// ask for a string with a unit / an ISO 8601 instant there).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scenario/scenario.h"

namespace orchsim::scenario {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = ORCHSIM_SOURCE_DIR;

Json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return Json::parse(in);
}

struct Schemas {
  Json scenario = ReadJsonFile(kSourceDir + "/scenarios/schema/scenario.schema.json");
  Json policy = ReadJsonFile(kSourceDir + "/scenarios/schema/policy.schema.json");

  const Json& Doc(const std::string& name) const { return name == "policy" ? policy : scenario; }

  // The node a "$ref" names, from document `doc` ("#/..." or
  // "policy.schema.json#/...").
  std::pair<std::string, const Json*> Resolve(const std::string& doc,
                                              const std::string& ref) const {
    const size_t hash = ref.find('#');
    std::string target = doc;
    if (hash > 0) target = ref.substr(0, hash) == "policy.schema.json" ? "policy" : "scenario";
    return {target, &Doc(target).at(Json::json_pointer(ref.substr(hash + 1)))};
  }

  // The property names a node accepts: its own "properties" plus those of
  // the node its "$ref" names.
  std::set<std::string> Keys(const std::string& doc, const Json& node) const {
    std::set<std::string> keys;
    if (node.contains("properties")) {
      for (const auto& item : node["properties"].items()) keys.insert(item.key());
    }
    if (node.contains("$ref")) {
      const auto [target, referenced] = Resolve(doc, node["$ref"].get<std::string>());
      for (const std::string& k : Keys(target, *referenced)) keys.insert(k);
    }
    return keys;
  }

  // A property's schema with "$ref"s followed.
  std::pair<std::string, const Json*> Follow(const std::string& doc, const Json& node) const {
    if (!node.contains("$ref")) return {doc, &node};
    const auto [target, referenced] = Resolve(doc, node["$ref"].get<std::string>());
    return Follow(target, *referenced);
  }
};

// Every JSON pointer (in `node`) of a node with "properties".
void CollectObjectNodes(const Json& node, const std::string& pointer, std::set<std::string>* out) {
  if (node.is_object()) {
    if (node.contains("properties") && node["properties"].is_object()) out->insert(pointer);
    for (const auto& item : node.items()) {
      CollectObjectNodes(item.value(), pointer + "/" + item.key(), out);
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      CollectObjectNodes(node[i], pointer + "/" + std::to_string(i), out);
    }
  }
}

// A valid scenario with every kind of object the readers accept. The variant
// uses the preset "probe" (written to a temporary folder by the test).
constexpr const char* kFullScenario = R"({
  "$schema": "../schema/scenario.schema.json",
  "name": "probe", "description": "every object once", "seed": 1, "drain": "1m",
  "start": "2023-12-31T00:00:00Z", "end": "2024-01-04T00:00:00Z",
  "schedule": {"synthetic": [{"name": "L", "teams": 4, "season_days": 2,
                              "season_start": "2024-01-01T00:00:00Z"}]},
  "upstreams": {"api": {
    "latency": {"kind": "empirical", "table": [{"latency": "10ms", "weight": 1}]},
    "failures": {"enabled": true},
    "health": {"enabled": false},
    "outages": [{"start": "2024-01-01T10:00:00Z", "end": "2024-01-01T11:00:00Z"}],
    "health_windows": [{"start": "2024-01-01T12:00:00Z", "end": "2024-01-01T13:00:00Z",
                        "state": "degraded"}],
    "rate_limit": {"enabled": false},
    "quota": {"enabled": false, "credits_per_endpoint": {"odds": 2}},
    "batch": {"enabled": false},
    "data": {"enabled": false}}},
  "demand": [
    {"name": "o", "request": {"api": "api", "endpoint": "odds"}, "offsets": {"offsets": ["-1h"]}},
    {"name": "c", "request": {"api": "api", "endpoint": "odds", "key": "daily-{date}"},
     "cron": {"time_of_day": "9h"}},
    {"name": "k", "request": {"api": "api", "endpoint": "odds"},
     "kickoff_poisson": {"steps": [{"from": "-1h", "per_minute": 1}]}},
    {"name": "l", "request": {"api": "api", "endpoint": "odds"}, "live_polling": {"interval": "1m"}},
    {"name": "b", "request": {"api": "api", "endpoint": "odds"},
     "burst": {"count": 2, "kickoff_offset": "-5m"}}],
  "variants": [{"name": "v", "preset": "probe", "overrides": {
    "default_api": {"bucket": {"reserves": [{"min_priority": "HIGH", "tokens": 1}]}, "quota": {}},
    "apis": {"api": {"cache": {}, "endpoints": {"odds": {}}}},
    "queue": {"escalate_after": {}, "game_rules": [{"within": "1h", "to": "HIGH"}]},
    "coalescer": {}, "batcher": {},
    "cache": {"rules": [{"endpoint": "odds", "ttl": "1h",
                         "near_game": [{"before_start": "1h", "ttl": "1m"}]}]},
    "prefetch": {"targets": [{"api": "api", "endpoint": "odds", "key": "{game}"}]},
    "breaker": {}, "retry": {}, "retry_budget": {}, "concurrency": {}, "timeouts": {},
    "hedging": {}, "adaptive_throttling": {}, "retry_throttling": {}, "adaptive_concurrency": {},
    "health": {}, "cost": {"prices": {"api": {}}}}}],
  "baseline": "v", "expect": {}
})";

constexpr const char* kPreset = R"({"$schema": "../../schema/policy.schema.json",
                                   "description": "probe preset"})";

// Where each schema object lives in kFullScenario ("preset:" = in the preset
// file; "csv:" = in kFullScenario with a CSV schedule instead).
const std::multimap<std::string, std::string>& Places() {
  static const std::multimap<std::string, std::string> places = {
      {"scenario:", ""},
      {"scenario:/$defs/csvSchedule", "csv:/schedule"},
      {"scenario:/$defs/columns", "csv:/schedule/columns"},
      {"scenario:/$defs/csvSchedule/properties/skip_rows/items", "csv:/schedule/skip_rows/0"},
      {"scenario:/$defs/syntheticSchedule", "/schedule"},
      {"scenario:/$defs/syntheticLeague", "/schedule/synthetic/0"},
      {"scenario:/$defs/upstream", "/upstreams/api"},
      {"scenario:/$defs/latency", "/upstreams/api/latency"},
      {"scenario:/$defs/latency/properties/table/items", "/upstreams/api/latency/table/0"},
      {"scenario:/$defs/failures", "/upstreams/api/failures"},
      {"scenario:/$defs/healthModel", "/upstreams/api/health"},
      {"scenario:/$defs/outage", "/upstreams/api/outages/0"},
      {"scenario:/$defs/healthWindow", "/upstreams/api/health_windows/0"},
      {"scenario:/$defs/rateLimit", "/upstreams/api/rate_limit"},
      {"scenario:/$defs/upstreamQuota", "/upstreams/api/quota"},
      {"scenario:/$defs/batch", "/upstreams/api/batch"},
      {"scenario:/$defs/data", "/upstreams/api/data"},
      {"scenario:/$defs/demandGenerator", "/demand/0"},
      {"scenario:/$defs/request", "/demand/0/request"},
      {"scenario:/$defs/offsets", "/demand/0/offsets"},
      {"scenario:/$defs/cron", "/demand/1/cron"},
      {"scenario:/$defs/kickoffPoisson", "/demand/2/kickoff_poisson"},
      {"scenario:/$defs/kickoffPoisson/properties/steps/items",
       "/demand/2/kickoff_poisson/steps/0"},
      {"scenario:/$defs/livePolling", "/demand/3/live_polling"},
      {"scenario:/$defs/burst", "/demand/4/burst"},
      {"scenario:/$defs/trace", "trace:/demand/5/trace"},
      {"scenario:/$defs/traceColumns", "trace:/demand/6/trace/columns"},
      {"scenario:/$defs/traceDefaults", "trace:/demand/6/trace/defaults"},
      {"scenario:/$defs/variant", "/variants/0"},
      {"policy:", "preset:"},
      {"policy:/$defs/policyFields", "/variants/0/overrides"},
      {"policy:/$defs/apiFields", "/variants/0/overrides/default_api"},
      {"policy:/$defs/apiPolicy", "/variants/0/overrides/apis/api"},
      {"policy:/$defs/callFields", "/variants/0/overrides/apis/api/endpoints/odds"},
      {"policy:/$defs/cacheFields", "/variants/0/overrides/apis/api/cache"},
      {"policy:/$defs/sharedCache", "/variants/0/overrides/cache"},
      {"policy:/$defs/bucket", "/variants/0/overrides/default_api/bucket"},
      {"policy:/$defs/bucket/properties/reserves/items",
       "/variants/0/overrides/default_api/bucket/reserves/0"},
      {"policy:/$defs/quota", "/variants/0/overrides/default_api/quota"},
      {"policy:/$defs/queue", "/variants/0/overrides/queue"},
      {"policy:/$defs/queue/properties/escalate_after",
       "/variants/0/overrides/queue/escalate_after"},
      {"policy:/$defs/queue/properties/game_rules/items",
       "/variants/0/overrides/queue/game_rules/0"},
      {"policy:/$defs/coalescer", "/variants/0/overrides/coalescer"},
      {"policy:/$defs/batcher", "/variants/0/overrides/batcher"},
      {"policy:/$defs/cacheFields/properties/rules/items", "/variants/0/overrides/cache/rules/0"},
      {"policy:/$defs/cacheFields/properties/rules/items/properties/near_game/items",
       "/variants/0/overrides/cache/rules/0/near_game/0"},
      {"policy:/$defs/prefetch", "/variants/0/overrides/prefetch"},
      {"policy:/$defs/prefetch/properties/targets/items",
       "/variants/0/overrides/prefetch/targets/0"},
      {"policy:/$defs/breaker", "/variants/0/overrides/breaker"},
      {"policy:/$defs/retry", "/variants/0/overrides/retry"},
      {"policy:/$defs/retryBudget", "/variants/0/overrides/retry_budget"},
      {"policy:/$defs/concurrency", "/variants/0/overrides/concurrency"},
      {"policy:/$defs/timeouts", "/variants/0/overrides/timeouts"},
      {"policy:/$defs/hedging", "/variants/0/overrides/hedging"},
      {"policy:/$defs/adaptiveThrottling", "/variants/0/overrides/adaptive_throttling"},
      {"policy:/$defs/retryThrottling", "/variants/0/overrides/retry_throttling"},
      {"policy:/$defs/adaptiveConcurrency", "/variants/0/overrides/adaptive_concurrency"},
      {"policy:/$defs/health", "/variants/0/overrides/health"},
      {"policy:/$defs/cost", "/variants/0/overrides/cost"},
      {"policy:/$defs/costPrice", "/variants/0/overrides/cost/prices/api"},
  };
  return places;
}

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Unique per process and test: other builds may run this test at once.
    folder_ = fs::temp_directory_path() /
              ("orchsim_schema_test_" + std::to_string(::getpid()) + "_" +
               std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(folder_ / "policies");
  }
  void TearDown() override { fs::remove_all(folder_); }

  // Loads kFullScenario after edit(scenario, preset); returns the error
  // ("" when it loads).
  template <typename Edit>
  ConfigError Load(Edit edit, bool* loaded) {
    Json scenario = Json::parse(kFullScenario);
    Json preset = Json::parse(kPreset);
    edit(scenario, preset);
    std::ofstream(folder_ / "policies/probe.json") << preset.dump(2);
    *loaded = false;
    try {
      ParseScenario(scenario.dump(2), "probe.json", folder_.string());
      *loaded = true;
    } catch (const ConfigError& e) {
      return e;
    }
    return ConfigError("", "", "");
  }

  // Splits a place into (document: "scenario"/"preset", pointer) and applies
  // the CSV schedule or the trace generators when asked.
  static std::pair<bool, std::string> Where(const std::string& place, Json* scenario) {
    if (place.rfind("preset:", 0) == 0) return {true, place.substr(7)};
    if (place.rfind("trace:", 0) == 0) {
      const std::string traces = kSourceDir + "/tests/engine/scenario/good/traces/";
      (*scenario)["demand"].push_back(
          {{"name", "t"}, {"trace", {{"file", traces + "probe.jsonl"}}}});
      (*scenario)["demand"].push_back({{"name", "csv"},
                                       {"trace",
                                        {{"file", traces + "probe.csv"},
                                         {"columns",
                                          {{"timestamp", "ts"},
                                           {"api", "api"},
                                           {"endpoint", "endpoint"},
                                           {"key", "key"},
                                           {"priority", "prio"},
                                           {"game", "game"},
                                           {"deadline", "deadline"}}},
                                         {"defaults", {{"priority", "LOW"}}}}}});
      return {false, place.substr(6)};
    }
    if (place.rfind("csv:", 0) == 0) {
      (*scenario)["schedule"] = {
          {"csv", kSourceDir + "/tests/engine/scenario/good/schedules/utc.csv"},
          {"columns",
           {{"game_id", "match"},
            {"utc_timestamp", "kickoff_utc"},
            {"home", "home"},
            {"away", "away"},
            {"venue", ""},
            {"league_column", "league"}}},
          {"skip_rows", Json::array({{{"column", "home"}, {"equals", "TBD"}}})}};
      return {false, place.substr(4)};
    }
    return {false, place};
  }

  std::string PresetFile() const { return (folder_ / "policies/probe.json").string(); }

  Schemas schemas_;
  fs::path folder_;
};

std::string Join(const std::set<std::string>& keys) {
  std::string list;
  for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
  return list;
}

TEST_F(SchemaTest, TheFullScenarioLoads) {
  bool loaded = false;
  const ConfigError e = Load([](Json&, Json&) {}, &loaded);
  EXPECT_TRUE(loaded) << e.what();
  // And with the CSV schedule.
  const ConfigError csv = Load([](Json& s, Json&) { Where("csv:", &s); }, &loaded);
  EXPECT_TRUE(loaded) << csv.what();
  // And with the trace generators.
  const ConfigError trace = Load([](Json& s, Json&) { Where("trace:", &s); }, &loaded);
  EXPECT_TRUE(loaded) << trace.what();
}

TEST_F(SchemaTest, EverySchemaObjectHasAPlaceInTheProbe) {
  std::set<std::string> nodes;
  for (const std::string doc : {"scenario", "policy"}) {
    std::set<std::string> pointers;
    CollectObjectNodes(schemas_.Doc(doc), "", &pointers);
    for (const std::string& p : pointers) {
      // "expect" and "tolerances" are kept as JSON by the loader and read by
      // `orchsim check` (engine/experiment/check.h, tested in check_test.cc).
      // "sweep" likewise by `orchsim sweep` (engine/experiment/sweep.h), and
      // "slo" by engine/experiment/slo.h (tested in slo_test.cc).
      if (p.rfind("/properties/expect", 0) == 0 || p.rfind("/properties/tolerances", 0) == 0 ||
          p.rfind("/properties/sweep", 0) == 0 || p.rfind("/properties/slo", 0) == 0) {
        continue;
      }
      nodes.insert(doc + ":" + p);
    }
  }
  std::set<std::string> placed;
  for (const auto& [node, place] : Places()) placed.insert(node);
  EXPECT_EQ(Join(nodes), Join(placed));
  EXPECT_GE(nodes.size(), 45u);
}

TEST_F(SchemaTest, ReaderAcceptsExactlyTheSchemaKeysOfEveryObject) {
  for (const auto& entry : Places()) {
    // Named copies, not structured bindings: clang 14 cannot capture those.
    const std::string& node = entry.first;
    const std::string& place = entry.second;
    const size_t colon = node.find(':');
    const std::string doc = node.substr(0, colon);
    const Json& schema = schemas_.Doc(doc).at(Json::json_pointer(node.substr(colon + 1)));
    const std::set<std::string> keys = schemas_.Keys(doc, schema);
    ASSERT_FALSE(keys.empty()) << node;
    bool in_preset = false;
    std::string pointer;
    bool loaded = false;
    const ConfigError e = Load(
        [&](Json& scenario, Json& preset) {
          std::tie(in_preset, pointer) = Where(place, &scenario);
          (in_preset ? preset : scenario)[Json::json_pointer(pointer)]["zz_probe"] = 1;
        },
        &loaded);
    ASSERT_FALSE(loaded) << node << " at " << place << ": the probe key was accepted";
    EXPECT_EQ(e.file(), in_preset ? PresetFile() : "probe.json") << node;
    EXPECT_EQ(e.path(), pointer + "/zz_probe") << node << ": " << e.what();
    EXPECT_EQ(e.message(), "unknown key \"zz_probe\"; expected one of: " + Join(keys))
        << node << " (schema) against " << place << " (reader)";
  }
}

// Calls probe(place, property, property schema (refs followed)) for every
// property of every placed object.
template <typename Probe>
void ForEachProperty(const Schemas& schemas, Probe probe) {
  std::set<std::string> seen;  // one place per schema object is enough
  for (const auto& [node, place] : Places()) {
    if (!seen.insert(node).second) continue;
    const size_t colon = node.find(':');
    const std::string doc = node.substr(0, colon);
    const auto [target, object] =
        schemas.Follow(doc, schemas.Doc(doc).at(Json::json_pointer(node.substr(colon + 1))));
    std::vector<std::pair<std::string, const Json*>> sources = {{target, object}};
    if (object->contains("$ref")) sources.push_back(schemas.Follow(target, *object));
    for (const auto& [source_doc, source] : sources) {
      if (!source->contains("properties")) continue;
      for (const auto& item : (*source)["properties"].items()) {
        const auto [property_doc, property] = schemas.Follow(source_doc, item.value());
        probe(place, item.key(), *property);
      }
    }
  }
}

TEST_F(SchemaTest, EnumsListTheReadersChoices) {
  int probed = 0;
  ForEachProperty(schemas_, [&](const std::string& place, const std::string& key,
                                const Json& property) {
    if (!property.contains("enum")) return;
    ++probed;
    std::set<std::string> choices;
    for (const Json& v : property["enum"]) choices.insert(v.get<std::string>());
    std::string list;
    for (const std::string& c : choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
    bool in_preset = false;
    std::string pointer;
    bool loaded = false;
    const ConfigError e = Load(
        [&](Json& scenario, Json& preset) {
          std::tie(in_preset, pointer) = Where(place, &scenario);
          (in_preset ? preset : scenario)[Json::json_pointer(pointer)][key] = "zz_probe";
        },
        &loaded);
    ASSERT_FALSE(loaded) << place << "/" << key;
    EXPECT_EQ(e.path(), pointer + "/" + key);
    EXPECT_EQ(e.message(), "expected one of " + list + ", got \"zz_probe\"") << place << "/" << key;
  });
  // trigger, backoff, quota mode, 2 priorities (reserves, game rules), latency
  // kind, rate-limit kind, period, charge, headers, request priority,
  // adaptive concurrency algorithm, trace format, trace defaults' priority,
  // health window state.
  EXPECT_EQ(probed, 15);
}

TEST_F(SchemaTest, DurationsAndInstantsAreReadAsSuch) {
  int durations = 0;
  int instants = 0;
  ForEachProperty(
      schemas_, [&](const std::string& place, const std::string& key, const Json& property) {
        const std::string pattern = property.value("pattern", "");
        const bool is_duration = pattern.find("(us|ms|s|m|h|d)") != std::string::npos;
        const bool is_instant = pattern.rfind("^[0-9]{4}-[0-9]{2}-[0-9]{2}(", 0) == 0;
        if (!is_duration && !is_instant) return;
        (is_duration ? durations : instants)++;
        bool in_preset = false;
        std::string pointer;
        bool loaded = false;
        const ConfigError e = Load(
            [&](Json& scenario, Json& preset) {
              std::tie(in_preset, pointer) = Where(place, &scenario);
              (in_preset ? preset : scenario)[Json::json_pointer(pointer)][key] = 250;
            },
            &loaded);
        ASSERT_FALSE(loaded) << place << "/" << key;
        EXPECT_EQ(e.path(), pointer + "/" + key);
        const std::string expected =
            is_duration ? "expected a duration string with a unit such as \"250ms\", \"90s\", "
                          "\"15m\", \"2h\" or \"3d\", got 250"
                        : "expected an ISO 8601 instant string, got 250";
        EXPECT_EQ(e.message(), expected) << place << "/" << key;
      });
  // 56 + warm-up and the quota's fixed window (issue 18) + per-API cache
  // fields, min_attempt, hedging delay and budget window, adaptive
  // throttling window and adaptive concurrency latency threshold + trace
  // shift, spread, max_lateness, defaults.deadline.
  EXPECT_EQ(durations, 70);
  EXPECT_EQ(instants, 12);  // start, end, season_start, outage start/end, burst at,
                            // assumed_period_start, trace from, until, start_at, health
                            // window start/end
}

// The patterns accept what the parsers accept (on well-formed samples; the
// parsers also check ranges such as month 13, which a pattern does not).
TEST_F(SchemaTest, PatternsAgreeWithTheParsers) {
  const std::regex duration(
      schemas_.scenario.at("/$defs/duration/pattern"_json_pointer).get<std::string>());
  const std::regex non_negative(
      schemas_.scenario.at("/$defs/nonNegativeDuration/pattern"_json_pointer).get<std::string>());
  for (const char* text : {"0s", "250ms", "1h30m", "-2h", "3d", "15us", "1m30s500ms", "250",
                           "5 min", "1.5s", "", "-", "h", "2H", "+1s", "1s-"}) {
    const bool parses = ParseDuration(text).ok();
    EXPECT_EQ(std::regex_match(text, duration), parses) << text;
    EXPECT_EQ(std::regex_match(text, non_negative), parses && text[0] != '-') << text;
  }
  const std::regex instant(
      schemas_.scenario.at("/$defs/instant/pattern"_json_pointer).get<std::string>());
  for (const char* text :
       {"2023-09-10T17:00:00Z", "2023-09-10T13:00:00-04:00", "2023-09-10", "2023-09-10 17:00:00Z",
        "2023-09-10T17:00:00.250Z", "2023-09-10T17:00Z", "2023-09-10T17:00:00", "20230910",
        "2023-09-10T17:00:00+0400", "1694365200"}) {
    EXPECT_EQ(std::regex_match(text, instant), ParseInstant(text).ok()) << text;
  }
  // The two documents define the shared patterns identically.
  for (const char* def :
       {"/$defs/duration", "/$defs/nonNegativeDuration", "/$defs/instant", "/$defs/priority"}) {
    EXPECT_EQ(schemas_.scenario.at(Json::json_pointer(def)),
              schemas_.policy.at(Json::json_pointer(def)))
        << def;
  }
}

}  // namespace
}  // namespace orchsim::scenario
