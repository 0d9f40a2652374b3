#include "engine/fidelity/fidelity_suite.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "engine/fidelity/bucket_window_check.h"
#include "engine/fidelity/health_chain_check.h"
#include "engine/fidelity/overload_checks.h"
#include "engine/fidelity/queueing_experiment.h"
#include "engine/fidelity/queueing_theory.h"
#include "engine/scenario/scenario.h"

namespace orchsim::fidelity {
namespace {

namespace fs = std::filesystem;

std::string Fixed(double x, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, x);
  return buffer;
}

void Print(std::ostream& log, const FidelitySection& section) {
  log << "== " << section.title << "\n";
  for (const CheckLine& line : section.lines) log << FormatCheckLine(line) << "\n";
  log.flush();
}

FidelitySection Cobham(bool long_version) {
  FidelitySection section;
  section.title = "1. Cobham: non-preemptive priority M/M/1";
  const int reps = long_version ? 20 : 10;
  const int64_t scale = long_version ? 5 : 1;
  section.description =
      "The production Orchestrator with only its priority queue (no escalation) and a "
      "concurrency limit of 1; exponential service of mean 1 s; Poisson arrivals per class "
      "(CRITICAL, HIGH, NORMAL). Measured: Result::queue_wait (submit -> first send, checked "
      "against an observer for every request). Expected: W_k = W0 / ((1 - s_{k-1})(1 - s_k)). "
      "Tolerance: the expected value inside the 95% CI of " +
      std::to_string(reps) + " replications.";
  struct Case {
    std::string name;
    std::vector<double> rates;
    int64_t measured;
  };
  std::vector<Case> cases = {{"load0.3", {0.1, 0.1, 0.1}, 20000},
                             {"load0.8", {0.2, 0.3, 0.3}, 40000},
                             {"load0.9", {0.2, 0.3, 0.4}, 100000}};
  if (long_version) cases.insert(cases.begin() + 1, {"load0.6", {0.1, 0.2, 0.3}, 40000});
  for (const Case& c : cases) {
    QueueingExperimentConfig config;
    config.arrival_rates_per_s = c.rates;
    config.measured_customers = c.measured * scale;
    config.warmup_customers = config.measured_customers / 10;
    config.replications = reps;
    config.seed = 8;
    const QueueingExperimentResult r = RunQueueingExperiment(config);
    const std::vector<double> expected = CobhamExponentialWaits(c.rates, 1.0);
    for (size_t k = 0; k < expected.size(); ++k) {
      section.lines.push_back(
          CiCheck("cobham/" + c.name,
                  "wait " + std::string(PriorityName(static_cast<Priority>(k))) + " (s)",
                  r.wait_by_class_s[k], expected[k]));
    }
    section.lines.push_back(BoundCheck("cobham/" + c.name, "queue_wait != send - submit",
                                       static_cast<double>(r.queue_wait_mismatches), 0, 0, 0,
                                       "exactly 0 requests"));
  }
  return section;
}

FidelitySection ErlangCSection(bool long_version) {
  FidelitySection section;
  section.title = "2. Erlang C: M/M/2";
  const int reps = long_version ? 20 : 10;
  section.description =
      "The same core with a concurrency limit of 2 and one class; service rate 1/s. Expected: "
      "Erlang C probability of waiting and mean wait. Tolerance: 95% CI of " +
      std::to_string(reps) + " replications.";
  std::vector<double> lambdas = {1.0, 1.6};
  if (long_version) lambdas = {0.5, 1.0, 1.4, 1.6, 1.8};
  for (double lambda : lambdas) {
    QueueingExperimentConfig config;
    config.arrival_rates_per_s = {lambda};
    config.servers = 2;
    config.measured_customers = long_version ? 200000 : 50000;
    config.warmup_customers = config.measured_customers / 10;
    config.replications = reps;
    config.seed = 1;
    const QueueingExperimentResult r = RunQueueingExperiment(config);
    const ErlangCResult theory = ErlangC(2, lambda, 1.0);
    const std::string name = "erlang_c/lambda" + Fixed(lambda, 1);
    section.lines.push_back(CiCheck(name, "P(wait)", r.p_wait, theory.p_wait));
    section.lines.push_back(CiCheck(name, "mean wait (s)", r.wait_all_s, theory.mean_wait_s));
  }
  return section;
}

FidelitySection Bucket(const FidelitySuiteOptions& options) {
  FidelitySection section;
  section.title = "3. Token bucket: window bound over whole seasons";
  section.description =
      "Every variant of " + options.season_scenario +
      " over its whole season with a checker observing every call sent (probes excluded). "
      "Simulated: max over all windows of (cost admitted - rate x T) in tokens; expected bound: "
      "burst. Exact integer arithmetic (nano-tokens x microseconds).";
  const scenario::Scenario scenario = scenario::LoadScenario(options.season_scenario);
  section.lines = RunBucketWindowChecks(scenario, scenario.seed);
  return section;
}

FidelitySection Backoff(bool long_version, BackoffSweep* sweep) {
  FidelitySection section;
  section.title = "4. Brooker: exponential backoff and jitter (OCC contention)";
  std::vector<int> clients = {10, 25, 50, 100};
  int runs = 20;
  if (long_version) {
    clients = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    runs = 100;
  }
  section.description =
      "N clients each update one OCC row once (read version, conditional write); network delay "
      "|Normal(10 ms, 2 ms)| per message; base 5 ms, cap 2 s; sleeps from the core's Backoff "
      "(k-th failure sleeps Next(k + 1), the published numbering). " +
      std::to_string(runs) +
      " runs per point. Checked: the published shape at N = 100 and the growth of writes.";
  *sweep = RunBackoffSweep(clients, runs, 2015);
  section.lines = BackoffShapeChecks(*sweep);
  return section;
}

FidelitySection Health(bool long_version) {
  FidelitySection section;
  section.title = "5. Markov-modulated upstream: time fractions vs pi Q = 0";
  HealthChainConfig config;
  config.model = FastCyclingHealthModel();
  config.replications = long_version ? 20 : 10;
  config.horizon = long_version ? Days(10000) : Days(1000);
  section.description =
      "MockUpstream health timeline (healthy 3h, degraded 45m, down 20m mean sojourns; "
      "healthy->down 0.2, degraded->down 0.3, down->degraded 0.5) over " +
      FormatDuration(config.horizon) +
      " per replication after a 10d warm-up; expected pi from pi Q = 0 solved with Eigen. "
      "Tolerance: 95% CI of " +
      std::to_string(config.replications) + " replications.";
  const HealthChainResult r = RunHealthChainCheck(config);
  for (int s = 0; s < world::kUpstreamHealthCount; ++s) {
    const auto i = static_cast<size_t>(s);
    section.lines.push_back(CiCheck(
        "health_chain",
        "time " + std::string(world::UpstreamHealthName(static_cast<world::UpstreamHealth>(s))),
        r.fraction[i], r.expected[i]));
  }
  return section;
}

FidelitySection Quota(bool long_version,
                      std::vector<std::pair<std::string, QuotaPacingResult>>* months) {
  FidelitySection section;
  section.title = "6. Quota pacing: demand above the monthly quota";
  section.description =
      "The Orchestrator in quota pace mode against a MockUpstream with a calendar-month quota "
      "(odds-api headers, 3 credits per call, 1500 credits) and Poisson demand at about 3x the "
      "quota; requests time out after 1h. Checked: no quota refusal, exhaustion only in the final "
      "slot, every day's spend within +/-10% of limit/days, >= 95% of the quota used.";
  std::vector<std::pair<std::string, QuotaPacingConfig>> configs;
  configs.emplace_back("2023-09", QuotaPacingConfig{});
  if (long_version) {
    QuotaPacingConfig october;
    october.month_start = Instant::FromUnixMicros(1696118400LL * 1000000);  // 2023-10-01
    october.days_in_month = 31;
    october.seed = 7;
    configs.emplace_back("2023-10", october);
  }
  for (const auto& [name, config] : configs) {
    const QuotaPacingResult r = RunQuotaPacing(config);
    months->emplace_back(name, r);
    for (CheckLine line : QuotaPacingChecks(r)) {
      line.check = name + "/" + line.check;
      section.lines.push_back(line);
    }
  }
  return section;
}

FidelitySection MmcKSection(bool long_version) {
  FidelitySection section;
  section.title = "7. M/M/c/K: an upstream with capacity";
  section.description =
      "Poisson arrivals sent straight to a MockUpstream with capacity (c servers, K - c "
      "waiting places, FIFO, exponential service of mean 1 s) through MockTransport; "
      "measured after 2,000 arrivals: the share refused for a full queue and the mean wait of "
      "the admitted (mean latency - mean service). Expected: P_K and W_q = L_q / (lambda (1 - "
      "P_K)) of the M/M/c/K closed form. Tolerance: 95% CI of " +
      std::to_string(long_version ? 20 : 10) + " replications.";
  section.lines = MmcKChecks(long_version);
  return section;
}

FidelitySection AttemptsSection(bool long_version) {
  FidelitySection section;
  section.title = "8. Retries: expected attempts under independent failures";
  section.description =
      "The production Orchestrator with only retries on (n attempts, no backoff) against a "
      "MockUpstream that answers 500 with probability p, independently per call. Measured: "
      "upstream calls per request. Expected: (1 - p^n) / (1 - p). Tolerance: 95% CI of " +
      std::to_string(long_version ? 20 : 10) + " replications.";
  section.lines = AttemptsChecks(long_version);
  return section;
}

// Writes `text` to dir/name through a temporary file and a rename.
void WriteAtomically(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path partial = dir / (name + ".partial");
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + partial.string());
  }
  std::error_code ec;
  fs::rename(partial, dir / name, ec);
  if (ec) throw std::runtime_error("cannot rename " + partial.string() + ": " + ec.message());
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string Number(double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", x);
  return buffer;
}

}  // namespace

