#include "policies/cost_tracker.h"

#include <cassert>
#include <cmath>

namespace orchsim {
namespace {

bool IsPrice(double v) { return std::isfinite(v) && v >= 0.0; }

void Add(CostLine& line, double credits, double money) {
  ++line.calls;
  line.credits += credits;
  line.money += money;
}

}  // namespace

Status CostConfig::validate() const {
  for (const auto& [api, price] : price_by_api) {
    const std::string field = "cost.price_by_api[\"" + api + "\"]";
    if (api.empty())
      return FieldError("cost.price_by_api", api, "keys must be non-empty API names");
    if (!IsPrice(price.per_call)) {
      return FieldError(field + ".per_call", price.per_call, "must be >= 0 and finite");
    }
    if (!IsPrice(price.per_credit)) {
      return FieldError(field + ".per_credit", price.per_credit, "must be >= 0 and finite");
    }
  }
  return Status::Ok();
}

CostTracker::CostTracker(const CostConfig& config) : config_(config) {}

void CostTracker::RecordCall(const std::string& api, const std::string& endpoint, double credits) {
  if (!config_.enabled) return;
  const bool valid_credits = std::isfinite(credits) && credits >= 0.0;
  assert(valid_credits && "CostTracker::RecordCall: credits must be finite and >= 0");
  if (!valid_credits) credits = 0.0;
  double money = 0.0;
  if (auto it = config_.price_by_api.find(api); it != config_.price_by_api.end()) {
    money = it->second.per_call + it->second.per_credit * credits;
  }
  Add(total_, credits, money);
  Add(by_api_[api], credits, money);
  Add(lines_[{api, endpoint}], credits, money);
}

void CostTracker::RecordCall(LineRef& ref, const std::string& api, const std::string& endpoint,
                             double credits) {
  if (!config_.enabled) return;
  if (ref.line == nullptr) {
    // std::map nodes never move, so the pointers stay valid.
    ref.api_line = &by_api_[api];
    ref.line = &lines_[{api, endpoint}];
    auto it = config_.price_by_api.find(api);
    ref.price = it == config_.price_by_api.end() ? nullptr : &it->second;
  }
  const bool valid_credits = std::isfinite(credits) && credits >= 0.0;
  assert(valid_credits && "CostTracker::RecordCall: credits must be finite and >= 0");
  if (!valid_credits) credits = 0.0;
  const double money =
      ref.price == nullptr ? 0.0 : ref.price->per_call + ref.price->per_credit * credits;
  Add(total_, credits, money);
  Add(*ref.api_line, credits, money);
  Add(*ref.line, credits, money);
}

CostLine CostTracker::ForApi(const std::string& api) const {
  auto it = by_api_.find(api);
  return it == by_api_.end() ? CostLine() : it->second;
}

CostLine CostTracker::ForEndpoint(const std::string& api, const std::string& endpoint) const {
  auto it = lines_.find({api, endpoint});
  return it == lines_.end() ? CostLine() : it->second;
}

}  // namespace orchsim
