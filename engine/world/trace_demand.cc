#include "engine/world/trace_demand.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "policies/trace/trace_reader.h"

namespace orchsim::world {

// One selected request of the file, in file order.
struct TraceRow {
  uint64_t line = 0;
  uint64_t order = 0;  // recorded submission order: request id (JSONL) or line (CSV)
  Instant arrival;
  Request request;  // api, endpoint, key, priority, game_start, cacheable, batchable
  std::optional<Duration> deadline;
};

namespace {

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text.substr(0, 80));
  out.append(text.size() > 80 ? "...\"" : "\"");
  return out;
}

std::string JoinNames(const std::set<std::string>& names) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return list;
}

enum class CsvSplit : uint8_t { kOk, kOpenQuote, kBadQuote };

// Splits one CSV record into fields (reusing their storage); *count says how
// many were found. kOpenQuote: a quoted field is still open at the end (the
// record continues on the next line).
CsvSplit SplitCsvRecord(std::string_view text, std::vector<std::string>* fields, size_t* count) {
  size_t n = 0;
  size_t i = 0;
  auto field = [&]() -> std::string& {
    if (n == fields->size()) fields->emplace_back();
    std::string& f = (*fields)[n++];
    f.clear();
    return f;
  };
  for (;;) {
    std::string& f = field();
    if (i < text.size() && text[i] == '"') {
      ++i;
      for (;;) {
        const size_t quote = text.find('"', i);
        if (quote == std::string_view::npos) return CsvSplit::kOpenQuote;
        f.append(text.substr(i, quote - i));
        i = quote + 1;
        if (i < text.size() && text[i] == '"') {
          f.push_back('"');
          ++i;
          continue;
        }
        break;
      }
      if (i < text.size() && text[i] != ',') return CsvSplit::kBadQuote;
    } else {
      const size_t comma = text.find(',', i);
      const size_t stop = comma == std::string_view::npos ? text.size() : comma;
      f.append(text.substr(i, stop - i));
      i = stop;
    }
    if (i >= text.size()) break;
    ++i;  // the comma
  }
  *count = n;
  return CsvSplit::kOk;
}

}  // namespace

// ---- TraceRowSource ---------------------------------------------------------

class TraceRowSource {
 public:
  // `api_names` null: apis are not checked (the scan has done it).
  TraceRowSource(const TraceDemandPattern& pattern, const std::set<std::string>* api_names,
                 const std::vector<Game>& games)
      : pattern_(pattern),
        api_names_(api_names),
        // A hand-made CSV often lacks the final newline; a trace's last line
        // without one is a recorder cut short (trace_format.h).
        reader_(pattern.file, pattern.format == TraceFileFormat::kCsv) {
    apis_.insert(pattern.apis.begin(), pattern.apis.end());
    if (!reader_.error().empty()) Problem(0, reader_.error());
    if (pattern.format == TraceFileFormat::kCsv && !pattern.columns.game.empty()) {
      for (const Game& g : games) kickoffs_.emplace(g.id, g.kickoff);
    }
  }

  // The next selected row; false at the end or on a problem.
  bool Next(TraceRow* row) {
    if (problem_) return false;
    return pattern_.format == TraceFileFormat::kJsonl ? NextJsonl(row) : NextCsv(row);
  }

  const std::optional<TraceProblem>& problem() const { return problem_; }
  uint64_t lines() const { return reader_.line_number(); }
  uint64_t skipped() const { return skipped_; }
  bool truncated() const { return reader_.truncated_last_line(); }

 private:
  bool Problem(uint64_t line, std::string message) {
    problem_ = TraceProblem{pattern_.file, line, std::move(message)};
    return false;
  }

  bool EndOfFile() {
    if (!reader_.error().empty()) return Problem(reader_.line_number() + 1, reader_.error());
    if (!seen_header_) {
      return Problem(0, pattern_.format == TraceFileFormat::kJsonl
                            ? "the file is empty: expected an orchsim trace (a header line first)"
                            : "the file is empty: expected a header line");
    }
    return false;
  }