Status QueueingCheckSpec::validate() const {
  if (arrival_rates_per_s.empty() || arrival_rates_per_s.size() > 4) {
    return FieldError("--arrival-rates", static_cast<int64_t>(arrival_rates_per_s.size()),
                      "classes given; expected 1 to 4 rates (CRITICAL, HIGH, NORMAL, LOW)");
  }
  double total = 0.0;
  for (double rate : arrival_rates_per_s) {
    if (!(rate > 0) || !std::isfinite(rate)) {
      return FieldError("--arrival-rates", rate, "must be > 0 (requests per second)");
    }
    total += rate;
  }
  if (!(service_rate_per_s > 0) || !std::isfinite(service_rate_per_s)) {
    return FieldError("--service-rate", service_rate_per_s, "must be > 0 (per second)");
  }
  if (servers < 1 || servers > 1000) return FieldError("--servers", servers, "must be in 1..1000");
  const double load = total / (servers * service_rate_per_s);
  if (!(load < 1.0)) {
    return FieldError("--arrival-rates", total,
                      "per second overload " + std::to_string(servers) + " server(s) at " +
                          Fixed(service_rate_per_s, 3) + "/s (load " + Fixed(load, 3) +
                          " >= 1): the queue grows without bound, there is no steady state to "
                          "compare with");
  }
  if (measured_customers < 100) {
    return FieldError("--customers", measured_customers, "must be >= 100");
  }
  if (replications < 2) return FieldError("--replications", replications, "must be >= 2");
  return Status::Ok();
}

