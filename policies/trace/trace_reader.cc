#include "policies/trace/trace_reader.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

namespace orchsim::trace {
namespace {

// Thrown inside the parser only; Parse() turns it into its message.
struct ParseFailure {
  std::string message;
};

// The fields of all three line types. Bits of a uint32_t mask.
enum Field : int {
  kType,
  kId,
  kArrival,
  kApi,
  kEndpoint,
  kKey,
  kPriority,
  kGameStart,
  kDeadlineUs,
  kCacheable,
  kBatchable,
  kOutcome,
  kStatus,
  kLatencyUs,
  kQueueWaitUs,
  kAttempts,
  kCallId,
  kSent,
  kKeys,
  kKind,
  kAttempt,
  kCredits,
  kLate,
  kQuotaHeaders,
  kFormat,
  kVersion,
  kSource,
  kScenario,
  kVariant,
  kSeed,
  kStart,
  kGenerator,
  kUnknown,
};

constexpr std::array<std::string_view, kUnknown> kFieldNames = {
    "type",     "id",         "arrival",       "api",       "endpoint",  "key",
    "priority", "game_start", "deadline_us",   "cacheable", "batchable", "outcome",
    "status",   "latency_us", "queue_wait_us", "attempts",  "call_id",   "sent",
    "keys",     "kind",       "attempt",       "credits",   "late",      "quota_headers",
    "format",   "version",    "source",        "scenario",  "variant",   "seed",
    "start",    "generator"};

Field FieldOf(std::string_view key) {
  // By length first: most keys are rejected or found with one comparison.
  auto is = [&](Field f) { return key == kFieldNames[f]; };
  switch (key.size()) {
    case 2:
      return is(kId) ? kId : kUnknown;
    case 3:
      return is(kApi) ? kApi : is(kKey) ? kKey : kUnknown;
    case 4:
      return is(kType)   ? kType
             : is(kSent) ? kSent
             : is(kKeys) ? kKeys
             : is(kKind) ? kKind
             : is(kLate) ? kLate
             : is(kSeed) ? kSeed
                         : kUnknown;
    case 5:
      return is(kStart) ? kStart : kUnknown;
    case 6:
      return is(kStatus) ? kStatus : is(kFormat) ? kFormat : is(kSource) ? kSource : kUnknown;
    case 7:
      return is(kArrival)   ? kArrival
             : is(kOutcome) ? kOutcome
             : is(kCallId)  ? kCallId
             : is(kAttempt) ? kAttempt
             : is(kCredits) ? kCredits
             : is(kVersion) ? kVersion
             : is(kVariant) ? kVariant
                            : kUnknown;
    case 8:
      return is(kEndpoint)   ? kEndpoint
             : is(kPriority) ? kPriority
             : is(kAttempts) ? kAttempts
             : is(kScenario) ? kScenario
                             : kUnknown;
    case 9:
      return is(kCacheable)   ? kCacheable
             : is(kBatchable) ? kBatchable
             : is(kGenerator) ? kGenerator
                              : kUnknown;
    case 10:
      return is(kGameStart) ? kGameStart : is(kLatencyUs) ? kLatencyUs : kUnknown;
    case 11:
      return is(kDeadlineUs) ? kDeadlineUs : kUnknown;
    case 13:
      return is(kQueueWaitUs) ? kQueueWaitUs : is(kQuotaHeaders) ? kQuotaHeaders : kUnknown;
    default:
      return kUnknown;
  }
}

constexpr uint64_t Bit(Field f) { return uint64_t{1} << f; }

constexpr uint64_t kHeaderRequired = Bit(kType) | Bit(kFormat) | Bit(kVersion) | Bit(kSource);
constexpr uint64_t kRequestRequired =
    Bit(kType) | Bit(kId) | Bit(kArrival) | Bit(kApi) | Bit(kEndpoint) | Bit(kKey) |
    Bit(kPriority) | Bit(kCacheable) | Bit(kBatchable) | Bit(kOutcome) | Bit(kStatus) |
    Bit(kLatencyUs) | Bit(kQueueWaitUs) | Bit(kAttempts);
constexpr uint64_t kCallRequired = Bit(kType) | Bit(kCallId) | Bit(kSent) | Bit(kApi) |
                                   Bit(kEndpoint) | Bit(kKeys) | Bit(kKind) | Bit(kAttempt) |
                                   Bit(kPriority) | Bit(kStatus) | Bit(kLatencyUs) | Bit(kCredits) |
                                   Bit(kLate) | Bit(kQuotaHeaders);

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (OutcomeName(static_cast<Outcome>(i)) == name) return static_cast<Outcome>(i);
  }
  return std::nullopt;
}