  static bool Blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
  }

  // Api and window checks; false when the row is skipped or on a problem.
  bool Select(const TraceRow& row, const std::string& api_where) {
    if (!apis_.empty() && apis_.count(row.request.api) == 0) {
      ++skipped_;
      return false;
    }
    if (apis_.empty() && api_names_ != nullptr && api_names_->count(row.request.api) == 0) {
      return Problem(row.line, api_where + "unknown api " + Quoted(row.request.api) +
                                   "; the scenario's upstreams: " + JoinNames(*api_names_) +
                                   " (to replay only some apis, list them in \"apis\")");
    }
    if ((pattern_.from && row.arrival < *pattern_.from) ||
        (pattern_.until && row.arrival >= *pattern_.until)) {
      ++skipped_;
      return false;
    }
    return true;
  }

  bool NextJsonl(TraceRow* row) {
    std::string_view line;
    while (reader_.Next(&line)) {
      const uint64_t number = reader_.line_number();
      if (Blank(line)) continue;
      const std::string error = parser_.Parse(line);
      if (!error.empty()) return Problem(number, error);
      if (!seen_header_) {
        if (parser_.type() != trace::TraceLineType::kHeader) {
          return Problem(number,
                         "expected the trace's header line first "
                         "({\"type\":\"header\",\"format\":\"orchsim-trace\",\"version\":1,...})");
        }
        seen_header_ = true;
        continue;
      }
      if (parser_.type() == trace::TraceLineType::kHeader) {
        return Problem(number,
                       "a second header line: one file holds one trace (replay concatenated "
                       "traces as separate demand generators)");
      }
      if (parser_.type() != trace::TraceLineType::kRequest) continue;
      trace::TraceRequestRecord& r = parser_.mutable_request();
      row->line = number;
      row->order = r.id;
      row->arrival = r.arrival;
      Request& q = row->request;
      q.api.swap(r.api);
      if (!Select(*row, "")) {
        if (problem_) return false;
        q.api.swap(r.api);
        continue;
      }
      q.endpoint.swap(r.endpoint);
      q.key.swap(r.key);
      q.priority = r.priority;
      q.game_start = r.game_start;
      q.cacheable = r.cacheable;
      q.batchable = r.batchable;
      row->deadline = r.deadline;
      return true;
    }
    return EndOfFile();
  }

  // The next CSV record (joining lines of a quoted field that spans lines).
  bool NextRecord(uint64_t* first_line) {
    std::string_view line;
    record_.clear();
    bool open = false;
    while (reader_.Next(&line)) {
      if (!open) {
        *first_line = reader_.line_number();
        if (*first_line == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
        if (line.empty()) continue;
        record_.assign(line);
      } else {
        record_.push_back('\n');
        record_.append(line);
      }
      const CsvSplit split = SplitCsvRecord(record_, &fields_, &field_count_);
      if (split == CsvSplit::kOk) return true;
      if (split == CsvSplit::kBadQuote) {
        return Problem(*first_line, "unexpected character after a closing quote: expected ','");
      }
      open = true;
    }
    if (open && reader_.error().empty()) {
      return Problem(*first_line, "unterminated quoted field: expected a closing '\"'");
    }
    return false;
  }

  int Column(const std::string& name, const char* field) {
    if (name.empty()) return -1;
    for (size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] == name) return static_cast<int>(i);
    }
    std::string have;
    for (const std::string& h : header_) have += (have.empty() ? "" : ", ") + h;
    Problem(header_line_, "missing column \"" + name + "\" (columns." + field +
                              "): expected it in the header, which has: " + have);
    return -2;
  }

  bool ReadCsvHeader() {
    uint64_t line = 0;
    if (!NextRecord(&line)) return problem_ ? false : EndOfFile();
    seen_header_ = true;
    header_line_ = line;
    header_.assign(fields_.begin(), fields_.begin() + static_cast<long>(field_count_));
    const TraceCsvColumns& c = pattern_.columns;
    col_timestamp_ = Column(c.timestamp, "timestamp");
    col_api_ = Column(c.api, "api");
    col_endpoint_ = Column(c.endpoint, "endpoint");
    col_key_ = Column(c.key, "key");
    col_priority_ = Column(c.priority, "priority");
    col_game_ = Column(c.game, "game");
    col_deadline_ = Column(c.deadline, "deadline");
    return !problem_;
  }

  bool NextCsv(TraceRow* row) {
    if (!seen_header_ && !ReadCsvHeader()) return false;
    uint64_t line = 0;
    while (NextRecord(&line)) {
      if (field_count_ != header_.size()) {
        return Problem(line, "expected " + std::to_string(header_.size()) +
                                 " fields as in the header, got " + std::to_string(field_count_));
      }
      const auto cell = [&](int column) -> const std::string& { return fields_[column]; };
      const auto where = [&](const std::string& column) { return "column \"" + column + "\": "; };
      const TraceCsvColumns& c = pattern_.columns;
      row->line = line;
      row->order = line;
      const ParseResult<Instant> at = ParseInstant(cell(col_timestamp_));
      if (!at.ok()) {
        return Problem(line, where(c.timestamp) +
                                 "expected an ISO 8601 instant with a zone such as "
                                 "2023-10-15T18:00:00Z or 2023-10-15T14:00:00-04:00, got '" +
                                 cell(col_timestamp_).substr(0, 80) + "'");
      }
      row->arrival = *at;
      Request& q = row->request;
      q.api = cell(col_api_);
      if (!Select(*row, where(c.api))) {
        if (problem_) return false;
        continue;
      }
      q.endpoint = cell(col_endpoint_);
      q.key = cell(col_key_);
      if (q.endpoint.empty()) return Problem(line, where(c.endpoint) + "expected an endpoint");
      q.priority = pattern_.defaults.priority;
      if (col_priority_ >= 0 && !cell(col_priority_).empty()) {
        const std::optional<Priority> p = ParsePriority(cell(col_priority_));
        if (!p) {
          return Problem(line, where(c.priority) +
                                   "expected CRITICAL, HIGH, NORMAL, LOW or PREFETCH, got '" +
                                   cell(col_priority_).substr(0, 80) + "'");
        }
        q.priority = *p;
      }
      q.game_start.reset();
      if (col_game_ >= 0 && !cell(col_game_).empty()) {
        const auto game = kickoffs_.find(cell(col_game_));
        if (game == kickoffs_.end()) {
          return Problem(line, where(c.game) + "unknown game id " + Quoted(cell(col_game_)) +
                                   ": expected a game of the scenario's schedule");
        }
        q.game_start = game->second;
      }
      row->deadline.reset();
      if (!pattern_.defaults.deadline.is_infinite()) row->deadline = pattern_.defaults.deadline;
      if (col_deadline_ >= 0 && !cell(col_deadline_).empty()) {
        const ParseResult<Duration> d = ParseDuration(cell(col_deadline_));
        if (!d.ok() || *d <= Duration::Zero()) {
          return Problem(line, where(c.deadline) +
                                   "expected a positive duration such as \"20s\", got '" +
                                   cell(col_deadline_).substr(0, 80) + "'");
        }
        row->deadline = *d;
      }
      q.cacheable = pattern_.defaults.cacheable;
      q.batchable = pattern_.defaults.batchable;
      return true;
    }
    if (problem_) return false;
    return reader_.error().empty() ? false : EndOfFile();
  }

  const TraceDemandPattern& pattern_;
  const std::set<std::string>* api_names_;
  std::set<std::string> apis_;
  trace::TraceFileReader reader_;
  trace::TraceLineParser parser_;
  std::unordered_map<std::string, Instant> kickoffs_;
  std::optional<TraceProblem> problem_;
  bool seen_header_ = false;
  uint64_t skipped_ = 0;
  // CSV
  std::string record_;
  std::vector<std::string> fields_;
  size_t field_count_ = 0;
  std::vector<std::string> header_;
  uint64_t header_line_ = 0;
  int col_timestamp_ = -1, col_api_ = -1, col_endpoint_ = -1, col_key_ = -1;
  int col_priority_ = -1, col_game_ = -1, col_deadline_ = -1;
};

