// Regression tests for what fuzzing the loaders found (fuzz/, run with
// tools/run_fuzz.sh). Each case is the minimized input and the required
// behaviour: bad input ends in a ConfigError naming the file and the JSON
// path (the CLI's exit status 2), never another exception or a crash.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "engine/scenario/scenario.h"

namespace orchsim::scenario {
namespace {

// A scenario that is complete but for the members a test removes.
std::string ScenarioWithout(const std::string& drop) {
  // A stream, not string +=: GCC 12 reports a false -Warray-bounds on the
  // appends once they are inlined.
  std::ostringstream text;
  text << R"({"name": "fuzz", )";
  if (drop != "schedule") {
    text << R"("schedule": {"synthetic": [{"name": "F", "teams": 4, "games_per_day": 2,
        "kickoff_times": ["13h"], "season_days": 2,
        "season_start": "2023-09-01T00:00:00Z"}]}, )";
  }
  if (drop != "upstreams") {
    text << R"("upstreams": {"weather": {"latency": {"kind": "uniform", "min": "40ms",
        "max": "250ms"}}}, )";
  }
  if (drop != "demand") {
    text << R"("demand": [{"name": "job", "request": {"api": "weather", "endpoint": "w",
        "key": "{game}"}, "offsets": {"offsets": ["-1h"]}}], )";
  }
  if (drop != "variants") text << R"("variants": [{"name": "naive"}], )";
  text << R"("seed": 1})";
  return text.str();
}

TEST(LoaderFuzzRegressionTest, CompleteScenarioLoads) {
  const Scenario s = ParseScenario(ScenarioWithout(""), "fuzz.json", "");
  EXPECT_EQ(s.games.size(), 4u);
  ASSERT_EQ(s.variants.size(), 1u);
}

// Found by scenario_fuzzer: a scenario without "variants" escaped as
// nlohmann::json::out_of_range ("key 'variants' not found"), which the CLI
// reported as exit status 1 instead of a located error with status 2.
TEST(LoaderFuzzRegressionTest, MissingVariantsIsAScenarioError) {
  try {
    ParseScenario(ScenarioWithout("variants"), "fuzz.json", "");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "fuzz.json");
    EXPECT_EQ(e.path(), "/variants");
    EXPECT_EQ(e.message(), "required field is missing (expected an array)");
  }
}

// Found by scenario_fuzzer: a number too large for a double ("1E1615")
// made nlohmann::json::parse throw out_of_range.406, which escaped the
// "malformed JSON" handling (it caught parse_error only) and terminated.
TEST(LoaderFuzzRegressionTest, HugeNumberIsMalformedJson) {
  try {
    ParseScenario(R"({"name": "x", "seed": 1E1615})", "fuzz.json", "");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "fuzz.json");
    EXPECT_EQ(e.message(), "malformed JSON: number overflow parsing '1E1615'");
  }
}

}  // namespace
}  // namespace orchsim::scenario
