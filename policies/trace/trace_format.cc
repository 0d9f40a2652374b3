#include "policies/trace/trace_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace orchsim::trace {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(text[i]) != prefix[i]) return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() && StartsWithIgnoreCase(text, lower);
}

// Length of the valid UTF-8 sequence starting at text[i], or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  size_t length = 0;
  unsigned char min1 = 0x80, max1 = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) min1 = 0xA0;  // no overlong forms
    if (b0 == 0xED) max1 = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) min1 = 0x90;  // no overlong forms
    if (b0 == 0xF4) max1 = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min1 || byte(i + 1) > max1) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void AppendInt(std::string* out, int64_t value) {
  char buffer[24];
  const std::to_chars_result end = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end.ptr);
}

void AppendUint(std::string* out, uint64_t value) {
  char buffer[24];
  const std::to_chars_result end = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end.ptr);
}

// The shortest text that reads back as the same double; 0 for NaN and
// infinities (JSON has no such numbers; credits are never either).
void AppendDouble(std::string* out, double value) {
  if (!std::isfinite(value)) value = 0.0;
  char buffer[32];
  const std::to_chars_result end = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end.ptr);
}

void AppendBool(std::string* out, bool value) { out->append(value ? "true" : "false"); }

// `,"name":` (the key is a known identifier: no escaping needed).
void Key(std::string* out, std::string_view name) {
  out->push_back(',');
  out->push_back('"');
  out->append(name);
  out->append("\":");
}

void StringField(std::string* out, std::string_view name, std::string_view value) {
  Key(out, name);
  AppendJsonString(out, value);
}

void TimeField(std::string* out, std::string_view name, Instant wall) {
  Key(out, name);
  out->push_back('"');
  out->append(FormatTraceTime(wall));
  out->push_back('"');
}

void IntField(std::string* out, std::string_view name, int64_t value) {
  Key(out, name);
  AppendInt(out, value);
}

void UintField(std::string* out, std::string_view name, uint64_t value) {
  Key(out, name);
  AppendUint(out, value);
}

}  // namespace

std::string_view TraceSourceName(TraceSource source) {
  return source == TraceSource::kSimulation ? "simulation" : "live";
}

std::string FormatTraceTime(Instant wall) {
  const int64_t us = wall.unix_micros();
  const int64_t days = FloorDiv(us, kMicrosPerDay);
  const int64_t in_day = us - days * kMicrosPerDay;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  const int64_t seconds = in_day / kMicrosPerSecond;
  const int64_t fraction = in_day % kMicrosPerSecond;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(year), month, day, static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60),
                static_cast<long long>(fraction));
  return buffer;
}

void AppendJsonString(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD for the invalid byte
      ++i;
    } else {
      out->append(text.substr(i, length));
      i += length;
    }
  }
  out->push_back('"');
}

bool IsQuotaHeader(std::string_view name) {
  return StartsWithIgnoreCase(name, "x-requests-") || StartsWithIgnoreCase(name, "x-ratelimit-") ||
         EqualsIgnoreCase(name, "ratelimit") || StartsWithIgnoreCase(name, "ratelimit-") ||
         EqualsIgnoreCase(name, "retry-after");
}

std::string HeaderLine(const TraceHeader& header) {
  std::string line = "{\"type\":\"header\"";
  StringField(&line, "format", kTraceFormatName);
  IntField(&line, "version", kTraceFormatVersion);
  StringField(&line, "source", TraceSourceName(header.source));
  if (!header.scenario.empty()) StringField(&line, "scenario", header.scenario);
  if (!header.variant.empty()) StringField(&line, "variant", header.variant);
  if (header.seed) UintField(&line, "seed", *header.seed);
  if (header.start) TimeField(&line, "start", *header.start);
  if (!header.generator.empty()) StringField(&line, "generator", header.generator);
  line.push_back('}');
  return line;
}

std::string RequestLine(const Request& request, const Result& result, Instant arrival_wall,
                        Duration latency) {
  std::string line;
  line.reserve(320);
  line.append("{\"type\":\"request\"");
  UintField(&line, "id", request.id);
  TimeField(&line, "arrival", arrival_wall);
  StringField(&line, "api", request.api);
  StringField(&line, "endpoint", request.endpoint);
  StringField(&line, "key", request.key);
  StringField(&line, "priority", PriorityName(request.priority));
  if (request.game_start) TimeField(&line, "game_start", *request.game_start);
  if (request.deadline != Instant::Max()) {
    IntField(&line, "deadline_us", (request.deadline - request.submitted_at).micros());
  }
  Key(&line, "cacheable");
  AppendBool(&line, request.cacheable);
  Key(&line, "batchable");
  AppendBool(&line, request.batchable);
  StringField(&line, "outcome", OutcomeName(result.outcome));
  IntField(&line, "status", result.status);
  IntField(&line, "latency_us", latency.micros());
  IntField(&line, "queue_wait_us", result.queue_wait.micros());
  IntField(&line, "attempts", result.attempts);
  line.push_back('}');
  return line;
}

std::string CallLine(const UpstreamCall& call, const Response& response, Instant sent_wall,
                     Duration latency, bool late) {
  std::string line;
  line.reserve(320);
  line.append("{\"type\":\"call\"");
  UintField(&line, "call_id", call.call_id);
  TimeField(&line, "sent", sent_wall);
  StringField(&line, "api", call.api);
  StringField(&line, "endpoint", call.endpoint);
  Key(&line, "keys");
  line.push_back('[');
  for (size_t i = 0; i < call.keys.size(); ++i) {
    if (i > 0) line.push_back(',');
    AppendJsonString(&line, call.keys[i]);
  }
  line.push_back(']');
  StringField(&line, "kind", CallKindName(call.kind));
  IntField(&line, "attempt", call.attempt);
  StringField(&line, "priority", PriorityName(call.priority));
  IntField(&line, "status", response.status);
  IntField(&line, "latency_us", latency.micros());
  Key(&line, "credits");
  AppendDouble(&line, response.credits_charged);
  Key(&line, "late");
  AppendBool(&line, late);
  Key(&line, "quota_headers");
  line.push_back('{');
  bool first = true;
  for (const auto& [name, value] : response.headers.entries()) {
    if (!IsQuotaHeader(name)) continue;
    if (!first) line.push_back(',');
    first = false;
    std::string lower(name);
    for (char& c : lower) c = Lower(c);
    AppendJsonString(&line, lower);
    line.push_back(':');
    AppendJsonString(&line, value);
  }
  line.append("}}");
  return line;
}

}  // namespace orchsim::trace
