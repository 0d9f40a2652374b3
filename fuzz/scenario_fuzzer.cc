// libFuzzer target: the scenario loader (engine/scenario ParseScenario) with
// policy presets, schedules and every reader behind it.
//
// Input: a scenario JSON text, optionally followed by a line "#preset" and a
// preset JSON text, which is written as policies/fuzz.json next to the
// scenario (so a variant with "preset": "fuzz" reads it). The scenario's
// folder is a temporary copy of scenarios/policies/*.json plus a 4-game
// schedules/nfl-2023.csv (and nfl-2024.csv), so the shipped scenarios load
// quickly and the shipped presets are found, and of the bad-input corpus's
// presets and schedules (tests/engine/scenario/bad/{policies,schedules}), so
// its cases, which tools/run_fuzz.sh adds as seeds, fail for their own reason.
//
// Contract checked: bad input ends in ConfigError (the CLI turns it into
// exit status 2) and nothing else escapes; a loaded scenario has games,
// upstreams, variants with valid policies and start < end; no sanitizer report.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/scenario/scenario.h"

namespace {

namespace fs = std::filesystem;

constexpr const char kSmallSchedule[] =
    "game_id,season,game_type,week,gameday,weekday,gametime,away_team,home_team,location,roof,"
    "stadium_id,stadium\n"
    "2023_01_DET_KC,2023,REG,1,2023-09-07,Thursday,20:20,DET,KC,Home,outdoors,KAN00,GEHA Field\n"
    "2023_01_CAR_ATL,2023,REG,1,2023-09-10,Sunday,13:00,CAR,ATL,Home,closed,ATL97,Mercedes\n"
    "2023_02_MIN_PHI,2023,REG,2,2023-09-14,Thursday,20:15,MIN,PHI,Home,outdoors,PHI00,Lincoln\n"
    "2023_22_SF_KC,2023,SB,22,2024-02-11,Sunday,18:30,SF,KC,Neutral,dome,VEG00,Allegiant\n";

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Copies the files of `from` with `extension` into `to` (best effort: a
// missing file only makes some seeds fail differently).
void CopyFiles(const fs::path& from, const std::string& extension, const fs::path& to) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    if (entry.path().extension() == extension) {
      fs::copy_file(entry.path(), to / entry.path().filename(),
                    fs::copy_options::overwrite_existing, ec);
    }
  }
}

// The scenario folder, created once per process.
const fs::path& Folder() {
  static const fs::path folder = [] {
    const fs::path dir = fs::temp_directory_path() /
                         ("orchsim-fuzz-" + std::to_string(static_cast<long>(::getpid())));
    fs::create_directories(dir / "policies");
    fs::create_directories(dir / "schedules");
    const fs::path source(ORCHSIM_SOURCE_DIR);
    const fs::path bad = source / "tests" / "engine" / "scenario" / "bad";
    CopyFiles(source / "scenarios" / "policies", ".json", dir / "policies");
    CopyFiles(bad / "policies", ".json", dir / "policies");
    CopyFiles(bad / "schedules", ".csv", dir / "schedules");
    WriteFile(dir / "schedules" / "nfl-2023.csv", kSmallSchedule);
    WriteFile(dir / "schedules" / "nfl-2024.csv", kSmallSchedule);
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(Folder(), ignored);
    });
    return dir;
  }();
  return folder;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path& folder = Folder();
  std::string text(reinterpret_cast<const char*>(data), size);
  static const std::string kMarker = "\n#preset\n";
  const size_t marker = text.find(kMarker);
  const fs::path preset = folder / "policies" / "fuzz.json";
  if (marker != std::string::npos) {
    WriteFile(preset, text.substr(marker + kMarker.size()));
    text.resize(marker);
  } else {
    std::error_code ignored;
    fs::remove(preset, ignored);
  }
  try {
    const orchsim::scenario::Scenario s =
        orchsim::scenario::ParseScenario(text, "fuzz.json", folder.string());
    Check(!s.games.empty());
    Check(!s.upstreams.empty());
    Check(!s.variants.empty());
    Check(s.start < s.end);
    for (const orchsim::scenario::Variant& v : s.variants) Check(v.policy.validate().ok());
  } catch (const orchsim::config::ConfigError& e) {
    Check(e.what()[0] != '\0');
  }
  return 0;
}
