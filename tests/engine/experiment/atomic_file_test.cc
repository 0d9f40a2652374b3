// Issue 19, defect 7: a full disk or a refused path was reported without the
// reason. Every write failure names the path and the operating system's
// reason ("No space left on device"), as IoError (exit status 3).
#include "engine/experiment/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace orchsim::experiment {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orchsim-atomic-file-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string Read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, AFullDiskSaysSo) {
  // /dev/full answers every write with ENOSPC.
  try {
    WriteFileStreaming("/dev/full", [](std::ostream& out) { out << std::string(1 << 20, 'x'); });
    FAIL() << "writing to /dev/full succeeded";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write /dev/full: No space left on device");
  }
  // Also when the only write is the final flush.
  try {
    WriteFileStreaming("/dev/full", [](std::ostream& out) { out << "small"; });
    FAIL() << "writing to /dev/full succeeded";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write /dev/full: No space left on device");
  }
}

TEST_F(AtomicFileTest, ARefusedPathSaysWhy) {
  std::ofstream(dir_ / "file") << "a regular file";
  const std::string path = (dir_ / "file" / "summary.json").string();
  try {
    WriteFileAtomically(path, "{}");
    FAIL() << "wrote below a regular file";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot create " + (dir_ / "file").string() + ": Not a directory");
  }
}

TEST_F(AtomicFileTest, WritesWholeFilesThroughATemporaryFolder) {
  fs::create_directories(dir_ / "tmp");
  WriteFileAtomically((dir_ / "out" / "a.json").string(), "new", (dir_ / "tmp").string());
  EXPECT_EQ(Read(dir_ / "out" / "a.json"), "new");
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
  WriteFileAtomically((dir_ / "out" / "a.json").string(), "newer");
  EXPECT_EQ(Read(dir_ / "out" / "a.json"), "newer");
  EXPECT_FALSE(fs::exists(dir_ / "out" / "a.json.partial"));
  // A temporary folder that is gone (an interrupt removed it) fails the write
  // and leaves the target as it was.
  EXPECT_THROW(
      WriteFileAtomically((dir_ / "out" / "a.json").string(), "lost", (dir_ / "gone").string()),
      IoError);
  EXPECT_EQ(Read(dir_ / "out" / "a.json"), "newer");
}

}  // namespace
}  // namespace orchsim::experiment
