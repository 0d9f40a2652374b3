// Issue 19, defects 1 and 2: two runs into one folder mixed their files, and
// a rerun left the earlier run's files (plots of another seed, a sweep's
// CSVs beside a run's). A folder is locked by its writer, says what it
// holds, and is replaced as a whole.
#include "engine/experiment/output_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "engine/experiment/atomic_file.h"

namespace orchsim::experiment {
namespace {

namespace fs = std::filesystem;

class OutputFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("orchsim-output-folder-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Dir(const std::string& name) const { return (root_ / name).string(); }
  static void Touch(const fs::path& path, const std::string& text = "x") {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  static std::set<std::string> Names(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
  }

  fs::path root_;
};

TEST_F(OutputFolderTest, SaysWhatAFolderHolds) {
  EXPECT_EQ(InspectFolder(Dir("absent")).state, FolderContents::State::kAbsent);
  fs::create_directories(Dir("empty"));
  EXPECT_EQ(InspectFolder(Dir("empty")).state, FolderContents::State::kEmpty);

  WriteFolderMarker(Dir("marked"), "sweep");
  FolderContents marked = InspectFolder(Dir("marked"));
  EXPECT_EQ(marked.state, FolderContents::State::kOrchsim);
  EXPECT_EQ(marked.kind, "sweep");
  EXPECT_EQ(marked.format, kFolderFormat);

  // Folders of an orchsim that wrote no marker, recognised by their names.
  Touch(root_ / "old-run" / "summary.json");
  Touch(root_ / "old-run" / "calls.png");
  Touch(root_ / "old-run" / "report.md.partial");
  EXPECT_EQ(InspectFolder(Dir("old-run")).kind, "run");
  Touch(root_ / "old-sweep" / "sweep.json");
  Touch(root_ / "old-sweep" / "points" / "p000000.json");
  EXPECT_EQ(InspectFolder(Dir("old-sweep")).kind, "sweep");
  Touch(root_ / "old-fidelity" / "checks.csv");
  Touch(root_ / "old-fidelity" / "cobham.svg");
  EXPECT_EQ(InspectFolder(Dir("old-fidelity")).kind, "fidelity");

  // Anything else is not ours.
  Touch(root_ / "home" / "thesis.tex");
  Touch(root_ / "home" / "summary.json");
  const FolderContents home = InspectFolder(Dir("home"));
  EXPECT_EQ(home.state, FolderContents::State::kForeign);
  EXPECT_EQ(home.detail, "it holds \"thesis.tex\"");
  Touch(root_ / "a-file");
  EXPECT_EQ(InspectFolder(Dir("a-file")).state, FolderContents::State::kForeign);
  Touch(root_ / "damaged" / kFolderMarkerName, "{\"kind\":");
  EXPECT_EQ(InspectFolder(Dir("damaged")).detail, "orchsim-folder.json is damaged");
}

TEST_F(OutputFolderTest, AnotherKindIsRefusedBeforeAnythingIsWritten) {
  WriteFolderMarker(Dir("r"), "run");
  Touch(root_ / "r" / "summary.json");
  EXPECT_NO_THROW(RequireFolderKind(Dir("r"), "run", "orchsim run"));
  try {
    RequireFolderKind(Dir("r"), "sweep", "orchsim sweep");
    FAIL() << "a sweep into a run's folder was allowed";
  } catch (const OutputFolderError& e) {
    EXPECT_EQ(std::string(e.what()),
              Dir("r") +
                  ": holds a run result (written by orchsim run), not a sweep result; orchsim "
                  "sweep will not replace it: choose another --out, or remove the folder first");
  }
  Touch(root_ / "mine" / "notes.txt");
  EXPECT_THROW(RequireFolderKind(Dir("mine"), "run", "orchsim run"), OutputFolderError);
  Touch(root_ / "newer" / kFolderMarkerName, "{\"kind\": \"run\", \"format\": 99}");
  EXPECT_THROW(RequireFolderKind(Dir("newer"), "run", "orchsim run"), OutputFolderError);
  EXPECT_EQ(Names(root_ / "r"), (std::set<std::string>{kFolderMarkerName, "summary.json"}));
}

TEST_F(OutputFolderTest, ASecondWriterIsRefusedNamingTheHolder) {
  const std::string dir = Dir("out");
  std::string lock_path;
  {
    FolderLock first(dir, "pid 1: orchsim run a.json --seed 1");
    lock_path = first.lock_path();
    EXPECT_EQ(lock_path, (root_ / ".out.orchsim-lock").string());
    try {
      FolderLock second(dir, "pid 2: orchsim run a.json --seed 2");
      FAIL() << "two writers held one folder";
    } catch (const OutputFolderError& e) {
      EXPECT_EQ(std::string(e.what()),
                dir +
                    ": in use by another orchsim (pid 1: orchsim run a.json --seed 1); wait "
                    "for it to finish, or choose another --out");
    }
    // Another spelling of the same folder is the same lock.
    EXPECT_THROW(FolderLock((root_ / "." / "out" / "").string(), "pid 3"), OutputFolderError);
  }
  EXPECT_FALSE(fs::exists(lock_path));  // released and removed
  FolderLock again(dir, "pid 4");
  // A lock file a killed writer left (no flock on it) does not block.
}

TEST_F(OutputFolderTest, AStaleLockFileDoesNotBlock) {
  Touch(root_ / ".out.orchsim-lock", "pid 99: killed long ago\n");
  EXPECT_NO_THROW(FolderLock(Dir("out"), "pid 5"));
}

TEST_F(OutputFolderTest, ACommitReplacesTheWholeFolder) {
  const std::string dir = Dir("out");
  WriteFolderMarker(dir, "run");
  Touch(root_ / "out" / "summary.json", "seed 2023");
  Touch(root_ / "out" / "calls.png", "plot of seed 2023");
  {
    StagedFolder staged(dir, "run", "orchsim run", "pid 6");
    EXPECT_EQ(staged.path(), (root_ / ".out.orchsim-tmp-").string() + std::to_string(::getpid()));
    Touch(fs::path(staged.path()) / "summary.json", "seed 7");
    // Not yet visible.
    std::ifstream in(root_ / "out" / "summary.json");
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "seed 2023");
    staged.Commit();
  }
  EXPECT_EQ(Names(root_ / "out"), (std::set<std::string>{kFolderMarkerName, "summary.json"}));
  // Nothing left beside it: no temporary folder, no lock file.
  EXPECT_EQ(Names(root_), (std::set<std::string>{"out"}));
}

TEST_F(OutputFolderTest, AnUncommittedResultLeavesTheFolderAsItWas) {
  const std::string dir = Dir("out");
  WriteFolderMarker(dir, "run");
  Touch(root_ / "out" / "summary.json", "old");
  {
    StagedFolder staged(dir, "run", "orchsim run", "pid 7");
    Touch(fs::path(staged.path()) / "summary.json", "new, half written");
  }  // e.g. an exception unwinding
  EXPECT_EQ(Names(root_ / "out"), (std::set<std::string>{kFolderMarkerName, "summary.json"}));
  EXPECT_EQ(Names(root_), (std::set<std::string>{"out"}));
}

TEST_F(OutputFolderTest, ANewFolderIsCreatedByTheCommit) {
  {
    StagedFolder staged(Dir("a/b/new"), "fidelity", "orchsim fidelity", "pid 8");
    Touch(fs::path(staged.path()) / "checks.csv");
    staged.Commit();
  }
  EXPECT_EQ(InspectFolder(Dir("a/b/new")).kind, "fidelity");
  EXPECT_EQ(Names(root_ / "a" / "b"), (std::set<std::string>{"new"}));
}

TEST_F(OutputFolderTest, LeftoversOfAKilledWriterAreRemovedByTheNext) {
  const std::string dir = Dir("out");
  WriteFolderMarker(dir, "sweep");
  Touch(root_ / ".out.orchsim-tmp-12345" / "summary.json");
  Touch(root_ / ".out.orchsim-tmp-12345-old" / "summary.json");
  Touch(root_ / "out" / "sweep.json.partial");
  Touch(root_ / "out" / ".orchsim-tmp-12345" / "p000001.json.partial");
  Touch(root_ / "out" / "points" / "p000002.json.partial");
  Touch(root_ / "out" / "points" / "p000003.json");
  Touch(root_ / ".other.orchsim-tmp-1" / "x");  // another folder's: not ours to remove
  const FolderLock lock(dir, "pid 9");
  EXPECT_EQ(lock.RemoveLeftovers(), 5u);
  EXPECT_EQ(Names(root_ / "out"), (std::set<std::string>{kFolderMarkerName, "points"}));
  EXPECT_EQ(Names(root_ / "out" / "points"), (std::set<std::string>{"p000003.json"}));
  EXPECT_TRUE(fs::exists(root_ / ".other.orchsim-tmp-1"));
}

TEST_F(OutputFolderTest, NoFolderOverTheRootOrAnEmptyPath) {
  EXPECT_THROW(ResolveOutputPath(""), OutputFolderError);
  EXPECT_THROW(ResolveOutputPath("/"), OutputFolderError);
  EXPECT_THROW(ResolveOutputPath("//"), OutputFolderError);
  fs::create_directories(root_ / "real");
  fs::create_directory_symlink(root_ / "real", root_ / "link");
  EXPECT_EQ(ResolveOutputPath(Dir("link")), fs::canonical(root_ / "real").string());
}

}  // namespace
}  // namespace orchsim::experiment
