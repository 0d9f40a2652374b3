#include "engine/experiment/openmetrics_export.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "policies/quota_headers.h"

namespace orchsim::experiment {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// Quota resets further ahead than this are not believed (quota_headers.h).
constexpr Duration kQuotaResetHorizon = Days(400);

enum class FamilyType : uint8_t { kCounter, kGauge, kHistogram };

enum FamilyId : uint8_t {
  kSubmitted,
  kRequests,
  kCalls,
  kResponses,
  kCredits,
  kRetries,
  kBudgetDenied,
  kBreakerTrips,
  kBreakerOpen,
  kBreakerState,
  kHealth,
  kQuotaRemaining,
  kQueueWait,
  kLatency,
  kFamilyCount,
};

struct Family {
  const char* name;  // the family name (counters' samples add _total)
  FamilyType type;
  const char* help;
  bool seconds;  // # UNIT seconds
  // The value of a step recorded before the series existed (NaN: no sample).
  double before_first;
};

// The order of the output; docs/metrics.md lists the same.
constexpr Family kFamilies[kFamilyCount] = {
    {"orchsim_requests_submitted", FamilyType::kCounter,
     "Client requests submitted to the core, by api and priority class.", false, 0.0},
    {"orchsim_requests", FamilyType::kCounter,
     "Client requests completed, by api and terminal outcome.", false, 0.0},
    {"orchsim_upstream_calls", FamilyType::kCounter,
     "Upstream calls sent, by api and kind (first_attempt, retry, probe, prefetch, batch).", false,
     0.0},
    {"orchsim_upstream_responses", FamilyType::kCounter,
     "Upstream answers received, by api and HTTP status (599: no answer, 499: cancelled).", false,
     0.0},
    {"orchsim_credits", FamilyType::kCounter,
     "Quota credits charged by upstreams, as their answers said.", false, 0.0},
    {"orchsim_retries", FamilyType::kCounter, "Retries scheduled, by api.", false, 0.0},
    {"orchsim_retry_budget_denied", FamilyType::kCounter,
     "Retries the retry budget refused, by api.", false, 0.0},
    {"orchsim_breaker_trips", FamilyType::kCounter,
     "Circuit breaker transitions into OPEN, by breaker (api or api/endpoint).", false, 0.0},
    {"orchsim_breaker_open_seconds", FamilyType::kCounter,
     "Time circuit breakers were not CLOSED (OPEN or HALF_OPEN).", true, 0.0},
    {"orchsim_breaker_state", FamilyType::kGauge,
     "Circuit breaker state: 0 closed, 1 open, 2 half_open.", false, 0.0},
    {"orchsim_upstream_health", FamilyType::kGauge,
     "Health the core judged an upstream to be in: 0 healthy, 1 degraded, 2 unhealthy.", false,
     kNoValue},
    {"orchsim_quota_remaining", FamilyType::kGauge,
     "Quota credits remaining, as the upstream's last quota headers said.", false, kNoValue},
    {"orchsim_queue_wait_seconds", FamilyType::kHistogram,
     "Time client requests waited in the priority queue, by the priority submitted with.", true,
     0.0},
    {"orchsim_request_latency_seconds", FamilyType::kHistogram,
     "End-to-end time of client requests (completion - arrival), by priority.", true, 0.0},
};

// Histogram series: the finite buckets, +Inf, count, sum.
constexpr uint32_t kHistogramSeries = kOpenMetricsLatencyBuckets.size() + 3;

// `name="value"` with OpenMetrics escaping (backslash, quote, newline).
void AppendLabel(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append("=\"");
  for (char c : value) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendNumber(std::string* out, double v) {
  char buffer[40];
  std::to_chars_result end;
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(v));
  } else {
    end = std::to_chars(buffer, buffer + sizeof buffer, v);
  }
  out->append(buffer, end.ptr);
}

