// The heads serve writes by hand are the bytes Beast's serializer writes for
// the same messages (Beast is the oracle: operator<< serializes a message).
#include "live/http_wire.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>
#include <string>

namespace orchsim::live {
namespace {

namespace http = boost::beast::http;

// Boost 1.74's Beast takes boost::string_view.
boost::beast::string_view B(std::string_view s) { return {s.data(), s.size()}; }

template <class Message>
std::string BeastBytes(const Message& message) {
  std::ostringstream out;
  out << message;
  return out.str();
}

// What HttpTransport::Send used to build with Beast: Host, User-Agent,
// Accept, then the route's headers, each through fields::set.
std::string BeastGet(std::string_view target, const std::array<FieldView, 3>& base,
                     const HeaderFields& extra) {
  http::request<http::empty_body> request;
  request.method(http::verb::get);
  request.target(B(target));
  request.version(11);
  for (const auto& [name, value] : base) request.set(B(name), B(value));
  for (const auto& [name, value] : extra) request.set(B(name), B(value));
  return BeastBytes(request);
}

const std::array<FieldView, 3> kBase = {FieldView{"Host", "api.example.com:8443"},
                                        FieldView{"User-Agent", "orchsim/1.0"},
                                        FieldView{"Accept", "*/*"}};

TEST(HttpWireTest, GetHeadIsBeastsBytes) {
  const HeaderFields none;
  const HeaderFields auth = {{"X-Api-Key", "secret"}};
  std::string out;
  AppendGetHead(out, "/v4/sports/nfl/odds?regions=us", kBase, none);
  EXPECT_EQ(out, BeastGet("/v4/sports/nfl/odds?regions=us", kBase, none));
  EXPECT_EQ(out,
            "GET /v4/sports/nfl/odds?regions=us HTTP/1.1\r\nHost: api.example.com:8443\r\n"
            "User-Agent: orchsim/1.0\r\nAccept: */*\r\n\r\n");
  out.clear();
  AppendGetHead(out, "/x", kBase, auth);
  EXPECT_EQ(out, BeastGet("/x", kBase, auth));
}

TEST(HttpWireTest, FieldsSetAgainAreWrittenOnceAtTheirLastPlace) {
  // A route header replacing a base one (any case), and one set twice.
  const HeaderFields extra = {
      {"accept", "application/json"}, {"X-Key", "one"}, {"X-Other", "o"}, {"x-key", "two"}};
  std::string out;
  AppendGetHead(out, "/y", kBase, extra);
  EXPECT_EQ(out, BeastGet("/y", kBase, extra));
  EXPECT_EQ(out,
            "GET /y HTTP/1.1\r\nHost: api.example.com:8443\r\nUser-Agent: orchsim/1.0\r\n"
            "accept: application/json\r\nX-Other: o\r\nx-key: two\r\n\r\n");
}

TEST(HttpWireTest, AppendsWithoutClearing) {
  std::string out = "prefix|";
  AppendGetHead(out, "/", {}, {});
  EXPECT_EQ(out, "prefix|GET / HTTP/1.1\r\n\r\n");
}

// What HttpSession::Answer used to build with Beast.
std::string BeastResponse(int status, std::string_view content_type, const HeaderFields& fields,
                          std::string_view body, bool keep_alive) {
  http::response<http::span_body<const char>> response;
  response.result(static_cast<unsigned>(status));
  response.version(11);
  if (!content_type.empty()) response.set(http::field::content_type, B(content_type));
  for (const auto& [name, value] : fields) response.insert(name, value);
  response.keep_alive(keep_alive);
  response.body() = http::span_body<const char>::value_type(body.data(), body.size());
  response.prepare_payload();
  return BeastBytes(response);
}

std::string HandWritten(int status, std::string_view content_type, const HeaderFields& fields,
                        std::string_view body, bool keep_alive) {
  std::string out;
  ResponseHead head;
  head.status = status;
  head.content_type = content_type;
  head.fields = &fields;
  head.content_length = body.size();
  head.keep_alive = keep_alive;
  AppendResponseHead(out, head);
  if (!StatusHasNoBody(status)) out.append(body);
  return out;
}

std::string WithoutZeroLength(std::string bytes) {
  const std::string line = "Content-Length: 0\r\n";
  const size_t at = bytes.find(line);
  EXPECT_NE(at, std::string::npos) << bytes;
  if (at != std::string::npos) bytes.erase(at, line.size());
  return bytes;
}

TEST(HttpWireTest, ResponseHeadIsBeastsBytes) {
  const HeaderFields outcome = {{"X-Orchsim-Outcome", "served"}, {"Age", "0"}};
  const HeaderFields shed = {{"Retry-After", "3"}, {"X-Orchsim-Outcome", "shed"}};
  const std::string json = R"({"error":"shed","message":"queue full"})";
  for (bool keep_alive : {true, false}) {
    SCOPED_TRACE(keep_alive);
    EXPECT_EQ(HandWritten(200, "application/json", outcome, "{\"a\":1}", keep_alive),
              BeastResponse(200, "application/json", outcome, "{\"a\":1}", keep_alive));
    EXPECT_EQ(HandWritten(503, "application/json", shed, json, keep_alive),
              BeastResponse(503, "application/json", shed, json, keep_alive));
    // No content type, an empty body, statuses Beast has no reason for.
    EXPECT_EQ(HandWritten(200, "", {}, "", keep_alive), BeastResponse(200, "", {}, "", keep_alive));
    EXPECT_EQ(HandWritten(599, "text/plain", outcome, "x", keep_alive),
              BeastResponse(599, "text/plain", outcome, "x", keep_alive));
    EXPECT_EQ(HandWritten(451, "text/plain", {}, "gone", keep_alive),
              BeastResponse(451, "text/plain", {}, "gone", keep_alive));
    // 204 and 304: no body and, unlike Beast 1.74 ("Content-Length: 0"),
    // no Content-Length (RFC 9110 8.6: a server must not send one in a 204).
    EXPECT_EQ(HandWritten(204, "", outcome, "", keep_alive),
              WithoutZeroLength(BeastResponse(204, "", outcome, "", keep_alive)));
    EXPECT_EQ(HandWritten(304, "", {}, "", keep_alive),
              WithoutZeroLength(BeastResponse(304, "", {}, "", keep_alive)));
    EXPECT_EQ(HandWritten(204, "", {}, "ignored", keep_alive).find("ignored"), std::string::npos);
  }
  EXPECT_EQ(HandWritten(200, "text/plain", {}, "hi", true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
}

TEST(HttpWireTest, NoBodyStatuses) {
  EXPECT_TRUE(StatusHasNoBody(100));
  EXPECT_TRUE(StatusHasNoBody(199));
  EXPECT_TRUE(StatusHasNoBody(204));
  EXPECT_TRUE(StatusHasNoBody(304));
  EXPECT_FALSE(StatusHasNoBody(200));
  EXPECT_FALSE(StatusHasNoBody(205));
  EXPECT_FALSE(StatusHasNoBody(404));
}

}  // namespace
}  // namespace orchsim::live
