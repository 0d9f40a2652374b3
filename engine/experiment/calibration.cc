#include "engine/experiment/calibration.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <utility>

#include "engine/experiment/histogram.h"
#include "policies/quota_headers.h"
#include "policies/trace/trace_reader.h"

namespace orchsim::experiment {
namespace {

// The class a call's answer falls in, for runs and rates.
enum class CallClass : uint8_t {
  kAnswered,     // 2xx and 4xx that no other class takes
  kFailure,      // 5xx, 599, or a 499 after longer than any answer (as 599)
  kCensored,     // 499 before that: the client gave up early
  kRateLimited,  // 429 with Retry-After, not a quota refusal
  kQuotaRefusal  // 401/403/429 saying nothing remains
};

constexpr std::array<int64_t, 14> kRateWindowsSeconds = {1,   2,   5,   10,  15,   30,   60,
                                                         120, 300, 600, 900, 1800, 3600, 86400};

constexpr double kKsCritical95 = 1.358;  // sqrt(-ln(0.025) / 2): the asymptotic 95% value

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsMidnightUtc(Instant t) { return t.unix_micros() % Days(1).micros() == 0; }

bool IsMonthStartUtc(Instant t) {
  if (!IsMidnightUtc(t)) return false;
  int64_t year;
  unsigned month, day;
  CivilFromDays(FloorDiv(t.unix_micros(), Days(1).micros()), &year, &month, &day);
  return day == 1;
}

// Whether [from, to] contains a midnight UTC / the start of a month.
bool ContainsMidnight(Instant from, Instant to) {
  const int64_t day = Days(1).micros();
  return FloorDiv(to.unix_micros(), day) > FloorDiv(from.unix_micros() - 1, day);
}

bool ContainsMonthStart(Instant from, Instant to) {
  const int64_t day = Days(1).micros();
  for (int64_t d = FloorDiv(from.unix_micros() - 1, day) + 1; d <= FloorDiv(to.unix_micros(), day);
       ++d) {
    int64_t year;
    unsigned month, dom;
    CivilFromDays(d, &year, &month, &dom);
    if (dom == 1) return true;
    if (d - FloorDiv(from.unix_micros(), day) > 40) break;
  }
  return false;
}

std::optional<int64_t> IetfWindowSeconds(const std::string& policy) {
  const size_t w = policy.find(";w=");
  if (w == std::string::npos) return std::nullopt;
  int64_t value = 0;
  size_t i = w + 3;
  if (i >= policy.size() || policy[i] < '0' || policy[i] > '9') return std::nullopt;
  for (; i < policy.size() && policy[i] >= '0' && policy[i] <= '9'; ++i) {
    value = value * 10 + (policy[i] - '0');
    if (value > int64_t{1} << 40) return std::nullopt;
  }
  return value;
}

// What an answer's quota headers say.
struct QuotaSeen {
  bool odds = false, github = false, ietf = false;
  QuotaHeaders parsed;
  std::optional<int64_t> ietf_window_s;
};

QuotaSeen ReadQuota(const trace::TraceCallRecord& call) {
  QuotaSeen q;
  Headers headers;
  for (const auto& [name, value] : call.quota_headers) {
    if (name.rfind("x-requests-", 0) == 0) q.odds = true;
    if (name.rfind("x-ratelimit-", 0) == 0) q.github = true;
    if (name == "ratelimit" || name.rfind("ratelimit-", 0) == 0) q.ietf = true;
    if (name == "ratelimit-policy") q.ietf_window_s = IetfWindowSeconds(value);
    headers.Set(name, value);
  }
  q.parsed = ParseQuotaHeaders(headers, call.answered(), Days(400));
  return q;
}

bool IsQuotaRefusal(const trace::TraceCallRecord& call, const QuotaSeen& q) {
  return (call.status == 401 || call.status == 403 || call.status == 429) && q.parsed.remaining &&
         *q.parsed.remaining == 0;
}

// Per-endpoint costs of successful calls.
struct Cost {
  uint64_t calls = 0;
  double per_call = -1;  // when every call cost the same
  bool per_call_constant = true;
  double per_key = -1;  // when credits / keys is the same for every call
  bool per_key_constant = true;
  uint32_t first_keys = 0;
  bool keys_vary = false;
};

// Pass 1: per api, in file order.
struct Pass1 {
  uint64_t calls = 0;
  std::map<int, uint64_t> statuses;
  std::map<std::string, uint64_t> kinds;
  Histogram answered;  // latency (us) of calls not 499/599
  Histogram timed_out_599;
  Histogram cancelled_499;
  int64_t max_answered_us = -1;
  bool odds = false, github = false, ietf = false;
  int64_t limit_milli = -1;
  std::optional<int64_t> ietf_window_s;
  std::map<std::string, Cost> costs;
  uint32_t max_ok_keys = 0;
  uint32_t min_rejected_keys = UINT32_MAX;  // of 400 answers
  uint64_t bad_requests = 0;                // 400
  std::map<int, uint64_t> refusal_statuses;
  uint64_t rate_limited = 0;
  uint64_t max_retry_after_s = 0;
  std::set<int64_t> github_resets;  // epoch us (capped)
  int64_t github_reset_horizon_us = 0;
  std::map<int, uint64_t> other_4xx;
};

// A run of consecutive failures with one status, in send order.
struct Run {
  int status = 0;
  uint64_t length = 0;
  uint64_t cancelled = 0;  // of length: 499s counted as 599
  Instant first, last;
  std::optional<Instant> before, after;            // the sends of the calls around it
  std::vector<std::pair<int64_t, uint64_t>> bins;  // calls per change-point bin
};

// Calls and failures (answered or failed calls only) in one change-point bin.
constexpr int64_t kBinUs = 10'000'000;
struct Bin {
  int64_t index = 0;  // sent / kBinUs
  uint64_t calls = 0;
  uint64_t failures = 0;
};

// Pass 2: per api, in send order.
struct Pass2 {
  // runs
  bool in_run = false;
  Run run;
  std::optional<Instant> last_sent;
  std::vector<Run> runs;  // length >= 3 (shorter runs are never outages)
  uint64_t late_499 = 0;  // 499s after longer than any answer (timeouts)
  std::vector<Bin> bins;  // send order, non-empty
  // fixed rate-limit windows, one per candidate length
  struct Window {
    int64_t length_us = 0;
    int64_t index = INT64_MIN;
    uint64_t count = 0;
    bool limited = false;
    uint64_t max_count = 0;
    uint64_t limited_windows = 0;
    uint64_t limited_min = UINT64_MAX;
    uint64_t limited_max = 0;
    void Close() {
      max_count = std::max(max_count, count);
      if (limited) {
        ++limited_windows;
        limited_min = std::min(limited_min, count);
        limited_max = std::max(limited_max, count);
      }
      count = 0;
      limited = false;
    }
  };
  std::vector<Window> windows;
  // The Odds API: where `used` drops (a period reset between two sends).
  std::optional<int64_t> last_used;
  std::optional<Instant> last_used_at;
  uint64_t drops = 0;
  uint64_t drops_at_month_start = 0;
  uint64_t drops_at_midnight = 0;
  std::vector<Instant> drop_instants;  // the first few