std::optional<CallKind> ParseCallKind(std::string_view name) {
  for (int i = 0; i < kCallKindCount; ++i) {
    if (CallKindName(static_cast<CallKind>(i)) == name) return static_cast<CallKind>(i);
  }
  return std::nullopt;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Two digits at p (no checks beyond being digits); -1 when not digits.
int Digits2(const char* p) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" exactly (the recorder's form); false when
// the text has another shape (the caller then tries ParseInstant).
bool ParseFixedTraceTime(std::string_view t, Instant* out) {
  if (t.size() != 27 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != '.' || t[26] != 'Z') {
    return false;
  }
  const int y1 = Digits2(t.data());
  const int y2 = Digits2(t.data() + 2);
  const int month = Digits2(t.data() + 5);
  const int day = Digits2(t.data() + 8);
  const int hour = Digits2(t.data() + 11);
  const int minute = Digits2(t.data() + 14);
  const int second = Digits2(t.data() + 17);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 59) {
    return false;
  }
  int64_t fraction = 0;
  for (int i = 20; i < 26; ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    fraction = fraction * 10 + (t[i] - '0');
  }
  const int64_t year = y1 * 100 + y2;
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return false;
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *out = Instant::FromUnixMicros(((days * 24 + hour) * 60 + minute) * 60'000'000 +
                                 second * 1'000'000 + fraction);
  return true;
}

