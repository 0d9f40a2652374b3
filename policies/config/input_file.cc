#include "policies/config/input_file.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "policies/config/json_reader.h"

namespace orchsim::config {

InputFile ReadInputFile(const std::string& path, size_t max_bytes) {
  InputFile file;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    file.problem = InputFile::Problem::kDirectory;
    return file;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    file.problem = InputFile::Problem::kUnreadable;
    return file;
  }
  // Chunks up to max_bytes + 1: one byte more than allowed proves "too large"
  // without reading an endless device to its end.
  char chunk[1 << 16];
  while (in) {
    in.read(chunk, sizeof(chunk));
    const size_t got = static_cast<size_t>(in.gcount());
    if (file.text.size() + got > max_bytes) {
      file.problem = InputFile::Problem::kTooLarge;
      file.text.clear();
      return file;
    }
    file.text.append(chunk, got);
  }
  if (in.bad()) {
    file.problem = InputFile::Problem::kUnreadable;
    file.text.clear();
  }
  return file;
}

std::string DescribeInputFileProblem(const InputFile& file, size_t max_bytes) {
  switch (file.problem) {
    case InputFile::Problem::kNone:
      return "";
    case InputFile::Problem::kUnreadable:
      return "cannot read the file (missing or not readable)";
    case InputFile::Problem::kDirectory:
      return "is a directory; expected a file";
    case InputFile::Problem::kTooLarge:
      break;
  }
  const size_t mib = max_bytes >> 20;
  return "is larger than " +
         (mib > 0 ? std::to_string(mib) + " MiB" : std::to_string(max_bytes) + " bytes") +
         "; expected an input file (is the path right?)";
}

std::string ReadFileOrThrow(const std::string& path, size_t max_bytes) {
  InputFile file = ReadInputFile(path, max_bytes);
  if (!file.ok()) throw ConfigError(path, "", DescribeInputFileProblem(file, max_bytes));
  return std::move(file.text);
}

}  // namespace orchsim::config