  Pass2() {
    for (int64_t s : kRateWindowsSeconds) windows.push_back(Window{s * 1'000'000});
  }
};

// What pass 2 needs of a call, held in the send-order buffer.
struct CallFact {
  Instant sent;
  uint64_t line = 0;
  int api = 0;
  CallClass klass = CallClass::kAnswered;
  int status = 0;          // the run status (599 for a late 499)
  bool cancelled = false;  // a 499
  std::optional<int64_t> used_milli;
};

CallClass Classify(const trace::TraceCallRecord& call, const QuotaSeen& q,
                   int64_t max_answered_us) {
  if (call.status == kStatusCancelled) {
    return call.latency.micros() > max_answered_us ? CallClass::kFailure : CallClass::kCensored;
  }
  if (IsQuotaRefusal(call, q)) return CallClass::kQuotaRefusal;
  if (call.status == 429 && q.parsed.retry_after) return CallClass::kRateLimited;
  if (call.status >= 500) return CallClass::kFailure;
  return CallClass::kAnswered;
}

std::string Percent(double fraction) {
  char buffer[32];
  const double p = 100.0 * fraction;
  if (p == 0.0) return "0%";
  if (p >= 10) {
    std::snprintf(buffer, sizeof buffer, "%.1f%%", p);
  } else if (p >= 1) {
    std::snprintf(buffer, sizeof buffer, "%.2f%%", p);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.3g%%", p);
  }
  return buffer;
}

std::string Fixed(double value, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

// Rounds a rate to 6 significant digits (what is written).
double Round6(double x) {
  if (x == 0.0) return 0.0;
  const double scale = std::pow(10.0, 5 - std::floor(std::log10(std::fabs(x))));
  return std::round(x * scale) / scale;
}

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// The CDF of a latency model at x (us).
class ModelCdf {
 public:
  virtual ~ModelCdf() = default;
  virtual double At(double x) const = 0;
};

class TableCdf : public ModelCdf {
 public:
  explicit TableCdf(const std::vector<world::LatencyRow>& rows) : rows_(rows) {}
  double At(double x) const override {
    if (x < static_cast<double>(rows_.front().latency.micros())) return 0.0;
    for (size_t i = 1; i < rows_.size(); ++i) {
      const double v1 = static_cast<double>(rows_[i].latency.micros());
      if (x < v1) {
        const double v0 = static_cast<double>(rows_[i - 1].latency.micros());
        const double q0 = rows_[i - 1].weight;
        const double q1 = rows_[i].weight;
        return v1 > v0 ? q0 + (q1 - q0) * (x - v0) / (v1 - v0) : q1;
      }
    }
    return 1.0;
  }

 private:
  const std::vector<world::LatencyRow>& rows_;
};

class LognormalCdf : public ModelCdf {
 public:
  LognormalCdf(double median, double p99)
      : mu_(std::log(median)), sigma_(p99 > median ? std::log(p99 / median) / kernel_z99 : 0.0) {}
  double At(double x) const override {
    if (x <= 0) return 0.0;
    if (sigma_ <= 0) return x < std::exp(mu_) ? 0.0 : 1.0;
    return NormalCdf((std::log(x) - mu_) / sigma_);
  }

 private:
  static constexpr double kernel_z99 = 2.3263478740408408;
  double mu_, sigma_;
};

// sup |F_n - F| evaluated at the histogram's bucket bounds: just below each
// bucket's lower bound and at its upper bound, where F_n is exact.
double KsDistance(const Histogram& h, const ModelCdf& model) {
  const double n = static_cast<double>(h.count());
  if (n == 0) return 0.0;
  double below = 0.0;
  double d = 0.0;
  for (const HistogramBucket& b : h.Buckets(Histogram::kSubBuckets)) {
    d = std::max(d, std::fabs(below / n - model.At(static_cast<double>(b.lower) - 0.5)));
    below += static_cast<double>(b.count);
    d = std::max(d, std::fabs(below / n - model.At(static_cast<double>(b.upper))));
  }
  return d;
}

// -2 log-likelihood of `failures` in `calls` Bernoulli trials at their own rate.
double BernoulliCost(double calls, double failures) {
  double c = 0.0;
  if (failures > 0) c -= failures * std::log(failures / calls);
  if (calls - failures > 0) c -= (calls - failures) * std::log((calls - failures) / calls);
  return 2.0 * c;
}

// Binary segmentation of the bins (Scott & Knott 1974): split a segment at
// the bin boundary that lowers the summed cost most, when it lowers it by
// more than `penalty`, then each part likewise. A spell inside a segment can
// lower the cost only with two splits (one split leaves it diluted), so when
// no single split pays, the best pair of splits is looked for (as circular
// binary segmentation does, Olshen et al. 2004) on a grid of at most 512
// points, its edges then refined bin by bin, a pair paying twice the penalty.
// Returns the segment starts (indexes into bins, first 0, ascending).
// O(n log n) for few changes (the exact optimum, PELT, is quadratic when
// changes are rare, as here).
std::vector<size_t> BinarySegmentation(const std::vector<Bin>& bins, double penalty) {
  const size_t m = bins.size();
  std::vector<double> calls(m + 1, 0.0), failures(m + 1, 0.0);
  for (size_t i = 0; i < m; ++i) {
    calls[i + 1] = calls[i] + static_cast<double>(bins[i].calls);
    failures[i + 1] = failures[i] + static_cast<double>(bins[i].failures);
  }
  auto cost = [&](size_t a, size_t b) {
    return BernoulliCost(calls[b] - calls[a], failures[b] - failures[a]);
  };
  std::vector<size_t> starts = {0};
  std::vector<std::pair<size_t, size_t>> pending = {{0, m}};
  std::vector<double> gain;
  constexpr size_t kMaxSegments = 100000;
  constexpr size_t kGrid = 512;
  while (!pending.empty() && starts.size() < kMaxSegments) {
    // Plain variables, not a structured binding: clang 14 cannot capture a
    // binding in the lambda below.
    const size_t a = pending.back().first;
    const size_t b = pending.back().second;
    pending.pop_back();
    if (b - a < 2) continue;
    const double whole = cost(a, b);
    gain.assign(b - a, 0.0);
    size_t best = a;
    for (size_t k = a + 1; k < b; ++k) {
      gain[k - a] = whole - cost(a, k) - cost(k, b);
      if (gain[k - a] > gain[best - a]) best = k;
    }
    if (best > a && gain[best - a] > penalty) {
      starts.push_back(best);
      pending.push_back({best, b});
      pending.push_back({a, best});
      continue;
    }
    // Two splits: the best pair on a grid of at most kGrid points, then each
    // edge refined to the bin with the other held.
    const size_t step = std::max<size_t>(1, (b - a) / kGrid);
    auto pair_gain = [&](size_t i, size_t j) {
      return whole - cost(a, i) - cost(i, j) - cost(j, b);
    };
    double best_pair = 2.0 * penalty;
    size_t first = 0, second = 0;
    for (size_t i = a + step; i < b; i += step) {
      for (size_t j = i + step; j < b; j += step) {
        const double g = pair_gain(i, j);
        if (g > best_pair) {
          best_pair = g;
          first = i;
          second = j;
        }
      }
    }
    if (first != 0 && step > 1) {
      for (size_t i = std::max(a + 1, first - std::min(first, step));
           i < second && i <= first + step; ++i) {
        if (pair_gain(i, second) > best_pair) {
          best_pair = pair_gain(i, second);
          first = i;
        }
      }
      for (size_t j = first + 1; j < b && j <= second + step; ++j) {
        if (j + step < second) continue;
        if (pair_gain(first, j) > best_pair) {
          best_pair = pair_gain(first, j);
          second = j;
        }
      }
    }
    if (first == 0) continue;
    starts.push_back(first);
    starts.push_back(second);
    pending.push_back({second, b});
    pending.push_back({first, second});
    pending.push_back({a, first});
  }
  std::sort(starts.begin(), starts.end());
  return starts;
}

double LogLikelihood(double calls, double failures, double rate) {
  const double p = std::clamp(rate, 1e-12, 1.0 - 1e-12);
  return failures * std::log(p) + (calls - failures) * std::log(1.0 - p);
}

}  // namespace

RateEstimate WilsonInterval(uint64_t count, uint64_t trials) {
  RateEstimate r;
  r.count = count;
  r.trials = trials;
  if (trials == 0) return r;
  const double z = 1.959963984540054;
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(count) / n;
  const double denominator = 1.0 + z * z / n;
  const double center = (p + z * z / (2 * n)) / denominator;
  const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator;
  r.rate = p;
  r.low = std::max(0.0, center - half);
  r.high = std::min(1.0, center + half);
  if (count == 0) r.low = 0.0;
  if (count == trials) r.high = 1.0;
  return r;
}

std::string CalibrationError::ToString() const {
  return line > 0 ? file + ": line " + std::to_string(line) + ": " + message
                  : file + ": " + message;
}

CalibrationResult Calibrate(const std::string& path, const CalibrationOptions& options) {
  CalibrationResult result;
  auto fail = [&](uint64_t line, std::string message) {
    result.error = CalibrationError{path, line, std::move(message)};
    return result;
  };
  const std::set<std::string> wanted(options.apis.begin(), options.apis.end());
  Calibration cal;
  cal.file = path;

  // ---- pass 1: file order ----
  std::map<std::string, Pass1> first;
  int64_t max_call_latency_us = 0;
  Duration send_lateness;  // how far a send lies before one read earlier
  {
    trace::TraceFileReader reader(path);
    if (!reader.error().empty()) return fail(0, reader.error());
    trace::TraceLineParser parser;
    std::string_view line;
    bool header = false;
    std::optional<Instant> latest_sent;
    while (reader.Next(&line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const std::string error = parser.Parse(line);
      if (!error.empty()) return fail(reader.line_number(), error);
      if (!header) {
        if (parser.type() != trace::TraceLineType::kHeader) {
          return fail(reader.line_number(), "expected the trace's header line first");
        }
        header = true;
        cal.header = parser.header();
        continue;
      }
      if (parser.type() == trace::TraceLineType::kHeader) {
        return fail(reader.line_number(), "a second header line: one file holds one trace");
      }
      if (parser.type() == trace::TraceLineType::kRequest) {
        ++cal.requests;
        continue;
      }
      const trace::TraceCallRecord& call = parser.call();
      ++cal.calls;
      if (!wanted.empty() && wanted.count(call.api) == 0) continue;
      if (latest_sent && call.sent < *latest_sent) {
        send_lateness = std::max(send_lateness, *latest_sent - call.sent);
      } else {
        latest_sent = call.sent;
      }
      max_call_latency_us = std::max(max_call_latency_us, call.latency.micros());
      Pass1& a = first[call.api];
      ++a.calls;
      ++a.statuses[call.status];
      ++a.kinds[std::string(CallKindName(call.kind))];
      const QuotaSeen q = ReadQuota(call);
      a.odds |= q.odds;
      a.github |= q.github;
      a.ietf |= q.ietf;
      if (q.ietf_window_s)
        a.ietf_window_s = std::max(a.ietf_window_s.value_or(0), *q.ietf_window_s);
      if (q.odds && q.parsed.remaining && q.parsed.used && *q.parsed.remaining > 0) {
        a.limit_milli = std::max(a.limit_milli, *q.parsed.remaining + *q.parsed.used);
      } else if (!q.odds && q.parsed.limit) {
        a.limit_milli = std::max(a.limit_milli, *q.parsed.limit);
      }
      if (q.github && q.parsed.reset_at) {
        if (a.github_resets.size() < 10000)
          a.github_resets.insert(q.parsed.reset_at->unix_micros());
        a.github_reset_horizon_us =
            std::max(a.github_reset_horizon_us, (*q.parsed.reset_at - call.sent).micros());
      }
      if (call.status == kStatusCancelled) {
        a.cancelled_499.Record(call.latency);
      } else if (call.status == kStatusTransportError) {
        a.timed_out_599.Record(call.latency);
      } else {
        a.answered.Record(call.latency);
        a.max_answered_us = std::max(a.max_answered_us, call.latency.micros());
      }
      if (IsQuotaRefusal(call, q)) {
        ++a.refusal_statuses[call.status];
      } else if (call.status == 429 && q.parsed.retry_after) {
        ++a.rate_limited;
        a.max_retry_after_s = std::max<uint64_t>(
            a.max_retry_after_s,
            static_cast<uint64_t>((*q.parsed.retry_after - call.answered()).micros() / 1'000'000));
      } else if (call.status == 400) {
        ++a.bad_requests;
        a.min_rejected_keys =
            std::min(a.min_rejected_keys, static_cast<uint32_t>(call.keys.size()));
      } else if (call.status >= 400 && call.status < 500 && call.status != kStatusCancelled) {
        ++a.other_4xx[call.status];
      }
      if (call.status >= 200 && call.status < 300) {
        const uint32_t keys = static_cast<uint32_t>(call.keys.size());
        a.max_ok_keys = std::max(a.max_ok_keys, keys);
        Cost& c = a.costs[call.endpoint];
        const double per_key = keys > 0 ? call.credits / keys : call.credits;
        if (c.calls == 0) {
          c.per_call = call.credits;
          c.per_key = per_key;
          c.first_keys = keys;
        } else {
          if (call.credits != c.per_call) c.per_call_constant = false;
          if (std::fabs(per_key - c.per_key) > 1e-9) c.per_key_constant = false;
          if (keys != c.first_keys) c.keys_vary = true;
        }
        ++c.calls;
      }
    }
    if (!reader.error().empty()) return fail(reader.line_number() + 1, reader.error());
    if (!header)
      return fail(0, "the file is empty: expected an orchsim trace (a header line first)");
    cal.lines = reader.line_number();
  }
  for (const std::string& api : wanted) {
    if (first.count(api) == 0) {
      std::string seen;
      for (const auto& [name, a] : first) seen += (seen.empty() ? "" : ", ") + name;
      return fail(0, "no call to api \"" + api + "\" in the trace" +
                         (seen.empty() ? std::string() : " (it has: " + seen + ")"));
    }
  }
  if (first.empty()) return fail(0, "no call lines: nothing to calibrate from");

  // ---- pass 2: send order, through a reorder window ----
  std::vector<std::string> names;
  for (const auto& [name, a] : first) names.push_back(name);
  std::map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int>(i);
  std::vector<Pass2> second(names.size());
  {
    auto later = [](const CallFact& a, const CallFact& b) {
      if (a.sent != b.sent) return a.sent > b.sent;
      return a.line > b.line;
    };
    std::vector<CallFact> heap;
    auto process = [&](const CallFact& f) {
      Pass2& p = second[f.api];
      // Runs of one failure status (censored calls neither extend nor end them).
      if (f.klass != CallClass::kCensored) {
        const bool failure = f.klass == CallClass::kFailure;
        if (p.in_run && (!failure || f.status != p.run.status)) {
          p.run.after = f.sent;
          if (p.run.length >= 3) p.runs.push_back(p.run);
          p.in_run = false;
        }
        const int64_t bin = FloorDiv(f.sent.unix_micros(), kBinUs);
        if (p.bins.empty() || p.bins.back().index != bin) p.bins.push_back(Bin{bin, 0, 0});
        ++p.bins.back().calls;
        if (failure) ++p.bins.back().failures;
        if (failure) {
          if (!p.in_run) {
            p.run = Run{f.status, 0, 0, f.sent, f.sent, p.last_sent, std::nullopt, {}};
            p.in_run = true;
          }
          ++p.run.length;
          if (p.run.bins.empty() || p.run.bins.back().first != bin) p.run.bins.push_back({bin, 0});
          ++p.run.bins.back().second;
          if (f.cancelled) {
            ++p.run.cancelled;
            ++p.late_499;
          }
          p.run.last = f.sent;
        }
        p.last_sent = f.sent;
      }
      // Fixed rate-limit windows.
      for (Pass2::Window& w : p.windows) {
        const int64_t i = FloorDiv(f.sent.unix_micros(), w.length_us);
        if (i != w.index) {
          if (w.index != INT64_MIN) w.Close();
          w.index = i;
        }
        if (f.klass == CallClass::kRateLimited) {
          w.limited = true;
        } else {
          ++w.count;
        }
      }
      // The Odds API's used count, where it drops.
      if (f.used_milli) {
        if (p.last_used && *f.used_milli < *p.last_used) {
          ++p.drops;
          if (ContainsMonthStart(*p.last_used_at, f.sent)) ++p.drops_at_month_start;
          if (ContainsMidnight(*p.last_used_at, f.sent)) ++p.drops_at_midnight;
          if (p.drop_instants.size() < 3) p.drop_instants.push_back(f.sent);
        }
        p.last_used = f.used_milli;
        p.last_used_at = f.sent;
      }
    };
    trace::TraceFileReader reader(path);
    trace::TraceLineParser parser;
    std::string_view line;
    std::optional<Instant> watermark;
    while (reader.Next(&line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      if (!parser.Parse(line).empty()) return fail(reader.line_number(), "changed while read");
      if (parser.type() != trace::TraceLineType::kCall) continue;
      const trace::TraceCallRecord& call = parser.call();
      const auto it = index.find(call.api);
      if (it == index.end()) continue;
      const QuotaSeen q = ReadQuota(call);
      CallFact f;
      f.sent = call.sent;
      f.line = reader.line_number();
      f.api = it->second;
      f.klass = Classify(call, q, first[call.api].max_answered_us);
      f.status = call.status == kStatusCancelled ? kStatusTransportError : call.status;
      f.cancelled = call.status == kStatusCancelled;
      if (q.odds && q.parsed.used && call.status >= 200 && call.status < 300) {
        f.used_milli = q.parsed.used;
      }
      if (!watermark || f.sent > *watermark) watermark = f.sent;
      heap.push_back(f);
      std::push_heap(heap.begin(), heap.end(), later);
      while (!heap.empty() && heap.front().sent + send_lateness < *watermark) {
        std::pop_heap(heap.begin(), heap.end(), later);
        process(heap.back());
        heap.pop_back();
      }
    }
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      process(heap.back());
      heap.pop_back();
    }
    for (Pass2& p : second) {
      if (p.in_run && p.run.length >= 3) p.runs.push_back(p.run);
      for (Pass2::Window& w : p.windows) {
        if (w.index != INT64_MIN) w.Close();
      }
    }
  }

  // ---- outages and degraded windows, per api ----
  std::vector<ApiFit> fits(names.size());
  for (size_t api = 0; api < names.size(); ++api) {
    const Pass1& a = first[names[api]];
    Pass2& p = second[api];
    ApiFit& fit = fits[api];
    fit.api = names[api];
    fit.calls = a.calls;
    fit.statuses = a.statuses;
    fit.kinds = a.kinds;

    // Outages: runs too long for the background rate, to a fixed point.
    std::map<int, uint64_t> failures_by_status;  // a late 499 as 599
    for (const auto& [status, count] : a.statuses) {
      if (status >= 500) failures_by_status[status] += count;
    }
    if (p.late_499 > 0) failures_by_status[kStatusTransportError] += p.late_499;
    const double n = static_cast<double>(a.calls);
    std::set<size_t> outages;
    std::map<int, uint64_t> in_outages;
    uint64_t outage_calls = 0;
    for (int iteration = 0; iteration < 50; ++iteration) {
      in_outages.clear();
      outage_calls = 0;
      for (size_t r : outages) {
        in_outages[p.runs[r].status] += p.runs[r].length;
        outage_calls += p.runs[r].length;
      }
      const double outside = std::max(1.0, n - static_cast<double>(outage_calls));
      std::set<size_t> next;
      for (size_t r = 0; r < p.runs.size(); ++r) {
        const Run& run = p.runs[r];
        const uint64_t of_status = failures_by_status[run.status];
        const double rate =
            static_cast<double>(of_status - std::min(of_status, in_outages[run.status])) / outside;
        if (n * std::pow(rate, static_cast<double>(run.length)) <= options.outage_false_runs) {
          next.insert(r);
        }
      }
      if (next == outages) break;
      outages = std::move(next);
    }
    const double outside_calls = std::max(1.0, n - static_cast<double>(outage_calls));
    auto background = [&](int status) {
      const uint64_t of_status = failures_by_status[status];
      return static_cast<double>(of_status - std::min(of_status, in_outages[status])) /
             outside_calls;
    };
    {
      // The shortest run that counts, for the most common failure status.
      int common = 0;
      uint64_t most = 0;
      for (const auto& [status, count] : failures_by_status) {
        if (count > most) {
          most = count;
          common = status;
        }
      }
      if (most > 0) {
        const double rate = background(common);
        int k = 3;
        while (k < 100000 && n * std::pow(rate, k) > options.outage_false_runs) ++k;
        fit.outage_min_run = k;
      }
    }

    // Change points of the error rate outside the outages.
    for (size_t r : outages) {
      for (const auto& [index, count] : p.runs[r].bins) {
        auto bin = std::lower_bound(p.bins.begin(), p.bins.end(), index,
                                    [](const Bin& b, int64_t i) { return b.index < i; });
        if (bin == p.bins.end() || bin->index != index) continue;
        bin->calls -= std::min(bin->calls, count);
        bin->failures -= std::min(bin->failures, count);
      }
    }
    p.bins.erase(
        std::remove_if(p.bins.begin(), p.bins.end(), [](const Bin& b) { return b.calls == 0; }),
        p.bins.end());
    double healthy_rate = 0.0, degraded_rate = 0.0;
    if (!p.bins.empty()) {
      double total = 0.0, total_failures = 0.0;
      for (const Bin& b : p.bins) {
        total += static_cast<double>(b.calls);
        total_failures += static_cast<double>(b.failures);
      }
      const std::vector<size_t> starts =
          BinarySegmentation(p.bins, 3.0 * std::log(std::max(total, 2.0)));
      fit.segments = starts.size();
      struct Segment {
        size_t from, to;  // bins [from, to)
        double calls = 0, failures = 0;
        bool degraded = false;
      };
      std::vector<Segment> segments;
      for (size_t k = 0; k < starts.size(); ++k) {
        Segment g{starts[k], k + 1 < starts.size() ? starts[k + 1] : p.bins.size()};
        for (size_t i = g.from; i < g.to; ++i) {
          g.calls += static_cast<double>(p.bins[i].calls);
          g.failures += static_cast<double>(p.bins[i].failures);
        }
        g.degraded = g.failures / g.calls > total_failures / total;
        segments.push_back(g);
      }
      for (int iteration = 0; iteration < 100; ++iteration) {
        double hc = 0, hf = 0, dc = 0, df = 0;
        for (const Segment& g : segments) {
          (g.degraded ? dc : hc) += g.calls;
          (g.degraded ? df : hf) += g.failures;
        }
        if (dc == 0 || hc == 0) break;
        healthy_rate = hf / hc;
        degraded_rate = df / dc;
        bool changed = false;
        for (Segment& g : segments) {
          const bool degraded = LogLikelihood(g.calls, g.failures, degraded_rate) >
                                LogLikelihood(g.calls, g.failures, healthy_rate);
          changed |= degraded != g.degraded;
          g.degraded = degraded;
        }
        if (!changed) break;
      }
      const bool any = std::any_of(segments.begin(), segments.end(),
                                   [](const Segment& g) { return g.degraded; });
      if (any && degraded_rate > 0 && degraded_rate >= 1.5 * healthy_rate) {
        for (size_t k = 0; k < segments.size(); ++k) {
          if (!segments[k].degraded) continue;
          size_t last = k;
          while (last + 1 < segments.size() && segments[last + 1].degraded) ++last;
          world::HealthWindow w;
          w.start = Instant::FromUnixMicros(p.bins[segments[k].from].index * kBinUs);
          w.end = Instant::FromUnixMicros((p.bins[segments[last].to - 1].index + 1) * kBinUs);
          w.state = world::UpstreamHealth::kDegraded;
          fit.degraded.push_back(w);
          k = last;
        }
      }
    }

    // Outage runs inside a degraded window that its rate explains are chance runs.
    for (size_t r : std::set<size_t>(outages)) {
      const Run& run = p.runs[r];
      for (const world::HealthWindow& w : fit.degraded) {
        if (run.first < w.start || run.last >= w.end || healthy_rate <= 0) continue;
        const double rate = std::min(1.0, background(run.status) * degraded_rate / healthy_rate);
        if (n * std::pow(rate, static_cast<double>(run.length)) > options.outage_false_runs) {
          outages.erase(r);
          ++fit.outages_dropped;
        }
        break;
      }
    }
    for (size_t r : outages) {
      const Run& run = p.runs[r];
      DetectedOutage o;
      o.status = run.status;
      o.calls = run.length;
      o.start = run.before ? *run.before + (run.first - *run.before) / 2 : run.first;
      o.end = run.after ? run.last + (*run.after - run.last) / 2 : run.last;
      if (o.end <= run.last) o.end = run.last + Microseconds(1);
      fit.outages.push_back(o);
    }
    std::sort(fit.outages.begin(), fit.outages.end(),
              [](const DetectedOutage& x, const DetectedOutage& y) { return x.start < y.start; });
  }

  // ---- pass 3: file order, the statistics of each level ----
  struct Level {
    uint64_t trials = 0, s500 = 0, s502 = 0, s503 = 0, other = 0, t599 = 0, t499 = 0;
    uint64_t Failures() const { return s500 + s502 + s503 + other + t599 + t499; }
  };
  struct Pass3 {
    Histogram latency[2];  // healthy, degraded
    Level level[2];
  };
  std::vector<Pass3> third(names.size());
  {
    trace::TraceFileReader reader(path);
    trace::TraceLineParser parser;
    std::string_view line;
    auto inside = [](const auto& windows, Instant t) {
      for (const auto& w : windows) {
        if (w.start <= t && t < w.end) return true;
      }
      return false;
    };
    while (reader.Next(&line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      if (!parser.Parse(line).empty()) return fail(reader.line_number(), "changed while read");
      if (parser.type() != trace::TraceLineType::kCall) continue;
      const trace::TraceCallRecord& call = parser.call();
      const auto it = index.find(call.api);
      if (it == index.end()) continue;
      const ApiFit& fit = fits[it->second];
      Pass3& t = third[it->second];
      const int level = inside(fit.degraded, call.sent) ? 1 : 0;
      if (call.status != kStatusCancelled && call.status != kStatusTransportError) {
        t.latency[level].Record(call.latency);
      }
      const QuotaSeen q = ReadQuota(call);
      const CallClass klass = Classify(call, q, first[call.api].max_answered_us);
      if (klass == CallClass::kCensored || klass == CallClass::kRateLimited ||
          klass == CallClass::kQuotaRefusal || call.status == 400 ||
          inside(fit.outages, call.sent)) {
        continue;
      }
      Level& l = t.level[level];
      ++l.trials;
      if (klass != CallClass::kFailure) continue;
      switch (call.status) {
        case kStatusCancelled:
          ++l.t499;
          break;
        case kStatusTransportError:
          ++l.t599;
          break;
        case 500:
          ++l.s500;
          break;
        case 502:
          ++l.s502;
          break;
        case 503:
          ++l.s503;
          break;
        default:
          ++l.other;
      }
    }
  }

  // ---- the models ----
  for (size_t api = 0; api < names.size(); ++api) {
    const Pass1& a = first[names[api]];
    const Pass2& p = second[api];
    const Pass3& t = third[api];
    ApiFit& fit = fits[api];
    world::UpstreamModelConfig& m = fit.model;
    m.name = fit.api;
    for (const DetectedOutage& o : fit.outages) {
      m.outages.push_back(world::OutageWindow{o.start, o.end, o.status});
    }
    m.health_windows = fit.degraded;
    const bool degraded = !fit.degraded.empty();

    // Latency: the healthy level's (the degraded level scales it).
    const Histogram& healthy = t.latency[0].count() > 0 ? t.latency[0] : t.latency[1];
    fit.latency_samples = healthy.count();
    if (fit.latency_samples > 0) {
      fit.p50 = healthy.Quantile(0.5);
      fit.p90 = healthy.Quantile(0.9);
      fit.p99 = healthy.Quantile(0.99);
      fit.max = healthy.max();
      std::vector<double> probabilities;
      for (int k = 0; k <= 100; ++k) probabilities.push_back(k / 100.0);
      for (double q : {0.995, 0.999, 0.9999}) probabilities.push_back(q);
      std::sort(probabilities.begin(), probabilities.end());
      std::vector<world::LatencyRow> table;
      for (double q : probabilities) {
        table.push_back(world::LatencyRow{q == 0.0 ? healthy.min() : healthy.Quantile(q), q});
      }
      fit.ks_empirical = KsDistance(healthy, TableCdf(table));
      const Duration median = std::max(fit.p50, Microseconds(1));
      const Duration p99 = std::max(fit.p99, median);
      fit.ks_lognormal = KsDistance(healthy, LognormalCdf(static_cast<double>(median.micros()),
                                                          static_cast<double>(p99.micros())));
      fit.ks_critical = kKsCritical95 / std::sqrt(static_cast<double>(fit.latency_samples));
      m.latency.kind = options.latency == world::LatencyKind::kLognormal
                           ? world::LatencyKind::kLognormal
                           : world::LatencyKind::kEmpirical;
      m.latency.median = median;
      m.latency.p99 = p99;
      m.latency.table = std::move(table);
      m.latency.empirical_interpolate = true;
    } else {
      fit.notes.push_back("latency: no answered call; the default model is kept");
    }
    m.latency.degraded_factor = 1.0;
    if (degraded && t.latency[0].count() > 0 && t.latency[1].count() > 0) {
      fit.degraded_median = t.latency[1].Quantile(0.5);
      const double ratio = static_cast<double>(fit.degraded_median.micros()) /
                           static_cast<double>(std::max<int64_t>(1, fit.p50.micros()));
      m.latency.degraded_factor = std::max(1.0, Round6(ratio));
    }

    // Error rates: the healthy level's, scaled while degraded.
    const Level& h = t.level[0];
    const Level& d = t.level[1];
    fit.status_500 = WilsonInterval(h.s500 + h.other, h.trials);
    fit.status_502 = WilsonInterval(h.s502, h.trials);
    fit.status_503 = WilsonInterval(h.s503, h.trials);
    fit.timeout = WilsonInterval(h.t599 + h.t499, h.trials);
    fit.other_5xx = h.other + d.other;
    fit.timeouts_599 = h.t599 + d.t599;
    fit.timeouts_499 = h.t499 + d.t499;
    fit.censored_499 =
        (a.statuses.count(kStatusCancelled) ? a.statuses.at(kStatusCancelled) : 0) - p.late_499;
    fit.healthy_failures = WilsonInterval(h.Failures(), h.trials);
    fit.degraded_failures = WilsonInterval(d.Failures(), d.trials);
    m.failures.rates.status_500 = Round6(fit.status_500.rate);
    m.failures.rates.status_502 = Round6(fit.status_502.rate);
    m.failures.rates.status_503 = Round6(fit.status_503.rate);
    m.failures.rates.timeout = Round6(fit.timeout.rate);
    m.failures.enabled = m.failures.rates.Sum() > 0.0;
    m.failures.degraded_error_factor = 1.0;
    if (degraded && fit.healthy_failures.rate > 0) {
      m.failures.degraded_error_factor =
          std::max(1.0, Round6(fit.degraded_failures.rate / fit.healthy_failures.rate));
    } else if (degraded) {
      fit.notes.push_back(
          "degraded: healthy calls never failed, so no factor can scale them; the "
          "windows scale latency only");
    }
    if (a.timed_out_599.count() > 0) {
      m.failures.timeout_latency = a.timed_out_599.Quantile(0.5);
    } else if (p.late_499 > 0) {
      m.failures.timeout_latency = a.cancelled_499.max() * 2;
      fit.timeout_latency_guessed = true;
    }
    if (fit.other_5xx > 0) {
      fit.notes.push_back("errors: " + std::to_string(fit.other_5xx) +
                          " answers with another 5xx status are counted as 500");
    }
    for (const auto& [status, count] : a.other_4xx) {
      fit.notes.push_back("errors: " + std::to_string(count) + " answers " +
                          std::to_string(status) + " are not modelled (counted as answered)");
    }
    uint64_t refusals = 0;
    for (const auto& [status, count] : a.refusal_statuses) refusals += count;
    fit.quota_refused = refusals;
    fit.rate_limited = a.rate_limited;

    // Rate limit.
    if (a.rate_limited > 0) {
      const Pass2::Window* best = nullptr;
      uint64_t best_misfit = UINT64_MAX;
      for (const Pass2::Window& w : p.windows) {
        if (w.limited_windows == 0) continue;
        const uint64_t misfit = (w.limited_max - w.limited_min) +
                                (w.max_count > w.limited_max ? w.max_count - w.limited_max : 0);
        if (misfit < best_misfit) {
          best_misfit = misfit;
          best = &w;
        }
        if (misfit == 0) break;
      }
      if (best != nullptr && best->limited_min > 0) {
        m.rate_limit.enabled = true;
        m.rate_limit.kind = world::RateLimitWindow::kFixed;
        m.rate_limit.window = Duration::FromMicros(best->length_us);
        m.rate_limit.max_calls = static_cast<int64_t>(best->limited_min);
        if (best_misfit != 0) {
          fit.notes.push_back(
              "rate limit: no fixed window explains every 429 (windows with a 429 admitted " +
              std::to_string(best->limited_min) + ".." + std::to_string(best->limited_max) +
              " calls, one admitted " + std::to_string(best->max_count) +
              "); the closest is written (a sliding window, or calls counted that the limiter "
              "does not count?)");
        }
      } else {
        fit.notes.push_back("rate limit: 429s seen but no window admitted a call; not fitted");
      }
    }

    // Quota.
    if (a.odds || a.github || a.ietf) {
      world::QuotaConfig& q = m.quota;
      q.enabled = true;
      q.header_style = a.odds     ? world::QuotaHeaderStyle::kOddsApi
                       : a.github ? world::QuotaHeaderStyle::kGithub
                                  : world::QuotaHeaderStyle::kIetf;
      if (a.limit_milli > 0) {
        q.limit = FromMilliCredits(a.limit_milli);
      } else {
        fit.notes.push_back("quota: no limit in the headers; the default " +
                            std::to_string(static_cast<int64_t>(q.limit)) + " is kept");
      }
      if (a.github && !a.github_resets.empty()) {
        bool all_month = true, all_midnight = true;
        for (int64_t r : a.github_resets) {
          const Instant at = Instant::FromUnixMicros(r);
          all_month &= IsMonthStartUtc(at);
          all_midnight &= IsMidnightUtc(at);
          if (fit.quota_resets.size() < 3) fit.quota_resets.push_back(at);
        }
        if (all_month && a.github_reset_horizon_us > Days(1).micros()) {
          q.period = world::QuotaPeriod::kCalendarMonthUtc;
        } else if (all_midnight) {
          q.period = world::QuotaPeriod::kCalendarDayUtc;
        } else {
          q.period = world::QuotaPeriod::kRollingWindow;
          q.rolling_window = Seconds((a.github_reset_horizon_us + 999'999) / 1'000'000);
        }
      } else if (a.ietf && a.ietf_window_s) {
        const int64_t w = *a.ietf_window_s;
        if (w == 86400) {
          q.period = world::QuotaPeriod::kCalendarDayUtc;
        } else if (w >= 28 * 86400 && w <= 31 * 86400 && w % 86400 == 0) {
          q.period = world::QuotaPeriod::kCalendarMonthUtc;
        } else {
          q.period = world::QuotaPeriod::kRollingWindow;
          q.rolling_window = Seconds(std::max<int64_t>(1, w));
        }
      } else if (a.odds) {
        fit.quota_resets = p.drop_instants;
        if (p.drops == 0) {
          q.period = world::QuotaPeriod::kCalendarMonthUtc;
          fit.notes.push_back(
              "quota: no reset seen (the used count never dropped); calendar_month assumed, "
              "The Odds API's own period");
        } else if (p.drops_at_month_start == p.drops) {
          q.period = world::QuotaPeriod::kCalendarMonthUtc;
        } else if (p.drops_at_midnight == p.drops) {
          q.period = world::QuotaPeriod::kCalendarDayUtc;
        } else {
          q.period = world::QuotaPeriod::kRollingWindow;
          fit.notes.push_back(
              "quota: the used count drops at no calendar boundary: rolling, "
              "with the default window " +
              FormatDuration(q.rolling_window) + " (not seen in the headers)");
        }
      }
      bool per_key = false;
      for (const auto& [endpoint, c] : a.costs) {
        if (c.keys_vary && !c.per_call_constant && c.per_key_constant) per_key = true;
      }
      q.charge_per_key = per_key;
      std::map<double, uint64_t> frequency;
      std::map<std::string, double> cost;
      for (const auto& [endpoint, c] : a.costs) {
        const double value = per_key ? c.per_key : c.per_call;
        if (!(per_key ? c.per_key_constant : c.per_call_constant)) {
          fit.notes.push_back("quota: credits of endpoint \"" + endpoint +
                              "\" vary between calls; the first seen is written");
        }
        cost[endpoint] = value;
        frequency[value] += c.calls;
      }
      if (!frequency.empty()) {
        double common = 0;
        uint64_t most = 0;
        for (const auto& [value, count] : frequency) {
          if (count > most) {
            most = count;
            common = value;
          }
        }
        q.default_credits = common;
        for (const auto& [endpoint, value] : cost) {
          if (value != common) q.credits_per_endpoint[endpoint] = value;
        }
      }
      if (!a.refusal_statuses.empty()) {
        int status = 0;
        uint64_t most = 0;
        for (const auto& [s, count] : a.refusal_statuses) {
          if (count > most) {
            most = count;
            status = s;
          }
        }
        if (status != world::DefaultQuotaExhaustedStatus(q.header_style)) {
          q.exhausted_status = status;
        }
      }
    } else {
      m.quota.enabled = false;
      m.quota.header_style = world::QuotaHeaderStyle::kNone;
      bool charged = false;
      for (const auto& [endpoint, c] : a.costs) charged |= c.per_call > 0;
      if (charged) {
        fit.notes.push_back(
            "quota: calls were charged credits but answered no quota headers; "
            "not fitted");
      }
    }

    // Batch.
    m.batch.enabled = false;
    if (a.bad_requests > 0 && a.min_rejected_keys > a.max_ok_keys && a.max_ok_keys > 0) {
      m.batch.enabled = true;
      m.batch.max_keys = a.max_ok_keys;
    } else if (a.max_ok_keys > 1) {
      fit.notes.push_back("batch: calls of up to " + std::to_string(a.max_ok_keys) +
                          " keys succeeded and none was refused for its size: no limit written");
    }

    // What a trace cannot tell.
    m.health.enabled = false;
    m.data.enabled = false;
    fit.notes.push_back(
        "health: the Markov chain is not fitted (disabled); the outages and degraded windows "
        "found replay the trace's own spells at their instants");
    fit.notes.push_back(
        "data: change rates are not in a trace (disabled; set them by hand for staleness)");
    if (fit.timeout_latency_guessed) {
      fit.notes.push_back("timeouts: no 599 answer, only calls the client cancelled (499) after " +
                          FormatDuration(a.cancelled_499.max()) +
                          "; timeout_latency is written as twice that");
    }
    const Status valid = m.validate();
    if (!valid.ok()) {
      return fail(0, "the fitted model of \"" + fit.api + "\" is invalid: " + valid.message());
    }
  }
  cal.apis = std::move(fits);
  result.calibration = std::move(cal);
  return result;
}

std::string CalibrationReport(const Calibration& cal) {
  std::ostringstream out;
  out << "calibrated from " << cal.file << " (" << trace::TraceSourceName(cal.header.source);
  if (!cal.header.scenario.empty()) out << ", scenario " << cal.header.scenario;
  if (!cal.header.variant.empty()) out << ", variant " << cal.header.variant;
  if (cal.header.seed) out << ", seed " << *cal.header.seed;
  out << ")\n";
  out << cal.lines << " lines: " << cal.requests << " requests, " << cal.calls << " calls\n";
  for (const ApiFit& f : cal.apis) {
    const world::UpstreamModelConfig& m = f.model;
    out << "\napi " << f.api << ": " << f.calls << " calls (";
    bool first = true;
    for (const auto& [kind, count] : f.kinds) {
      out << (first ? "" : ", ") << kind << " " << count;
      first = false;
    }
    out << "); answers:";
    for (const auto& [status, count] : f.statuses) out << " " << status << " x" << count;
    out << "\n";
    out << "  outages (runs of one failure status with N * p^k <= 0.01; for the most common "
           "status k >= "
        << f.outage_min_run << "): " << f.outages.size();
    if (f.outages_dropped > 0) {
      out << " (" << f.outages_dropped << " more runs inside degraded windows left out: their "
          << "rate explains them)";
    }
    out << "\n";
    for (const DetectedOutage& o : f.outages) {
      out << "    " << FormatInstant(o.start) << " .. " << FormatInstant(o.end) << "  "
          << FormatDuration(o.end - o.start) << "  status " << o.status << "  (" << o.calls
          << " calls)\n";
    }
    out << "  degraded windows (change points of the failure rate by binary segmentation, 10 s "
           "bins, penalty 3 ln N: "
        << f.segments << " segments, two levels): " << f.degraded.size() << "\n";
    if (!f.degraded.empty()) {
      Duration total;
      for (const world::HealthWindow& w : f.degraded) total += w.end - w.start;
      out << "    " << FormatDuration(total) << " in all; failures healthy "
          << Percent(f.healthy_failures.rate) << " of " << f.healthy_failures.trials
          << ", degraded " << Percent(f.degraded_failures.rate) << " of "
          << f.degraded_failures.trials << " (degraded_error_factor "
          << m.failures.degraded_error_factor << "); median latency " << FormatDuration(f.p50)
          << " vs " << FormatDuration(f.degraded_median) << " (degraded_factor "
          << m.latency.degraded_factor << ")\n";
      size_t shown = 0;
      for (const world::HealthWindow& w : f.degraded) {
        if (++shown > 20) {
          out << "    ... (" << f.degraded.size() - 20 << " more in the model)\n";
          break;
        }
        out << "    " << FormatInstant(w.start) << " .. " << FormatInstant(w.end) << "  "
            << FormatDuration(w.end - w.start) << "\n";
      }
    }
    out << "  latency of " << f.latency_samples << " answered calls"
        << (f.degraded.empty() ? "" : " outside degraded windows") << ": p50 "
        << FormatDuration(f.p50) << ", p90 " << FormatDuration(f.p90) << ", p99 "
        << FormatDuration(f.p99) << ", max " << FormatDuration(f.max) << "\n";
    if (f.latency_samples > 0) {
      out << "    " << (m.latency.kind == world::LatencyKind::kEmpirical ? "* " : "  ")
          << "quantile table (" << m.latency.table.size() << " points, interpolated)  KS distance "
          << Fixed(f.ks_empirical, 4) << "\n";
      out << "    " << (m.latency.kind == world::LatencyKind::kLognormal ? "* " : "  ")
          << "lognormal (median " << FormatDuration(m.latency.median) << ", p99 "
          << FormatDuration(m.latency.p99) << ")  KS distance " << Fixed(f.ks_lognormal, 4) << "\n";
      out << "      (* written; the KS 95% critical value for " << f.latency_samples
          << " samples is " << Fixed(f.ks_critical, 4)
          << "; distances at the histogram's bucket bounds, 0.79% resolution)\n";
    }
    out << "  errors per call over " << f.status_500.trials << " calls"
        << (f.degraded.empty() ? "" : " outside degraded windows")
        << " that reached the error draw (outside outages; not rate-limited, refused for quota, "
           "400 or cancelled early), 95% Wilson interval:\n";
    const auto rate = [&](const char* name, const RateEstimate& r, const std::string& extra) {
      char line[160];
      std::snprintf(line, sizeof line, "    %-8s %8llu  %-8s [%s, %s]", name,
                    static_cast<unsigned long long>(r.count), Percent(r.rate).c_str(),
                    Percent(r.low).c_str(), Percent(r.high).c_str());
      out << line << extra << "\n";
    };
    rate("500", f.status_500, f.other_5xx > 0 ? "  (other 5xx included)" : "");
    rate("502", f.status_502, "");
    rate("503", f.status_503, "");
    rate("timeout", f.timeout,
         "  (in all: 599 x" + std::to_string(f.timeouts_599) + ", 499 after the longest answer x" +
             std::to_string(f.timeouts_499) + "; timeout_latency " +
             FormatDuration(m.failures.timeout_latency) + ")");
    if (f.censored_499 > 0) {
      out << "    (" << f.censored_499
          << " calls cancelled by the client before the longest answer: left out)\n";
    }
    if (m.rate_limit.enabled) {
      out << "  rate limit: " << m.rate_limit.max_calls << " calls per "
          << FormatDuration(m.rate_limit.window) << " (fixed window), from " << f.rate_limited
          << " answers 429 with Retry-After\n";
    } else {
      out << "  rate limit: none seen (no 429 with Retry-After that is not a quota refusal)\n";
    }
    if (m.quota.enabled) {
      out << "  quota: " << world::QuotaHeaderStyleName(m.quota.header_style) << " headers, limit "
          << m.quota.limit << " per " << world::QuotaPeriodName(m.quota.period);
      if (m.quota.period == world::QuotaPeriod::kRollingWindow) {
        out << " " << FormatDuration(m.quota.rolling_window);
      }
      out << ", " << m.quota.default_credits << " credits per call"
          << (m.quota.charge_per_key ? " per key" : "");
      for (const auto& [endpoint, credits] : m.quota.credits_per_endpoint) {
        out << " (" << endpoint << ": " << credits << ")";
      }
      out << "; " << f.quota_refused << " refusals";
      if (!f.quota_resets.empty()) {
        out << "; resets seen at";
        for (Instant t : f.quota_resets) out << " " << FormatInstant(t);
      }
      out << "\n";
    } else {
      out << "  quota: none (no quota headers)\n";
    }
    for (const std::string& note : f.notes) out << "  note: " << note << "\n";
  }
  return out.str();
}

}  // namespace orchsim::experiment
