// The bad-input corpus (tests/engine/scenario/bad/, see README.md there):
// every <case>.json must make LoadScenario throw a ConfigError whose what()
// is exactly the text of <case>.expected. Files are loaded by a path relative
// to the corpus folder (the test changes into it), so the messages are stable.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scenario/scenario.h"

namespace orchsim::scenario {
namespace {

namespace fs = std::filesystem;

const fs::path& CorpusDir() {
  static const fs::path dir = fs::path(ORCHSIM_SOURCE_DIR) / "tests/engine/scenario/bad";
  return dir;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The case names: every *.json directly in the corpus folder, sorted.
std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(CorpusDir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The expected message: the .expected file without its final line break.
std::string Expected(const std::string& name) {
  std::string text = ReadText(CorpusDir() / (name + ".expected"));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class BadInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { fs::current_path(CorpusDir()); }
};

TEST_P(BadInputTest, ThrowsTheExpectedMessage) {
  const std::string name = GetParam();
  ASSERT_TRUE(fs::exists(CorpusDir() / (name + ".expected"))) << name << ".expected is missing";
  const std::string expected = Expected(name);
  ASSERT_FALSE(expected.empty());
  try {
    LoadScenario(name + ".json");
    FAIL() << name << ".json loaded without an error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), expected) << "case " << name;
    // The message names a file of the corpus (the scenario, a preset or a
    // schedule CSV) and says where in it: a JSON path, a CSV line or, for
    // text that is not JSON at all, the parser's line and column.
    EXPECT_TRUE(fs::exists(e.file())) << e.file();
    const bool names_place = !e.path().empty() ||
                             e.message().find(" at line ") != std::string::npos ||
                             e.message().find("the file is empty") != std::string::npos ||
                             e.message().find("at the top level") != std::string::npos;
    EXPECT_TRUE(names_place) << e.what();
  } catch (const std::exception& e) {
    FAIL() << name << ".json threw something other than ConfigError: " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInputTest, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(BadInputCorpusTest, HasAtLeastFiftyCasesAndNoOrphans) {
  const std::vector<std::string> cases = CaseNames();
  EXPECT_GE(cases.size(), 50u);
  const std::set<std::string> case_set(cases.begin(), cases.end());
  for (const auto& entry : fs::directory_iterator(CorpusDir())) {
    if (entry.path().extension() == ".expected") {
      EXPECT_EQ(case_set.count(entry.path().stem().string()), 1u)
          << entry.path() << " has no matching .json case";
    }
  }
  // Every preset and schedule in the corpus is used by some case.
  std::string all_cases;
  for (const std::string& name : cases) all_cases += ReadText(CorpusDir() / (name + ".json"));
  for (const auto& entry : fs::directory_iterator(CorpusDir() / "policies")) {
    const std::string preset = "\"preset\": \"" + entry.path().stem().string() + "\"";
    EXPECT_NE(all_cases.find(preset), std::string::npos) << entry.path() << " is unused";
  }
  for (const auto& entry : fs::directory_iterator(CorpusDir() / "schedules")) {
    const std::string csv = "\"schedules/" + entry.path().filename().string() + "\"";
    EXPECT_NE(all_cases.find(csv), std::string::npos) << entry.path() << " is unused";
  }
  for (const auto& entry : fs::directory_iterator(CorpusDir() / "traces")) {
    const std::string trace = "\"traces/" + entry.path().filename().string() + "\"";
    EXPECT_NE(all_cases.find(trace), std::string::npos) << entry.path() << " is unused";
  }
}

// The cases are small edits of one valid scenario; it and its CSV and preset
// variants load, so each case fails for its own edit only.
constexpr const char* kValidBase = R"({
  "name": "bad-input",
  "schedule": {"synthetic": [{"name": "L", "teams": 4, "season_days": 2,
                              "season_start": "2024-01-01T00:00:00Z"}]},
  "upstreams": {"api": {"latency": {"kind": "constant", "constant": "50ms"}}},
  "demand": [{"name": "pregame", "request": {"api": "api", "endpoint": "odds", "key": "{game}"},
              "offsets": {"offsets": ["-1h"]}}],
  "variants": [{"name": "plain"}]
})";

TEST(BadInputCorpusTest, TheValidBaseLoads) {
  const Scenario s = ParseScenario(kValidBase, "base.json", CorpusDir().string());
  EXPECT_EQ(s.games.size(), 2u);  // 2 days, 1 game a day
  ASSERT_EQ(s.variants.size(), 1u);
  EXPECT_EQ(s.variants[0].name, "plain");
}

TEST(BadInputCorpusTest, TheValidBaseLoadsWithTheCorpusCsvAndPreset) {
  std::string text = kValidBase;
  const std::string synthetic_start = "{\"synthetic\"";
  const size_t from = text.find(synthetic_start);
  const size_t to = text.find("]},", from) + 2;
  text.replace(from, to - from, R"({"csv": "schedules/valid.csv", "league": "L"})");
  const std::string variant = R"({"name": "plain"})";
  text.replace(text.find(variant), variant.size(), R"({"name": "plain", "preset": "valid"})");
  const Scenario s = ParseScenario(text, "base.json", CorpusDir().string());
  ASSERT_EQ(s.games.size(), 2u);
  EXPECT_EQ(s.games[0].id, "g1");
  EXPECT_EQ(FormatInstant(s.games[0].kickoff), "2024-01-06T18:00:00Z");  // 13:00 EST
  EXPECT_EQ(s.variants[0].preset, "valid");
  EXPECT_EQ(s.variants[0].policy.defaults.retry.max_attempts, 2);
}

}  // namespace
}  // namespace orchsim::scenario
