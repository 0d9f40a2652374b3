#include "engine/experiment/comparison.h"

#include <algorithm>
#include <cstdio>

#include "engine/experiment/number_format.h"

namespace orchsim::experiment {
namespace {

// Renders rows as columns padded to their widest cell; column 0 left-aligned.
std::string Align(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < rows[r].size(); ++i) {
      const std::string& cell = rows[r][i];
      const std::string pad(widths[i] - cell.size(), ' ');
      out += i == 0 ? cell + pad : "  " + pad + cell;
    }
    out += "\n";
    if (r == 0) {
      size_t total = 0;
      for (size_t w : widths) total += w + 2;
      out += std::string(total - 2, '-') + "\n";
    }
  }
  return out;
}

std::string P50P99Cell(const Histogram& h) {
  if (h.count() == 0) return "-";
  return Fixed(InMillis(h.Quantile(0.5)), 0) + "/" + Fixed(InMillis(h.Quantile(0.99)), 0);
}

std::string Signed(int64_t v) {
  std::string text = std::to_string(v);
  if (v > 0) text.insert(text.begin(), '+');
  return text;
}

}  // namespace

uint64_t UpstreamCalls(const VariantRun& run) {
  if (run.upstreams.empty()) return run.metrics.upstream_calls;
  uint64_t calls = 0;
  for (const auto& [name, u] : run.upstreams) calls += u.calls;
  return calls;
}

uint64_t UpstreamCallsOfKind(const VariantRun& run, CallKind kind) {
  if (run.upstreams.empty()) return run.metrics.calls_of_kind(kind);
  uint64_t calls = 0;
  for (const auto& [name, u] : run.upstreams) calls += u.calls_by_kind[static_cast<int>(kind)];
  return calls;
}

const VariantRun* FindRun(const std::vector<VariantRun>& runs, const std::string& name) {
  for (const VariantRun& r : runs) {
    if (r.variant == name) return &r;
  }
  return nullptr;
}

int64_t CallsSaved(const std::vector<VariantRun>& runs, const std::string& baseline,
                   const VariantRun& run) {
  const VariantRun* base = FindRun(runs, baseline);
  if (base == nullptr) return 0;
  return static_cast<int64_t>(UpstreamCalls(*base)) - static_cast<int64_t>(UpstreamCalls(run));
}

std::optional<CallsSavedBreakdown> SavedAgainst(const std::vector<VariantRun>& runs,
                                                const std::string& baseline,
                                                const VariantRun& run) {
  const VariantRun* base = FindRun(runs, baseline);
  if (base == nullptr) return std::nullopt;
  CallsSavedBreakdown b;
  b.baseline = baseline;
  b.baseline_calls = UpstreamCalls(*base);
  b.calls = UpstreamCalls(run);
  b.saved = static_cast<int64_t>(b.baseline_calls) - static_cast<int64_t>(b.calls);
  b.saved_fraction = b.baseline_calls == 0
                         ? 0.0
                         : static_cast<double>(b.saved) / static_cast<double>(b.baseline_calls);
  return b;
}

uint64_t QuotaRefusedCalls(const VariantRun& run) {
  uint64_t refused = 0;
  for (const auto& [name, u] : run.upstreams) refused += u.quota_rejected;
  return refused;
}

