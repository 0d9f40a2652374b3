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

// The overview figure (calls saved, breaker trips, wait p99 per class), drawn
// as <name>.png and .svg beside report.md and shown near its top.
inline constexpr const char* kOverviewPlot = "overview";

struct ReplicationSummary;  // replications.h

// The report opens with the verdict under the scenario's "slo" (slo.h; none
// without one), then an overview: the figure kOverviewPlot and the three
// headline measures (calls saved, breaker trips, queue wait p99 per class)
// per variant; then the scenario (description, seed, span, versions). With
// `replications`, a section of means and 95% intervals over the seeds
// follows, and the verdict judges the intervals. Throws ConfigError for a
// bad "slo" (callers validate it first).
std::string ReportMarkdown(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                           const ReplicationSummary* replications = nullptr);

// The last section of report.md, "## Plots": links to the plots when they
// were drawn (ReportMarkdown ends with PlotsSection(true)), else a note on how
// to draw them, so a report never links images that are not there.
std::string PlotsSection(bool drawn);
// `report` (a report.md) with its "## Plots" section replaced by
// PlotsSection(drawn) and its overview figure by OverviewFigure(drawn);
// unchanged when it has neither.
std::string WithPlotsSection(const std::string& report, bool drawn);
// The overview figure's image link when drawn, else a note saying how to
// draw it.
std::string OverviewFigure(bool drawn);

// "1,234,567" (thousands separated by commas; negative numbers keep their sign).
std::string WithCommas(int64_t value);

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_REPORT_H_