FidelitySection RunQueueingCheck(const QueueingCheckSpec& spec) {
  FidelitySection section;
  double total = 0.0;
  std::string rates;
  for (double r : spec.arrival_rates_per_s) {
    total += r;
    rates += (rates.empty() ? "" : ", ") + Fixed(r, 3);
  }
  section.title =
      "Your queue: M/M/" + std::to_string(spec.servers) + " with non-preemptive priorities";
  section.description =
      "The production Orchestrator with only its priority queue and a concurrency limit of " +
      std::to_string(spec.servers) + "; arrival rates per class (most urgent first) " + rates +
      " per second, exponential service at " + Fixed(spec.service_rate_per_s, 3) +
      " per second. Expected: W_k = W0 / ((1 - s_{k-1})(1 - s_k)), W0 = C(c, a) / (c mu) "
      "(Cobham for c = 1, Erlang C for one class). Tolerance: the expected value inside the 95% "
      "CI of " +
      std::to_string(spec.replications) + " replications of " +
      std::to_string(spec.measured_customers) + " customers.";
  QueueingExperimentConfig config;
  config.arrival_rates_per_s = spec.arrival_rates_per_s;
  config.mean_service = Duration::FromMicros(std::llround(1e6 / spec.service_rate_per_s));
  config.servers = spec.servers;
  config.measured_customers = spec.measured_customers;
  config.warmup_customers = spec.measured_customers / 10;
  config.replications = spec.replications;
  config.seed = spec.seed;
  const QueueingExperimentResult r = RunQueueingExperiment(config);
  // Expected with the service rate the simulation really uses (whole us).
  const double mu = 1e6 / static_cast<double>(config.mean_service.micros());
  const std::vector<double> expected = PriorityMMcWaits(spec.arrival_rates_per_s, mu, spec.servers);
  const std::string name = "queueing/M/M/" + std::to_string(spec.servers);
  for (size_t k = 0; k < expected.size(); ++k) {
    section.lines.push_back(
        CiCheck(name, "wait " + std::string(PriorityName(static_cast<Priority>(k))) + " (s)",
                r.wait_by_class_s[k], expected[k]));
  }
  section.lines.push_back(
      CiCheck(name, "P(wait)", r.p_wait, ErlangC(spec.servers, total, mu).p_wait));
  section.lines.push_back(BoundCheck(name, "queue_wait != send - submit",
                                     static_cast<double>(r.queue_wait_mismatches), 0, 0, 0,
                                     "exactly 0 requests"));
  return section;
}

