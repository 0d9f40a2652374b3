// orchsim — command-line entry point. Thin: parses arguments and prints;
// the logic lives in the libraries.
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/metric_catalog.h"
#include "engine/experiment/output_folder.h"
#include "engine/experiment/run_size.h"
#include "engine/experiment/sweep.h"
#include "policies/config/json_reader.h"
#include "tools/calibrate_command.h"
#include "tools/check_command.h"
#include "tools/cli_common.h"
#include "tools/fidelity_command.h"
#include "tools/interrupts.h"
#include "tools/kernel_demo.h"
#include "tools/mock_upstream_command.h"
#include "tools/plot_command.h"
#include "tools/run_command.h"
#ifdef ORCHSIM_HAVE_LIVE
#include "tools/serve_command.h"
#endif
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
    "  serve     run the core as an HTTP sidecar in front of real APIs (serve.json + preset)\n"
    "\n"
    "Run 'orchsim <command> --help' for the options of a command.\n"
    "\n"
    "exit status (every command): 0 success; 1 a check failed (check, fidelity) or plots\n"
    "could not be drawn (plot); 2 bad input: usage, an input file, a run beyond the size\n"
    "limits, an output folder in use or holding something else; 3 the results could not\n"
    "be written (the reason is printed); 4 out of memory or an internal error; 128+N\n"
    "interrupted by signal N (130 Ctrl-C, 143 SIGTERM), nothing half-written left behind.\n";

int Demo(const std::vector<std::string>& args) {
  orchsim::tools::KernelDemoConfig config;
  std::string seed = std::to_string(config.seed);
  std::string customers = std::to_string(config.customers);
  po::options_description options("orchsim demo [options]");
  options.add_options()("help,h", "show this help")(
      "seed", po::value<std::string>(&seed)->default_value(seed), "root seed")(
      "customers", po::value<std::string>(&customers)->default_value(customers),
      "number of arrivals to simulate");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  po::notify(vm);
  config.seed = orchsim::tools::ParseSeed(seed, "--seed");
  config.customers = orchsim::tools::ParseSeed(customers, "--customers");
  return orchsim::tools::RunKernelDemo(config, std::cout);
}

int Dispatch(const std::string& command, const std::vector<std::string>& args) {
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
#ifdef ORCHSIM_HAVE_LIVE
  if (command == "serve") return orchsim::tools::ServeCommand(args);
#endif
  std::cerr << "orchsim: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}

// The exit status for what a command threw, with its message printed:
// README "Exit status".
int Report(const std::string& command) {
  const std::string prefix = "orchsim " + command + ": ";
  try {
    throw;
  } catch (const po::error& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::config::ConfigError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::tools::UsageError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::experiment::SweepError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::experiment::UnknownMetricError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::experiment::OutputFolderError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::experiment::LimitError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 2;
  } catch (const orchsim::experiment::IoError& e) {
    std::cerr << prefix << e.what() << "\n";
    return 3;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << prefix << "cannot write: " << e.what() << "\n";
    return 3;
  } catch (const std::bad_alloc&) {
    std::cerr << prefix
              << "out of memory: the run needs more memory than this machine gave it (README "
                 "\"Limits\": lower the demand, the time span or the --limit values)\n";
    return 4;
  } catch (const std::exception& e) {
    std::cerr << prefix << "internal error: " << e.what() << "\n";
    return 4;
  }
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
  // Long-running servers (mock-upstream, serve) stop on SIGINT/SIGTERM
  // themselves, drain and exit 0; every other command is interrupted as a
  // whole (interrupts.h).
  if (command != "mock-upstream" && command != "serve") {
    orchsim::tools::InstallInterruptHandling("orchsim " + command);
  }
  int status = 0;
  try {
    status = Dispatch(command, args);
  } catch (...) {
    status = Report(command);
  }
  // A command whose temporary folder an interrupt removed may fail first:
  // the signal, not that failure, decides the exit (interrupts.h).
  orchsim::tools::WaitIfInterrupted();
  return status;
}