// Seconds since the epoch, with the microseconds when there are any.
void AppendTimestamp(std::string* out, Instant t) {
  const int64_t us = t.unix_micros();
  int64_t seconds = us / 1'000'000;
  int64_t fraction = us % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  char buffer[40];
  std::to_chars_result end = std::to_chars(buffer, buffer + sizeof buffer, seconds);
  out->append(buffer, end.ptr);
  if (fraction == 0) return;
  std::string digits = std::to_string(fraction);
  digits.insert(0, 6 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  out->push_back('.');
  out->append(digits);
}

// "0.001", ..., "1.0", "60.0": the canonical float text of the le label.
std::string BucketBound(double le) {
  char buffer[32];
  std::to_chars_result end = std::to_chars(buffer, buffer + sizeof buffer, le);
  std::string text(buffer, end.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace

Duration OpenMetricsStep(Instant start, Instant end) {
  return end - start <= Days(2) ? Minutes(1) : Hours(1);
}

// One labelset of a family and its series (one, or kHistogramSeries).
struct OpenMetricsMetric {
  FamilyId family;
  std::string labels;  // `api="odds",outcome="served"` (the variant is added on output)
  uint32_t first_series;
  uint32_t series_count;
};

class OpenMetricsExport::Run : public OrchestratorObserver {
 public:
  Run(std::string variant, Instant start, Duration step)
      : variant_(std::move(variant)), start_(start), step_(step), next_boundary_(start) {
    if (step <= Duration::Zero()) throw std::invalid_argument("openmetrics: step must be > 0");
    records_ = std::tmpfile();
    if (records_ == nullptr)
      throw std::runtime_error("openmetrics: cannot create a temporary file");
  }
  ~Run() override {
    if (records_ != nullptr) std::fclose(records_);
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // ---- the observer ----
  void OnSubmitted(const Request& request, Instant now) override {
    AdvanceTo(now);
    ApiSeries& api = Api(request.api);
    ++values_[Series(api.submitted[PriorityIndex(request.priority)], kSubmitted, api, "priority",
                     PriorityName(request.priority))];
  }
  void OnCompleted(const Request& request, const Result& result, Instant now) override {
    AdvanceTo(now);
    ApiSeries& api = Api(request.api);
    ++values_[Series(api.outcome[static_cast<int>(result.outcome)], kRequests, api, "outcome",
                     OutcomeName(result.outcome))];
    Observe(Histogram(wait_, kQueueWait, request.priority), result.queue_wait);
    Observe(Histogram(latency_, kLatency, request.priority), now - request.submitted_at);
  }
  void OnCallSent(const UpstreamCall& call, Instant now) override {
    AdvanceTo(now);
    ApiSeries& api = Api(call.api);
    ++values_[Series(api.kind[static_cast<int>(call.kind)], kCalls, api, "kind",
                     CallKindName(call.kind))];
  }
  void OnCallAnswered(const UpstreamCall& call, const Response& response, bool /*late*/,
                      Instant now) override {
    AdvanceTo(now);
    ApiSeries& api = Api(call.api);
    uint32_t& status = api.status.try_emplace(response.status, kNone).first->second;
    ++values_[Series(status, kResponses, api, "status", std::to_string(response.status))];
    if (std::isfinite(response.credits_charged)) {
      values_[Series(api.credits, kCredits, api)] += response.credits_charged;
    }
    if (!response.headers.empty()) {
      const QuotaHeaders quota = ParseQuotaHeaders(response.headers, now, kQuotaResetHorizon);
      if (quota.remaining) {
        values_[Series(api.quota_remaining, kQuotaRemaining, api)] =
            FromMilliCredits(*quota.remaining);
      }
    }
  }
  void OnBreakerTransition(const BreakerTransition& t) override {
    AdvanceTo(t.at);
    BreakerSeries& b = Breaker(t.breaker);
    if (b.state != BreakerState::kClosed) b.open_us += (t.at - b.since).micros();
    if (t.to == BreakerState::kOpen) ++values_[b.trips];
    b.state = t.to;
    b.since = t.at;
    values_[b.state_gauge] = BreakerStateGauge(t.to);
  }
  void OnRetryScheduled(const Request& request, int /*attempt*/, Duration /*delay*/,
                        Instant now) override {
    AdvanceTo(now);
    ApiSeries& api = Api(request.api);
    ++values_[Series(api.retries, kRetries, api)];
  }
  void OnRetryBudgetDenied(const Request& request, Instant now) override {
    AdvanceTo(now);
    ApiSeries& api = Api(request.api);
    ++values_[Series(api.budget_denied, kBudgetDenied, api)];
  }
  void OnHealthChanged(const std::string& api, HealthState /*from*/, HealthState to,
                       Instant now) override {
    AdvanceTo(now);
    ApiSeries& series = Api(api);
    values_[Series(series.health, kHealth, series)] = HealthGauge(to);
  }

  // Records every boundary <= end, then the first one after it.
  void Finish(Instant end) {
    AdvanceTo(end);
    WriteRecord(next_boundary_);
    next_boundary_ += step_;
    if (std::fflush(records_) != 0) throw std::runtime_error("openmetrics: temporary file failed");
  }

  // ---- reading back ----
  const std::string& variant() const { return variant_; }
  const std::vector<OpenMetricsMetric>& metrics() const { return metrics_; }
  size_t steps() const { return steps_; }
  Instant StepTime(size_t k) const {
    return start_ + Duration::FromMicros(step_.micros() * static_cast<int64_t>(k));
  }
  // columns[i][k] = series[i] at step k (NaN when the step was recorded
  // before the series existed).
  void ReadColumns(const std::vector<uint32_t>& series,
                   std::vector<std::vector<double>>* columns) const {
    columns->assign(series.size(), std::vector<double>(steps_, kNoValue));
    if (std::fseek(records_, 0, SEEK_SET) != 0) {
      throw std::runtime_error("openmetrics: cannot read the temporary file");
    }
    std::vector<double> record;
    for (size_t k = 0; k < steps_; ++k) {
      uint32_t n = 0;
      if (std::fread(&n, sizeof n, 1, records_) != 1) {
        throw std::runtime_error("openmetrics: temporary file truncated");
      }
      record.resize(n);
      if (n > 0 && std::fread(record.data(), sizeof(double), n, records_) != n) {
        throw std::runtime_error("openmetrics: temporary file truncated");
      }
      for (size_t i = 0; i < series.size(); ++i) {
        if (series[i] < n) (*columns)[i][k] = record[series[i]];
      }
    }
  }

 private:
  template <size_t N>
  static std::array<uint32_t, N> Unset() {
    std::array<uint32_t, N> a;
    a.fill(kNone);
    return a;
  }
  struct ApiSeries {
    std::string labels;  // api="..."
    std::array<uint32_t, kPriorityCount> submitted = Unset<kPriorityCount>();
    std::array<uint32_t, kOutcomeCount> outcome = Unset<kOutcomeCount>();
    std::array<uint32_t, 5> kind = Unset<5>();  // by CallKind
    uint32_t credits = kNone;
    uint32_t retries = kNone;
    uint32_t budget_denied = kNone;
    uint32_t health = kNone;
    uint32_t quota_remaining = kNone;
    std::map<int, uint32_t> status;
  };
  struct BreakerSeries {
    uint32_t trips = kNone;
    uint32_t open_seconds = kNone;
    uint32_t state_gauge = kNone;
    BreakerState state = BreakerState::kClosed;
    Instant since;
    int64_t open_us = 0;  // closed intervals not CLOSED
  };
  struct HistogramSeries {
    uint32_t first = kNone;  // buckets, +Inf, count, sum
    int64_t sum_us = 0;
  };

  uint32_t AddMetric(FamilyId family, std::string labels, uint32_t series_count) {
    const uint32_t first = static_cast<uint32_t>(values_.size());
    const double initial = kFamilies[family].type == FamilyType::kGauge ? kNoValue : 0.0;
    values_.resize(values_.size() + series_count, initial);
    metrics_.push_back({family, std::move(labels), first, series_count});
    return first;
  }

  ApiSeries& Api(const std::string& name) {
    if (last_api_ != nullptr && name == last_api_name_) return *last_api_;
    auto [it, added] = apis_.try_emplace(name);
    if (added) AppendLabel(&it->second.labels, "api", name);
    last_api_ = &it->second;  // map nodes do not move
    last_api_name_ = name;
    return it->second;
  }

  // The series in `slot` (registered on first use: a series exists once
  // something happened to it; counters read 0 before).
  uint32_t Series(uint32_t& slot, FamilyId family, const ApiSeries& api,
                  std::string_view label = {}, std::string_view value = {}) {
    if (slot == kNone) {
      std::string labels = api.labels;
      if (!label.empty()) {
        labels += ",";
        AppendLabel(&labels, label, value);
      }
      slot = AddMetric(family, std::move(labels), 1);
    }
    return slot;
  }

  HistogramSeries& Histogram(std::array<HistogramSeries, kPriorityCount>& histograms,
                             FamilyId family, Priority p) {
    HistogramSeries& h = histograms[PriorityIndex(p)];
    if (h.first == kNone) {
      std::string labels;
      AppendLabel(&labels, "priority", PriorityName(p));
      h.first = AddMetric(family, std::move(labels), kHistogramSeries);
    }
    return h;
  }

  BreakerSeries& Breaker(const std::string& key) {
    auto [it, added] = breakers_.try_emplace(key);
    BreakerSeries& b = it->second;
    if (added) {
      std::string labels;
      AppendLabel(&labels, "breaker", key);
      b.trips = AddMetric(kBreakerTrips, labels, 1);
      b.open_seconds = AddMetric(kBreakerOpen, labels, 1);
      b.state_gauge = AddMetric(kBreakerState, labels, 1);
      values_[b.state_gauge] = 0;
    }
    return b;
  }

  void Observe(HistogramSeries& h, Duration d) {
    const double seconds = static_cast<double>(d.micros()) / 1e6;
    uint32_t b = 0;
    while (b < kOpenMetricsLatencyBuckets.size() && seconds > kOpenMetricsLatencyBuckets[b]) ++b;
    // Cumulative buckets: every bound at or above the value, and +Inf.
    for (uint32_t i = b; i <= kOpenMetricsLatencyBuckets.size(); ++i) ++values_[h.first + i];
    ++values_[h.first + kOpenMetricsLatencyBuckets.size() + 1];  // count
    h.sum_us += d.micros();
    values_[h.first + kOpenMetricsLatencyBuckets.size() + 2] = static_cast<double>(h.sum_us) / 1e6;
  }

  void AdvanceTo(Instant t) {
    while (next_boundary_ <= t) {
      WriteRecord(next_boundary_);
      next_boundary_ += step_;
    }
  }

  void WriteRecord(Instant boundary) {
    for (auto& [key, b] : breakers_) {
      int64_t open_us = b.open_us;
      if (b.state != BreakerState::kClosed && boundary > b.since) {
        open_us += (boundary - b.since).micros();
      }
      values_[b.open_seconds] = static_cast<double>(open_us) / 1e6;
    }
    const uint32_t n = static_cast<uint32_t>(values_.size());
    if (std::fwrite(&n, sizeof n, 1, records_) != 1 ||
        std::fwrite(values_.data(), sizeof(double), n, records_) != n) {
      throw std::runtime_error("openmetrics: cannot write the temporary file");
    }
    ++steps_;
  }

  std::string variant_;
  Instant start_;
  Duration step_;
  Instant next_boundary_;
  size_t steps_ = 0;
  std::FILE* records_ = nullptr;
  std::vector<double> values_;  // current value of every series
  std::vector<OpenMetricsMetric> metrics_;
  std::map<std::string, ApiSeries> apis_;
  ApiSeries* last_api_ = nullptr;
  std::string last_api_name_;
  std::map<std::string, BreakerSeries> breakers_;
  std::array<HistogramSeries, kPriorityCount> wait_{};
  std::array<HistogramSeries, kPriorityCount> latency_{};
};

OpenMetricsExport::OpenMetricsExport(size_t column_budget_bytes)
    : column_budget_bytes_(column_budget_bytes) {}
OpenMetricsExport::~OpenMetricsExport() = default;

OrchestratorObserver& OpenMetricsExport::BeginRun(const std::string& variant, Instant start,
                                                  Duration step) {
  if (open_) throw std::logic_error("openmetrics: BeginRun while a run is open");
  runs_.push_back(std::make_unique<Run>(variant, start, step));
  open_ = true;
  return *runs_.back();
}

void OpenMetricsExport::EndRun(Instant end) {
  if (!open_) throw std::logic_error("openmetrics: EndRun without BeginRun");
  runs_.back()->Finish(end);
  open_ = false;
}

void OpenMetricsExport::Write(std::ostream& out) const {
  if (open_) throw std::logic_error("openmetrics: Write while a run is open");
  std::string text;
  std::vector<std::vector<double>> columns;
  for (int f = 0; f < kFamilyCount; ++f) {
    const Family& family = kFamilies[f];
    bool any = false;
    for (const auto& run : runs_) {
      for (const OpenMetricsMetric& m : run->metrics()) any = any || m.family == f;
    }
    if (!any) continue;
    out << "# HELP " << family.name << ' ' << family.help << '\n';
    out << "# TYPE " << family.name << ' '
        << (family.type == FamilyType::kCounter ? "counter"
            : family.type == FamilyType::kGauge ? "gauge"
                                                : "histogram")
        << '\n';
    if (family.seconds) out << "# UNIT " << family.name << " seconds\n";
    for (const auto& run : runs_) {
      std::string variant_label;
      AppendLabel(&variant_label, "variant", run->variant());
      const std::vector<OpenMetricsMetric>& metrics = run->metrics();
      const size_t budget_series = std::max<size_t>(
          1, column_budget_bytes_ / sizeof(double) / std::max<size_t>(1, run->steps()));
      size_t i = 0;
      while (i < metrics.size()) {
        // A batch of this family's metrics whose columns fit the budget
        // (at least one metric, whatever its size).
        std::vector<const OpenMetricsMetric*> batch;
        std::vector<uint32_t> series;
        for (; i < metrics.size(); ++i) {
          const OpenMetricsMetric& m = metrics[i];
          if (m.family != f) continue;
          if (!batch.empty() && series.size() + m.series_count > budget_series) break;
          batch.push_back(&m);
          for (uint32_t s = 0; s < m.series_count; ++s) series.push_back(m.first_series + s);
        }
        if (batch.empty()) break;
        run->ReadColumns(series, &columns);
        size_t column = 0;
        for (const OpenMetricsMetric* m : batch) {
          for (size_t k = 0; k < run->steps(); ++k) {
            text.clear();
            const Instant at = run->StepTime(k);
            for (uint32_t s = 0; s < m->series_count; ++s) {
              double value = columns[column + s][k];
              if (std::isnan(value)) value = family.before_first;
              if (std::isnan(value)) continue;
              text.append(family.name);
              std::string labels = variant_label + "," + m->labels;
              if (family.type == FamilyType::kCounter) {
                text.append("_total");
              } else if (family.type == FamilyType::kHistogram) {
                const uint32_t buckets = kOpenMetricsLatencyBuckets.size();
                if (s < buckets) {
                  text.append("_bucket");
                  labels += ",";
                  AppendLabel(&labels, "le", BucketBound(kOpenMetricsLatencyBuckets[s]));
                } else if (s == buckets) {
                  text.append("_bucket");
                  labels += ",";
                  AppendLabel(&labels, "le", "+Inf");
                } else if (s == buckets + 1) {
                  text.append("_count");
                } else {
                  text.append("_sum");
                }
              }
              text.push_back('{');
              text.append(labels);
              text.append("} ");
              AppendNumber(&text, value);
              text.push_back(' ');
              AppendTimestamp(&text, at);
              text.push_back('\n');
            }
            out << text;
          }
          column += m->series_count;
        }
      }
    }
  }
  out << "# EOF\n";
  if (!out) throw std::runtime_error("openmetrics: write failed");
}

}  // namespace orchsim::experiment
