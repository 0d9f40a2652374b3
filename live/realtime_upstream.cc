#include "live/realtime_upstream.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "engine/kernel/random.h"

namespace orchsim::live {

StatusOr<std::unique_ptr<RealTimeUpstream>> RealTimeUpstream::Create(Options options,
                                                                     SteadyTime origin) {
  if (Status s = options.model.validate(); !s.ok()) return s;
  if (options.start_at < options.scenario_start) {
    return Status::InvalidArgument("start " + FormatInstant(options.start_at) +
                                   " is before the scenario's start " +
                                   FormatInstant(options.scenario_start));
  }
  return std::unique_ptr<RealTimeUpstream>(new RealTimeUpstream(std::move(options), origin));
}

RealTimeUpstream::RealTimeUpstream(Options options, SteadyTime origin)
    : scenario_start_(options.scenario_start),
      start_at_(options.start_at),
      origin_(origin),
      kickoffs_(options.games),
      clock_(options.scenario_start) {
  // As the simulation runner does: the seed tree of the scenario's seed, the
  // upstream created at the scenario's start (its origin).
  const kernel::SeedTree seeds(options.seed);
  mock_ = std::make_unique<world::MockUpstream>(clock_, seeds, std::move(options.model));
  mock_->SetKickoffLookup([this](const std::string& key) { return kickoffs_.For(key); });
  clock_.RunUntil(start_at_);
}

Instant RealTimeUpstream::ScenarioTime(SteadyTime t) const {
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(t - origin_);
  const Instant at = start_at_ + Microseconds(std::max<int64_t>(0, elapsed.count()));
  return std::max(at, clock_.now());
}

Response RealTimeUpstream::Process(const UpstreamCall& call, SteadyTime t) {
  clock_.RunUntil(ScenarioTime(t));
  return mock_->Process(call);
}

}  // namespace orchsim::live
