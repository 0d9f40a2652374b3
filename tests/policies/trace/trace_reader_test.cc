// Reading a trace back: every line the recorder writes parses to the values
// it was written from; the parser's errors; the file reader's lines.
#include "policies/trace/trace_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace orchsim::trace {
namespace {

Instant At(const char* text) { return *ParseInstant(text); }

TEST(TraceReaderTest, RequestLinesReadBackAsWritten) {
  Request request;
  request.id = 42;
  request.api = "odds";
  request.endpoint = "odds/v4";
  request.key = "2023_06_BAL_TEN \"quoted\" caf\xC3\xA9\n";
  request.priority = Priority::kCritical;
  request.game_start = At("2023-10-15T13:30:00Z");
  request.submitted_at = At("2023-10-15T13:00:00Z");
  request.deadline = request.submitted_at + Seconds(20);
  request.cacheable = false;
  request.batchable = true;
  Result result;
  result.outcome = Outcome::kRejectedCircuitOpen;
  result.status = 503;
  result.queue_wait = Microseconds(1234);
  result.attempts = 3;
  const Instant arrival = At("2023-10-15T13:00:00.000001Z");
  TraceLineParser parser;
  ASSERT_EQ(parser.Parse(RequestLine(request, result, arrival, Microseconds(567))), "");
  ASSERT_EQ(parser.type(), TraceLineType::kRequest);
  const TraceRequestRecord& r = parser.request();
  EXPECT_EQ(r.id, 42u);
  EXPECT_EQ(r.arrival, arrival);
  EXPECT_EQ(r.api, "odds");
  EXPECT_EQ(r.endpoint, "odds/v4");
  EXPECT_EQ(r.key, request.key);
  EXPECT_EQ(r.priority, Priority::kCritical);
  EXPECT_EQ(r.game_start, At("2023-10-15T13:30:00Z"));
  EXPECT_EQ(r.deadline, Seconds(20));
  EXPECT_FALSE(r.cacheable);
  EXPECT_TRUE(r.batchable);
  EXPECT_EQ(r.outcome, Outcome::kRejectedCircuitOpen);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.latency, Microseconds(567));
  EXPECT_EQ(r.queue_wait, Microseconds(1234));
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.completion(), arrival + Microseconds(567));

  // Without a game and a deadline, the next line leaves them unset.
  request.game_start.reset();
  request.deadline = Instant::Max();
  ASSERT_EQ(parser.Parse(RequestLine(request, result, arrival, Microseconds(1))), "");
  EXPECT_FALSE(parser.request().game_start.has_value());
  EXPECT_FALSE(parser.request().deadline.has_value());
}

TEST(TraceReaderTest, CallLinesReadBackAsWritten) {
  UpstreamCall call;
  call.call_id = 7;
  call.api = "odds";
  call.endpoint = "odds";
  call.keys = {"g1", "g2", "g\"3"};
  call.kind = CallKind::kBatch;
  call.attempt = 2;
  call.priority = Priority::kLow;
  Response response;
  response.status = 429;
  response.credits_charged = 1.9;
  response.headers.Set("X-Requests-Remaining", "499");
  response.headers.Set("Content-Type", "application/json");
  response.headers.Set("Retry-After", "3");
  TraceLineParser parser;
  const Instant sent = At("2023-10-01T00:20:00Z");
  ASSERT_EQ(parser.Parse(CallLine(call, response, sent, Milliseconds(80), true)), "");
  ASSERT_EQ(parser.type(), TraceLineType::kCall);
  const TraceCallRecord& c = parser.call();
  EXPECT_EQ(c.call_id, 7u);
  EXPECT_EQ(c.sent, sent);
  EXPECT_EQ(c.keys, (std::vector<std::string>{"g1", "g2", "g\"3"}));
  EXPECT_EQ(c.kind, CallKind::kBatch);
  EXPECT_EQ(c.attempt, 2);
  EXPECT_EQ(c.priority, Priority::kLow);
  EXPECT_EQ(c.status, 429);
  EXPECT_EQ(c.latency, Milliseconds(80));
  EXPECT_EQ(c.credits, 1.9);
  EXPECT_TRUE(c.late);
  ASSERT_EQ(c.quota_headers.size(), 2u);
  EXPECT_EQ(*c.Header("x-requests-remaining"), "499");
  EXPECT_EQ(*c.Header("retry-after"), "3");
  EXPECT_EQ(c.Header("content-type"), nullptr);
  EXPECT_EQ(c.answered(), sent + Milliseconds(80));

  // A shorter call next: no keys or headers left over from the first.
  call.keys = {"g9"};
  Response plain;
  plain.status = 200;
  ASSERT_EQ(parser.Parse(CallLine(call, plain, sent, Milliseconds(1), false)), "");
  EXPECT_EQ(parser.call().keys, (std::vector<std::string>{"g9"}));
  EXPECT_TRUE(parser.call().quota_headers.empty());
}