std::vector<std::string> CountMismatches(const VariantRun& run) {
  std::vector<std::string> out;
  std::vector<std::string> names;
  for (const auto& [name, api] : run.metrics.apis) names.push_back(name);
  for (const auto& [name, u] : run.upstreams) {
    if (run.metrics.apis.count(name) == 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const auto m = run.metrics.apis.find(name);
    const auto u = run.upstreams.find(name);
    for (int k = 0; k < kCallKindCount; ++k) {
      // A fleet's shared limiter may keep a call from the upstream.
      const uint64_t core = (m == run.metrics.apis.end() ? 0 : m->second.calls_by_kind[k]) -
                            run.overload.StoppedBeforeUpstream(name, static_cast<CallKind>(k));
      const uint64_t mock = u == run.upstreams.end() ? 0 : u->second.calls_by_kind[k];
      if (core != mock) {
        out.push_back(run.variant + ": " + name + " " +
                      std::string(CallKindName(static_cast<CallKind>(k))) + " calls: core sent " +
                      std::to_string(core) + ", upstream counted " + std::to_string(mock));
      }
    }
  }
  return out;
}

std::string ComparisonTable(const scenario::Scenario& scenario,
                            const std::vector<VariantRun>& runs) {
  const bool has_baseline = FindRun(runs, scenario.baseline) != nullptr;
  std::vector<std::vector<std::string>> main_rows = {
      {"variant", "requests", "upstream calls",
       has_baseline ? "saved vs " + scenario.baseline : "saved", "credits", "quota exhausted",
       "breaker trips", "retries", "outdated", "data age p99", "client failures"}};
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    std::string saved = "-";
    if (auto b = SavedAgainst(runs, scenario.baseline, run)) {
      saved = std::to_string(b->saved) + " (" + Percent(b->saved_fraction) + ")";
    }
    main_rows.push_back(
        {run.variant, std::to_string(m.submitted), std::to_string(UpstreamCalls(run)), saved,
         Fixed(m.credits, 0), Fixed(InSeconds(m.quota_exhausted_time) / 3600.0, 1) + "h",
         std::to_string(m.breaker_trips), std::to_string(m.retries), Percent(m.outdated_fraction()),
         Fixed(InSeconds(m.data_age.Quantile(0.99)), 0) + "s",
         std::to_string(m.client_failures()) + " (" +
             Percent(m.submitted == 0 ? 0.0
                                      : static_cast<double>(m.client_failures()) /
                                            static_cast<double>(m.submitted)) +
             ")"});
  }
  std::string out = Align(main_rows);
  // The call balance: calls = requests - served without a call - failed
  // without a call + added + other (metrics.h).
  std::vector<std::vector<std::string>> balance_rows = {
      {"call balance", "requests", "-cache hits", "-stale", "-coalesced", "-batched",
       "-failed w/o call", "+retries/hedges/probes/prefetch", "+other", "=calls"}};
  for (const VariantRun& run : runs) {
    const RequestAccounting& a = run.metrics.accounting;
    const CallBalance b = run.metrics.balance();
    balance_rows.push_back({run.variant, std::to_string(a.requests), std::to_string(a.cache_hits),
                            std::to_string(a.stale_without_call), std::to_string(a.coalesced),
                            std::to_string(a.batched_keys), std::to_string(b.failed_without_call),
                            std::to_string(b.added), Signed(b.other), std::to_string(b.calls)});
  }
  out += "\n";
  out += Align(balance_rows);
  std::vector<std::vector<std::string>> wait_rows = {{"queue wait p50/p99 (ms)"}};
  for (Priority p : kAllPriorities) wait_rows[0].push_back(std::string(PriorityName(p)));
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {run.variant};
    for (Priority p : kAllPriorities) {
      row.push_back(P50P99Cell(run.metrics.wait_by_priority[PriorityIndex(p)]));
    }
    wait_rows.push_back(row);
  }
  std::vector<std::vector<std::string>> outcome_rows = {{"outcomes"}};
  for (int i = 0; i < kOutcomeCount; ++i) {
    outcome_rows[0].push_back(std::string(OutcomeName(static_cast<Outcome>(i))));
  }
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {run.variant};
    for (int i = 0; i < kOutcomeCount; ++i) row.push_back(std::to_string(run.metrics.outcomes[i]));
    outcome_rows.push_back(row);
  }
  std::vector<std::vector<std::string>> latency_rows = {{"end-to-end latency p50/p99 (ms)"}};
  for (Priority p : kAllPriorities) latency_rows[0].push_back(std::string(PriorityName(p)));
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {run.variant};
    for (Priority p : kAllPriorities) {
      row.push_back(P50P99Cell(run.metrics.latency_by_priority[PriorityIndex(p)]));
    }
    latency_rows.push_back(row);
  }
  return out + "\n" + Align(wait_rows) + "\n" + Align(latency_rows) + "\n" + Align(outcome_rows);
}

}  // namespace orchsim::experiment