// ---- options, scan ----------------------------------------------------------

Duration TraceDemandPattern::EffectiveShift() const {
  if (start_at && scan.requests > 0) return *start_at - scan.first_arrival;
  return shift;
}

Status ValidateTracePattern(const std::string& f, const TraceDemandPattern& p) {
  if (p.file.empty()) return FieldError(f + "file", p.file, "must not be empty");
  if (!std::isfinite(p.rate) || p.rate <= 0.0 || p.rate > kMaxTraceRate) {
    return FieldError(f + "rate", p.rate, "must be > 0 and <= 1000");
  }
  if (p.spread < Duration::Zero()) {
    return FieldError(f + "spread", FormatDuration(p.spread), "must be >= 0s");
  }
  if (p.max_lateness < Duration::Zero()) {
    return FieldError(f + "max_lateness", FormatDuration(p.max_lateness), "must be >= 0s");
  }
  if (p.from && p.until && *p.until <= *p.from) {
    return FieldError(f + "until", FormatInstant(*p.until),
                      "must be after from " + FormatInstant(*p.from));
  }
  if (p.start_at && p.shift != Duration::Zero()) {
    return Status::InvalidArgument(f + "start_at: give either shift or start_at, not both");
  }
  if (p.format == TraceFileFormat::kCsv) {
    const TraceCsvColumns& c = p.columns;
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"timestamp", &c.timestamp},
          {"api", &c.api},
          {"endpoint", &c.endpoint},
          {"key", &c.key}}) {
      if (value->empty()) {
        return FieldError(f + "columns." + name, *value, "must name a column (it is required)");
      }
    }
    if (p.defaults.deadline <= Duration::Zero()) {
      return FieldError(f + "defaults.deadline", FormatDuration(p.defaults.deadline),
                        "must be > 0s");
    }
  }
  return Status::Ok();
}