bool FidelitySuiteResult::AllPass() const {
  for (const FidelitySection& s : sections) {
    for (const CheckLine& line : s.lines) {
      if (!line.pass) return false;
    }
  }
  return true;
}

FidelitySuiteResult RunFidelitySuite(const FidelitySuiteOptions& options, std::ostream& log) {
  FidelitySuiteResult result;
  result.long_version = options.long_version;
  auto add = [&](FidelitySection section) {
    Print(log, section);
    result.sections.push_back(std::move(section));
  };
  add(Cobham(options.long_version));
  add(ErlangCSection(options.long_version));
  add(Bucket(options));
  add(Backoff(options.long_version, &result.backoff));
  add(Health(options.long_version));
  add(Quota(options.long_version, &result.quota_months));
  add(MmcKSection(options.long_version));
  add(AttemptsSection(options.long_version));
  return result;
}

void WriteFidelityFiles(const std::string& dir, const FidelitySuiteResult& result) {
  const fs::path target(dir);
  fs::create_directories(target);

  std::ostringstream checks;
  checks << "section,check,quantity,simulated,expected,low,high,tolerance,pass\n";
  for (size_t i = 0; i < result.sections.size(); ++i) {
    for (const CheckLine& l : result.sections[i].lines) {
      checks << (i + 1) << "," << CsvField(l.check) << "," << CsvField(l.quantity) << ","
             << Number(l.simulated) << "," << Number(l.expected) << "," << Number(l.low) << ","
             << Number(l.high) << "," << CsvField(l.tolerance) << "," << (l.pass ? 1 : 0) << "\n";
    }
  }

  std::ostringstream backoff;
  backoff << "algorithm,clients,runs,writes_mean,writes_half_width,completion_ms_mean,"
             "completion_ms_half_width\n";
  for (size_t k = 0; k < result.backoff.results.size(); ++k) {
    for (size_t i = 0; i < result.backoff.clients.size(); ++i) {
      const BackoffContentionResult& r = result.backoff.results[k][i];
      backoff << BackoffKindName(kPublishedBackoffKinds[k]) << "," << result.backoff.clients[i]
              << "," << r.runs.size() << "," << Number(r.writes.mean) << ","
              << Number(r.writes.half_width) << "," << Number(r.completion_ms.mean) << ","
              << Number(r.completion_ms.half_width) << "\n";
    }
  }

  std::ostringstream quota;
  quota << "month,day,credits,even\n";
  for (const auto& [month, r] : result.quota_months) {
    for (size_t d = 0; d < r.credits_by_day.size(); ++d) {
      quota << month << "," << (d + 1) << "," << Number(r.credits_by_day[d]) << ","
            << Number(r.even_per_day) << "\n";
    }
  }

  std::ostringstream md;
  int passed = 0, total = 0;
  for (const FidelitySection& s : result.sections) {
    for (const CheckLine& l : s.lines) {
      ++total;
      passed += l.pass ? 1 : 0;
    }
  }
  md << "# orchsim fidelity report (" << (result.long_version ? "long" : "fast") << ")\n\n"
     << "The production core, run on the simulation kernel, against queueing theory, the health "
        "chain's stationary law and the published backoff experiment. "
     << passed << " of " << total << " checks pass"
     << (result.AllPass() ? "." : " — SEE FAILURES BELOW.") << "\n\n"
     << "Data: `checks.csv`, `backoff.csv`, `quota_daily.csv`. Plots are drawn by "
        "`tools/plot_fidelity.py` from those files.\n\n";
  const char* plots[] = {"cobham.png",       "erlang_c.png",    "bucket.png", "backoff_writes.png",
                         "health_chain.png", "quota_daily.png", "mmck.png",   "attempts.png"};
  for (size_t i = 0; i < result.sections.size(); ++i) {
    const FidelitySection& s = result.sections[i];
    md << "## " << s.title << "\n\n" << s.description << "\n\n";
    if (i < std::size(plots)) md << "![" << s.title << "](" << plots[i] << ")\n\n";
    if (i == 3) md << "![completion time](backoff_time.png)\n\n";
    md << "| check | quantity | simulated | expected | accepted | tolerance | result |\n"
       << "|---|---|---:|---:|---|---|---|\n";
    for (const CheckLine& l : s.lines) {
      const std::string low = l.low < -1e299 ? "-inf" : Number(l.low);
      const std::string high = l.high > 1e299 ? "inf" : Number(l.high);
      md << "| " << l.check << " | " << l.quantity << " | " << Number(l.simulated) << " | "
         << Number(l.expected) << " | [" << low << ", " << high << "] | " << l.tolerance << " | "
         << (l.pass ? "pass" : "**FAIL**") << " |\n";
    }
    md << "\n";
  }
  if (!result.backoff.clients.empty()) {
    md << "### Backoff sweep (mean over runs)\n\n| algorithm |";
    for (int n : result.backoff.clients) md << " N=" << n << " writes |";
    md << " N=" << result.backoff.clients.back() << " time (ms) |\n|---|";
    for (size_t i = 0; i <= result.backoff.clients.size(); ++i) md << "---:|";
    md << "\n";
    for (size_t k = 0; k < result.backoff.results.size(); ++k) {
      md << "| " << BackoffKindName(kPublishedBackoffKinds[k]) << " |";
      for (const BackoffContentionResult& r : result.backoff.results[k]) {
        md << " " << Fixed(r.writes.mean, 1) << " |";
      }
      md << " " << Fixed(result.backoff.results[k].back().completion_ms.mean, 0) << " |\n";
    }
    md << "\n";
  }

  WriteAtomically(target, "checks.csv", checks.str());
  WriteAtomically(target, "backoff.csv", backoff.str());
  WriteAtomically(target, "quota_daily.csv", quota.str());
  WriteAtomically(target, "report.md", md.str());
}

}  // namespace orchsim::fidelity