TEST(TraceReaderTest, HeaderLinesReadBackAsWritten) {
  TraceHeader header;
  header.source = TraceSource::kSimulation;
  header.scenario = "breaker-outage-day";
  header.variant = "consecutive";
  header.seed = 1015;
  header.start = At("2023-10-15T10:00:00Z");
  header.generator = "orchsim 0.1.0 (abc1234)";
  TraceLineParser parser;
  ASSERT_EQ(parser.Parse(HeaderLine(header)), "");
  ASSERT_EQ(parser.type(), TraceLineType::kHeader);
  EXPECT_EQ(parser.header().source, TraceSource::kSimulation);
  EXPECT_EQ(parser.header().scenario, "breaker-outage-day");
  EXPECT_EQ(parser.header().variant, "consecutive");
  EXPECT_EQ(parser.header().seed, 1015u);
  EXPECT_EQ(parser.header().start, At("2023-10-15T10:00:00Z"));
  EXPECT_EQ(parser.header().generator, "orchsim 0.1.0 (abc1234)");
  ASSERT_EQ(
      parser.Parse(R"({"type":"header","format":"orchsim-trace","version":1,"source":"live"})"),
      "");
  EXPECT_EQ(parser.header().source, TraceSource::kLive);
  EXPECT_FALSE(parser.header().seed.has_value());
  EXPECT_EQ(parser.header().scenario, "");
}

TEST(TraceReaderTest, FieldsInAnyOrderUnknownFieldsSkippedOffsetsAccepted) {
  TraceLineParser parser;
  const std::string line =
      R"( { "latency_us" : 5, "extra": {"a": [1, 2.5e3, "x", null, true, {"b": []}]},)"
      R"( "arrival": "2023-10-15T14:00:00.5-04:00", "api": "a\u00e9\ud83c\udfc8", "endpoint": "e",)"
      R"( "key": "k\/\t", "priority": "LOW", "cacheable": true, "batchable": false,)"
      R"( "outcome": "served", "status": 200, "queue_wait_us": 0, "attempts": 1,)"
      R"( "id": 9, "type": "request" } )";
  ASSERT_EQ(parser.Parse(line), "");
  ASSERT_EQ(parser.type(), TraceLineType::kRequest);
  EXPECT_EQ(parser.request().arrival, At("2023-10-15T18:00:00.500000Z"));
  EXPECT_EQ(parser.request().api, "a\xC3\xA9\xF0\x9F\x8F\x88");
  EXPECT_EQ(parser.request().key, "k/\t");
  EXPECT_EQ(parser.request().id, 9u);
}

