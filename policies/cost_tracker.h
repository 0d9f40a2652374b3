// cost_tracker.h — what upstream calls cost: calls, quota credits and money,
// per upstream API and per (API, endpoint).
//
// Contract:
//   - RecordCall adds one call, `credits` quota units and the call's money,
//     per_call + per_credit * credits at the API's price, to the (api,
//     endpoint) line, the API's line and the total. Every call sent upstream
//     is recorded once, whatever its answer (failed calls are still billed).
//   - An API without a price costs no money; its calls and credits still count.
//   - Credits must be finite and >= 0 (asserted; treated as 0 in release
//     builds so one bad header cannot make the totals go backwards).
//   - Disabled: RecordCall does nothing; every line stays zero.
// Units: money in the currency unit of the prices (e.g. USD); credits in the
// upstream's quota units. Money and credits are doubles: sums of many small
// prices accumulate binary rounding error (about 1e-16 relative per call).
// Memory: one line per (API, endpoint) seen. Not thread-safe.
#ifndef ORCHSIM_POLICIES_COST_TRACKER_H_
#define ORCHSIM_POLICIES_COST_TRACKER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "policies/status.h"

namespace orchsim {

// The price of one upstream API, in the currency's unit.
struct CostPrice {
  double per_call = 0;    // charged per call; >= 0, finite
  double per_credit = 0;  // charged per quota credit; >= 0, finite
};

struct CostConfig {
  bool enabled = true;                            // false: record nothing
  std::map<std::string, CostPrice> price_by_api;  // API name (non-empty) -> price

  // Ok, or an error naming the bad field
  // ("cost.price_by_api[\"odds\"].per_call: -1 must be >= 0 and finite").
  Status validate() const;
};

struct CostLine {
  uint64_t calls = 0;
  double credits = 0;
  double money = 0;
};

// REQUIRES: config.validate() is ok.
class CostTracker {
 public:
  explicit CostTracker(const CostConfig& config);

  // One upstream call to `api`/`endpoint` that cost `credits` quota units.
  void RecordCall(const std::string& api, const std::string& endpoint, double credits);

  // Where one (API, endpoint)'s calls are recorded, kept by the caller: the
  // first RecordCall through it looks the lines up by name, later ones go
  // straight to them (a call's path does no lookup by name). Lines are still
  // made at the first call, as without it. Valid for this tracker only.
  struct LineRef {
    CostLine* line = nullptr;
    CostLine* api_line = nullptr;
    const CostPrice* price = nullptr;  // nullptr: the API has no price
  };
  // The same as RecordCall(api, endpoint, credits), through `ref`.
  void RecordCall(LineRef& ref, const std::string& api, const std::string& endpoint,
                  double credits);

  // Everything recorded.
  const CostLine& Total() const { return total_; }
  // One API's calls over all its endpoints; zero when never seen.
  CostLine ForApi(const std::string& api) const;
  // One (API, endpoint) line; zero when never seen.
  CostLine ForEndpoint(const std::string& api, const std::string& endpoint) const;
  // Every (API, endpoint) line, ordered by API then endpoint.
  const std::map<std::pair<std::string, std::string>, CostLine>& lines() const { return lines_; }

 private:
  CostConfig config_;
  CostLine total_;
  std::map<std::string, CostLine, std::less<>> by_api_;
  std::map<std::pair<std::string, std::string>, CostLine> lines_;
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_COST_TRACKER_H_
