#include "tools/fidelity_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "engine/experiment/output_folder.h"
#include "engine/fidelity/fidelity_suite.h"
#include "tools/cli_common.h"
#include "tools/interrupts.h"
#include "tools/plot_script.h"

namespace orchsim::tools {

namespace {

// "0.2,0.3,0.3" -> {0.2, 0.3, 0.3}; nullopt on anything else.
std::optional<std::vector<double>> ParseRates(const std::string& text) {
  std::vector<double> rates;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end == nullptr || *end != '\0') return std::nullopt;
    rates.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return rates;
}

}  // namespace

int FidelityCommand(const std::vector<std::string>& args) {
  std::string out_dir = "results/fidelity";
  // The source tree's season, not one relative to the working directory.
  std::string scenario_path = std::string(ORCHSIM_SCENARIOS_DIR) + "/nfl-2023.json";
  std::string plot_script = PlotScriptPath("ORCHSIM_PLOT_FIDELITY", "plot_fidelity.py");
  fidelity::QueueingCheckSpec queueing;
  std::string rates_text = "0.2,0.3,0.3";
  po::options_description options(
      "orchsim fidelity [options]\n\n"
      "Runs the fidelity suite: the production core against Cobham's priority formula,\n"
      "Erlang C, the token bucket's window bound over whole seasons, Brooker's backoff\n"
      "experiment, the health chain's stationary law, quota pacing, an upstream with\n"
      "capacity against M/M/c/K, and retries against (1 - p^n)/(1 - p) attempts. Prints\n"
      "simulated, expected and tolerance per check; writes report.md, CSV data and plots\n"
      "to --out.\n"
      "With --queueing, checks your own queue instead: the core as an M/M/c queue with\n"
      "non-preemptive priorities (--arrival-rates per class, --service-rate, --servers)\n"
      "against the closed form (Cobham for 1 server, Erlang C for one class). Each line is\n"
      "a 95% test: one in twenty fails by chance; rerun with another --seed before doubting.\n"
      "Exit status 1 when a check fails (2 bad input, 3 cannot write).\n\noptions");
  options.add_options()("help,h", "show this help")(
      "long", "the long version (minutes): more loads, replications and the full sweep")(
      "out", po::value<std::string>(&out_dir)->default_value(out_dir), "results folder")(
      "scenario", po::value<std::string>(&scenario_path)->default_value(scenario_path),
      "season scenario for the token-bucket check")(
      "plot-script", po::value<std::string>(&plot_script)->default_value(plot_script),
      "plotting script (matplotlib)")(
      "queueing", "check only your own queue (the options below), print the result")(
      "arrival-rates", po::value<std::string>(&rates_text)->default_value(rates_text),
      "--queueing: arrival rate per class in requests/s, most urgent first (1 to 4 classes: "
      "CRITICAL, HIGH, NORMAL, LOW)")(
      "service-rate", po::value<double>(&queueing.service_rate_per_s)->default_value(1.0),
      "--queueing: service rate per server, per second (mean service 1/rate)")(
      "servers", po::value<int>(&queueing.servers)->default_value(1),
      "--queueing: servers (the concurrency limit)")(
      "customers", po::value<int64_t>(&queueing.measured_customers)->default_value(200000),
      "--queueing: customers measured per replication")(
      "replications", po::value<int>(&queueing.replications)->default_value(10),
      "--queueing: replications (the 95% CI is over them)")(
      "seed", po::value<uint64_t>(&queueing.seed)->default_value(1), "--queueing: root seed");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "unused", 0, &vm)) return 0;

  if (vm.count("queueing")) {
    const auto rates = ParseRates(rates_text);
    if (!rates) {
      std::cerr << "orchsim fidelity: --arrival-rates " << rates_text
                << ": expected numbers separated by commas, e.g. 0.2,0.3,0.3\n";
      return 2;
    }
    queueing.arrival_rates_per_s = *rates;
    if (const Status status = queueing.validate(); !status.ok()) {
      std::cerr << "orchsim fidelity: " << status.message() << "\n";
      return 2;
    }
    const fidelity::FidelitySection section = fidelity::RunQueueingCheck(queueing);
    std::cout << "== " << section.title << "\n" << section.description << "\n";
    bool pass = true;
    for (const fidelity::CheckLine& line : section.lines) {
      std::cout << fidelity::FormatCheckLine(line) << "\n";
      pass = pass && line.pass;
    }
    std::cout << (pass ? "all checks pass" : "SOME CHECKS FAIL") << "\n";
    return pass ? 0 : 1;
  }
  if (!std::filesystem::exists(scenario_path)) {
    std::cerr << "orchsim fidelity: the season scenario " << scenario_path
              << " does not exist; give one with --scenario FILE\n";
    return 2;
  }
  fidelity::FidelitySuiteOptions suite;
  suite.long_version = vm.count("long") > 0;
  suite.season_scenario = scenario_path;
  RequireNonEmpty(vm, "out");
  // Written beside the folder and swapped in when complete (output_folder.h).
  experiment::StagedFolder folder(out_dir, "fidelity", "orchsim fidelity",
                                  LockHolder("orchsim fidelity", args));
  const TemporaryPath staged(folder.path());
  const TemporaryPath lock_file(folder.lock().lock_path());
  SetInterruptMessage("nothing written; " + out_dir + " keeps what it held before");
  const fidelity::FidelitySuiteResult result = fidelity::RunFidelitySuite(suite, std::cout);
  fidelity::WriteFidelityFiles(folder.path(), result);

  if (const std::string problem = RunPlotScript(plot_script, folder.path()); !problem.empty()) {
    std::cerr << "orchsim fidelity: warning: " << problem << "; no plots drawn\n";
  }
  Critical([&] { folder.Commit(); });
  SetInterruptMessage("");
  std::cout << "\n"
            << (result.AllPass() ? "all checks pass" : "SOME CHECKS FAIL") << "; report written to "
            << out_dir << "/report.md\n";
  return result.AllPass() ? 0 : 1;
}

}  // namespace orchsim::tools
