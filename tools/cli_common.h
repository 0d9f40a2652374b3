// cli_common.h — small pieces every orchsim command shares: argument parsing
// with one positional argument, and progress on stderr.
#ifndef ORCHSIM_TOOLS_CLI_COMMON_H_
#define ORCHSIM_TOOLS_CLI_COMMON_H_

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
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

// A command line that cannot work: a bad option value, a repeated variant.
// Exit status 2 (README "Exit status").
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A seed (or another count) given as text: a decimal integer in
// [0, 2^63 - 1], the range scenario files accept. "-1" is an error, not
// 18446744073709551615. Throws UsageError naming `option`.
uint64_t ParseSeed(const std::string& text, const std::string& option);

// The value of a path option that was given (vm.count(option)); "" is an
// error rather than a silent default. Throws UsageError.
void RequireNonEmpty(const po::variables_map& vm, const std::string& option);

// "pid 1234: orchsim run a.json --out x", for the output-folder lock.
std::string LockHolder(const std::string& command, const std::vector<std::string>& args);

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
