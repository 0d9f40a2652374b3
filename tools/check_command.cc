#include "tools/check_command.h"

#include <filesystem>
#include <iostream>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/check.h"
#include "engine/experiment/run_size.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"
#include "policies/config/input_file.h"
#include "tools/cli_common.h"

namespace orchsim::tools {

int CheckCommand(const std::vector<std::string>& args) {
  std::string baseline_dir = "results/baselines";
  std::string junit_path;
  std::string markdown_path;
  std::vector<std::string> limit_texts;
  po::options_description options(
      "orchsim check SCENARIO... [options]\n\n"
      "Runs each scenario (every variant, the scenario's seed), evaluates its \"expect\"\n"
      "block and compares every metric with the committed baseline\n"
      "<baseline dir>/<scenario name>.json within the scenario's \"tolerances\".\n"
      "Exit status: 0 all checks hold, 1 a check fails, 2 bad input (also a scenario\n"
      "beyond the size limits), 3 cannot write a file, 4 out of memory or internal error.\n"
      "\noptions");
  options.add_options()("help,h", "show this help")(
      "baseline", po::value<std::string>(&baseline_dir),
      "folder of baseline files (default: results/baselines)")(
      "junit", po::value<std::string>(&junit_path), "write a JUnit XML report to this file")(
      "markdown", po::value<std::string>(&markdown_path),
      "write a Markdown summary (for a pull request) to this file")(
      "update-baselines", "rewrite the baselines from this run and print what changed")(
      "limit", po::value<std::vector<std::string>>(&limit_texts),
      "raise a size limit, NAME=VALUE: requests, burst or events (repeatable; README "
      "\"Limits\")")("quiet,q", "no progress on stderr");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", -1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim check: missing SCENARIO (one or more scenario JSON files)\n";
    return 2;
  }
  for (const char* option : {"baseline", "junit", "markdown"}) RequireNonEmpty(vm, option);
  experiment::RunLimits limits;
  for (const std::string& text : limit_texts) limits.Set(text);
  const bool update = vm.count("update-baselines") > 0;
  // Load and validate everything before running anything.
  std::vector<scenario::Scenario> scenarios;
  std::vector<experiment::CheckSpec> specs;
  for (const std::string& path : vm["scenario"].as<std::vector<std::string>>()) {
    scenarios.push_back(scenario::LoadScenario(path));
    specs.push_back(experiment::ReadCheckSpec(scenarios.back()));
    experiment::RunSize size = experiment::EstimateRunSize(scenarios.back());
    size.rows = 0;  // check writes no time series
    experiment::CheckRunSize(size, limits, path);
  }
  Progress progress(!vm.count("quiet"));
  std::vector<experiment::CheckResult> results;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const scenario::Scenario& s = scenarios[i];
    const auto runs = experiment::RunComparison(
        s, {}, s.seed,
        [&](const std::string& variant, double f) { progress.Update(s.name + "/" + variant, f); });
    progress.Done();
    const auto values = experiment::FlattenRuns(s, runs);
    for (auto& r : experiment::EvaluateExpectations(s, specs[i], values)) results.push_back(r);
    const std::string baseline_path =
        (std::filesystem::path(baseline_dir) / (s.name + ".json")).string();
    const scenario::Json fresh = experiment::BaselineJson(s, s.seed, values);
    const bool exists = std::filesystem::exists(baseline_path);
    if (update) {
      const scenario::Json old =
          exists ? scenario::Json::parse(config::ReadFileOrThrow(baseline_path), nullptr, false)
                 : scenario::Json::object();
      experiment::WriteFileAtomically(baseline_path, fresh.dump(2) + "\n");
      const auto changes = experiment::DescribeBaselineChanges(
          old.is_discarded() ? scenario::Json::object() : old, fresh);
      std::cout << baseline_path << ": " << (exists ? "updated" : "created") << ", "
                << changes.size() << " metric(s) changed\n";
      for (const std::string& line : changes) std::cout << "  " << line << "\n";
      continue;
    }
    if (!exists) {
      results.push_back({s.name, "", "", "baseline", false,
                         "no baseline at " + baseline_path +
                             "; create it with orchsim check --update-baselines"});
      continue;
    }
    scenario::Json baseline =
        scenario::Json::parse(config::ReadFileOrThrow(baseline_path), nullptr, false);
    if (baseline.is_discarded()) {
      throw config::ConfigError(baseline_path, "", "malformed JSON in the baseline file");
    }
    for (auto& r : experiment::CompareWithBaseline(s, specs[i], baseline, values)) {
      results.push_back(r);
    }
  }
  size_t failures = 0;
  for (const auto& r : results) {
    if (r.passed) continue;
    ++failures;
    std::cout << "FAIL " << r.scenario << (r.variant.empty() ? "" : "/" + r.variant) << " "
              << r.metric << " [" << r.kind << "]: " << r.message << "\n";
  }
  std::cout << results.size() << " checks, " << failures << " failed\n";
  if (!junit_path.empty())
    experiment::WriteFileAtomically(junit_path, experiment::JUnitXml(results));
  if (!markdown_path.empty()) {
    experiment::WriteFileAtomically(markdown_path, experiment::MarkdownSummary(results));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace orchsim::tools
