// cli_common.h — small pieces every orchsim command shares: argument parsing
// with one positional argument, and progress on stderr.
#ifndef ORCHSIM_TOOLS_CLI_COMMON_H_
#define ORCHSIM_TOOLS_CLI_COMMON_H_

#include <boost/program_options.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/scenario/scenario.h"

namespace orchsim::tools {

namespace po = boost::program_options;

// Parses `args` against `options` plus positional arguments stored under
// `positional_name` (max_count of them; -1 = any). Returns false when --help
// was asked (the help has been printed to stdout).
bool ParseCommandLine(const std::vector<std::string>& args, const po::options_description& options,
                      const std::string& positional_name, int max_count, po::variables_map* vm);

// Prints each of the scenario's load warnings on stderr as
// "orchsim COMMAND: warning: FILE: line N: ...".
void PrintScenarioWarnings(const std::string& command, const scenario::Scenario& scenario);

// Prints "label: NN%" on stderr, only when stderr is a terminal, `enabled`
// (not --quiet), and the work has taken more than a second so far.
class Progress {
 public:
  explicit Progress(bool enabled);
  void Update(const std::string& label, double fraction);
  // Clears the progress line if one was shown.
  void Done();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_CLI_COMMON_H_
