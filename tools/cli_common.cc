#include "tools/cli_common.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

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