class Scanner {
 public:
  Scanner(std::string_view text, std::string* scratch)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), scratch_(scratch) {}

  [[noreturn]] void Fail(const std::string& what) const {
    throw ParseFailure{what + " (column " + std::to_string(p_ - begin_ + 1) + ")"};
  }

  void Ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool Peek(char c) {
    Ws();
    return p_ < end_ && *p_ == c;
  }
  void Expect(char c, const char* what) {
    Ws();
    if (p_ >= end_ || *p_ != c) Fail(std::string("expected ") + what);
    ++p_;
  }
  bool AtEnd() {
    Ws();
    return p_ >= end_;
  }

  // A string whose bytes are returned without copying when it has no escape
  // (else decoded into the scratch string). Valid until the next call.
  std::string_view StringView(const char* what) {
    Ws();
    if (p_ >= end_ || *p_ != '"') Fail(std::string("expected a string for ") + what);
    ++p_;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
    if (p_ < end_ && *p_ == '"') {
      ++p_;
      return std::string_view(start, static_cast<size_t>(p_ - start - 1));
    }
    scratch_->assign(start, p_);
    Rest(scratch_);
    return *scratch_;
  }

  void String(std::string* out, const char* what) {
    Ws();
    if (p_ >= end_ || *p_ != '"') Fail(std::string("expected a string for ") + what);
    ++p_;
    out->clear();
    Rest(out);
  }

  int64_t Int(const char* what, int64_t min, int64_t max) {
    Ws();
    int64_t value = 0;
    const std::from_chars_result r = std::from_chars(p_, end_, value);
    if (r.ec != std::errc() ||
        (r.ptr < end_ && (*r.ptr == '.' || *r.ptr == 'e' || *r.ptr == 'E'))) {
      Fail(std::string("expected an integer for ") + what);
    }
    if (value < min || value > max) {
      Fail(std::string("\"") + what + "\": " + std::to_string(value) + " out of range [" +
           std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    p_ = r.ptr;
    return value;
  }

  uint64_t Uint(const char* what) {
    Ws();
    uint64_t value = 0;
    const std::from_chars_result r = std::from_chars(p_, end_, value);
    if (r.ec != std::errc() ||
        (r.ptr < end_ && (*r.ptr == '.' || *r.ptr == 'e' || *r.ptr == 'E'))) {
      Fail(std::string("expected a non-negative integer for ") + what);
    }
    p_ = r.ptr;
    return value;
  }

  double Number(const char* what) {
    Ws();
    double value = 0;
    if (p_ >= end_ || (*p_ != '-' && (*p_ < '0' || *p_ > '9'))) {
      Fail(std::string("expected a number for ") + what);
    }
    const std::from_chars_result r = std::from_chars(p_, end_, value);
    if (r.ec != std::errc()) Fail(std::string("expected a number for ") + what);
    p_ = r.ptr;
    return value;
  }

  bool Bool(const char* what) {
    Ws();
    if (end_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
      p_ += 4;
      return true;
    }
    if (end_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
      p_ += 5;
      return false;
    }
    Fail(std::string("expected true or false for ") + what);
  }

  // `field`: the bare field name.
  Instant Time(const char* field) {
    const std::string name = std::string("\"") + field + "\"";
    Ws();
    const char* start = p_;
    const std::string_view text = StringView(name.c_str());
    Instant t;
    if (ParseFixedTraceTime(text, &t)) return t;
    const ParseResult<Instant> parsed = ParseInstant(text);
    if (!parsed.ok()) {
      p_ = start;
      Fail("expected a time with a zone for " + name + ", got \"" +
           std::string(text.substr(0, 64)) + "\"");
    }
    return *parsed;
  }

  // Any JSON value, skipped (nesting up to 64 levels).
  void Skip(int depth = 0) {
    if (depth > 64) Fail("nested too deeply");
    Ws();
    if (p_ >= end_) Fail("expected a value");
    switch (*p_) {
      case '"':
        StringView("a field");
        return;
      case '{':
        ++p_;
        if (Peek('}')) {
          ++p_;
          return;
        }
        for (;;) {
          StringView("a field name");
          Expect(':', "':'");
          Skip(depth + 1);
          if (Peek(',')) {
            ++p_;
            continue;
          }
          Expect('}', "',' or '}'");
          return;
        }
      case '[':
        ++p_;
        if (Peek(']')) {
          ++p_;
          return;
        }
        for (;;) {
          Skip(depth + 1);
          if (Peek(',')) {
            ++p_;
            continue;
          }
          Expect(']', "',' or ']'");
          return;
        }
      case 't':
      case 'f':
        Bool("a field");
        return;
      case 'n':
        if (end_ - p_ >= 4 && std::memcmp(p_, "null", 4) == 0) {
          p_ += 4;
          return;
        }
        Fail("expected a value");
      default:
        Number("a field");
    }
  }

  bool StartsWith(std::string_view prefix) const {
    return static_cast<size_t>(end_ - p_) >= prefix.size() &&
           std::memcmp(p_, prefix.data(), prefix.size()) == 0;
  }
  const char* position() const { return p_; }
  void Reset(const char* p) { p_ = p; }

 private:
  // The rest of a string after its opening quote (and after any bytes
  // already copied to *out), escapes decoded.
  void Rest(std::string* out) {
    for (;;) {
      const char* start = p_;
      while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) {
        ++p_;
      }
      out->append(start, p_);
      if (p_ >= end_) Fail("unterminated string");
      if (*p_ == '"') {
        ++p_;
        return;
      }
      if (*p_ != '\\') Fail("control character in a string");
      ++p_;
      if (p_ >= end_) Fail("unterminated string");
      const char c = *p_++;
      switch (c) {
        case '"':
        case '\\':
        case '/':
          out->push_back(c);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = Hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') Fail("unpaired surrogate");
            p_ += 2;
            const uint32_t low = Hex4();
            if (low < 0xDC00 || low > 0xDFFF) Fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            Fail("unpaired surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          Fail("invalid escape in a string");
      }
    }
  }

  uint32_t Hex4() {
    if (end_ - p_ < 4) Fail("expected four hex digits after \\u");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        Fail("expected four hex digits after \\u");
      }
    }
    return v;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  std::string* scratch_;
};

std::string MissingFields(uint64_t missing) {
  std::string list;
  for (int f = 0; f < kUnknown; ++f) {
    if (missing & Bit(static_cast<Field>(f))) {
      list += (list.empty() ? "\"" : ", \"") + std::string(kFieldNames[f]) + "\"";
    }
  }
  return list;
}

}  // namespace

