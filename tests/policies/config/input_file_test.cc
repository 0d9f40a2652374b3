#include "policies/config/input_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

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

TEST_F(InputFileTest, AnEndlessDeviceStopsAtTheLimit) {
  const InputFile file = ReadInputFile("/dev/zero", size_t{1} << 20);
  EXPECT_EQ(file.problem, InputFile::Problem::kTooLarge);
  EXPECT_EQ(DescribeInputFileProblem(file, size_t{1} << 20),
            "is larger than 1 MiB; expected an input file (is the path right?)");
}

TEST_F(InputFileTest, MissingFilesAndDirectoriesAreNamedProblems) {
  const InputFile missing = ReadInputFile((dir_ / "nope.json").string());
  EXPECT_EQ(missing.problem, InputFile::Problem::kUnreadable);
  EXPECT_EQ(DescribeInputFileProblem(missing), "cannot read the file (missing or not readable)");
  const InputFile directory = ReadInputFile(dir_.string());
  EXPECT_EQ(directory.problem, InputFile::Problem::kDirectory);
  EXPECT_EQ(DescribeInputFileProblem(directory), "is a directory; expected a file");
}

}  // namespace
}  // namespace orchsim::config