std::string TraceProblem::ToString() const {
  return line > 0 ? file + ": line " + std::to_string(line) + ": " + message
                  : file + ": " + message;
}

std::optional<TraceProblem> ScanTrace(TraceDemandPattern* pattern,
                                      const std::set<std::string>& api_names,
                                      const std::vector<Game>& games) {
  TraceScan scan;
  TraceRowSource rows(*pattern, &api_names, games);
  TraceRow row;
  Instant latest;
  uint64_t latest_line = 0;
  // Arrivals per UTC second, for the seconds an arrival can still come to:
  // those after latest - max_lateness (bounded memory).
  std::map<int64_t, uint64_t> per_second;
  auto count_second = [&](Instant at) {
    const int64_t second = at.unix_micros() / 1'000'000 - (at.unix_micros() % 1'000'000 < 0);
    scan.peak_per_second = std::max(scan.peak_per_second, ++per_second[second]);
    const int64_t keep = (latest - pattern->max_lateness).unix_micros() / 1'000'000 - 2;
    while (!per_second.empty() && per_second.begin()->first < keep) {
      per_second.erase(per_second.begin());
    }
  };
  while (rows.Next(&row)) {
    if (scan.requests == 0) {
      scan.first_arrival = scan.last_arrival = latest = row.arrival;
      latest_line = row.line;
    } else if (row.arrival < latest) {
      const Duration lateness = latest - row.arrival;
      if (lateness > pattern->max_lateness) {
        return TraceProblem{
            pattern->file, row.line,
            "arrival " + FormatInstant(row.arrival) + " is " + FormatDuration(lateness) +
                " before an arrival already read (line " + std::to_string(latest_line) + ", " +
                FormatInstant(latest) + "), more than max_lateness " +
                FormatDuration(pattern->max_lateness) +
                ": raise \"max_lateness\" or sort the file by arrival"};
      }
      scan.max_lateness = std::max(scan.max_lateness, lateness);
      scan.first_arrival = std::min(scan.first_arrival, row.arrival);
    } else {
      latest = scan.last_arrival = row.arrival;
      latest_line = row.line;
    }
    ++scan.requests;
    count_second(row.arrival);
  }
  if (rows.problem()) return rows.problem();
  scan.lines = rows.lines();
  scan.skipped = rows.skipped();
  scan.truncated_last_line = rows.truncated();
  if (scan.requests == 0) {
    return TraceProblem{pattern->file, 0,
                        "no request to replay in " + pattern->file + " (" +
                            std::to_string(scan.skipped) +
                            " left out by \"apis\", \"from\" and \"until\"): expected at least "
                            "one",
                        true};
  }
  scan.done = true;
  pattern->scan = scan;
  return std::nullopt;
}