const std::string* TraceCallRecord::Header(std::string_view name) const {
  for (const auto& [n, v] : quota_headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string TraceLineParser::Parse(std::string_view line) {
  try {
    Scanner s(line, &scratch_);
    s.Expect('{', "a JSON object ('{')");
    const char* body = s.position();
    // The line type: the recorder writes it first; otherwise look it up.
    std::string_view type;
    if (s.StartsWith("\"type\":\"request\"")) {
      type = "request";
    } else if (s.StartsWith("\"type\":\"call\"")) {
      type = "call";
    } else {
      bool found = false;
      if (!s.Peek('}')) {
        for (;;) {
          const std::string_view key = s.StringView("a field name");
          s.Expect(':', "':' after a key");
          if (!found && key == "type") {
            std::string_view value = s.StringView("\"type\"");
            if (value == "header" || value == "request" || value == "call") {
              type = value == "header" ? "header" : value == "request" ? "request" : "call";
            } else {
              s.Fail("unknown line type \"" + std::string(value.substr(0, 32)) +
                     "\"; expected \"header\", \"request\" or \"call\"");
            }
            found = true;
          } else {
            s.Skip();
          }
          if (s.Peek(',')) {
            s.Expect(',', "','");
            continue;
          }
          break;
        }
      }
      if (!found) s.Fail("missing \"type\"; expected \"header\", \"request\" or \"call\"");
      s.Reset(body);
    }
    type_ = type == "header"    ? TraceLineType::kHeader
            : type == "request" ? TraceLineType::kRequest
                                : TraceLineType::kCall;
    if (type_ == TraceLineType::kHeader) header_ = TraceHeader{};
    if (type_ == TraceLineType::kRequest) {
      request_.game_start.reset();
      request_.deadline.reset();
    }

    uint64_t seen = 0;
    TraceRequestRecord& r = request_;
    TraceCallRecord& c = call_;
    size_t keys_used = 0;
    size_t headers_used = 0;
    auto wrong_type = [&](std::string_view key) {
      s.Fail("field \"" + std::string(key) + "\" does not belong on a " + std::string(type) +
             " line");
    };
    if (!s.Peek('}')) {
      for (;;) {
        s.Ws();
        const char* key_start = s.position();
        const std::string_view key = s.StringView("a field name");
        const Field field = FieldOf(key);
        if (field != kUnknown) {
          if (seen & Bit(field)) {
            s.Reset(key_start);
            s.Fail("duplicate field \"" + std::string(kFieldNames[field]) + "\"");
          }
          seen |= Bit(field);
        }
        s.Expect(':', "':' after a key");
        const bool header = type_ == TraceLineType::kHeader;
        const bool request = type_ == TraceLineType::kRequest;
        const bool call = type_ == TraceLineType::kCall;
        switch (field) {
          case kType:
            s.StringView("\"type\"");  // already known
            break;
          case kId:
            if (!request) wrong_type(key);
            r.id = s.Uint("\"id\"");
            break;
          case kCallId:
            if (!call) wrong_type(key);
            c.call_id = s.Uint("\"call_id\"");
            break;
          case kArrival:
            if (!request) wrong_type(key);
            r.arrival = s.Time("arrival");
            break;
          case kSent:
            if (!call) wrong_type(key);
            c.sent = s.Time("sent");
            break;
          case kGameStart:
            if (!request) wrong_type(key);
            r.game_start = s.Time("game_start");
            break;
          case kStart:
            if (!header) wrong_type(key);
            header_.start = s.Time("start");
            break;
          case kApi:
            if (header) wrong_type(key);
            s.String(request ? &r.api : &c.api, "\"api\"");
            break;
          case kEndpoint:
            if (header) wrong_type(key);
            s.String(request ? &r.endpoint : &c.endpoint, "\"endpoint\"");
            break;
          case kKey:
            if (!request) wrong_type(key);
            s.String(&r.key, "\"key\"");
            break;
          case kKeys: {
            if (!call) wrong_type(key);
            s.Expect('[', "an array of strings for \"keys\"");
            if (s.Peek(']')) {
              s.Expect(']', "']'");
              break;
            }
            for (;;) {
              if (keys_used == c.keys.size()) c.keys.emplace_back();
              s.String(&c.keys[keys_used++], "\"keys\"");
              if (s.Peek(',')) {
                s.Expect(',', "','");
                continue;
              }
              s.Expect(']', "',' or ']' in \"keys\"");
              break;
            }
            break;
          }
          case kPriority: {
            if (header) wrong_type(key);
            const std::string_view name = s.StringView("\"priority\"");
            const std::optional<Priority> p = ParsePriority(name);
            if (!p) {
              s.Fail("unknown priority \"" + std::string(name.substr(0, 32)) +
                     "\"; expected CRITICAL, HIGH, NORMAL, LOW or PREFETCH");
            }
            (request ? r.priority : c.priority) = *p;
            break;
          }
          case kDeadlineUs:
            if (!request) wrong_type(key);
            r.deadline = Duration::FromMicros(s.Int("deadline_us", INT64_MIN, INT64_MAX));
            break;
          case kCacheable:
            if (!request) wrong_type(key);
            r.cacheable = s.Bool("\"cacheable\"");
            break;
          case kBatchable:
            if (!request) wrong_type(key);
            r.batchable = s.Bool("\"batchable\"");
            break;
          case kOutcome: {
            if (!request) wrong_type(key);
            const std::string_view name = s.StringView("\"outcome\"");
            const std::optional<Outcome> o = ParseOutcome(name);
            if (!o) s.Fail("unknown outcome \"" + std::string(name.substr(0, 32)) + "\"");
            r.outcome = *o;
            break;
          }
          case kKind: {
            if (!call) wrong_type(key);
            const std::string_view name = s.StringView("\"kind\"");
            const std::optional<CallKind> k = ParseCallKind(name);
            if (!k) s.Fail("unknown call kind \"" + std::string(name.substr(0, 32)) + "\"");
            c.kind = *k;
            break;
          }
          case kStatus:
            if (header) wrong_type(key);
            (request ? r.status : c.status) = static_cast<int>(s.Int("status", 0, 999));
            break;
          case kLatencyUs:
            if (header) wrong_type(key);
            (request ? r.latency : c.latency) =
                Duration::FromMicros(s.Int("latency_us", 0, INT64_MAX));
            break;
          case kQueueWaitUs:
            if (!request) wrong_type(key);
            r.queue_wait = Duration::FromMicros(s.Int("queue_wait_us", 0, INT64_MAX));
            break;
          case kAttempts:
            if (!request) wrong_type(key);
            r.attempts = static_cast<int>(s.Int("attempts", 0, INT32_MAX));
            break;
          case kAttempt:
            if (!call) wrong_type(key);
            c.attempt = static_cast<int>(s.Int("attempt", 1, INT32_MAX));
            break;
          case kCredits: {
            if (!call) wrong_type(key);
            s.Ws();
            const char* start = s.position();
            c.credits = s.Number("\"credits\"");
            if (!(c.credits >= 0) || c.credits > 1e300) {
              s.Reset(start);
              s.Fail("\"credits\" must be >= 0");
            }
            break;
          }
          case kLate:
            if (!call) wrong_type(key);
            c.late = s.Bool("\"late\"");
            break;
          case kQuotaHeaders: {
            if (!call) wrong_type(key);
            s.Expect('{', "an object of strings for \"quota_headers\"");
            if (s.Peek('}')) {
              s.Expect('}', "'}'");
              break;
            }
            for (;;) {
              if (headers_used == c.quota_headers.size()) c.quota_headers.emplace_back();
              auto& [name, value] = c.quota_headers[headers_used++];
              s.String(&name, "a header name");
              s.Expect(':', "':' after a header name");
              s.String(&value, "a header value");
              if (s.Peek(',')) {
                s.Expect(',', "','");
                continue;
              }
              s.Expect('}', "',' or '}' in \"quota_headers\"");
              break;
            }
            break;
          }
          case kFormat: {
            if (!header) wrong_type(key);
            const std::string_view format = s.StringView("\"format\"");
            if (format != kTraceFormatName) {
              s.Fail("\"format\" is \"" + std::string(format.substr(0, 32)) + "\"; expected \"" +
                     std::string(kTraceFormatName) + "\"");
            }
            break;
          }
          case kVersion: {
            if (!header) wrong_type(key);
            const int64_t version = s.Int("version", INT64_MIN, INT64_MAX);
            if (version != kTraceFormatVersion) {
              s.Fail("trace format version " + std::to_string(version) +
                     " is not supported; this reader knows version " +
                     std::to_string(kTraceFormatVersion));
            }
            break;
          }
          case kSource: {
            if (!header) wrong_type(key);
            const std::string_view source = s.StringView("\"source\"");
            if (source == "simulation") {
              header_.source = TraceSource::kSimulation;
            } else if (source == "live") {
              header_.source = TraceSource::kLive;
            } else {
              s.Fail("unknown source \"" + std::string(source.substr(0, 32)) +
                     "\"; expected \"simulation\" or \"live\"");
            }
            break;
          }
          case kScenario:
            if (!header) wrong_type(key);
            s.String(&header_.scenario, "\"scenario\"");
            break;
          case kVariant:
            if (!header) wrong_type(key);
            s.String(&header_.variant, "\"variant\"");
            break;
          case kSeed:
            if (!header) wrong_type(key);
            header_.seed = s.Uint("\"seed\"");
            break;
          case kGenerator:
            if (!header) wrong_type(key);
            s.String(&header_.generator, "\"generator\"");
            break;
          case kUnknown:
            s.Skip();
            break;
        }
        if (s.Peek(',')) {
          s.Expect(',', "','");
          continue;
        }
        break;
      }
    }
    s.Expect('}', "',' or '}'");
    if (!s.AtEnd()) s.Fail("unexpected text after the object");
    if (type_ == TraceLineType::kCall) {
      // Entries beyond what this line used are earlier lines' leftovers.
      c.keys.resize(keys_used);
      c.quota_headers.resize(headers_used);
    }
    const uint64_t required = type_ == TraceLineType::kHeader    ? kHeaderRequired
                              : type_ == TraceLineType::kRequest ? kRequestRequired
                                                                 : kCallRequired;
    if (const uint64_t missing = required & ~seen; missing != 0) {
      return "a " + std::string(type) + " line needs " + MissingFields(missing);
    }
    return "";
  } catch (const ParseFailure& failure) {
    return failure.message;
  }
}

TraceFileReader::TraceFileReader(const std::string& path, bool keep_unterminated_last_line)
    : keep_last_(keep_unterminated_last_line) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    error_ = "cannot open: " + std::string(std::strerror(errno));
    return;
  }
  buffer_.resize(kBufferBytes);
}

