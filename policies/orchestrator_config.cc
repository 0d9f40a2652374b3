#include "policies/orchestrator_config.h"

#include <cmath>
#include <initializer_list>

namespace orchsim {
namespace {

Status Prefixed(const std::string& prefix, Status status) {
  if (status.ok() || prefix.empty()) return status;
  return Status::InvalidArgument(prefix + status.message());
}

Status FirstError(std::initializer_list<Status> parts) {
  for (const Status& part : parts) {
    if (!part.ok()) return part;
  }
  return Status::Ok();
}

}  // namespace

Status CallPolicy::validate() const {
  if (!(expected_credits_per_call >= 0 && expected_credits_per_call <= kMaxCreditsPerCall)) {
    return FieldError("expected_credits_per_call", expected_credits_per_call,
                      "must be >= 0 and <= 1e12 credits");
  }
  return FirstError({breaker.validate(), retry.validate(), timeouts.validate(), cache.validate(),
                     coalescer.validate(), batcher.validate(), hedging.validate()});
}

CallPolicy& ApiPolicy::Endpoint(const std::string& endpoint) {
  auto it = endpoints.find(endpoint);
  if (it == endpoints.end()) {
    it = endpoints.emplace(endpoint, static_cast<const CallPolicy&>(*this)).first;
  }
  return it->second;
}

const CallPolicy& ApiPolicy::ForEndpoint(std::string_view endpoint) const {
  auto it = endpoints.find(endpoint);
  return it == endpoints.end() ? *this : it->second;
}

Status ApiPolicy::validate() const {
  Status s = FirstError({bucket.validate(), quota.validate(), concurrency.validate(),
                         retry_budget.validate(), adaptive_throttling.validate(),
                         retry_throttling.validate(), adaptive_concurrency.validate(),
                         CallPolicy::validate()});
  if (!s.ok()) return s;
  for (const auto& [name, endpoint] : endpoints) {
    if (!(s = Prefixed("endpoints." + name + ".", endpoint.validate())).ok()) return s;
  }
  return Status::Ok();
}

ApiPolicy& OrchestratorConfig::Api(const std::string& api) {
  auto it = apis.find(api);
  if (it == apis.end()) it = apis.emplace(api, defaults).first;
  return it->second;
}

const ApiPolicy& OrchestratorConfig::ForApi(std::string_view api) const {
  auto it = apis.find(api);
  return it == apis.end() ? defaults : it->second;
}

Status OrchestratorConfig::validate() const {
  Status s = defaults.validate();
  if (!s.ok()) return s;
  for (const auto& [name, api] : apis) {
    if (!(s = Prefixed("apis." + name + ".", api.validate())).ok()) return s;
  }
  return FirstError({queue.validate(), cache_store.validate(), prefetch.validate(),
                     health.validate(), cost.validate()});
}

}  // namespace orchsim