// ---- the stream ---------------------------------------------------------------

double TraceUniform(uint64_t seed, uint64_t line, uint32_t copy) {
  const uint64_t h = kernel::SplitMix64(kernel::SplitMix64(seed ^ line) + copy);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

uint32_t TraceCopies(double rate, uint64_t seed, uint64_t line) {
  const double whole = std::floor(rate);
  uint32_t copies = static_cast<uint32_t>(whole);
  if (TraceUniform(seed, line, 0) < rate - whole) ++copies;
  return copies;
}

TraceDemandStream::TraceDemandStream(const TraceDemandPattern& pattern, uint64_t seed,
                                     const std::vector<Game>& games)
    : pattern_(pattern),
      seed_(seed),
      shift_(pattern.EffectiveShift()),
      rows_(std::make_unique<TraceRowSource>(pattern_, nullptr, games)) {}

TraceDemandStream::~TraceDemandStream() = default;

bool TraceDemandStream::Later(const Pending& a, const Pending& b) {
  if (a.arrival != b.arrival) return a.arrival > b.arrival;
  if (a.order != b.order) return a.order > b.order;
  if (a.line != b.line) return a.line > b.line;
  return a.copy > b.copy;
}

void TraceDemandStream::ReadMore() {
  TraceRow row;
  if (!rows_->Next(&row)) {
    if (rows_->problem()) {
      throw std::runtime_error(rows_->problem()->ToString() +
                               " (the file changed after it was loaded?)");
    }
    eof_ = true;
    return;
  }
  if (!any_read_ || row.arrival > watermark_) watermark_ = row.arrival;
  any_read_ = true;
  const uint32_t copies = TraceCopies(pattern_.rate, seed_, row.line);
  for (uint32_t copy = 0; copy < copies; ++copy) {
    Instant arrival = row.arrival;
    if (copy > 0 && pattern_.spread > Duration::Zero()) {
      const double u = TraceUniform(seed_, row.line, copy);
      arrival += Duration::FromMicros(
          static_cast<int64_t>(std::floor(u * static_cast<double>(pattern_.spread.micros()))));
    }
    uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& s = slots_[slot];
    if (copy + 1 == copies) {
      s.request = std::move(row.request);
    } else {
      s.request = row.request;
    }
    s.deadline = row.deadline;
    heap_.push_back(Pending{arrival, row.order, row.line, copy, slot});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }
  peak_ = std::max(peak_, heap_.size());
}

std::optional<Instant> TraceDemandStream::Head() {
  const Duration window = pattern_.scan.max_lateness;
  for (;;) {
    if (!heap_.empty() && (eof_ || heap_.front().arrival + window < watermark_)) {
      return heap_.front().arrival + shift_;
    }
    if (eof_) return std::nullopt;
    ReadMore();
  }
}

TraceArrival TraceDemandStream::Pop() {
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  const Pending p = heap_.back();
  heap_.pop_back();
  TraceArrival out;
  out.at = p.arrival + shift_;
  Slot& slot = slots_[p.slot];
  out.request = std::move(slot.request);
  free_slots_.push_back(p.slot);
  Request& q = out.request;
  q.id = 0;
  q.deadline = slot.deadline ? out.at + *slot.deadline : Instant::Max();
  if (q.game_start) q.game_start = *q.game_start + shift_;
  return out;
}

}  // namespace orchsim::world
