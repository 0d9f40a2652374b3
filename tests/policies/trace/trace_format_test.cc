// The trace's line format: times, JSON strings, and each line type exactly.
#include "policies/trace/trace_format.h"

#include <gtest/gtest.h>

#include <string>

namespace orchsim::trace {
namespace {

std::string Json(std::string_view text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

TEST(TraceFormatTest, TimesHaveSixDigitsAndZ) {
  EXPECT_EQ(FormatTraceTime(*ParseInstant("2023-10-15T18:00:00Z")), "2023-10-15T18:00:00.000000Z");
  EXPECT_EQ(FormatTraceTime(*ParseInstant("2023-10-15T13:59:59.000042-04:00")),
            "2023-10-15T17:59:59.000042Z");
  EXPECT_EQ(FormatTraceTime(Instant::Epoch()), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTraceTime(Instant::FromUnixMicros(-1)), "1969-12-31T23:59:59.999999Z");
}

TEST(TraceFormatTest, TimesReadBackAsTheSameInstant) {
  for (int64_t us : {int64_t{0}, int64_t{1}, int64_t{1697392800123456}, int64_t{-86400000001},
                     int64_t{4102444800000000}}) {
    const Instant t = Instant::FromUnixMicros(us);
    ParseResult<Instant> back = ParseInstant(FormatTraceTime(t));
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(*back, t);
  }
}

TEST(TraceFormatTest, JsonStringsEscapeControlsAndReplaceInvalidUtf8) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json(std::string("\n\r\t\x01\x7f", 5)), "\"\\n\\r\\t\\u0001\\u007f\"");
  EXPECT_EQ(Json(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(Json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8F\x88"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8F\x88\"");
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
  EXPECT_EQ(Json("\x80"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("x\xE2\x82"), "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(TraceFormatTest, QuotaHeadersAreRecognizedInAnyCase) {
  for (const char* name : {"x-requests-remaining", "X-Requests-Used", "x-ratelimit-reset",
                           "RateLimit", "ratelimit-policy", "RateLimit-Remaining", "Retry-After"}) {
    EXPECT_TRUE(IsQuotaHeader(name)) << name;
  }
  for (const char* name : {"content-type", "x-request-id", "ratelimitx", "date", "x-requests"}) {
    EXPECT_FALSE(IsQuotaHeader(name)) << name;
  }
}

TEST(TraceFormatTest, HeaderLineLeavesOutWhatIsUnknown) {
  TraceHeader live;
  EXPECT_EQ(HeaderLine(live),
            R"({"type":"header","format":"orchsim-trace","version":1,"source":"live"})");
  TraceHeader sim;
  sim.source = TraceSource::kSimulation;
  sim.scenario = "mini";
  sim.variant = "tuned";
  sim.seed = 42;
  sim.start = *ParseInstant("2023-10-15T10:00:00Z");
  sim.generator = "orchsim 0.1.0 (abc1234)";
  EXPECT_EQ(
      HeaderLine(sim),
      R"({"type":"header","format":"orchsim-trace","version":1,"source":"simulation",)"
      R"("scenario":"mini","variant":"tuned","seed":42,"start":"2023-10-15T10:00:00.000000Z",)"
      R"x("generator":"orchsim 0.1.0 (abc1234)"})x");
}

TEST(TraceFormatTest, RequestLine) {
  Request r;
  r.id = 7;
  r.api = "odds";
  r.endpoint = "odds";
  r.key = "2023_10_15_DET_BAL";
  r.priority = Priority::kHigh;
  r.submitted_at = *ParseInstant("2023-10-15T16:00:00Z");
  r.game_start = *ParseInstant("2023-10-15T17:00:00Z");
  r.deadline = r.submitted_at + Seconds(20);
  Result result;
  result.outcome = Outcome::kServedStale;
  result.status = 503;
  result.queue_wait = Milliseconds(3);
  result.attempts = 2;
  EXPECT_EQ(RequestLine(r, result, r.submitted_at, Microseconds(81234)),
            R"({"type":"request","id":7,"arrival":"2023-10-15T16:00:00.000000Z","api":"odds",)"
            R"("endpoint":"odds","key":"2023_10_15_DET_BAL","priority":"HIGH",)"
            R"("game_start":"2023-10-15T17:00:00.000000Z","deadline_us":20000000,)"
            R"("cacheable":true,"batchable":false,"outcome":"served_stale","status":503,)"
            R"("latency_us":81234,"queue_wait_us":3000,"attempts":2})");
  r.game_start.reset();
  r.deadline = Instant::Max();
  r.cacheable = false;
  r.batchable = true;
  const std::string line = RequestLine(r, result, r.submitted_at, Microseconds(1));
  EXPECT_EQ(line.find("game_start"), std::string::npos);
  EXPECT_EQ(line.find("deadline_us"), std::string::npos);
  EXPECT_NE(line.find(R"("cacheable":false,"batchable":true)"), std::string::npos);
}

TEST(TraceFormatTest, CallLineKeepsOnlyQuotaHeadersWithLowerCaseNames) {
  UpstreamCall call;
  call.call_id = 3;
  call.api = "weather";
  call.endpoint = "forecast";
  call.keys = {"KC", "DET"};
  call.kind = CallKind::kBatch;
  call.attempt = 1;
  call.priority = Priority::kLow;
  Response response;
  response.status = 200;
  response.credits_charged = 1.5;
  response.headers.Set("Content-Type", "application/json");
  response.headers.Set("X-RateLimit-Remaining", "4999");
  response.headers.Set("RateLimit", "\"default\";r=50;t=30");
  EXPECT_EQ(
      CallLine(call, response, *ParseInstant("2023-10-15T16:00:00.5Z"), Milliseconds(80), false),
      R"({"type":"call","call_id":3,"sent":"2023-10-15T16:00:00.500000Z","api":"weather",)"
      R"("endpoint":"forecast","keys":["KC","DET"],"kind":"batch","attempt":1,)"
      R"("priority":"LOW","status":200,"latency_us":80000,"credits":1.5,"late":false,)"
      R"("quota_headers":{"x-ratelimit-remaining":"4999","ratelimit":"\"default\";r=50;t=30"}})");
  response.headers = Headers();
  response.credits_charged = 0.0;
  response.status = kStatusCancelled;
  call.keys = {"KC"};
  call.kind = CallKind::kRetry;
  call.attempt = 2;
  EXPECT_EQ(CallLine(call, response, *ParseInstant("2023-10-15T16:00:00Z"), Seconds(2), true),
            R"({"type":"call","call_id":3,"sent":"2023-10-15T16:00:00.000000Z","api":"weather",)"
            R"("endpoint":"forecast","keys":["KC"],"kind":"retry","attempt":2,)"
            R"("priority":"LOW","status":499,"latency_us":2000000,"credits":0,"late":true,)"
            R"("quota_headers":{}})");
}

}  // namespace
}  // namespace orchsim::trace
