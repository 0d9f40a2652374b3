// run_outputs.h — the optional outputs of `orchsim run` besides its result
// folder: a trace per variant (--record, policies/trace/trace_format.h) and
// the run's time series as OpenMetrics text (--openmetrics,
// engine/experiment/openmetrics_export.h).
//
// --record SPEC names one file per variant run:
//   - SPEC containing "{variant}": the placeholder is replaced by the
//     variant's name (traces/{variant}.jsonl);
//   - SPEC naming an existing folder, or ending in '/': <folder>/<variant>.jsonl
//     (the folder is created when missing);
//   - otherwise SPEC is the file itself, which is only unambiguous when one
//     variant runs: with several, ResolveRecordPaths fails (exit status 2).
// Files are written under "<path>.partial" while the run streams into them
// and renamed when the variant's run has ended; on failure (or when the
// command stops early) partial files are removed, so nothing half-written
// is left behind. The OpenMetrics file is written the same way after the
// last variant.
#ifndef ORCHSIM_TOOLS_RUN_OUTPUTS_H_
#define ORCHSIM_TOOLS_RUN_OUTPUTS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/experiment/openmetrics_export.h"
#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"
#include "policies/status.h"
#include "policies/trace/trace_recorder.h"
#include "policies/trace/trace_sink.h"

namespace orchsim::tools {

struct RecordTarget {
  std::string variant;
  std::string path;
};

// The trace file of each of `variants` for --record `spec` (see above), or a
// Status saying why the spec is ambiguous or unusable.
StatusOr<std::vector<RecordTarget>> ResolveRecordPaths(const std::string& spec,
                                                       const std::vector<std::string>& variants);

class RunOutputs {
 public:
  // `record`: from ResolveRecordPaths (may be empty); `openmetrics_path`: ""
  // for none; `step`: the OpenMetrics step (nullopt: OpenMetricsStep).
  RunOutputs(const scenario::Scenario& scenario, uint64_t seed, std::vector<RecordTarget> record,
             std::string openmetrics_path, std::optional<Duration> step);
  ~RunOutputs();  // removes what is still partial
  RunOutputs(const RunOutputs&) = delete;
  RunOutputs& operator=(const RunOutputs&) = delete;

  bool empty() const { return record_.empty() && openmetrics_path_.empty(); }
  // The options for the run of `variant` (its observers attached), with
  // `progress`. Throws std::runtime_error when a trace file cannot be opened.
  experiment::RunOptions Begin(const std::string& variant, experiment::ProgressFn progress);
  // After the run Begin prepared: closes and renames its trace.
  void End();
  // After the last run: writes the OpenMetrics file.
  void Finish();
  // One line per file written: "trace written to PATH (R requests, C calls)".
  const std::vector<std::string>& written() const { return written_; }

 private:
  const scenario::Scenario& scenario_;
  uint64_t seed_;
  std::vector<RecordTarget> record_;
  std::string openmetrics_path_;
  Duration step_;
  std::unique_ptr<experiment::OpenMetricsExport> openmetrics_;
  // The run in progress.
  std::unique_ptr<trace::FileTraceSink> sink_;
  std::unique_ptr<trace::TraceRecorder> recorder_;
  std::string trace_path_;
  Instant run_end_;
  bool openmetrics_open_ = false;
  std::vector<std::string> written_;
};

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_RUN_OUTPUTS_H_