TEST(TraceReaderTest, ErrorsSayWhatWasExpectedAndWhere) {
  const std::string request_tail =
      R"(,"api":"a","endpoint":"e","key":"k","priority":"HIGH","cacheable":true,)"
      R"("batchable":false,"outcome":"served","status":200,"latency_us":1,"queue_wait_us":0,)"
      R"("attempts":1})";
  const auto request = [&](const std::string& head) {
    return R"({"type":"request","id":1,"arrival":)" + head + request_tail;
  };
  TraceLineParser p;
  EXPECT_EQ(p.Parse(""), "expected a JSON object ('{') (column 1)");
  EXPECT_EQ(p.Parse("[1]"), "expected a JSON object ('{') (column 1)");
  EXPECT_EQ(p.Parse(R"({"type":"nope"})"),
            "unknown line type \"nope\"; expected \"header\", \"request\" or \"call\" (column 15)");
  EXPECT_EQ(p.Parse(R"({"id":1})"),
            "missing \"type\"; expected \"header\", \"request\" or \"call\" (column 8)");
  EXPECT_EQ(p.Parse(request(R"("2023-10-15T18:00:00.000000")")),
            "expected a time with a zone for \"arrival\", got \"2023-10-15T18:00:00.000000\" "
            "(column 36)");
  EXPECT_EQ(p.Parse(request(R"(1697392800)")), "expected a string for \"arrival\" (column 36)");
  EXPECT_EQ(p.Parse(request(R"("2023-10-15T18:00:00.000000Z")") + "x"),
            "unexpected text after the object (column 232)");
  EXPECT_EQ(p.Parse(R"({"type":"request","id":1})"),
            "a request line needs \"arrival\", \"api\", \"endpoint\", \"key\", \"priority\", "
            "\"cacheable\", \"batchable\", \"outcome\", \"status\", \"latency_us\", "
            "\"queue_wait_us\", \"attempts\"");
  EXPECT_EQ(p.Parse(R"({"type":"request","id":1,"id":2})"), "duplicate field \"id\" (column 26)");
  EXPECT_EQ(p.Parse(R"({"type":"request","id":-1})"),
            "expected a non-negative integer for \"id\" (column 24)");
  EXPECT_EQ(p.Parse(R"({"type":"request","status":1000})"),
            "\"status\": 1000 out of range [0, 999] (column 28)");
  EXPECT_EQ(p.Parse(R"({"type":"request","priority":"high"})"),
            "unknown priority \"high\"; expected CRITICAL, HIGH, NORMAL, LOW or PREFETCH "
            "(column 36)");
  EXPECT_EQ(p.Parse(R"({"type":"request","sent":"x"})"),
            "field \"sent\" does not belong on a request line (column 26)");
  EXPECT_EQ(p.Parse(R"({"type":"call","keys":["a",]})"),
            "expected a string for \"keys\" (column 28)");
  EXPECT_EQ(p.Parse(R"({"type":"request","key":"a)"), "unterminated string (column 27)");
  EXPECT_EQ(p.Parse("{\"type\":\"request\",\"key\":\"a\x01\"}"),
            "control character in a string (column 27)");
  EXPECT_EQ(p.Parse(R"({"type":"header","format":"orchsim-trace","version":2,"source":"live"})"),
            "trace format version 2 is not supported; this reader knows version 1 (column 54)");
  EXPECT_EQ(p.Parse(R"({"type":"header","format":"other","version":1,"source":"live"})"),
            "\"format\" is \"other\"; expected \"orchsim-trace\" (column 34)");
  EXPECT_EQ(p.Parse(R"({"type":"call","credits":-1})"), "\"credits\" must be >= 0 (column 26)");
  EXPECT_EQ(p.Parse(R"({"type":"call","late":1})"),
            "expected true or false for \"late\" (column 23)");
}

class TraceFileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("orchsim_trace_reader_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void Write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
  std::vector<std::string> Lines(bool keep_last = false, bool* truncated = nullptr) {
    TraceFileReader reader(path_.string(), keep_last);
    EXPECT_EQ(reader.error(), "");
    std::vector<std::string> lines;
    std::string_view line;
    while (reader.Next(&line)) {
      lines.emplace_back(line);
      EXPECT_EQ(reader.line_number(), lines.size());
    }
    EXPECT_EQ(reader.error(), "");
    if (truncated) *truncated = reader.truncated_last_line();
    return lines;
  }
  std::filesystem::path path_;
};

TEST_F(TraceFileReaderTest, LinesEndWithLfOrCrLfAndACutLastLineIsDropped) {
  Write("a\r\nb\n\nc");
  bool truncated = false;
  EXPECT_EQ(Lines(false, &truncated), (std::vector<std::string>{"a", "b", ""}));
  EXPECT_TRUE(truncated);
  EXPECT_EQ(Lines(true, &truncated), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_FALSE(truncated);
  Write("a\nb\n");
  EXPECT_EQ(Lines(false, &truncated), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(truncated);
}

TEST_F(TraceFileReaderTest, LinesAcrossBufferBoundariesAndLongerThanTheBuffer) {
  // 300,000 numbered lines (about 2.5 MiB: several buffer refills) and one
  // line of 3 MiB (three times the buffer).
  std::string text;
  for (int i = 0; i < 300000; ++i) text += "line " + std::to_string(i) + "\n";
  const std::string long_line(3 << 20, 'x');
  text += long_line + "\nend\n";
  Write(text);
  TraceFileReader reader(path_.string());
  std::string_view line;
  for (int i = 0; i < 300000; ++i) {
    ASSERT_TRUE(reader.Next(&line));
    ASSERT_EQ(line, "line " + std::to_string(i));
  }
  ASSERT_TRUE(reader.Next(&line));
  EXPECT_EQ(line.size(), long_line.size());
  ASSERT_TRUE(reader.Next(&line));
  EXPECT_EQ(line, "end");
  EXPECT_FALSE(reader.Next(&line));
  EXPECT_EQ(reader.error(), "");
  EXPECT_EQ(reader.bytes_read(), text.size());
}

TEST_F(TraceFileReaderTest, ALineBeyondTheLimitAndAMissingFileAreErrors) {
  Write(std::string(TraceFileReader::kMaxLineBytes + 1, 'x') + "\n");
  TraceFileReader reader(path_.string());
  std::string_view line;
  EXPECT_FALSE(reader.Next(&line));
  EXPECT_EQ(reader.error(), "line 1 is longer than 16 MiB");
  TraceFileReader missing((path_.string() + ".none"));
  EXPECT_EQ(missing.error(), "cannot open: No such file or directory");
  EXPECT_FALSE(missing.Next(&line));
}

}  // namespace
}  // namespace orchsim::trace
