#include "tools/cli_common.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>

namespace orchsim::tools {

bool ParseCommandLine(const std::vector<std::string>& args, const po::options_description& options,
                      const std::string& positional_name, int max_count, po::variables_map* vm) {
  po::options_description hidden;
  hidden.add_options()(positional_name.c_str(), po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add(positional_name.c_str(), max_count);
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), *vm);
  if (vm->count("help")) {
    std::cout << options;
    return false;
  }
  po::notify(*vm);
  return true;
}

void PrintScenarioWarnings(const std::string& command, const scenario::Scenario& scenario) {
  for (const std::string& warning : scenario.warnings) {
    std::cerr << "orchsim " << command << ": warning: " << warning << "\n";
  }
}

uint64_t ParseSeed(const std::string& text, const std::string& option) {
  const bool digits = !text.empty() && text.size() <= 19 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  const unsigned long long value = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno != 0 ||
      value > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
    throw UsageError(option + " " + text + ": expected an integer from 0 to " +
                     std::to_string(std::numeric_limits<int64_t>::max()));
  }
  return value;
}

void RequireNonEmpty(const po::variables_map& vm, const std::string& option) {
  if (vm.count(option) && vm[option].as<std::string>().empty()) {
    throw UsageError("--" + option + ": expected a path, got an empty string");
  }
}

std::string LockHolder(const std::string& command, const std::vector<std::string>& args) {
  std::string text = "pid " + std::to_string(::getpid()) + ": " + command;
  for (const std::string& a : args) text += " " + a;
  if (text.size() > 400) text = text.substr(0, 397) + "...";
  return text;
}

Progress::Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) == 1) {}

void Progress::Update(const std::string& label, double fraction) {
  if (!enabled_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (elapsed < 1.0) return;
  std::fprintf(stderr, "\r  %s: %3.0f%%", label.c_str(), 100.0 * fraction);
  std::fflush(stderr);
  shown_ = true;
}

void Progress::Done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace orchsim::tools
