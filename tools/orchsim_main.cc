// orchsim — command-line entry point. Thin: parses arguments and prints;
// the logic lives in the libraries.
#include <boost/program_options.hpp>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/config/json_reader.h"
#include "tools/calibrate_command.h"
#include "tools/check_command.h"
#include "tools/fidelity_command.h"
#include "tools/kernel_demo.h"
#include "tools/mock_upstream_command.h"
#include "tools/plot_command.h"
#include "tools/run_command.h"
#include "tools/sweep_command.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: orchsim [--version] [--help] <command> [<args>]\n"
    "\n"
    "commands:\n"
    "  run       run a scenario's variants side by side and print the comparison\n"
    "  plot      draw the comparison plots (PNG, SVG) of a result folder\n"
    "  validate  check a scenario file (and its presets and schedule) without running it\n"
    "  check     run scenarios and check their expectations and baselines (the CI gate)\n"
    "  sweep     run a variant over a parameter sweep and seeds; report and recommended preset\n"
    "  merge     combine the shard folders of a sweep (sweep --shard K/N) into one result\n"
    "  tune      re-analyse a finished sweep with another objective or constraints\n"
    "  demo      run an M/M/1 queue on the simulation kernel and compare with theory\n"
    "  fidelity  check the simulator against queueing theory and the published backoff study\n"
    "  mock-upstream  serve a scenario's mocked upstream over HTTP in real time\n"
    "  calibrate fit upstream models from a recorded trace (an \"upstreams\" block)\n"
    "\n"
    "Run 'orchsim <command> --help' for the options of a command.\n";

int Demo(const std::vector<std::string>& args) {
  orchsim::tools::KernelDemoConfig config;
  po::options_description options("orchsim demo [options]");
  options.add_options()("help,h", "show this help")(
      "seed", po::value<uint64_t>(&config.seed)->default_value(config.seed), "root seed")(
      "customers", po::value<uint64_t>(&config.customers)->default_value(config.customers),
      "number of arrivals to simulate");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  po::notify(vm);
  return orchsim::tools::RunKernelDemo(config, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "orchsim " << ORCHSIM_VERSION << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "demo") return Demo(args);
    if (command == "run") return orchsim::tools::RunCommand(args);
    if (command == "plot") return orchsim::tools::PlotCommand(args);
    if (command == "validate") return orchsim::tools::ValidateCommand(args);
    if (command == "check") return orchsim::tools::CheckCommand(args);
    if (command == "sweep") return orchsim::tools::SweepCommand(args);
    if (command == "merge") return orchsim::tools::MergeCommand(args);
    if (command == "tune") return orchsim::tools::TuneCommand(args);
    if (command == "fidelity") return orchsim::tools::FidelityCommand(args);
    if (command == "mock-upstream") return orchsim::tools::MockUpstreamCommand(args);
    if (command == "calibrate") return orchsim::tools::CalibrateCommand(args);
  } catch (const po::error& e) {
    std::cerr << "orchsim " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const orchsim::config::ConfigError& e) {
    std::cerr << "orchsim " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "orchsim " << command << ": error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "orchsim: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
