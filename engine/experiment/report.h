// report.h — report.md for a comparison: scenario, seed and versions, the
// comparison tables in GitHub Markdown, the plots embedded by relative links
// (drawn next to it by tools/plot_results.py; kPlotNames), and one generated
// paragraph per variant saying, with the numbers, what it changed against the
// baseline variant. A pure function of its inputs (byte-identical reruns).
#ifndef ORCHSIM_ENGINE_EXPERIMENT_REPORT_H_
#define ORCHSIM_ENGINE_EXPERIMENT_REPORT_H_

#include <array>
#include <string>
#include <vector>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"

namespace orchsim::experiment {

// The plots, each written as <name>.png and <name>.svg next to report.md.
inline constexpr std::array<const char*, 6> kPlotNames = {"calls", "wait",     "latency",
                                                          "quota", "breakers", "staleness"};

struct ReplicationSummary;  // replications.h

// With `replications`, a section of means and 95% intervals over the seeds
// follows the header.
std::string ReportMarkdown(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                           const ReplicationSummary* replications = nullptr);

// The last section of report.md, "## Plots": links to the plots when they
// were drawn (ReportMarkdown ends with PlotsSection(true)), else a note on how
// to draw them, so a report never links images that are not there.
// With `overload_plot`, the overload plot too (overload_report.h).
std::string PlotsSection(bool drawn, bool overload_plot = false);
// `report` (a report.md) with its "## Plots" section replaced by
// PlotsSection(drawn); unchanged when it has no such section.
std::string WithPlotsSection(const std::string& report, bool drawn);

// "1,234,567" (thousands separated by commas; negative numbers keep their sign).
std::string WithCommas(int64_t value);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_REPORT_H_
