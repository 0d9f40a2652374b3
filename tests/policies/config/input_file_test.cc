#include "policies/config/input_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "policies/config/json_reader.h"

namespace orchsim::config {
namespace {

namespace fs = std::filesystem;

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orchsim-input-file-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  fs::path dir_;
};

TEST_F(InputFileTest, ReadsTheWholeFileByteForByte) {
  std::string text(200000, 'x');  // more than one read chunk
  text += std::string("\r\n\0end\0", 8);
  const InputFile file = ReadInputFile(Write("a.csv", text));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file.text, text);
  EXPECT_EQ(DescribeInputFileProblem(file), "");
}

TEST_F(InputFileTest, ExactlyTheLimitIsReadOneByteMoreIsTooLarge) {
  EXPECT_TRUE(ReadInputFile(Write("ten", "0123456789"), 10).ok());
  const InputFile file = ReadInputFile(Write("eleven", "0123456789A"), 10);
  EXPECT_EQ(file.problem, InputFile::Problem::kTooLarge);
  EXPECT_TRUE(file.text.empty());
  EXPECT_EQ(DescribeInputFileProblem(file, 10),
            "is larger than 10 bytes; expected an input file (is the path right?)");
}

TEST_F(InputFileTest, AnEndlessDeviceIsNotARegularFile) {
  const InputFile file = ReadInputFile("/dev/zero", size_t{1} << 20);
  EXPECT_EQ(file.problem, InputFile::Problem::kNotRegular);
  EXPECT_TRUE(file.text.empty());
  EXPECT_EQ(DescribeInputFileProblem(file),
            "is a character device, not a regular file; expected a file");
}

// Issue 19, defect 5: a schedule or baseline path that was a FIFO blocked
// forever in open(). Reading and checking it must return at once with a
// named problem. (Should it block, the writer end opened below releases the
// reader so the test fails instead of hanging.)
TEST_F(InputFileTest, AFifoIsRefusedWithoutBlocking) {
  const std::string fifo = (dir_ / "schedule.csv").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (bool check_only : {false, true}) {
    auto result = std::async(std::launch::async, [&] {
      return check_only ? CheckInputFile(fifo) : ReadInputFile(fifo);
    });
    if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      const int unblock = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      ADD_FAILURE() << "reading a FIFO blocked";
      result.wait();
      if (unblock >= 0) ::close(unblock);
      continue;
    }
    const InputFile file = result.get();
    EXPECT_EQ(file.problem, InputFile::Problem::kNotRegular);
    EXPECT_EQ(DescribeInputFileProblem(file),
              "is a named pipe (FIFO), not a regular file; expected a file");
  }
  try {
    ReadFileOrThrow(fifo);
    FAIL() << "read a FIFO";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), fifo);
    EXPECT_EQ(e.message(), "is a named pipe (FIFO), not a regular file; expected a file");
  }
}

TEST_F(InputFileTest, ARegularFileIsCheckedWithoutReadingIt) {
  const InputFile file = CheckInputFile(Write("a.json", "{}"));
  EXPECT_TRUE(file.ok());
  EXPECT_TRUE(file.text.empty());
  EXPECT_EQ(CheckInputFile((dir_ / "nope").string()).reason, "No such file or directory");
  EXPECT_EQ(CheckInputFile(dir_.string()).problem, InputFile::Problem::kDirectory);
}

TEST_F(InputFileTest, MissingFilesAndDirectoriesAreNamedProblems) {
  const InputFile missing = ReadInputFile((dir_ / "nope.json").string());
  EXPECT_EQ(missing.problem, InputFile::Problem::kUnreadable);
  EXPECT_EQ(DescribeInputFileProblem(missing), "cannot read the file: No such file or directory");
  const InputFile directory = ReadInputFile(dir_.string());
  EXPECT_EQ(directory.problem, InputFile::Problem::kDirectory);
  EXPECT_EQ(DescribeInputFileProblem(directory), "is a directory; expected a file");
}

}  // namespace
}  // namespace orchsim::config
