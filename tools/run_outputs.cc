#include "tools/run_outputs.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "engine/experiment/build_info.h"

namespace orchsim::tools {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPlaceholder = "{variant}";
constexpr const char* kPartial = ".partial";

Status CheckVariantFileName(const std::string& variant) {
  if (variant.empty() || variant == "." || variant == ".." ||
      variant.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
    return Status::InvalidArgument("variant \"" + variant +
                                   "\" cannot be part of a file name; use --record FILE "
                                   "with --variant to name its trace yourself");
  }
  return Status::Ok();
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

}  // namespace

StatusOr<std::vector<RecordTarget>> ResolveRecordPaths(const std::string& spec,
                                                       const std::vector<std::string>& variants) {
  if (spec.empty()) return Status::InvalidArgument("--record: empty path");
  std::vector<RecordTarget> targets;
  std::error_code ec;
  const bool folder = spec.back() == '/' || fs::is_directory(spec, ec);
  if (spec.find(kPlaceholder) != std::string::npos || folder) {
    for (const std::string& v : variants) {
      if (Status s = CheckVariantFileName(v); !s.ok()) return s;
      std::string path;
      if (folder && spec.find(kPlaceholder) == std::string::npos) {
        path = (fs::path(spec) / (v + ".jsonl")).string();
      } else {
        path = spec;
        for (size_t at = path.find(kPlaceholder); at != std::string::npos;
             at = path.find(kPlaceholder, at + v.size())) {
          path.replace(at, kPlaceholder.size(), v);
        }
      }
      targets.push_back({v, std::move(path)});
    }
    return targets;
  }
  if (variants.size() != 1) {
    return Status::InvalidArgument(
        "--record " + spec + ": " + std::to_string(variants.size()) +
        " variants would write one file; choose one with --variant, or give a pattern "
        "with {variant} (traces/{variant}.jsonl) or a folder (traces/)");
  }
  targets.push_back({variants.front(), spec});
  return targets;
}

RunOutputs::RunOutputs(const scenario::Scenario& scenario, uint64_t seed,
                       std::vector<RecordTarget> record, std::string openmetrics_path,
                       std::optional<Duration> step)
    : scenario_(scenario),
      seed_(seed),
      record_(std::move(record)),
      openmetrics_path_(std::move(openmetrics_path)),
      step_(step ? *step : experiment::OpenMetricsStep(scenario.start, scenario.end)) {
  if (!openmetrics_path_.empty()) {
    openmetrics_ = std::make_unique<experiment::OpenMetricsExport>();
  }
}

RunOutputs::~RunOutputs() {
  recorder_.reset();
  sink_.reset();
  if (!trace_path_.empty()) RemoveQuietly(trace_path_ + kPartial);
  if (!openmetrics_path_.empty()) RemoveQuietly(openmetrics_path_ + kPartial);
}

experiment::RunOptions RunOutputs::Begin(const std::string& variant,
                                         experiment::ProgressFn progress) {
  experiment::RunOptions options;
  options.progress = std::move(progress);
  for (const RecordTarget& target : record_) {
    if (target.variant != variant) continue;
    trace_path_ = target.path;
    const fs::path parent = fs::path(trace_path_).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    StatusOr<std::unique_ptr<trace::FileTraceSink>> sink =
        trace::FileTraceSink::Open(trace_path_ + kPartial);
    if (!sink.ok()) throw std::runtime_error(sink.status().message());
    sink_ = std::move(sink).value();
    trace::TraceHeader header;
    header.source = trace::TraceSource::kSimulation;
    header.scenario = scenario_.name;
    header.variant = variant;
    header.seed = seed_;
    header.start = scenario_.start;
    header.generator = "orchsim " + std::string(experiment::OrchsimVersion()) + " (" +
                       std::string(experiment::OrchsimGitCommit()) + ")";
    recorder_ = std::make_unique<trace::TraceRecorder>(*sink_, header);
    options.extra_observers.push_back(recorder_.get());
  }
  if (openmetrics_) {
    options.extra_observers.push_back(&openmetrics_->BeginRun(variant, scenario_.start, step_));
    openmetrics_open_ = true;
  }
  options.on_finished = [this](world::MockTransport&, Instant end) { run_end_ = end; };
  return options;
}

void RunOutputs::End() {
  if (openmetrics_open_) {
    openmetrics_->EndRun(run_end_);
    openmetrics_open_ = false;
  }
  if (sink_ == nullptr) return;
  const uint64_t requests = recorder_->requests_written();
  const uint64_t calls = recorder_->calls_written();
  recorder_.reset();
  const Status closed = sink_->Close();
  sink_.reset();
  if (!closed.ok()) throw std::runtime_error(closed.message());
  std::error_code ec;
  fs::rename(trace_path_ + kPartial, trace_path_, ec);
  if (ec) throw std::runtime_error("cannot write " + trace_path_ + ": " + ec.message());
  written_.push_back("trace written to " + trace_path_ + " (" + std::to_string(requests) +
                     " requests, " + std::to_string(calls) + " calls)");
  trace_path_.clear();
}

void RunOutputs::Finish() {
  if (!openmetrics_) return;
  const fs::path parent = fs::path(openmetrics_path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  const std::string partial = openmetrics_path_ + kPartial;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + openmetrics_path_);
    openmetrics_->Write(out);
    out.close();
    if (!out) throw std::runtime_error("cannot write " + openmetrics_path_);
  }
  fs::rename(partial, openmetrics_path_, ec);
  if (ec) throw std::runtime_error("cannot write " + openmetrics_path_ + ": " + ec.message());
  written_.push_back("openmetrics written to " + openmetrics_path_ + " (step " +
                     FormatDuration(step_) + ")");
}

}  // namespace orchsim::tools