TraceFileReader::~TraceFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool TraceFileReader::Fill() {
  if (eof_ || file_ == nullptr) return false;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) {
    if (buffer_.size() >= kMaxLineBytes) {
      error_ = "line " + std::to_string(line_number_ + 1) + " is longer than " +
               std::to_string(kMaxLineBytes >> 20) + " MiB";
      return false;
    }
    buffer_.resize(std::min(buffer_.size() * 2, kMaxLineBytes));
  }
  const size_t n = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
  end_ += n;
  if (n == 0) {
    if (std::ferror(file_)) error_ = "cannot read: " + std::string(std::strerror(errno));
    eof_ = true;
    return false;
  }
  return true;
}

bool TraceFileReader::Next(std::string_view* line) {
  if (!error_.empty()) return false;
  size_t scanned = begin_;
  for (;;) {
    const char* start = buffer_.data() + scanned;
    const void* newline = std::memchr(start, '\n', end_ - scanned);
    if (newline != nullptr) {
      const size_t at = static_cast<size_t>(static_cast<const char*>(newline) - buffer_.data());
      size_t length = at - begin_;
      if (length > 0 && buffer_[at - 1] == '\r') --length;
      *line = std::string_view(buffer_.data() + begin_, length);
      consumed_ += at + 1 - begin_;
      begin_ = at + 1;
      ++line_number_;
      return true;
    }
    const size_t searched = end_ - begin_;
    if (!Fill()) {
      if (error_.empty() && end_ > begin_) {
        if (keep_last_) {
          size_t length = end_ - begin_;
          if (buffer_[end_ - 1] == '\r') --length;
          *line = std::string_view(buffer_.data() + begin_, length);
          consumed_ += end_ - begin_;
          begin_ = end_;
          ++line_number_;
          return true;
        }
        truncated_ = true;
      }
      return false;
    }
    scanned = begin_ + searched;
  }
}

}  // namespace orchsim::trace
