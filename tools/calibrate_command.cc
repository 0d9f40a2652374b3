#include "tools/calibrate_command.h"

#include <iostream>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/calibration.h"
#include "engine/scenario/upstream_writer.h"
#include "tools/cli_common.h"

namespace orchsim::tools {

int CalibrateCommand(const std::vector<std::string>& args) {
  std::vector<std::string> apis;
  std::string out;
  std::string latency = "empirical";
  std::string report_path;
  po::options_description options(
      "orchsim calibrate TRACE --out UPSTREAMS.json [options]\n\n"
      "Fits each upstream's model from the calls of a recorded trace (orchsim run --record,\n"
      "orchsim serve --record): latency (quantile table, or lognormal), error rates per\n"
      "status, timeouts, outages (change points of the failure sequence), the server-side\n"
      "rate limit and the quota from the quota headers. Writes them as a scenario's\n"
      "\"upstreams\" block (a scenario may name the file: \"upstreams\": \"UPSTREAMS.json\")\n"
      "and prints the fit report: sample sizes, Kolmogorov-Smirnov distances, rates with\n"
      "95% intervals, what was not fitted.\n\noptions");
  options.add_options()("help,h", "show this help")("out", po::value<std::string>(&out),
                                                    "the upstreams block to write (JSON)")(
      "api", po::value<std::vector<std::string>>(&apis),
      "fit only this api (repeatable; default: every api in the trace)")(
      "latency", po::value<std::string>(&latency),
      "the latency model written: empirical (quantile table, default) or lognormal")(
      "report", po::value<std::string>(&report_path), "also write the fit report to this file");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "trace", 1, &vm)) return 0;
  if (!vm.count("trace")) {
    std::cerr << "orchsim calibrate: missing TRACE (a recorded trace, JSON lines)\n\n" << options;
    return 2;
  }
  if (out.empty()) {
    std::cerr << "orchsim calibrate: missing --out UPSTREAMS.json\n";
    return 2;
  }
  experiment::CalibrationOptions calibration_options;
  calibration_options.apis = apis;
  if (latency == "empirical") {
    calibration_options.latency = world::LatencyKind::kEmpirical;
  } else if (latency == "lognormal") {
    calibration_options.latency = world::LatencyKind::kLognormal;
  } else {
    std::cerr << "orchsim calibrate: --latency " << latency
              << ": expected empirical or lognormal\n";
    return 2;
  }
  const std::string trace = vm["trace"].as<std::vector<std::string>>().front();
  const experiment::CalibrationResult result = experiment::Calibrate(trace, calibration_options);
  if (result.error) {
    std::cerr << "orchsim calibrate: " << result.error->ToString() << "\n";
    return 2;
  }
  std::vector<world::UpstreamModelConfig> models;
  for (const experiment::ApiFit& fit : result.calibration->apis) models.push_back(fit.model);
  const std::string report = experiment::CalibrationReport(*result.calibration);
  experiment::WriteFileAtomically(out, scenario::FormatUpstreams(models));
  if (!report_path.empty()) experiment::WriteFileAtomically(report_path, report);
  std::cout << report << "\nupstreams written to " << out << "\n";
  return 0;
}

}  // namespace orchsim::tools
