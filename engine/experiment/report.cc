#include "engine/experiment/report.h"

#include <cstdio>
#include <sstream>

#include "engine/experiment/build_info.h"
#include "engine/experiment/comparison.h"
#include "engine/experiment/number_format.h"
#include "engine/experiment/replications.h"
#include "engine/experiment/slo.h"

namespace orchsim::experiment {
namespace {

std::string N(uint64_t v) { return WithCommas(static_cast<int64_t>(v)); }

double FailureFraction(const VariantMetrics& m) {
  return m.submitted == 0
             ? 0.0
             : static_cast<double>(m.client_failures()) / static_cast<double>(m.submitted);
}

// "1.5 h", "12 min", "30 s", "250 ms": a duration a reader takes in at once.
std::string Human(Duration d) {
  const double s = InSeconds(d);
  if (s >= 3600.0) return Fixed(s / 3600.0, 1) + " h";
  if (s >= 60.0) return Fixed(s / 60.0, 1) + " min";
  if (s >= 1.0) return Fixed(s, 1) + " s";
  return Fixed(InMillis(d), 0) + " ms";
}

std::string Row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + c + " |";
  return out + "\n";
}

std::string Header(const std::vector<std::string>& cells, size_t left_aligned = 1) {
  std::string sep = "|";
  for (size_t i = 0; i < cells.size(); ++i) sep += i < left_aligned ? " --- |" : " ---: |";
  return Row(cells) + sep + "\n";
}

std::string WaitCell(const Histogram& h) {
  if (h.count() == 0) return "–";
  return Fixed(InMillis(h.Quantile(0.5)), 0) + " / " + Fixed(InMillis(h.Quantile(0.9)), 0) + " / " +
         Fixed(InMillis(h.Quantile(0.99)), 0) + " / " + Fixed(InMillis(h.max()), 0);
}

// p50 / p90 / p99 / max / mean in ms.
std::string LatencyCell(const Histogram& h) {
  if (h.count() == 0) return "–";
  return WaitCell(h) + " / " + Fixed(h.mean() / 1e3, 0);
}

std::string Signed(int64_t v) {
  std::string out(v > 0 ? "+" : "");
  out += WithCommas(v);
  return out;
}

std::string Paragraph(const std::vector<VariantRun>& runs, const VariantRun& base,
                      const VariantRun& run) {
  const VariantMetrics& m = run.metrics;
  const VariantMetrics& b = base.metrics;
  const CallsSavedBreakdown s = *SavedAgainst(runs, base.variant, run);
  const RequestAccounting& a = m.accounting;
  const CallBalance balance = m.balance();
  const CallBalance base_balance = b.balance();
  std::ostringstream p;
  p << "**" << run.variant << "** made " << N(s.calls) << " upstream calls, ";
  if (s.saved >= 0) {
    p << WithCommas(s.saved) << " (" << Percent(s.saved_fraction) << ") fewer than " << base.variant
      << " (" << N(s.baseline_calls) << ")";
  } else {
    p << WithCommas(-s.saved) << " (" << Percent(-s.saved_fraction) << ") more than "
      << base.variant << " (" << N(s.baseline_calls) << ")";
  }
  p << ". Of its " << N(a.requests) << " requests, " << N(balance.served_without_call)
    << " were served without a call of their own";
  std::vector<std::string> parts;
  const std::pair<uint64_t, const char*> served[] = {
      {a.cache_hits, "from the cache"},
      {a.stale_without_call, "with stale data"},
      {a.coalesced, "coalesced onto another request's call"},
      {a.batched_keys, "carried in a batch call"}};
  for (const auto& [n, what] : served) {
    if (n != 0) parts.push_back(N(n) + " " + what);
  }
  if (!parts.empty()) {
    p << " (";
    for (size_t i = 0; i < parts.size(); ++i) {
      p << (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") << parts[i];
    }
    p << ")";
  }
  p << ", and " << N(balance.failed_without_call)
    << " failed before any call (not a saving: the caller got no data";
  if (base_balance.failed_without_call != 0) {
    p << "; " << base.variant << ": " << N(base_balance.failed_without_call);
  }
  p << ")";
  if (balance.added != 0) {
    p << "; retries, probes and prefetches added " << N(balance.added)
      << (balance.added == 1 ? " call" : " calls");
  }
  if (balance.other != 0) {
    p << " (" << Signed(balance.other) << " calls not explained by one term, see metrics.h)";
  }
  p << ". ";
  p << "Quota credits went from " << N(static_cast<uint64_t>(b.credits)) << " to "
    << N(static_cast<uint64_t>(m.credits));
  const uint64_t base_refused = QuotaRefusedCalls(base);
  const uint64_t refused = QuotaRefusedCalls(run);
  if (base_refused != refused) {
    p << ", calls the upstream refused for quota from " << N(base_refused) << " to " << N(refused);
  }
  if (b.quota_exhausted_time != m.quota_exhausted_time) {
    p << ", time with the quota exhausted from " << Human(b.quota_exhausted_time) << " to "
      << Human(m.quota_exhausted_time);
  }
  p << ". Client failures went from " << N(b.client_failures()) << " ("
    << Percent(FailureFraction(b)) << ") to " << N(m.client_failures()) << " ("
    << Percent(FailureFraction(m)) << ")";
  if (m.breaker_trips > 0) {
    p << "; breakers tripped " << N(m.breaker_trips) << " times and stayed open "
      << Human(m.breaker_open_time) << " in total";
  }
  if (m.retries > 0) {
    p << "; " << N(m.retries) << " retries were scheduled";
    if (m.retry_budget_denied > 0)
      p << " and " << N(m.retry_budget_denied) << " denied by the budget";
  }
  p << ". Served data was outdated in " << Percent(m.outdated_fraction()) << " of answers ("
    << base.variant << ": " << Percent(b.outdated_fraction()) << "), data age p99 "
    << Human(m.data_age.Quantile(0.99)) << ".";
  // The class whose p99 latency changed the most, in either direction.
  int worst = -1;
  int64_t worst_change = 0;
  for (Priority pr : kAllPriorities) {
    const int i = PriorityIndex(pr);
    if (m.latency_by_priority[i].count() == 0) continue;
    const int64_t change = m.latency_by_priority[i].Quantile(0.99).micros() -
                           b.latency_by_priority[i].Quantile(0.99).micros();
    if (std::llabs(change) > std::llabs(worst_change)) {
      worst = i;
      worst_change = change;
    }
  }
  if (worst >= 0) {
    p << " The largest change in end-to-end latency is for "
      << PriorityName(static_cast<Priority>(worst)) << " requests: p99 "
      << Human(b.latency_by_priority[worst].Quantile(0.99)) << " → "
      << Human(m.latency_by_priority[worst].Quantile(0.99)) << " (queue wait p99 "
      << Human(b.wait_by_priority[worst].Quantile(0.99)) << " → "
      << Human(m.wait_by_priority[worst].Quantile(0.99)) << ").";
  }
  return p.str();
}

}  // namespace

std::string WithCommas(int64_t value) {
  const bool negative = value < 0;
  std::string digits = std::to_string(negative ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  if (negative) out.insert(out.begin(), '-');
  return out;
}

std::string PlotsSection(bool drawn) {
  std::ostringstream md;
  md << "## Plots\n\n";
  if (!drawn) {
    md << "Not drawn (`--no-plots`, or Python with matplotlib was not found). Draw them with "
          "`orchsim plot <this folder>`, which adds them here. Numbers: `summary.json`, "
          "`summary.csv`, `timeseries.csv`, `quota.csv`, `breaker_transitions.csv`, "
          "`staleness.csv`.\n";
    return md.str();
  }
  const char* titles[] = {"Upstream calls, calls avoided and failures without a call, per API",
                          "Queue wait per priority class",
                          "End-to-end latency per priority class and per API",
                          "Quota credits remaining",
                          "Circuit breaker states",
                          "Staleness of served data"};
  for (size_t i = 0; i < kPlotNames.size(); ++i) {
    md << "### " << titles[i] << "\n\n![" << titles[i] << "](" << kPlotNames[i] << ".png)\n\n";
  }
  md << "Vector versions: ";
  for (size_t i = 0; i < kPlotNames.size(); ++i) {
    md << (i == 0 ? "" : ", ") << "[" << kPlotNames[i] << ".svg](" << kPlotNames[i] << ".svg)";
  }
  md << ". Numbers: `summary.json`, `summary.csv`, `timeseries.csv`, `quota.csv`, "
        "`breaker_transitions.csv`, `staleness.csv`.\n";
  return md.str();
}

std::string OverviewFigure(bool drawn) {
  if (!drawn) {
    return "*The overview figure was not drawn (`--no-plots`, or Python with matplotlib was not "
           "found); `orchsim plot <this folder>` draws it.*\n";
  }
  return "![Overview: calls saved, breaker trips and queue wait p99 per priority class](" +
         std::string(kOverviewPlot) + ".png)\n";
}

std::string ReportMarkdown(const scenario::Scenario& scenario, const std::vector<VariantRun>& runs,
                           const ReplicationSummary* replications) {
  std::ostringstream md;
  const VariantRun* base = FindRun(runs, scenario.baseline);
  md << "# orchsim report: " << scenario.name << "\n\n";
  // The decision first: the verdict under the scenario's objectives, then
  // the three headline measures in one figure.
  const SloVerdict verdict = VerdictFor(scenario, runs, replications);
  if (!verdict.empty()) {
    md << "## Verdict\n\n" << VerdictSentence(verdict, true) << "\n\n";
    md << SloMarkdownTable(verdict) << "\n" << VerdictRules(verdict) << "\n\n";
  }
  md << "## Overview\n\n" << OverviewFigure(true) << "\n";
  md << Header({"variant", base != nullptr ? "calls saved vs " + scenario.baseline : "calls saved",
                "breaker trips", "wait p99 CRITICAL", "HIGH", "NORMAL", "LOW", "PREFETCH"});
  for (const VariantRun& run : runs) {
    std::string saved = "–";
    if (auto s = SavedAgainst(runs, scenario.baseline, run)) {
      saved = WithCommas(s->saved) + " (" + Percent(s->saved_fraction) + ")";
    }
    std::vector<std::string> row = {"`" + run.variant + "`", saved, N(run.metrics.breaker_trips)};
    for (Priority p : kAllPriorities) {
      const Histogram& h = run.metrics.wait_by_priority[PriorityIndex(p)];
      row.push_back(h.count() == 0 ? "–" : Human(h.Quantile(0.99)));
    }
    md << Row(row);
  }
  md << "\nQueue wait is the time a request spent in the core's priority queue, by the class it "
        "was submitted with (– : no requests of that class)"
     << (replications != nullptr
             ? "; these numbers are seed " + std::to_string(replications->seeds.front()) + "'s"
             : "")
     << ".\n\n";

  md << "## Scenario\n\n";
  if (!scenario.description.empty()) md << scenario.description << "\n\n";
  md << "| | |\n| --- | --- |\n";
  md << "| scenario | `" << scenario.name << "` |\n";
  md << "| seed | " << (runs.empty() ? scenario.seed : runs.front().seed) << " |\n";
  md << "| simulated | " << FormatInstant(scenario.start) << " → " << FormatInstant(scenario.end)
     << " |\n";
  if (scenario.warmup > Duration::Zero()) {
    md << "| warm-up | " << FormatDuration(scenario.warmup) << ", until "
       << FormatInstant(scenario.start + scenario.warmup)
       << ": left out of every number below; the plots of the time series include it |\n";
  }
  md << "| baseline | " << (base != nullptr ? "`" + scenario.baseline + "`" : "none") << " |\n";
  md << "| orchsim | " << OrchsimVersion() << " (commit " << OrchsimGitCommit() << ") |\n\n";
  if (replications != nullptr) md << ReplicationsMarkdown(*replications);

  md << "## Comparison\n\n";
  md << Header({"variant", "requests", "upstream calls",
                base != nullptr ? "saved vs " + scenario.baseline : "saved", "credits",
                "upstream quota refusals", "breaker trips", "retries", "client failures",
                "outdated", "data age p99", "latency p99", "cost"});
  for (const VariantRun& run : runs) {
    const VariantMetrics& m = run.metrics;
    std::string saved = "–";
    if (auto s = SavedAgainst(runs, scenario.baseline, run)) {
      saved = WithCommas(s->saved) + " (" + Percent(s->saved_fraction) + ")";
    }
    md << Row({"`" + run.variant + "`", N(m.submitted), N(UpstreamCalls(run)), saved,
               N(static_cast<uint64_t>(m.credits)), N(QuotaRefusedCalls(run)), N(m.breaker_trips),
               N(m.retries), N(m.client_failures()) + " (" + Percent(FailureFraction(m)) + ")",
               Percent(m.outdated_fraction()), Human(m.data_age.Quantile(0.99)),
               Human(m.latency.Quantile(0.99)), Fixed(m.cost, 2)});
  }
  md << "\nUpstream calls are counted at the mocked upstreams.";
  bool all_match = true;
  for (const VariantRun& run : runs) all_match = all_match && CountMismatches(run).empty();
  md << (all_match ? " They equal the calls the core reports sending, per API and kind."
                   : " **They differ from the calls the core reports sending** (see "
                     "`counts_match_upstreams` in summary.json).");
  md << " *Upstream quota refusals* are calls an upstream answered \"quota exhausted\" "
        "(the request may still have been served by a retry or stale data); the outcome "
        "`rejected_quota` below counts client requests the core itself refused for quota, "
        "before any call. *Latency* is end to end: from submit to the request's outcome.\n\n";

  md << "### Call balance: where the requests went\n\n";
  md << Header({"variant", "requests", "− cache hits", "− stale answers", "− coalesced",
                "− batched", "− failed without a call", "+ retries, probes, prefetches", "+ other",
                "= upstream calls"});
  for (const VariantRun& run : runs) {
    const RequestAccounting& a = run.metrics.accounting;
    const CallBalance b = run.metrics.balance();
    md << Row({"`" + run.variant + "`", N(a.requests), N(a.cache_hits), N(a.stale_without_call),
               N(a.coalesced), N(a.batched_keys), N(b.failed_without_call), N(b.added),
               Signed(b.other), N(b.calls)});
  }
  md << "\nEach variant on its own: its upstream calls = requests − requests served without "
        "a call of their own (cache hits, stale answers, coalesced, batched keys beyond the "
        "first) − requests that failed before any call (not a saving) + calls added + other. "
        "Every term but *other* is a count ≥ 0; *other* is what no term explains (calls for "
        "coalesced followers after the request that started the call had ended; requests for "
        "one key inside one batch). Calls as the core counts them; definitions in "
        "`engine/experiment/metrics.h`.\n\n";

  md << "### Queue wait per priority class (ms: p50 / p90 / p99 / max)\n\n";
  std::vector<std::string> head = {"variant"};
  for (Priority p : kAllPriorities) head.push_back(std::string(PriorityName(p)));
  md << Header(head);
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {"`" + run.variant + "`"};
    for (Priority p : kAllPriorities) {
      row.push_back(WaitCell(run.metrics.wait_by_priority[PriorityIndex(p)]));
    }
    md << Row(row);
  }
  md << "\n### Mean queue wait and share of requests that waited at all\n\n";
  md << Header(head);
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {"`" + run.variant + "`"};
    for (Priority p : kAllPriorities) {
      const int i = PriorityIndex(p);
      const Histogram& h = run.metrics.wait_by_priority[i];
      row.push_back(h.count() == 0
                        ? "–"
                        : Human(Duration::FromMicros(static_cast<int64_t>(h.mean()))) + ", " +
                              Percent(static_cast<double>(run.metrics.waited_by_priority[i]) /
                                      static_cast<double>(h.count())));
    }
    md << Row(row);
  }
  md << "\n### End-to-end latency per priority class (ms: p50 / p90 / p99 / max / mean)\n\n";
  md << Header(head);
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {"`" + run.variant + "`"};
    for (Priority p : kAllPriorities) {
      row.push_back(LatencyCell(run.metrics.latency_by_priority[PriorityIndex(p)]));
    }
    md << Row(row);
  }
  md << "\n### End-to-end latency per API (ms: p50 / p90 / p99 / max / mean)\n\n";
  std::vector<std::string> api_head = {"variant"};
  for (const world::UpstreamModelConfig& u : scenario.upstreams) api_head.push_back(u.name);
  md << Header(api_head);
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {"`" + run.variant + "`"};
    for (const world::UpstreamModelConfig& u : scenario.upstreams) {
      auto it = run.metrics.apis.find(u.name);
      row.push_back(it == run.metrics.apis.end() ? "–" : LatencyCell(it->second.latency));
    }
    md << Row(row);
  }
  md << "\n### Outcomes\n\n";
  head = {"variant"};
  for (int i = 0; i < kOutcomeCount; ++i)
    head.push_back(std::string(OutcomeName(static_cast<Outcome>(i))));
  md << Header(head);
  for (const VariantRun& run : runs) {
    std::vector<std::string> row = {"`" + run.variant + "`"};
    for (uint64_t v : run.metrics.outcomes) row.push_back(N(v));
    md << Row(row);
  }

  if (base != nullptr && runs.size() > 1) {
    md << "\n## What each variant changed against `" << scenario.baseline << "`\n\n";
    for (const VariantRun& run : runs) {
      if (&run == base) continue;
      md << Paragraph(runs, *base, run) << "\n\n";
    }
  } else {
    md << "\n";
  }

  md << PlotsSection(true);
  return md.str();
}

std::string WithPlotsSection(const std::string& report, bool drawn) {
  std::string out = report;
  // The overview figure near the top, then the "## Plots" section.
  const std::string from = OverviewFigure(!drawn);
  const size_t figure = out.find(from);
  if (figure != std::string::npos) out.replace(figure, from.size(), OverviewFigure(drawn));
  const std::string heading = "\n## Plots\n";
  const size_t at = out.rfind(heading);
  if (at == std::string::npos) return out;
  return out.substr(0, at + 1) + PlotsSection(drawn);
}

}  // namespace orchsim::experiment
