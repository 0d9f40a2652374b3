#include "tools/check_command.h"

#include <filesystem>
#include <iostream>

#include "engine/experiment/atomic_file.h"
#include "engine/experiment/check.h"
#include "engine/experiment/replications.h"
#include "engine/experiment/run_size.h"
#include "engine/experiment/runner.h"
#include "engine/experiment/slo.h"
#include "engine/scenario/scenario.h"
#include "policies/config/input_file.h"
#include "tools/cli_common.h"

namespace orchsim::tools {
namespace {

// The command that recreates `path`'s baseline, as the user would type it.
std::string UpdateCommand(const std::string& baseline_dir, bool baseline_given,
                          const std::string& scenario_file, int seeds) {
  std::string command = "orchsim check --update-baselines";
  if (baseline_given) command += " --baseline " + baseline_dir;
  if (seeds > 1) command += " --seeds " + std::to_string(seeds);
  return command + " " + scenario_file;
}

}  // namespace

int CheckCommand(const std::vector<std::string>& args) {
  std::string baseline_dir = "results/baselines";
  std::string junit_path;
  std::string markdown_path;
  int seed_count = 1;
  std::vector<std::string> limit_texts;
  po::options_description options(
      "orchsim check SCENARIO... [options]\n\n"
      "Runs each scenario (every variant, on the scenario's seed or --seeds N seeds from it),\n"
      "evaluates its \"expect\" block (on every seed) and compares every metric (the mean\n"
      "over the seeds) with the committed baseline <baseline dir>/<scenario name>.json\n"
      "within the scenario's \"tolerances\" (directional: an improvement passes).\n"
      "Exit status: 0 all checks hold, 1 a check fails, 2 bad input (also a scenario\n"
      "beyond the size limits), 3 cannot write a file (a baseline, --junit, --markdown),\n"
      "4 out of memory or internal error.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "baseline", po::value<std::string>(&baseline_dir),
      "folder of baseline files (default: results/baselines)")(
      "seeds", po::value<int>(&seed_count),
      "replications: run seeds S..S+N-1 (S: the scenario's seed); default 1")(
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
  if (seed_count < 1 || seed_count > 10000) {
    std::cerr << "orchsim check: --seeds " << seed_count << ": expected 1 to 10000\n";
    return 2;
  }
  for (const char* option : {"baseline", "junit", "markdown"}) RequireNonEmpty(vm, option);
  experiment::RunLimits limits;
  for (const std::string& text : limit_texts) limits.Set(text);
  const bool update = vm.count("update-baselines") > 0;
  const bool baseline_given = vm.count("baseline") > 0;
  // Load and validate everything before running anything.
  std::vector<scenario::Scenario> scenarios;
  std::vector<experiment::CheckSpec> specs;
  const std::vector<std::string> files = vm["scenario"].as<std::vector<std::string>>();
  for (const std::string& path : files) {
    scenarios.push_back(scenario::LoadScenario(path));
    PrintScenarioWarnings("check", scenarios.back());
    experiment::RunSize size = experiment::EstimateRunSize(scenarios.back());
    size.rows = 0;  // check writes no time series
    experiment::CheckRunSize(size, limits, path);
    specs.push_back(experiment::ReadCheckSpec(scenarios.back()));
    experiment::ReadSloSpec(scenarios.back());
  }
  Progress progress(!vm.count("quiet"));
  std::vector<experiment::CheckResult> results;
  std::vector<experiment::CheckedScenario> checked;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const scenario::Scenario& s = scenarios[i];
    experiment::SeedValues values;
    std::vector<std::string> variant_names;
    for (int k = 0; k < seed_count; ++k) {
      const uint64_t seed = s.seed + static_cast<uint64_t>(k);
      const auto runs =
          experiment::RunComparison(s, {}, seed, [&](const std::string& variant, double f) {
            progress.Update(
                s.name + "/" + variant + (seed_count > 1 ? " seed " + std::to_string(seed) : ""),
                f);
          });
      progress.Done();
      if (variant_names.empty()) {
        for (const auto& run : runs) variant_names.push_back(run.variant);
      }
      values.seeds.push_back(seed);
      values.values.push_back(experiment::FlattenRuns(s, runs));
    }
    const auto means = values.Means();
    // The verdict under the scenario's objectives, for the Markdown summary
    // (judged on the intervals over the seeds, as run --seeds does).
    const experiment::ReplicationSummary replicated =
        experiment::SummarizeReplications(values.seeds, variant_names, values.values);
    const experiment::SloVerdict verdict = experiment::JudgeSlo(
        experiment::ReadSloSpec(s), values.seeds, variant_names, replicated.metrics);
    checked.push_back(
        {s.name, values.seeds, variant_names, means, experiment::VerdictSentence(verdict, true)});
    for (auto& r : experiment::EvaluateExpectations(s, specs[i], values)) results.push_back(r);
    const std::string baseline_path =
        (std::filesystem::path(baseline_dir) / (s.name + ".json")).string();
    const scenario::Json fresh = experiment::BaselineJson(s, values.seeds, means);
    const bool exists = std::filesystem::exists(baseline_path);
    if (update) {
      scenario::Json old = scenario::Json::object();
      if (exists) {
        old = scenario::Json::parse(config::ReadFileOrThrow(baseline_path), nullptr, false);
        if (old.is_discarded()) old = scenario::Json::object();
      }
      try {
        experiment::WriteFileAtomically(baseline_path, fresh.dump(2) + "\n");
      } catch (const std::runtime_error& e) {
        std::cerr << "orchsim check: " << e.what() << "\n";
        return 2;
      }
      const auto changes = experiment::DescribeBaselineChanges(old, fresh);
      std::cout << baseline_path << ": " << (exists ? "updated" : "created") << ", "
                << changes.size() << " metric(s) changed\n";
      for (const std::string& line : changes) std::cout << "  " << line << "\n";
      continue;
    }
    if (!exists) {
      results.push_back({s.name, "", "", "baseline", false,
                         "no baseline at " + baseline_path + "; create it with " +
                             UpdateCommand(baseline_dir, baseline_given, files[i], seed_count)});
      continue;
    }
    const scenario::Json baseline =
        config::ParseJsonOrThrow(config::ReadFileOrThrow(baseline_path), baseline_path);
    auto compared = experiment::CompareWithBaseline(s, specs[i], baseline, values.seeds, means);
    // A baseline that does not fit as a whole: say once which file and how
    // to recreate it.
    for (auto it = compared.rbegin(); it != compared.rend(); ++it) {
      if (it->variant.empty() && it->metric.empty()) {
        it->message += " (" + baseline_path + "; recreate it with " +
                       UpdateCommand(baseline_dir, baseline_given, files[i], seed_count) + ")";
        break;
      }
    }
    for (auto& r : compared) results.push_back(r);
  }
  size_t failures = 0;
  for (const auto& r : results) {
    if (r.passed) continue;
    ++failures;
    std::cout << "FAIL " << r.scenario << (r.variant.empty() ? "" : "/" + r.variant)
              << (r.metric.empty() ? "" : " " + r.metric) << " [" << r.kind << "]: " << r.message
              << "\n";
  }
  std::cout << results.size() << " checks, " << failures << " failed\n";
  // A report that cannot be written is an error of the gate itself, not a
  // failed check: IoError, exit 3 with the reason (README "Exit status").
  if (!junit_path.empty()) {
    experiment::WriteFileAtomically(junit_path, experiment::JUnitXml(results));
  }
  if (!markdown_path.empty()) {
    experiment::WriteFileAtomically(markdown_path, experiment::MarkdownSummary(results, checked));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace orchsim::tools
