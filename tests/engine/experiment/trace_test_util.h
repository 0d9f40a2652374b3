// Test helper: run one variant of a scenario and record its trace to a file,
// as `orchsim run --record` does.
#ifndef ORCHSIM_TESTS_ENGINE_EXPERIMENT_TRACE_TEST_UTIL_H_
#define ORCHSIM_TESTS_ENGINE_EXPERIMENT_TRACE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/experiment/runner.h"
#include "engine/scenario/scenario.h"
#include "policies/trace/trace_recorder.h"
#include "policies/trace/trace_sink.h"

namespace orchsim::experiment {

inline VariantRun RecordVariant(const scenario::Scenario& scenario, const std::string& variant,
                                const std::string& path) {
  StatusOr<std::unique_ptr<trace::FileTraceSink>> sink = trace::FileTraceSink::Open(path);
  EXPECT_TRUE(sink.ok()) << sink.status().message();
  trace::TraceHeader header;
  header.source = trace::TraceSource::kSimulation;
  header.scenario = scenario.name;
  header.variant = variant;
  header.seed = scenario.seed;
  header.start = scenario.start;
  trace::TraceRecorder recorder(**sink, header);
  RunOptions options;
  options.extra_observers.push_back(&recorder);
  const scenario::Variant* v = scenario.FindVariant(variant);
  EXPECT_NE(v, nullptr) << variant;
  VariantRun run = RunVariant(scenario, *v, scenario.seed, options);
  EXPECT_TRUE((*sink)->Close().ok());
  return run;
}

}  // namespace orchsim::experiment

#endif  // ORCHSIM_TESTS_ENGINE_EXPERIMENT_TRACE_TEST_UTIL_H_
